/**
 * `tidemark test`'s report as text (one line per migration, one per whole-service check passed, then what
 * failed or is reported), JSON, and
 * GitHub annotations written as check's are. The shapes are structural: src/report sits below src/flows.
 */
import { displayPath } from '../paths.js';
import { githubAnnotation } from './check-report.js';
import { pc } from './colors.js';

type Status = 'pass' | 'fail' | 'reported';

export interface RenderableTestFinding {
  check: string;
  service: string;
  migration?: string;
  status: Status;
  message: string;
  hint?: string;
  file?: string;
  line?: number;
}

export interface RenderableTestReport {
  ok: boolean;
  findings: readonly RenderableTestFinding[];
  shadow: string;
  ms: number;
}

const MARK: Record<Status, string> = { pass: pc.green('✓'), fail: pc.red('✗'), reported: pc.yellow('•') };
const WEIGHT: Record<Status, number> = { pass: 0, reported: 1, fail: 2 };

/** Each migration once, in the order the findings first name it, with its worst status. */
function migrationLines(findings: readonly RenderableTestFinding[]): string[] {
  const worst = new Map<string, Status>();
  for (const f of findings) {
    if (!f.migration) continue;
    const now = worst.get(f.migration);
    if (!now || WEIGHT[f.status] > WEIGHT[now]) worst.set(f.migration, f.status);
  }
  return [...worst].map(([migration, status]) => `${MARK[status]} ${migration}`);
}

export function renderTestText(report: RenderableTestReport): string {
  // A check of a whole service that passed (history rules, isolation, the desired schema, order) says so
  // once, after the migrations: what was proven, not only what failed.
  const servicePasses = report.findings.filter((f) => !f.migration && f.status === 'pass').map((f) => `${MARK.pass} ${f.message}`);
  const out = [...migrationLines(report.findings), ...servicePasses];
  const shown = report.findings.filter((f) => f.status !== 'pass');
  if (shown.length > 0 && out.length > 0) out.push('');
  for (const f of shown) {
    const where = f.file ? `  ${pc.dim(`${displayPath(f.file)}${f.line ? `:${f.line}` : ''}`)}` : '';
    out.push(`${MARK[f.status]} ${pc.bold(f.check)} ${f.service}: ${f.message}${where}`);
    if (f.hint) out.push(`    ${pc.cyan('→')} ${f.hint}`);
  }
  const count = (s: Status) => report.findings.filter((f) => f.status === s).length;
  const on = report.shadow ? ` on ${report.shadow}` : '';
  const verdict = report.ok ? pc.green('passed') : pc.red('failed');
  out.push('', `tidemark test ${verdict}: ${count('fail')} failed, ${count('reported')} reported, ${count('pass')} passed${on} (${report.ms} ms).`);
  return `${out.join('\n')}\n`;
}

export function renderTestJson(report: RenderableTestReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** One annotation per failed (error) or reported (warning) finding; passes say nothing. */
export function renderTestGithub(report: RenderableTestReport): string {
  return report.findings
    .filter((f) => f.status !== 'pass')
    .map((f) =>
      githubAnnotation({ level: f.status === 'fail' ? 'error' : 'warning', file: f.file, line: f.line, title: `tidemark test ${f.check}`, text: f.hint ? `${f.message} ${f.hint}` : f.message }),
    )
    .join('');
}
