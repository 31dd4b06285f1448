import { pc } from '../report/colors.js';
import { describeCounts, describeObject } from '../report/reset-report.js';
import path from 'node:path';
import type { ApplyEvent } from '../apply/execute.js';
import { lockTimeoutMs } from './flags.js';
import { finish, formatMs, note, printable, printJson, type GlobalOptions } from './output.js';

/** Says so when the embedded default is used. */
export function sayDatabase(flags: GlobalOptions) {
  return (database: string, source: string) => {
    if (!flags.json && source === 'default') note(`Using the embedded database ${database} (no --database, DATABASE_URL or config database).`);
  };
}

/** A question on the terminal; undefined when stdin is not a TTY (scripts must pass the answer as a flag). */
export async function askOnTty(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

export function applyPrinter(flags: GlobalOptions): ((e: ApplyEvent) => void) | undefined {
  if (flags.json) return undefined;
  return (e) => {
    if (e.type === 'step-done') process.stdout.write(`${pc.green('applied ')} ${e.step.migration.id} ${pc.dim(formatMs(e.durationMs))}\n`);
    else if (e.type === 'step-failed') process.stdout.write(`${pc.red('failed  ')} ${e.step.migration.id} ${pc.dim(formatMs(e.durationMs))}\n`);
  };
}

export interface ResetFlags extends GlobalOptions {
  service: string[];
  forceProtected?: boolean;
  yesIMean?: string;
  dryRun?: boolean;
  lockTimeout?: number;
}

export async function runReset(flags: ResetFlags): Promise<void> {
  const { reset } = await import('../flows/reset.js');
  const result = await reset({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    forceProtected: flags.forceProtected,
    yesIMean: flags.yesIMean,
    ask: askOnTty,
    dryRun: flags.dryRun,
    lockTimeoutMs: lockTimeoutMs(flags),
    onEvent: applyPrinter(flags),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.error) return finish(result.error, flags);
  for (const s of result.services) {
    if (result.dryRun) {
      process.stdout.write(`${pc.bold(s.service)}: would drop ${describeCounts(s.dropped)} and forget its ledger rows, then re-apply its migrations\n`);
      for (const d of s.dropped) process.stdout.write(`  ${pc.dim(`${describeObject(d)}${d.kind === 'schema' ? ' (if nothing else is left in it)' : ''}`)}\n`);
    } else {
      process.stdout.write(`${pc.yellow('reset')} ${s.service}: dropped ${describeCounts(s.dropped)}, forgot ${s.forgotten} ledger row${s.forgotten === 1 ? '' : 's'}\n`);
      for (const k of s.keptSchemas) process.stdout.write(`  ${pc.dim(`kept schema ${printable(k.schema)}: ${printable(k.reason)}`)}\n`);
    }
  }
  if (!result.dryRun) {
    const applied = result.migrate?.results.filter((r) => r.status === 'applied').length ?? 0;
    process.stdout.write(`${pc.green('✓')} ${result.services.map((s) => s.service).join(', ')} reset, ${applied} migration${applied === 1 ? '' : 's'} re-applied ${pc.dim(formatMs(result.durationMs))}\n`);
  }
  finish(undefined, flags);
}

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
  const { rebaseline } = await import('../flows/rebaseline.js');
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
    onStep: flags.json
      ? undefined
      : (step, detail) => process.stdout.write(`${pc.dim(`${formatMs(performance.now() - started).padStart(7)}  ${step}${detail ? `: ${detail}` : ''}`)}\n`),
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
    process.stdout.write(`  retired ${result.retired.deleted.length} row${result.retired.deleted.length === 1 ? '' : 's'} of ${result.retired.versionTable}${result.retired.droppedTable ? ' (table dropped, now empty)' : ''}\n`);
  }
  for (const n of result.notes) process.stdout.write(`  ${pc.dim(n)}\n`);
  if (result.shadow) process.stdout.write(`  baseline proven on: ${result.shadow}\n`);
  process.stdout.write(`  backup: ${result.backupDir}\n`);
  process.stdout.write(`  ${pc.dim(result.steps.map((s) => `${s.step} ${formatMs(s.ms)}`).join(' · '))}\n`);
  finish(undefined, flags);
}

export interface AdoptFlags extends GlobalOptions {
  service: string;
  as?: string;
  dir?: string;
  write?: boolean;
  archive?: boolean;
  lockTimeout?: number;
}

export async function runAdopt(flags: AdoptFlags): Promise<void> {
  const { adopt } = await import('../flows/adopt.js');
  const result = await adopt({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    as: flags.as,
    dir: flags.dir,
    write: flags.write,
    archive: flags.archive,
    lockTimeoutMs: lockTimeoutMs(flags),
    onStep: flags.json ? undefined : (step, detail) => process.stdout.write(`${pc.dim(`${step}${detail ? `: ${detail}` : ''}`)}\n`),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.error) return finish(result.error, flags);
  process.stdout.write(`${pc.green('✓')} ${result.service} adopted${result.name !== result.service ? ` as ${result.name}` : ''}: ${result.file ? displayPathOf(result.file) : ''} recorded as applied ${pc.dim(formatMs(result.durationMs))}\n`);
  if (result.requiresAdded.length) process.stdout.write(`  requires ${result.requiresAdded.join(', ')} (its foreign keys point there)\n`);
  if (result.retired) {
    const r = result.retired;
    process.stdout.write(
      `  ${r.versionTable}: ${r.deleted.length} row${r.deleted.length === 1 ? '' : 's'} retired (${r.deleted.join(', ') || 'none'})` +
        `${r.droppedTable ? ', table dropped (empty)' : r.remaining.length ? `; left for others: ${r.remaining.join(', ')}` : ''}\n`,
    );
  }
  const c = result.config;
  if (c?.written) process.stdout.write(`  config ${displayPathOf(c.file!)} updated:\n${indent(c.change)}\n`);
  else if (c) {
    process.stdout.write(`  ${pc.yellow('config not changed')}${c.problem ? ` (${c.problem})` : ' (pass --write to rewrite it)'}; make this change${c.file ? ` in ${displayPathOf(c.file)}` : ''}:\n${indent(c.change)}\n`);
  }
  if (result.archivedTo) process.stdout.write(`  the Alembic directory moved to ${displayPathOf(result.archivedTo)}\n`);
  finish(undefined, flags);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function displayPathOf(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export interface DemoFlags extends GlobalOptions {
  dir?: string;
  keep?: boolean;
  users?: number;
}

export async function runDemo(flags: DemoFlags): Promise<void> {
  const { demo } = await import('../flows/demo.js');
  if (!flags.json) process.stdout.write(`${pc.bold('tidemark demo')} — the CRM Ditual reset, end to end, on an embedded PostgreSQL (PGlite)\n\n`);
  let i = 0;
  const result = await demo({
    dir: flags.dir,
    keep: flags.keep,
    users: flags.users,
    onStep: flags.json
      ? undefined
      : (s) => {
          i++;
          const mark = s.ok ? pc.green('✓') : pc.red('✗');
          process.stdout.write(`${mark} ${pc.bold(`${i}. ${s.title}`)} ${pc.dim(formatMs(s.ms))}\n`);
          for (const line of s.lines) process.stdout.write(`     ${line}\n`);
        },
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  // The error's hint names the kept project and the command that shows the failure again.
  if (result.error) return finish(result.error, flags);
  process.stdout.write(`\n${pc.green('✓')} Done in ${formatMs(result.durationMs)}.${result.kept ? ` The project is in ${result.dir}.` : ''}\n\n`);
  process.stdout.write(`${pc.bold('On your own database')} (DATABASE_URL=postgres://…), the same story is:\n`);
  for (const line of [
    'tidemark check --db                                   # the doctor: duplicate ids, cross-service references, heads, alembic_version',
    'tidemark backup --out backups/before-adopt            # one snapshot, checksummed; tidemark verify-backup backups/before-adopt',
    'tidemark adopt --service user_service --as user --write',
    'tidemark adopt --service budget_service --as budget --write',
    'tidemark validate --against backups/before-adopt      # structure, counts, relationships',
    'tidemark new user add_phone && tidemark up            # from now on: user_002_…, budget_002_…',
  ]) {
    process.stdout.write(`  ${line}\n`);
  }
  finish(undefined, flags);
}
