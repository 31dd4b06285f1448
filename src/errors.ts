/**
 * Failures that reach a user carry a stable kebab-case `code` and named fields (Prisma's habit);
 * only src/cli turns a kind into an exit code and prints the message.
 *
 * - `usage`   bad flags or arguments                       → exit 2
 * - `input`   bad config, bad migration file, bad backup   → exit 2
 * - `failure` the work itself failed (SQL error, database unreachable, lock timeout) → exit 1
 */
export type ErrorKind = 'usage' | 'input' | 'failure';

export interface ErrorDetails {
  kind?: ErrorKind;
  hint?: string;
  file?: string;
  line?: number;
  service?: string;
  migration?: string;
  cause?: unknown;
}

export class TidemarkError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly service?: string;
  readonly migration?: string;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.kind = details.kind ?? 'failure';
    this.hint = details.hint;
    this.file = details.file;
    this.line = details.line;
    this.service = details.service;
    this.migration = details.migration;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.file ? { file: this.file } : {}),
      ...(this.line ? { line: this.line } : {}),
      ...(this.service ? { service: this.service } : {}),
      ...(this.migration ? { migration: this.migration } : {}),
    };
  }
}

export function isTidemarkError(err: unknown): err is TidemarkError {
  return err instanceof TidemarkError;
}

export function exitCodeFor(err: unknown): 1 | 2 {
  if (isTidemarkError(err) && (err.kind === 'usage' || err.kind === 'input')) return 2;
  return 1;
}
