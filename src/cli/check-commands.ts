import { writeFileSync } from 'node:fs';
import { pc } from '../report/colors.js';
import { TidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import { finish, note, printJson, type GlobalOptions } from './output.js';

export interface CheckFlags extends GlobalOptions {
  db?: boolean;
  format?: 'text' | 'json' | 'github';
  alembic?: string[];
  service?: string[];
}

export async function runCheck(flags: CheckFlags): Promise<void> {
  const { check } = await import('../check/run.js');
  const report = await check({
    configFile: flags.config,
    database: flags.database,
    db: flags.db,
    alembic: flags.alembic,
    service: flags.service?.length ? flags.service : undefined,
  });
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (format === 'json') {
    printJson(report);
  } else if (!report.error) {
    const { renderCheckText, renderCheckGithub } = await import('../report/check-report.js');
    process.stdout.write(format === 'github' ? renderCheckGithub(report) : renderCheckText(report));
  }
  if (report.error) return finish(report.error, { ...flags, json: format === 'json' });
  process.exitCode = report.errors > 0 ? 1 : 0;
}

export interface GraphFlags extends GlobalOptions {
  format?: 'mermaid' | 'dot' | 'svg' | 'html';
  out?: string;
  alembic?: string[];
}

export async function runGraph(flags: GraphFlags): Promise<void> {
  const [{ graphView }, render] = await Promise.all([import('../check/graph-view.js'), import('../report/graph-render.js')]);
  const view = await graphView({ configFile: flags.config, alembic: flags.alembic });
  const format = flags.format ?? 'mermaid';
  const text =
    format === 'mermaid' ? render.renderMermaid(view) : format === 'dot' ? render.renderDot(view) : format === 'svg' ? await render.renderSvg(view) : await render.renderHtml(view);
  if (flags.out) {
    writeFileSync(flags.out, text);
    process.stdout.write(`Wrote ${displayPath(flags.out)}\n`);
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export async function runSplitVersionTable(flags: GlobalOptions & { dryRun?: boolean; table?: string }): Promise<void> {
  const { splitVersionTable } = await import('../apply/alembic-split.js');
  const result = await splitVersionTable({ configFile: flags.config, database: flags.database, dryRun: flags.dryRun, table: flags.table });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags);
  }
  if (result.error) return finish(result.error, flags);
  for (const m of result.moves) process.stdout.write(`${result.dryRun ? 'would move' : pc.green('moved')} ${m.versionNum} (${m.service}): ${m.from} → ${m.to}\n`);
  for (const o of result.orphans) note(`left ${o.versionNum} in ${o.table}: no service's directory defines it (check it, then delete it by hand).`);
  process.stdout.write(`\nNow point each service at its own table:\n`);
  for (const s of result.services) {
    process.stdout.write(`  ${pc.bold(s.service)}: in env.py  ${s.envPyChange}\n  ${' '.repeat(s.service.length)}  in tidemark.config  ${s.configChange}\n`);
  }
  if (result.dryRun) process.stdout.write(pc.dim('\n-- dry run: nothing was changed.\n'));
  finish(undefined, flags);
}

export function requireOne(values: string[] | undefined, what: string): void {
  if (values && values.length === 0) throw new TidemarkError('bad-usage', `${what} needs at least one path.`, { kind: 'usage' });
}
