import { pc } from '../report/colors.js';
import type { BackupEvent, BackupFormat, BackupResult, VerifyResult } from '../api/backup.js';
import { TidemarkError } from '../errors.js';
import { parseTableName } from '../config/owns.js';
import { displayPath } from '../paths.js';
import { escapeControl, type QualifiedName } from '../sql/ident.js';
import { finish, formatMs, note, printJson, type GlobalOptions } from './output.js';

export interface BackupFlags extends GlobalOptions {
  service?: string[];
  table?: string[];
  format?: string;
  out?: string;
  pgDump?: string;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

function rate(rows: number, ms: number): string {
  return ms > 0 ? `${Math.round((rows * 1000) / ms).toLocaleString('en-US')} rows/s` : '';
}

function doneLine(e: Extract<BackupEvent, { type: 'table-done' }>): string {
  return `${pc.green('backed up')} ${e.table} ${e.rows.toLocaleString('en-US')} rows, ${formatBytes(e.bytes)} ${pc.dim(`${formatMs(e.elapsedMs)}, ${rate(e.rows, e.elapsedMs)}`)}\n`;
}

/** Not a terminal: plain lines, one per table (and one every few seconds into a long table). */
function plainProgress(): (e: BackupEvent) => void {
  let lastLine = 0;
  return (e) => {
    if (e.type === 'table-done') {
      process.stdout.write(doneLine(e));
    } else if (e.type === 'table-progress' && e.elapsedMs - lastLine >= 5000) {
      lastLine = e.elapsedMs;
      note(`  ${e.table}: ${e.rows.toLocaleString('en-US')} rows, ${formatBytes(e.bytes)} so far (${rate(e.rows, e.elapsedMs)})`);
    } else if (e.type === 'table-start') {
      lastLine = 0;
    }
  };
}

/** The progress text for one table: `rows / total (pct%) bytes, rows/s`. */
function progressLine(table: string, rows: number, total: number, bytes: number, elapsedMs: number, estimated = false): string {
  const pct = total > 0 ? Math.min(100, Math.floor((rows * 100) / total)) : 100;
  return `  ${table} ${rows.toLocaleString('en-US')} / ${estimated ? '~' : ''}${total.toLocaleString('en-US')} rows (${pct}%) ${formatBytes(bytes)}${elapsedMs > 0 ? `, ${rate(rows, elapsedMs)}` : ''}`;
}

/** A terminal: one line per table rewritten in place (`\r` + clear line), then its summary line. No dependency. */
function ttyProgress(): (e: BackupEvent) => void {
  let total = 0;
  let estimated = false;
  let label = '';
  return (e) => {
    if (e.type === 'table-start') {
      total = e.rows;
      estimated = !!e.estimated; // the planner's estimate while the digest runs alongside
      label = `[${e.index + 1}/${e.total}] ${e.table}`;
      process.stdout.write(`\r\x1b[2K${progressLine(label, 0, total, 0, 0, estimated)}`);
    } else if (e.type === 'table-progress') {
      process.stdout.write(`\r\x1b[2K${progressLine(label, e.rows, total, e.bytes, e.elapsedMs, estimated)}`);
    } else {
      process.stdout.write(`\r\x1b[2K${doneLine(e)}`);
    }
  };
}

/** `tidemark backup`: exit 0 written, 1 failed, 2 bad usage (unknown service/table, existing --out). */
export async function runBackup(flags: BackupFlags): Promise<void> {
  // --table takes the owns grammar without wildcards: `orders`, `sales.orders`, `"sales.orders"`, `"My Schema"."a.b"`.
  const tables: QualifiedName[] = [];
  for (const text of flags.table ?? []) {
    const parsed = parseTableName(text);
    if (!parsed.ok) {
      return finish(
        new TidemarkError('bad-table-name', `--table \`${escapeControl(text)}\` ${parsed.error.message}.`, {
          kind: 'usage',
          hint: parsed.error.hint ?? 'write `table`, `schema.table`, or quote a name with dots, spaces or capitals: "sales.orders"',
        }),
        flags,
      );
    }
    tables.push(parsed.name);
  }
  const { backup } = await import('../api/backup.js');
  const onProgress = flags.json ? undefined : process.stdout.isTTY ? ttyProgress() : plainProgress();
  const result: BackupResult = await backup({
    configFile: flags.config,
    database: flags.database,
    onConnect: (database, source) => {
      if (!flags.json && source === 'default') note(`Using the embedded database ${database} (no --database, DATABASE_URL or config database).`);
    },
    service: flags.service?.length ? flags.service : undefined,
    table: tables.length ? tables : undefined,
    format: flags.format as BackupFormat | undefined,
    out: flags.out,
    ...(flags.pgDump !== undefined ? { pgDump: flags.pgDump } : {}),
    onProgress,
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  // Labels and notes are already terminal-safe (control characters escaped, see sql/ident.ts).
  for (const n of result.notes) note(n);
  if (result.ok && result.dir) {
    process.stdout.write(
      `Backed up ${result.tables.length} table${result.tables.length === 1 ? '' : 's'} (${result.rows.toLocaleString('en-US')} rows, ${formatBytes(result.bytes)}) to ${displayPath(result.dir)} in ${formatMs(result.durationMs)}.\n`,
    );
  }
  finish(result.error, flags);
}

/**
 * `tidemark verify-backup DIR`: exit 0 intact, 1 damage (a changed, missing or extra file), 2 no such
 * directory or a malformed or unsafe manifest (bad input: a table listed twice, a ledger or system
 * table, a data file outside data/, a symlink).
 */
export async function runVerifyBackup(dir: string, flags: GlobalOptions): Promise<void> {
  const { verifyBackup } = await import('../api/backup.js');
  const result: VerifyResult = await verifyBackup(dir);
  if (flags.json) {
    printJson(result);
    if (result.error) return finish(result.error, flags, true);
    process.exitCode = result.ok ? 0 : 1;
    return;
  }
  // With an error (bad input) its message names the bad-input problems; the damage ones are listed here.
  for (const p of result.problems) {
    if (!result.error || (p.kind !== 'manifest' && p.kind !== 'unsafe')) process.stdout.write(`${pc.red('✗')} ${escapeControl(p.message)}\n`);
  }
  if (result.error) return finish(result.error, flags);
  if (result.ok) {
    const rows = (result.tables ?? []).reduce((n, t) => n + t.rows, 0);
    process.stdout.write(
      `${pc.green('✓')} ${displayPath(result.dir)}: ${result.tables?.length ?? 0} tables, ${rows.toLocaleString('en-US')} rows, ${result.filesChecked} files (${formatBytes(result.bytesChecked)}) match the manifest ${pc.dim(formatMs(result.durationMs))}\n`,
    );
  } else {
    process.stdout.write(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}: ${displayPath(result.dir)} is not a trustworthy backup.\n`);
  }
  process.exitCode = result.ok ? 0 : 1;
}
