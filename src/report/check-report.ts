import { pc } from './colors.js';
import type { Diagnostic } from '../diagnostic.js';
import { displayPath } from '../paths.js';
import { escapeControl } from '../sql/ident.js';
import { describeProtection, type ProtectionView } from './protection.js';

/** The parts of a CheckReport the renderers need (src/report sits below src/check). */
export interface RenderableReport {
  errors: number;
  warnings: number;
  database?: string;
  protection?: ProtectionView;
  services: {
    service: string;
    format: string;
    dirs: string[];
    graph: { revisionCount: number; heads: string[]; effectiveHeads: string[]; mergePoints: string[] };
    diagnostics: Diagnostic[];
  }[];
  unassigned: Diagnostic[];
  diagnostics: Diagnostic[];
}

function where(d: Diagnostic): string {
  return d.file ? `${displayPath(d.file)}${d.line ? `:${d.line}` : ''}` : '';
}

function renderDiagnostic(d: Diagnostic): string {
  const mark = d.severity === 'error' ? pc.red('✗ error  ') : pc.yellow('⚠ warning');
  const lines = [`  ${mark} ${pc.bold(d.rule)}${d.file ? `  ${pc.dim(where(d))}` : ''}`, `    ${d.message}`];
  if (d.hint) lines.push(`    ${pc.cyan('→')} ${d.hint}`);
  return lines.join('\n');
}

/** Text for a person: grouped by service, each finding with where, what and what to do. */
export function renderCheckText(report: RenderableReport): string {
  const out: string[] = [];
  for (const s of report.services) {
    const heads =
      s.graph.effectiveHeads.length === 1
        ? `head ${s.graph.effectiveHeads[0]}`
        : `${s.graph.effectiveHeads.length} heads${s.graph.effectiveHeads.length ? ` (${s.graph.effectiveHeads.join(', ')})` : ''}`;
    const facts = [s.format, `${s.graph.revisionCount} ${s.format === 'tidemark' ? 'migration' : 'revision'}${s.graph.revisionCount === 1 ? '' : 's'}`, heads];
    if (s.graph.mergePoints.length) facts.push(`${s.graph.mergePoints.length} merge${s.graph.mergePoints.length === 1 ? '' : 's'}`);
    out.push(`${pc.bold(s.service)}  ${pc.dim(`${facts.join(' · ')} · ${s.dirs.map(displayPath).join(', ')}`)}`);
    if (s.diagnostics.length === 0) out.push(`  ${pc.green('✓')} no findings`);
    for (const d of s.diagnostics) out.push(renderDiagnostic(d));
    out.push('');
  }
  if (report.unassigned.length) {
    out.push(pc.bold(report.database ? `database ${report.database}` : 'other'));
    for (const d of report.unassigned) out.push(renderDiagnostic(d));
    out.push('');
  }
  if (report.database && report.protection) out.push(`${pc.dim('database')} ${escapeControl(report.database)} ${pc.dim('protected')} ${escapeControl(describeProtection(report.protection))}`);
  const summary =
    report.errors + report.warnings === 0
      ? pc.green(`No findings in ${report.services.length} service${report.services.length === 1 ? '' : 's'}${report.database ? ` and ${report.database}` : ''}.`)
      : `${report.errors ? pc.red(`${report.errors} error${report.errors === 1 ? '' : 's'}`) : '0 errors'}, ${report.warnings} warning${report.warnings === 1 ? '' : 's'} in ${report.services.length} service${report.services.length === 1 ? '' : 's'}${report.database ? ` and ${report.database}` : ''}.`;
  out.push(summary);
  return `${out.join('\n')}\n`;
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** What a GitHub Actions annotation says and where (check's diagnostics, test's findings). */
export interface Annotation {
  level: 'error' | 'warning';
  file?: string;
  line?: number;
  title: string;
  text: string;
}

/** One GitHub Actions workflow command (`::error file=…,line=…,title=…::text`), newline included. */
export function githubAnnotation(a: Annotation): string {
  const props = [a.file ? `file=${escapeProperty(displayPath(a.file))}` : '', a.line ? `line=${a.line}` : '', `title=${escapeProperty(a.title)}`].filter(Boolean).join(',');
  return `::${a.level} ${props}::${escapeData(a.text)}\n`;
}

/** GitHub Actions workflow commands: one annotation per finding, on its file and line. */
export function renderCheckGithub(report: RenderableReport): string {
  return report.diagnostics
    .map((d) => githubAnnotation({ level: d.severity === 'error' ? 'error' : 'warning', file: d.file, line: d.line, title: `tidemark ${d.rule}`, text: d.hint ? `${d.message} ${d.hint}` : d.message }))
    .join('');
}
