/** `tidemark rebaseline`: back up, replace a service's history by one baseline, restore, validate. */
import { pc } from '../report/colors.js';
import { lockTimeoutMs } from './flags.js';
import { finish, formatMs, note, printJson, sayDatabase, type GlobalOptions } from './output.js';
import { askOnTty } from './ask.js';

export interface RebaselineFlags extends GlobalOptions {
  service: string;
  backupDir?: string;
  format?: string;
  force?: boolean;
  dryRun?: boolean;
  retireAlembic?: string;
  versionTable?: string;
  shadow?: string;
  lockTimeout?: number;
  forceProtected?: boolean;
  yesIMean?: string;
}

export async function runRebaseline(flags: RebaselineFlags): Promise<void> {
  const { rebaseline } = await import('../api/rebaseline.js');
  const started = performance.now();
  const result = await rebaseline({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    backupDir: flags.backupDir,
    backupFormat: flags.format === 'csv' ? 'csv' : 'ndjson', // one of the two: checked while parsing (flags.ts)
    force: flags.force,
    dryRun: flags.dryRun,
    retireAlembic: flags.retireAlembic,
    alembicVersionTable: flags.versionTable,
    shadow: flags.shadow,
    forceProtected: flags.forceProtected,
    yesIMean: flags.yesIMean,
    ask: askOnTty,
    lockTimeoutMs: lockTimeoutMs(flags),
    onEvent: flags.json ? undefined : (e) => process.stdout.write(`${pc.dim(`${formatMs(performance.now() - started).padStart(7)}  ${e.step}${e.detail ? `: ${e.detail}` : ''}`)}\n`),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.differences.length) {
    process.stdout.write(`${pc.bold(`Live schema of ${result.service} against its baseline`)} (${result.differences.length} difference${result.differences.length === 1 ? '' : 's'})\n`);
    for (const d of result.differences) process.stdout.write(`  ${pc.yellow('~')} ${d.message}\n`);
  }
  if (result.error) {
    if (result.backupDir) note(`The backup stays in ${result.backupDir} (verified).`);
    return finish(result.error, flags);
  }
  const plan =
    result.mode === 'metadata'
      ? `the live schema already equals the baseline: only the ledger changes (${result.previousLedger.length} row${result.previousLedger.length === 1 ? '' : 's'} → ${result.migrations.join(', ')})`
      : `drop ${result.service}'s objects, apply ${result.migrations.join(', ')}, restore its data, validate — in one transaction`;
  if (result.dryRun) {
    process.stdout.write(`${pc.bold('Plan')}: ${plan}. A backup is written and verified first. Nothing was changed (--dry-run).\n`);
    return finish(undefined, flags);
  }
  process.stdout.write(`${pc.green('✓')} ${result.service} rebaselined (${result.mode === 'metadata' ? 'metadata only' : 'rebuilt and restored'}): ${plan}\n`);
  if (result.rows.length) {
    process.stdout.write(`  ${pc.bold('rows'.padEnd(28))} ${'before'.padStart(10)} ${'after'.padStart(10)}\n`);
    for (const r of result.rows) process.stdout.write(`  ${r.table.padEnd(28)} ${String(r.before).padStart(10)} ${String(r.after).padStart(10)}\n`);
  }
  if (result.retired) {
    process.stdout.write(
      `  retired ${result.retired.deleted.length} row${result.retired.deleted.length === 1 ? '' : 's'} of ${result.retired.versionTable}${result.retired.droppedTable ? ' (table dropped, now empty)' : ''}\n`,
    );
  }
  for (const n of result.notes) process.stdout.write(`  ${pc.dim(n)}\n`);
  if (result.shadow) process.stdout.write(`  baseline proven on: ${result.shadow}\n`);
  process.stdout.write(`  backup: ${result.backupDir}\n`);
  process.stdout.write(`  ${pc.dim(result.steps.map((s) => `${s.step} ${formatMs(s.ms)}`).join(' · '))}\n`);
  finish(undefined, flags);
}
