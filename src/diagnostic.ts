/**
 * A finding about a history, a config or a database, as data (Squawk's Violation for histories).
 * `message` is one sentence saying what is wrong; `hint` says what to do.
 */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  rule: string;
  severity: Severity;
  service?: string;
  file?: string;
  line?: number;
  message: string;
  hint?: string;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (a.service ?? '').localeCompare(b.service ?? '') || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || a.rule.localeCompare(b.rule);
}
