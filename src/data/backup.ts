/**
 * `tidemark backup` (DESIGN §2 "Backup", issue 4): the tables a service owns (or every service's,
 * or the named ones) read in ONE snapshot — one REPEATABLE READ READ ONLY transaction for the
 * catalog, the counts, the digests, the data and the ledger — streamed through COPY into
 * `data/<schema>.<table>.{ndjson,csv}`, with `manifest.json`, `manifest.sha256` and `schema.sql`.
 *
 * Everything is written into `<out>.tmp-<random>` and renamed to `<out>` only once complete, so a
 * crash never leaves a directory that looks like a finished backup. Results as values: never throws.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, resolveDatabaseUrl, resolveWorkspace, type DatabaseSource, type WorkspaceOptions } from '../db/connect.js';
import type { Workspace } from '../config/types.js';
import { parseTableName } from '../config/owns.js';
import type { Database } from '../db/database.js';
import { redactUrl, type ServerTarget } from '../db/url.js';
import { TidemarkError, isTidemarkError, type ErrorCode } from '../errors.js';
import { readLedger } from '../ledger/ledger.js';
import { TOOL_VERSION } from '../version.js';
import { displayName, displayQualified, escapeControl, quoteIdent, quoteQualified, type QualifiedName } from '../sql/ident.js';
import { DIGEST_ALGORITHM, DIGEST_SETTINGS_SQL, contentDigestSql, ownRows } from './digest.js';
import { MANIFEST_FORMAT_VERSION, type DataFormat, type Manifest, type ManifestColumn, type ManifestForeignKey, type ManifestTable } from './manifest.js';
import { ownerOfTable } from './owner.js';

/**
 * `pgdump`: the ndjson backup (what verify-backup and restore read) plus `dump.pgdump`, a
 * `pg_dump -Fc` of the same tables taken in the same snapshot (`--snapshot`), listed in the manifest's
 * `files` with its hash. Server only.
 */
export type BackupFormat = 'ndjson' | 'csv' | 'pgdump';

export type BackupEvent =
  /** `rows`: the exact count, or the planner's estimate (`estimated`) while the digest still runs. */
  | { type: 'table-start'; table: string; index: number; total: number; rows: number; estimated?: boolean }
  | { type: 'table-progress'; table: string; rows: number; bytes: number; elapsedMs: number }
  | { type: 'table-done'; table: string; rows: number; bytes: number; elapsedMs: number };

export interface BackupOptions extends WorkspaceOptions {
  /** Services whose owned tables to back up (default: every service, when no table is named). */
  service?: string | readonly string[];
  /** Tables to back up (instead of, or on top of, services): (schema, name) pairs, or text in the owns grammar without wildcards, as `--table` takes it. */
  table?: readonly (string | QualifiedName)[];
  format?: BackupFormat;
  /**
   * With `format: 'pgdump'`: the pg_dump to run (`--pg-dump PATH`, relative to `cwd`), instead of the
   * first one at least as new as the server on PATH, then in /usr/lib/postgresql/<N>/bin.
   */
  pgDump?: string;
  /** Target directory; must not exist or be empty. Default `./backups/<database>-<UTC timestamp>`. */
  out?: string;
  onProgress?: (event: BackupEvent) => void;
  /**
   * For tests: the heap pages per COPY piece (see `readPlan`). Default: PGlite reads 1,024 pages
   * (8 MiB) at a time; a server table of 8,192 pages (64 MiB) or more is read in two halves at once.
   */
  piecePages?: number;
}

export interface BackupResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  /** The finished backup directory (absolute), set only when ok. */
  dir?: string;
  format: BackupFormat;
  /** `pieces`: COPY statements the table was read with; `parallel`: two of them at once (server). */
  /**
   * `table`: the label (schema-qualified, quoted where needed, control characters escaped); `schema`
   * and `name` exactly; `format`: how its data file is written (csv for a table holding a JSON `null`).
   */
  tables: { table: string; schema: string; name: string; service?: string; format: DataFormat; rows: number; bytes: number; file: string; pieces: number; parallel: boolean }[];
  /** Things worth saying: a table written as csv (JSON null), a stale partial backup removed. */
  notes: string[];
  rows: number;
  bytes: number;
  durationMs: number;
  error?: TidemarkError;
}

const DATA_DIR = 'data';
const FLUSH_BYTES = 1 << 20; // write in ~1 MiB slices: COPY hands out many small chunks
const PROGRESS_EVERY_MS = 1000;

export async function backup(options: BackupOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  const format: BackupFormat = options.format ?? 'ndjson';
  const result: BackupResult = { ok: false, database: '', databaseSource: 'default', format, tables: [], notes: [], rows: 0, bytes: 0, durationMs: 0 };
  let close = async () => {};
  let tmpDir: string | undefined;
  let inTransaction = false;
  let db: Database | undefined;
  let closeDigester: (canceller?: Database) => Promise<void> = async () => {};
  let helper: SnapshotSession | undefined;
  try {
    if (format !== 'ndjson' && format !== 'csv' && format !== 'pgdump') {
      throw new TidemarkError('bad-usage', `Unknown backup format ${String(format)}: use ndjson, csv or pgdump.`, { kind: 'usage' });
    }
    if (options.pgDump !== undefined && format !== 'pgdump') {
      throw new TidemarkError('bad-usage', `--pg-dump names the pg_dump of --format pgdump, and the format is ${format}.`, {
        kind: 'usage',
        hint: 'Add --format pgdump, or leave --pg-dump out.',
      });
    }
    const dataFormat: 'ndjson' | 'csv' = format === 'pgdump' ? 'ndjson' : format;
    const workspace = await loadWorkspaceFor(options);
    const serviceNames = pickServices(workspace, options);
    if (options.out !== undefined) refuseNonEmpty(path.resolve(options.cwd ?? process.cwd(), options.out), options.out);

    const conn = await connect(options, workspace, result); // names the database and its source even if connecting fails
    close = conn.close;
    db = conn.db;
    result.database = conn.url;
    result.databaseSource = conn.source;

    let pgDump: PgDumpCommand | undefined;
    if (format === 'pgdump') pgDump = await preparePgDump(db, options, workspace);

    // One snapshot for everything; the settings fix the text of timestamps, floats and bytea in the
    // data files and in the digests (see digest.ts).
    await db.exec('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    inTransaction = true;
    await db.exec(`${DIGEST_SETTINGS_SQL};\n${ROW_SECURITY_OFF_SQL}`);
    // pg_dump and the digest connection read the very snapshot this transaction reads.
    const snapshot = db.backend === 'postgres' ? (await db.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id : undefined;

    const meta = (await db.query<{ db: string; version: string }>(`SELECT current_database() AS db, current_setting('server_version') AS version`)).rows[0];
    const serverVersion = db.backend === 'pglite' ? `${meta.version} (PGlite)` : meta.version;

    const live = await liveTables(db);
    const chosen = chooseTables(live, workspace, serviceNames, options.table);
    if (chosen.length === 0) {
      throw new TidemarkError('nothing-to-back-up', `No table to back up: ${describeSelection(serviceNames, options.table)} own${serviceNames.length === 1 && !options.table?.length ? 's' : ''} no table in the database.`, {
        kind: 'input',
        hint: 'Check the services\' `owns` in the config, or name tables with --table.',
      });
    }

    await refuseRowSecurity(db, chosen);

    const outDir = path.resolve(options.cwd ?? process.cwd(), options.out ?? path.join('backups', `${safeName(meta.db)}-${utcStamp(new Date())}`));
    refuseNonEmpty(outDir, options.out ?? outDir);
    // Folders created for it are private whatever the umask (a backup holds every row).
    fs.mkdirSync(path.dirname(outDir), { recursive: true, mode: 0o700 });
    result.notes.push(...removeStalePartials(path.dirname(outDir)));
    tmpDir = `${outDir}${TMP_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
    fs.mkdirSync(tmpDir, { mode: 0o700 });
    fs.chmodSync(tmpDir, 0o700); // umask may only have removed bits; make it exactly 0700
    // Who is writing it: a later backup removes it if that process is gone (killed, power cut).
    writeSmallFile(path.join(tmpDir, PARTIAL_MARKER), `${JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`);
    fs.mkdirSync(path.join(tmpDir, DATA_DIR), { mode: 0o700 });
    fs.chmodSync(path.join(tmpDir, DATA_DIR), 0o700);

    const tables: ManifestTable[] = [];
    const schemaParts: string[] = [];
    const schemaFks: string[] = [];
    const enums = new Map<string, string>();
    // The catalog first (cheap), so the digests can start on a second connection before the COPYs.
    const described: { t: LiveTable; name: string; info: TableInfo; columns: string[]; format: DataFormat; file: string }[] = [];
    const fileNames = new Set<string>();
    for (const t of chosen) {
      const info = await describeTable(db, t.oid);
      for (const [typeName, ddl] of info.enums) enums.set(typeName, ddl);
      schemaParts.push(info.ddl);
      schemaFks.push(...info.fkDdl);
      const name = displayQualified(t);
      // ndjson cannot tell a JSON `null` from SQL NULL: such a table is written as csv, which can.
      const jsonNull = dataFormat === 'ndjson' && (await holdsJsonNull(db, t));
      if (jsonNull) {
        result.notes.push(`${name} holds the JSON literal null in ${jsonNull}: written as csv (ndjson cannot tell it from SQL NULL).`);
      }
      const tableFormat: DataFormat = jsonNull ? 'csv' : dataFormat;
      described.push({ t, name, info, columns: info.columns.map((c) => c.name), format: tableFormat, file: dataFileName(t, tableFormat, fileNames) });
    }
    const digestQueries = described.map((d) => contentDigestSql(ownRows(d.t, d.t.kind), d.columns, DIGEST_ALGORITHM));
    // Server: the digests run on a second connection inside THIS snapshot, in parallel with the
    // COPYs (one full scan each, on two cores). PGlite, or a Database handed in: one after another.
    const digester = await openDigester(db, options, workspace, snapshot, digestQueries);
    closeDigester = digester.close;
    const plans = [];
    for (const d of described) plans.push(await readPlan(db, d.t, options.piecePages));
    // A big table is read in two halves at once: row_to_json costs the server more than the client
    // costs to take it in, so one COPY leaves a core idle. The second half needs a third connection.
    if (plans.some((p) => p.parallel)) helper = await openSnapshotSession(db, options, workspace, snapshot);

    for (const [index, d] of described.entries()) {
      const { t, name, info, columns, file } = d;
      const tableStarted = performance.now(); // per-table time includes the digest scan when sequential
      const digestPromise = digester.digest(index);
      // The progress bar's total: the exact count when the digest is already known, else the planner's estimate.
      const early = digester.parallel ? undefined : await digestPromise;
      const total = early ? Number(early.rows) : await estimatedRows(db, t.oid);
      options.onProgress?.({ type: 'table-start', table: name, index, total: chosen.length, rows: total, ...(early ? {} : { estimated: true }) });

      const written = await copyTable(db, helper?.db, readPieces(plans[index], d.format, t, columns, helper !== undefined), path.join(tmpDir, file), d.format, (rows, bytes) =>
        options.onProgress?.({ type: 'table-progress', table: name, rows, bytes, elapsedMs: performance.now() - tableStarted }),
      );
      const digest = early ?? (await digestPromise);
      const rowCount = Number(digest.rows);
      // Same snapshot: COPY must see exactly the rows count(*) saw. Anything else is a bug worth stopping for.
      if (written.records !== rowCount) {
        throw new TidemarkError('backup-count-mismatch', `${name}: COPY wrote ${written.records} row${written.records === 1 ? '' : 's'} but the snapshot counts ${rowCount}; nothing was written.`, {
          hint: 'COPY and count(*) read one snapshot, so they cannot differ: a bug of tidemark or of the driver. Run again with --debug and report it.',
        });
      }
      const service = ownerOfTable(workspace, t)?.name;
      tables.push({
        schema: t.schema,
        name: t.name,
        ...(service ? { service } : {}),
        format: d.format,
        columns: info.columns.map(({ name: n, type, nullable, identity, generated }) => ({
          name: n,
          type,
          nullable,
          ...(identity ? { identity } : {}),
          ...(generated ? { generated } : {}),
        })),
        primaryKey: info.primaryKey,
        foreignKeys: info.foreignKeys,
        rowCount,
        file,
        sha256: written.sha256,
        bytes: written.bytes,
        contentDigest: digest.digest,
        digestColumns: columns,
      });
      result.tables.push({ table: name, schema: t.schema, name: t.name, ...(service ? { service } : {}), format: d.format, rows: rowCount, bytes: written.bytes, file, pieces: written.pieces, parallel: written.parallel });
      result.rows += rowCount;
      result.bytes += written.bytes;
      options.onProgress?.({ type: 'table-done', table: name, rows: rowCount, bytes: written.bytes, elapsedMs: performance.now() - tableStarted });
    }

    const services = [...new Set([...serviceNames, ...tables.map((t) => t.service).filter((s): s is string => !!s)])].sort();
    const ledger = services.length ? await readLedger(db, services) : [];
    let dumpFile: { sha256: string; bytes: number } | undefined;
    if (pgDump && snapshot) {
      dumpFile = await runPgDump(pgDump, snapshot, chosen, path.join(tmpDir, PGDUMP_FILE));
      result.bytes += dumpFile.bytes;
    }
    await closeDigester();
    await helper?.close();
    await db.exec('COMMIT'); // read only: nothing to commit, it just ends the snapshot
    inTransaction = false;

    const schemaSql = renderSchemaSql(meta.db, serverVersion, [...enums.values()], schemaParts, schemaFks);
    const schemaFile = writeSmallFile(path.join(tmpDir, 'schema.sql'), schemaSql);
    const manifest: Manifest = {
      formatVersion: MANIFEST_FORMAT_VERSION,
      tool: { name: 'tidemark', version: TOOL_VERSION },
      createdAt: new Date().toISOString(),
      serverVersion,
      database: meta.db,
      format: dataFormat,
      contentDigestAlgorithm: DIGEST_ALGORITHM,
      services,
      tables,
      ledger: ledger.map((r) => ({ service: r.service, migration: r.migration, checksum: r.checksum, status: r.status, appliedAt: r.appliedAt.toISOString() })),
      files: [{ file: 'schema.sql', ...schemaFile }, ...(dumpFile ? [{ file: PGDUMP_FILE, ...dumpFile }] : [])],
    };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    writeSmallFile(path.join(tmpDir, 'manifest.json'), manifestText);
    // The manifest's own integrity (an edited manifest is caught by verify-backup); sha256sum's format.
    writeSmallFile(path.join(tmpDir, 'manifest.sha256'), `${sha256(manifestText)}  manifest.json\n`);
    fs.rmSync(path.join(tmpDir, PARTIAL_MARKER));
    syncDir(path.join(tmpDir, DATA_DIR));
    syncDir(tmpDir);

    // An empty target directory (allowed) is replaced by rename(2) atomically on POSIX. Checked again:
    // something may have appeared there meanwhile (a symlink, a file).
    refuseNonEmpty(outDir, options.out ?? outDir);
    fs.renameSync(tmpDir, outDir);
    tmpDir = undefined;
    syncDir(path.dirname(outDir));
    result.dir = outDir;
    result.ok = true;
  } catch (err) {
    result.error = isTidemarkError(err) ? err : new TidemarkError('backup-failed', `Backup failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    if (inTransaction && db) await db.exec('ROLLBACK').catch(() => {});
    await closeDigester(db).catch(() => {}); // the second connection, on every path
    await helper?.close(db).catch(() => {});

    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    try {
      await close();
    } catch {
      // closing a broken connection must not hide the real outcome
    }
    result.durationMs = performance.now() - started;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The content digests

type DigestRow = { rows: string; digest: string };

interface Digester {
  parallel: boolean;
  /** The digest of table `index` (in the order the queries were given). */
  digest(index: number): Promise<DigestRow>;
  /**
   * Closes the second connection (ending its read-only transaction); idempotent, never throws.
   * A digest still running is first cancelled through `canceller` (a usable session), so the
   * server does not go on scanning for a client that has gone.
   */
  close(canceller?: Database): Promise<void>;
}

/**
 * The digests on a snapshot session (see openSnapshotSession), one after another, while the main
 * connection streams the COPYs: they are of exactly the rows the files hold. Without such a session:
 * on the main connection, before each table's COPY.
 */
async function openDigester(
  db: Database,
  options: BackupOptions,
  workspace: Workspace | undefined,
  snapshot: string | undefined,
  queries: string[],
): Promise<Digester> {
  const sequential: Digester = {
    parallel: false,
    digest: async (i) => (await db.query<DigestRow>(queries[i])).rows[0],
    close: async () => {},
  };
  const session = queries.length ? await openSnapshotSession(db, options, workspace, snapshot) : undefined;
  if (!session) return sequential;
  // One after another on the second connection, each sent when the one before has settled (a pg
  // client given a query while one runs queues it but warns, and pg 9 will refuse); each promise gets
  // a handler at once, so a failure is reported where it is awaited, never as an unhandled rejection.
  let previous: Promise<unknown> = Promise.resolve();
  const results = queries.map((sql) => {
    const next = previous.then(() => session.db.query<DigestRow>(sql)).then((r) => r.rows[0]);
    previous = next.catch(() => {});
    return session.track(next);
  });
  return { parallel: true, digest: (i) => results[i], close: (canceller) => session.close(canceller) };
}

/** A second connection reading the backup's snapshot (see openSnapshotSession). */
interface SnapshotSession {
  db: Database;
  /** Counts `work` as running until it settles, so close() knows to cancel it; returns it. */
  track<T>(work: Promise<T>): Promise<T>;
  /**
   * Closes the connection (ending its read-only transaction); idempotent, never throws. Work still
   * running is first cancelled through `canceller` (a usable session), so the server does not go on
   * scanning for a client that has gone.
   */
  close(canceller?: Database): Promise<void>;
}

/**
 * On the server, when tidemark opened the connection itself (so it knows the URL): a new connection
 * that imports the backup's snapshot (`SET TRANSACTION SNAPSHOT`, same REPEATABLE READ READ ONLY,
 * same output settings), so what it reads is exactly what the main connection reads. Undefined on
 * PGlite, for a Database handed in by an API caller, without an exported snapshot, or when a
 * connection cannot be opened or cannot import the snapshot (max_connections, a pooler): the caller
 * then does the work on the main connection.
 */
async function openSnapshotSession(
  db: Database,
  options: BackupOptions,
  workspace: Workspace | undefined,
  snapshot: string | undefined,
): Promise<SnapshotSession | undefined> {
  if (db.backend !== 'postgres' || !snapshot || (options.database !== undefined && typeof options.database !== 'string')) return undefined;
  const { openDatabase } = await import('../db/open.js');
  let second: Database;
  try {
    second = await openDatabase(resolveDatabaseUrl(options.database, workspace).url, { cwd: options.cwd });
  } catch {
    return undefined;
  }
  let closed = false;
  let pid: number | undefined;
  let pending = 0;
  const close = async (canceller?: Database) => {
    if (closed) return;
    closed = true;
    if (pending > 0 && pid !== undefined && canceller) await canceller.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
    await second.close().catch(() => {}); // closing ends its read-only transaction
  };
  try {
    pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await second.exec(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSET TRANSACTION SNAPSHOT ${sqlLiteral(snapshot)};\n${DIGEST_SETTINGS_SQL};\n${ROW_SECURITY_OFF_SQL}`);
  } catch {
    await close();
    return undefined;
  }
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending++;
    work.then(
      () => pending--,
      () => pending--,
    );
    return work;
  };
  return { db: second, track, close };
}

// ---------------------------------------------------------------------------------------------
// Reading a table in pieces

/** How a table is read: as one COPY, in page ranges one after another, or in two halves at once. */
interface ReadPlan {
  /** Upper page bounds of the pieces, in order; the last piece is open-ended (`ctid >= last bound`). */
  bounds: number[];
  parallel: boolean;
}

const PGLITE_PIECE_PAGES = 1024; // 8 MiB of heap: PGlite hands each COPY back as one blob in memory
const SPLIT_MIN_PAGES = 8192; // 64 MiB: below that a second COPY costs more than it saves

/**
 * Pieces are ctid ranges (a TID range scan reads just those pages, PostgreSQL 14+): complementary
 * predicates, so every row is in exactly one piece whatever the bounds, and rows added to new pages
 * after the snapshot are invisible to it anyway. Partitioned tables are read whole (their pages are
 * their partitions').
 */
async function readPlan(db: Database, t: LiveTable, piecePages: number | undefined): Promise<ReadPlan> {
  const r = await db.query<{ pages: number; kind: string }>(
    `SELECT (pg_relation_size(c.oid) / current_setting('block_size')::int)::float8 AS pages, c.relkind::text AS kind FROM pg_class c WHERE c.oid = $1::int8::oid`,
    [t.oid],
  );
  const pages = Number(r.rows[0]?.pages ?? 0);
  if (r.rows[0]?.kind !== 'r') return { bounds: [], parallel: false };
  if (db.backend === 'pglite') {
    const step = piecePages ?? PGLITE_PIECE_PAGES;
    const bounds: number[] = [];
    for (let b = step; b < pages; b += step) bounds.push(b);
    return { bounds, parallel: false };
  }
  const min = piecePages ?? SPLIT_MIN_PAGES;
  return pages >= min && pages >= 2 ? { bounds: [Math.floor(pages / 2)], parallel: true } : { bounds: [], parallel: false };
}

/** The COPY statements of a plan, in file order; `parallel` false when no second connection was had. */
function readPieces(plan: ReadPlan, format: DataFormat, t: LiveTable, columns: string[], helper: boolean): { sql: string[]; parallel: boolean } {
  // Two halves need the second connection; without it, one COPY (the server streams it anyway).
  if (!plan.bounds.length || (plan.parallel && !helper)) return { sql: [copySql(format, t, columns)], parallel: false };
  const sql: string[] = [];
  let from = 0;
  for (const to of [...plan.bounds, undefined]) {
    const where = [from > 0 ? `t.ctid >= '(${from},0)'::tid` : '', to !== undefined ? `t.ctid < '(${to},0)'::tid` : ''].filter(Boolean).join(' AND ');
    sql.push(copySql(format, t, columns, where, from === 0));
    if (to !== undefined) from = to;
  }
  return { sql, parallel: plan.parallel };
}

/** The planner's row estimate (0 when never analyzed): only for the progress bar's total. */
async function estimatedRows(db: Database, oid: number): Promise<number> {
  const r = await db.query<{ n: number }>(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::int8::oid`, [oid]);
  return Math.round(Number(r.rows[0]?.n ?? 0));
}

// ---------------------------------------------------------------------------------------------
// pg_dump (--format pgdump)

const PGDUMP_FILE = 'dump.pgdump';

function usage(code: ErrorCode, message: string, hint?: string): TidemarkError {
  return new TidemarkError(code, message, hint ? { hint } : {});
}

function run(bin: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; stdout: string; stderr: string; exit: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      // Never err.message: it repeats the whole command line.
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      const exit = !e ? '' : e.signal ? `was killed by ${e.signal}` : typeof e.code === 'number' ? `exited with code ${e.code}` : `could not run (${String(e.code ?? 'unknown error')})`;
      resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr ?? ''), exit });
    });
  });
}

/** `pg_dump (PostgreSQL) 15.20 (Debian …)` → 15 (major; 9.6 → 9). */
export function pgDumpMajor(versionText: string): number | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/u.exec(versionText) ?? /(\d+)(?:\.(\d+))?/u.exec(versionText);
  return m ? Number(m[1]) : undefined;
}

/** Candidates: PATH's pg_dump first, then /usr/lib/postgresql/<N>/bin/pg_dump, highest N first. */
function pgDumpCandidates(): string[] {
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const bin = path.join(dir, 'pg_dump');
    if (isExecutable(bin)) {
      found.push(bin);
      break;
    }
  }
  let versions: string[] = [];
  try {
    versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/u.test(v));
  } catch {
    // no Debian-style install
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `/usr/lib/postgresql/${v}/bin/pg_dump`;
    if (isExecutable(bin)) found.push(bin);
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** How pg_dump is run: the binary and the server target the backup's own connection was opened from. */
interface PgDumpCommand {
  bin: string;
  target: ServerTarget;
}

/** Refuses PGlite, finds a pg_dump at least as new as the server, and takes the connection's own target. */
async function preparePgDump(db: Database, options: BackupOptions, _workspace: Workspace | undefined): Promise<PgDumpCommand> {
  if (db.backend === 'pglite') {
    throw usage(
      'pgdump-embedded',
      'pg_dump cannot read an embedded (PGlite) database: --format pgdump needs a PostgreSQL server (postgres://…).',
      'Use --format ndjson or csv for an embedded database.',
    );
  }
  const { serverTargetOf } = await import('../db/postgres.js');
  const target = serverTargetOf(db);
  if (!target) {
    throw usage('pgdump-needs-url', '--format pgdump needs the database as a connection URL (pg_dump opens its own connection).');
  }

  const serverNum = Number((await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0].v);
  const serverMajor = Math.floor(serverNum / 10000); // 150020 → 15, 90624 → 9
  const install = `Install the PostgreSQL ${serverMajor} client tools (e.g. apt-get install postgresql-client-${serverMajor}, brew install libpq)`;
  // A pg_dump named with --pg-dump is the only candidate: never a silent fallback to another one.
  const named = options.pgDump === undefined ? undefined : path.resolve(options.cwd ?? process.cwd(), options.pgDump);
  const shown = named === undefined ? '' : escapeControl(named);
  if (named !== undefined && !isExecutable(named)) {
    throw usage(
      'pgdump-not-found',
      `--pg-dump ${shown} is not an executable file: --format pgdump runs pg_dump -Fc.`,
      `Name the pg_dump of PostgreSQL ${serverMajor} or newer (e.g. /usr/lib/postgresql/${serverMajor}/bin/pg_dump), or leave --pg-dump out to look on PATH and in /usr/lib/postgresql/*/bin.`,
    );
  }
  const tried: string[] = [];
  for (const bin of named !== undefined ? [named] : pgDumpCandidates()) {
    const v = await run(bin, ['--version']);
    const major = v.ok ? pgDumpMajor(v.stdout) : undefined;
    if (major === undefined) continue;
    if (major >= serverMajor) return { bin, target };
    tried.push(`${escapeControl(bin)} is version ${major}`);
  }
  if (named !== undefined && !tried.length) {
    throw usage(
      'pgdump-not-found',
      `--pg-dump ${shown} does not answer --version as pg_dump does (\`pg_dump (PostgreSQL) ${serverMajor}…\`): --format pgdump runs pg_dump -Fc.`,
      `Name the pg_dump of PostgreSQL ${serverMajor} or newer, or leave --pg-dump out to look on PATH and in /usr/lib/postgresql/*/bin.`,
    );
  }
  if (!tried.length) {
    throw usage(
      'pgdump-not-found',
      'No pg_dump found (looked on PATH and in /usr/lib/postgresql/*/bin): --format pgdump runs pg_dump -Fc.',
      `${install}, name one with --pg-dump PATH, or use --format ndjson or csv.`,
    );
  }
  throw usage(
    'pgdump-too-old',
    `pg_dump is too old for the server: the server is PostgreSQL ${serverMajor} and ${tried.join(', ')}; pg_dump must be version ${serverMajor} or newer.`,
    named !== undefined ? `${install}, or name a newer pg_dump with --pg-dump.` : `${install}, put a newer pg_dump first on PATH, or name one with --pg-dump PATH.`,
  );
}

/** A libpq conninfo value: single-quoted, `\` and `'` escaped. */
const conninfoValue = (v: string | number) => `'${String(v).replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** A .pgpass field: `\` and `:` escaped. */
const passfileField = (v: string) => v.replace(/[\\:]/g, (c) => `\\${c}`);

/**
 * pg_dump's command line names the server (host, port, user, database: the very target the backup's
 * connection uses) and never the password: that goes into a 0600 PGPASSFILE in a private 0700
 * directory removed afterwards (or, for a password with a line break, which a passfile cannot hold,
 * the child's environment). PG* variables that could send libpq elsewhere are dropped.
 */
async function runPgDump(pgDump: PgDumpCommand, snapshot: string, tables: LiveTable[], file: string): Promise<{ sha256: string; bytes: number }> {
  const { target } = pgDump;
  // -t takes a pattern: quote each name so dots, capitals and wildcards in names stay literal.
  const pattern = (s: string) => `"${s.replaceAll('"', '""')}"`;
  const conninfo = [
    `host=${conninfoValue(target.host)}`,
    `port=${conninfoValue(target.port)}`,
    `user=${conninfoValue(target.user)}`,
    `dbname=${conninfoValue(target.database)}`,
    ...Object.entries(target.libpq).map(([k, v]) => `${k}=${conninfoValue(v)}`),
  ].join(' ');
  const args = ['-Fc', '--no-owner', `--snapshot=${snapshot}`, ...tables.flatMap((t) => ['-t', `${pattern(t.schema)}.${pattern(t.name)}`]), '-f', file, '-d', conninfo];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['PGPASSWORD', 'PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE', 'PGSERVICEFILE']) delete env[k];
  const password = target.password;
  let secretDir: string | undefined;
  try {
    if (password !== undefined && /[\r\n]/.test(password)) {
      env.PGPASSWORD = password;
    } else if (password !== undefined) {
      secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-pgpass-'));
      fs.chmodSync(secretDir, 0o700);
      const passfile = path.join(secretDir, 'pgpass');
      fs.writeFileSync(passfile, `*:*:*:*:${passfileField(password)}\n`, { mode: 0o600, flag: 'wx' });
      fs.chmodSync(passfile, 0o600); // libpq ignores a passfile others can read
      env.PGPASSFILE = passfile;
    }
    const r = await run(pgDump.bin, args, env);
    if (!r.ok) {
      let detail = redactUrl(r.stderr.trim().split('\n').filter(Boolean).slice(0, 3).join('; '));
      if (password) detail = detail.replaceAll(password, '***');
      throw new TidemarkError('pgdump-failed', `pg_dump failed on ${target.display}: ${detail || `it ${r.exit} without a message`}.`, {
        hint: 'Run pg_dump by hand against the same server to see why; the ndjson part of the backup needs no pg_dump (--format ndjson).',
      });
    }
  } finally {
    if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
  }
  fs.chmodSync(file, 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

// ---------------------------------------------------------------------------------------------
// What to back up

async function loadWorkspaceFor(options: BackupOptions): Promise<Workspace | undefined> {
  try {
    return await resolveWorkspace(options);
  } catch (err) {
    // Named tables need no config (nor does a database URL given directly); services do.
    if (options.table?.length && !options.service && isTidemarkError(err) && err.code === 'config-not-found') return undefined;
    throw err;
  }
}

function pickServices(workspace: Workspace | undefined, options: BackupOptions): string[] {
  const names = options.service === undefined ? undefined : typeof options.service === 'string' ? [options.service] : [...options.service];
  if (names?.length) {
    for (const name of names) {
      if (!workspace?.services.some((s) => s.name === name)) {
        throw new TidemarkError('unknown-service', `No service ${name} in the config.`, {
          kind: 'usage',
          hint: `Declared services: ${workspace?.services.map((s) => s.name).join(', ') || 'none'}.`,
        });
      }
    }
    return names;
  }
  // Named tables alone: just those. Otherwise every service, Alembic-kept ones included (their data matters too).
  if (options.table?.length) return [];
  return workspace?.services.map((s) => s.name) ?? [];
}

interface LiveTable extends QualifiedName {
  oid: number;
  /** pg_class.relkind: 'r' ordinary, 'p' partitioned. */
  kind: string;
}

async function liveTables(db: Database): Promise<LiveTable[]> {
  // Ordinary and partitioned tables; partitions are read through their parent. tidemark's own ledger
  // is recorded in the manifest, not as a table. A table without columns is one too: its rows are
  // empty lines (`{}` in ndjson), their count is its whole content, and restore loads them back.
  const { rows } = await db.query<{ oid: number; schema: string; name: string; kind: string }>(
    `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY n.nspname, c.relname`,
  );
  return rows.map((r) => ({ oid: Number(r.oid), schema: r.schema, name: r.name, kind: r.kind }));
}

function chooseTables(live: LiveTable[], workspace: Workspace | undefined, services: string[], named: readonly (string | QualifiedName)[] | undefined): LiveTable[] {
  const chosen = new Map<number, LiveTable>();
  if (services.length && workspace) {
    for (const t of live) {
      const owner = ownerOfTable(workspace, t);
      if (owner && services.includes(owner.name)) chosen.set(t.oid, t);
    }
  }
  for (const name of named ?? []) {
    const q = typeof name === 'string' ? tableNameOf(name) : name;
    const found = live.find((t) => t.schema === q.schema && t.name === q.name);
    if (!found) throw new TidemarkError('unknown-table', `No table ${displayName(q)} in the database.`, { kind: 'usage' });
    chosen.set(found.oid, found);
  }
  return [...chosen.values()].sort((a, b) => (a.schema === b.schema ? cmp(a.name, b.name) : cmp(a.schema, b.schema)));
}

/** A table named as text: the owns grammar without wildcards, as `--table` (`"a.b".c` and `a."b.c"` are two tables). */
function tableNameOf(text: string): QualifiedName {
  const parsed = parseTableName(text);
  if (parsed.ok) return parsed.name;
  throw new TidemarkError('bad-table-name', `table \`${escapeControl(text)}\` ${parsed.error.message}.`, {
    kind: 'usage',
    hint: parsed.error.hint ?? 'write `table`, `schema.table`, or quote a name with dots, spaces or capitals: "sales.orders"',
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeSelection(services: string[], tables: readonly (string | QualifiedName)[] | undefined): string {
  if (tables?.length) return `tables ${tables.map((t) => (typeof t === 'string' ? t : displayName(t))).join(', ')}`;
  return services.length === 1 ? `service ${services[0]}` : `services ${services.join(', ') || '(none configured)'}`;
}

// ---------------------------------------------------------------------------------------------
// Row-level security, JSON null

/**
 * Like pg_dump: read with row_security off, so a table whose policies would hide rows from this role
 * makes the read fail instead of giving a silently partial backup. (Checked first by
 * refuseRowSecurity, with a clearer message.)
 */
export const ROW_SECURITY_OFF_SQL = `SET LOCAL row_security = off`;

/** Refuses (before anything is written) tables whose row-level security applies to this role. */
async function refuseRowSecurity(db: Database, tables: LiveTable[]): Promise<void> {
  if (!tables.length) return;
  const r = await db.query<{ schema: string; name: string; force: boolean; owner: boolean; role: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relforcerowsecurity AS force,
            pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owner, current_user::text AS role
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = ANY($1::int8[]::oid[]) AND c.relrowsecurity AND pg_catalog.row_security_active(c.oid)
      ORDER BY 1, 2`,
    [tables.map((t) => t.oid)],
  );
  if (!r.rows.length) return;
  const role = r.rows[0].role;
  const names = r.rows.map((t) => `${displayQualified(t)}${t.owner && t.force ? ' (owned by it, with FORCE ROW LEVEL SECURITY)' : ''}`);
  throw new TidemarkError(
    'backup-row-security',
    `Row-level security would hide rows of ${names.join(', ')} from role ${escapeControl(role)}: a backup must hold every row, nothing written.`,
    {
      hint: 'Back up as a role with BYPASSRLS or a superuser, or as the table owner without FORCE ROW LEVEL SECURITY (ALTER TABLE … NO FORCE ROW LEVEL SECURITY).',
    },
  );
}

const JSON_TYPE_OIDS = '114, 3802';

/**
 * The columns (as `a, b`) of a table holding a JSON `null` where ndjson would read back SQL NULL, or
 * undefined. json/jsonb columns (and domains over them) are checked exactly; arrays and composites
 * holding json somewhere conservatively (their text contains `null`): csv is exact either way.
 */
async function holdsJsonNull(db: Database, t: LiveTable): Promise<string | undefined> {
  const cols = (
    await db.query<{ name: string; direct: boolean; nested: boolean }>(
      `WITH RECURSIVE r(col, num, typ, nested, depth) AS (
         SELECT a.attname, a.attnum, a.atttypid, false, 0 FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
         UNION ALL
         SELECT r.col, r.num, x.typ, r.nested OR x.container, r.depth + 1
           FROM r JOIN pg_catalog.pg_type ty ON ty.oid = r.typ
           CROSS JOIN LATERAL (
             SELECT ty.typbasetype AS typ, false AS container WHERE ty.typtype = 'd'
             UNION ALL SELECT ty.typelem, true WHERE ty.typcategory = 'A' AND ty.typelem <> 0
             UNION ALL SELECT a2.atttypid, true FROM pg_catalog.pg_attribute a2
                        WHERE ty.typtype = 'c' AND a2.attrelid = ty.typrelid AND a2.attnum > 0 AND NOT a2.attisdropped
           ) AS x
          WHERE r.depth < 20
       )
       SELECT r.col AS name, pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS}) AND NOT r.nested) AS direct,
              pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS}) AND r.nested) AS nested
         FROM r GROUP BY r.col, r.num HAVING pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS})) ORDER BY r.num`,
      [t.oid],
    )
  ).rows;
  if (!cols.length) return undefined;
  const tests = cols.map((c) =>
    c.direct && !c.nested
      ? `pg_catalog.jsonb_typeof(t.${quoteIdent(c.name)}::pg_catalog.jsonb) = 'null'`
      : `t.${quoteIdent(c.name)}::pg_catalog.text LIKE '%null%'`,
  );
  const found: string[] = [];
  for (const [i, c] of cols.entries()) {
    const r = await db.query<{ hit: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${ownRows(t, t.kind)} AS t WHERE ${tests[i]}) AS hit`);
    if (r.rows[0].hit) found.push(displayName(c.name));
  }
  return found.length ? found.join(', ') : undefined;
}

// ---------------------------------------------------------------------------------------------
// The catalog

interface TableInfo {
  columns: (ManifestColumn & { default?: string; expression?: string })[];
  primaryKey: string[];
  foreignKeys: ManifestForeignKey[];
  ddl: string;
  fkDdl: string[];
  enums: [string, string][];
}

async function describeTable(db: Database, oid: number): Promise<TableInfo> {
  const cols = await db.query<{
    name: string;
    type: string;
    notnull: boolean;
    identity: string;
    generated: string;
    expr: string | null;
    typtype: string;
    elemtyptype: string | null;
    typoid: number;
    elemoid: number | null;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            a.attidentity::text AS identity, a.attgenerated::text AS generated,
            pg_get_expr(d.adbin, d.adrelid) AS expr, ty.typtype::text AS typtype,
            el.typtype::text AS elemtyptype, ty.oid::int8::float8 AS typoid, el.oid::int8::float8 AS elemoid
       FROM pg_attribute a
       JOIN pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_type el ON el.oid = ty.typelem AND ty.typcategory = 'A'
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const cons = await db.query<{ name: string; type: string; def: string; cols: string[] | null; ref_schema: string | null; ref_name: string | null; refcols: string[] | null }>(
    `SELECT con.conname AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS def,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
            rn.nspname AS ref_schema, rc.relname AS ref_name,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS refcols
       FROM pg_constraint con
       LEFT JOIN pg_class rc ON rc.oid = con.confrelid
       LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.conrelid = $1::int8::oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
      ORDER BY CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3 ELSE 4 END, con.conname`,
    [oid],
  );
  const rel = (
    await db.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::int8::oid`,
      [oid],
    )
  ).rows[0];

  // Enum types the columns use (directly or as arrays), so schema.sql reads on its own.
  const enumOids = [...new Set(cols.rows.flatMap((c) => [c.typtype === 'e' ? c.typoid : null, c.elemtyptype === 'e' ? c.elemoid : null]).filter((x): x is number => x !== null))];
  const enums: [string, string][] = [];
  for (const typoid of enumOids) {
    const e = (
      await db.query<{ name: string; labels: string[] }>(
        `SELECT format_type(t.oid, NULL) AS name, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
           FROM pg_type t WHERE t.oid = $1::int8::oid`,
        [typoid],
      )
    ).rows[0];
    enums.push([e.name, `CREATE TYPE ${e.name} AS ENUM (${e.labels.map(sqlLiteral).join(', ')});`]);
  }

  const columns: TableInfo['columns'] = cols.rows.map((c) => {
    const identity = c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : undefined;
    const generated = c.generated === 's' ? 'stored' : c.generated === 'v' ? 'virtual' : undefined;
    return {
      name: c.name,
      type: c.type,
      nullable: !c.notnull,
      ...(identity ? { identity } : {}),
      ...(generated ? { generated, expression: c.expr ?? undefined } : c.expr !== null ? { default: c.expr } : {}),
    } as TableInfo['columns'][number];
  });
  const pk = cons.rows.find((c) => c.type === 'p');
  const foreignKeys: ManifestForeignKey[] = cons.rows
    .filter((c) => c.type === 'f')
    .map((c) => ({ name: c.name, columns: c.cols ?? [], references: { schema: c.ref_schema ?? '', name: c.ref_name ?? '' }, referencedColumns: c.refcols ?? [] }));

  const qualified = quoteQualified(rel);
  const lines = columns.map((c) => {
    let line = `  ${quoteIdent(c.name)} ${c.type}`;
    if (c.generated) line += ` GENERATED ALWAYS AS (${c.expression}) ${c.generated === 'virtual' ? 'VIRTUAL' : 'STORED'}`;
    if (c.identity) line += ` GENERATED ${c.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
    if (c.default !== undefined) line += ` DEFAULT ${c.default}`;
    if (!c.nullable) line += ' NOT NULL';
    return line;
  });
  for (const con of cons.rows.filter((c) => c.type !== 'f')) lines.push(`  CONSTRAINT ${quoteIdent(con.name)} ${con.def}`);
  // Foreign keys after every table, so the file's order does not matter.
  const fks = cons.rows.filter((c) => c.type === 'f').map((c) => `ALTER TABLE ${qualified} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def};`);
  const ddl = `CREATE TABLE ${qualified} (\n${lines.join(',\n')}\n);`;
  return { columns, primaryKey: pk?.cols ?? [], foreignKeys, ddl, fkDdl: fks, enums };
}

function sqlLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function renderSchemaSql(database: string, serverVersion: string, enums: string[], tables: string[], fks: string[]): string {
  return [
    `-- tidemark backup of database ${database} (PostgreSQL ${serverVersion})`,
    '-- INFORMATIONAL: the backed-up tables as the catalog described them (columns, types, defaults,',
    '-- NOT NULL, identity/generated, primary key, unique, check and foreign key constraints). Indexes,',
    '-- triggers, sequences, policies and grants are not included: restore loads into the schema your',
    '-- migrations build, not from this file.',
    '',
    ...(enums.length ? [...enums, ''] : []),
    ...tables.flatMap((t) => [t, '']),
    ...(fks.length ? [...fks, ''] : []),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The data

/** `where` restricts the rows (a ctid range); `header` (csv) is for the first piece of a file only. */
function copySql(format: DataFormat, t: LiveTable, columns: string[], where = '', header = true): string {
  const qualified = ownRows(t, t.kind);
  const filter = where ? ` WHERE ${where}` : '';
  if (format === 'ndjson') {
    // CSV mode with quote and delimiter set to bytes JSON never contains raw (row_to_json escapes
    // control characters): exact JSON lines. Text mode would double every backslash in the JSON.
    // `t.*`, not `t`: a bare `t` means a column named t when the table has one.
    return `COPY (SELECT pg_catalog.row_to_json(t.*) FROM ${qualified} AS t${filter}) TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
  }
  // Explicit columns: a virtual generated column (PostgreSQL 18) is not copied by `COPY table`.
  const list = columns.map((c) => `t.${quoteIdent(c)}`).join(', ');
  return `COPY (SELECT ${list} FROM ${qualified} AS t${filter}) TO STDOUT WITH (FORMAT csv${header ? ', HEADER' : ''})`;
}

/** Bytes from one COPY, batched into ~1 MiB writes (COPY hands out many small chunks). */
class PieceWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  bytes = 0;
  readonly counter: RecordCounter;

  constructor(
    private readonly fh: fs.promises.FileHandle,
    format: BackupFormat,
    header: boolean,
    private readonly hash?: ReturnType<typeof createHash>,
  ) {
    this.counter = new RecordCounter(format, header);
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // Hash and count a block at a time: far fewer calls than per COPY chunk.
    this.hash?.update(buf);
    this.counter.feed(buf);
    await this.fh.write(buf);
  }
}

/**
 * Streams a table's COPY pieces into `file` (0600) through SHA-256 and a byte and record counter,
 * in the pieces' order. On the server the chunks come from pg-copy-streams, so memory stays flat;
 * PGlite hands each COPY over as one blob, so there a table is read in page ranges (readPlan).
 * With `parallel` the last piece is read at the same time on `helper` into a side file, appended
 * (and hashed) once the first is written.
 */
async function copyTable(
  db: Database,
  helper: Database | undefined,
  pieces: { sql: string[]; parallel: boolean },
  file: string,
  format: BackupFormat,
  onProgress: (rows: number, bytes: number) => void,
): Promise<{ sha256: string; bytes: number; records: number; pieces: number; parallel: boolean }> {
  const hash = createHash('sha256');
  const fh = await fs.promises.open(file, 'wx', 0o600);
  const parallel = pieces.parallel && helper !== undefined;
  const writers: PieceWriter[] = [];
  let lastProgress = performance.now();
  const progress = () => {
    if (performance.now() - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = performance.now();
    onProgress(
      writers.reduce((n, w) => n + w.counter.records, 0),
      writers.reduce((n, w) => n + w.bytes, 0),
    );
  };
  const read = async (from: Database, sql: string, writer: PieceWriter) => {
    writers.push(writer);
    for await (const chunk of from.copyOut(sql)) {
      await writer.add(chunk);
      progress();
    }
    await writer.flush();
  };
  const side = `${file}.part`;
  let sideHandle: fs.promises.FileHandle | undefined;
  try {
    if (parallel && helper) {
      sideHandle = await fs.promises.open(side, 'wx', 0o600);
      const first = new PieceWriter(fh, format, true, hash);
      const second = new PieceWriter(sideHandle, format, false);
      // Both settle before anything else happens: a failed half never leaves the other writing.
      const settled = await Promise.allSettled([read(db, pieces.sql[0], first), read(helper, pieces.sql[1], second)]);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      await sideHandle.close();
      sideHandle = undefined;
      // Append the second half: hashed in file order, read back from the page cache.
      for await (const chunk of fs.createReadStream(side, { highWaterMark: FLUSH_BYTES })) {
        hash.update(chunk as Buffer);
        await fh.write(chunk as Buffer);
      }
    } else {
      for (const [i, sql] of pieces.sql.entries()) await read(db, sql, new PieceWriter(fh, format, i === 0, hash));
    }
    await fh.sync();
  } finally {
    await fh.close();
    await sideHandle?.close().catch(() => {});
    await fs.promises.rm(side, { force: true });
  }
  return {
    sha256: hash.digest('hex'),
    bytes: writers.reduce((n, w) => n + w.bytes, 0),
    records: writers.reduce((n, w) => n + w.counter.records, 0),
    pieces: pieces.sql.length,
    parallel,
  };
}

/**
 * Counts records in COPY output: ndjson lines, or CSV records minus the header. A CSV newline inside
 * double quotes is data, not a record end; `""` inside quotes toggles twice, so a plain toggle is exact.
 */
export class RecordCounter {
  private lines = 0;
  private inQuotes = false;
  private sawData = false;

  /** `header`: csv output that starts with a header line (the first piece of a file). */
  constructor(
    private readonly format: BackupFormat,
    private readonly header = true,
  ) {}

  feed(chunk: Uint8Array): void {
    if (this.format === 'ndjson') {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.lines++;
      return;
    }
    let quotes = this.inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 34) quotes = !quotes;
      else if (b === 10 && !quotes) this.lines++;
    }
    this.inQuotes = quotes;
    if (chunk.length) this.sawData = true;
  }

  /** Data records (the CSV header line is not one). */
  get records(): number {
    return this.format === 'csv' && this.header ? Math.max(0, this.lines - (this.sawData ? 1 : 0)) : this.lines;
  }
}

// ---------------------------------------------------------------------------------------------
// Files

function refuseNonEmpty(dir: string, label: string): void {
  let link = false;
  try {
    link = fs.lstatSync(dir).isSymbolicLink();
  } catch {
    // not there: fine
  }
  if (link) {
    throw new TidemarkError('backup-target-symlink', `${escapeControl(label)} is a symbolic link: a backup is written to a directory of its own, never through a link.`, {
      kind: 'usage',
      hint: 'Give --out the real path (or a new directory name).',
    });
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new TidemarkError('backup-target-exists', `${escapeControl(label)} exists and is not a directory.`, { kind: 'usage' });
    throw err;
  }
  if (entries.length) {
    throw new TidemarkError('backup-target-exists', `${escapeControl(label)} already exists and is not empty: a backup never overwrites one.`, {
      kind: 'usage',
      hint: 'Give a new directory with --out, or leave --out out for a timestamped one under ./backups.',
    });
  }
}

function writeSmallFile(file: string, text: string): { sha256: string; bytes: number } {
  const buf = Buffer.from(text, 'utf8');
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, buf);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: sha256(buf), bytes: buf.length };
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not every filesystem lets a directory be fsynced; the files themselves were
  }
}

/**
 * The data file of a table: `data/<schema>.<table>.<format>`, each part through fileComponent (every
 * byte but `A-Z a-z 0-9 _ $ -` percent-encoded, `.` and `%` included), so `"a.b".c` → `a%2Eb.c` and
 * `a."b.c"` → `a.b%2Ec` cannot collide, and no name holds `/`, `..` or a control character. A name
 * longer than a file system allows (63-byte names of multi-byte characters encode to 380 bytes) is
 * cut and given a hash of the pair; a name equal to one already used — also ignoring case, for
 * case-insensitive file systems — gets `~<n>` (`~` is always encoded in a name, so this cannot
 * collide either). `used` collects the names (lower-cased) of one backup.
 */
export function dataFileName(t: QualifiedName, format: DataFormat, used: Set<string>): string {
  let base = `${fileComponent(t.schema)}.${fileComponent(t.name)}`;
  if (base.length > MAX_FILE_BASE) {
    const cut = base.slice(0, MAX_FILE_BASE - 20).replace(/%[0-9A-F]?$/, '');
    base = `${cut}~${createHash('sha256').update(`${t.schema}\0${t.name}`).digest('hex').slice(0, 16)}`;
  }
  let candidate = base;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${base}~${n}`;
  used.add(candidate.toLowerCase());
  return `${DATA_DIR}/${candidate}.${format}`;
}

/** File names stay well under NAME_MAX (255 bytes) with the extension and a `~n`. */
const MAX_FILE_BASE = 200;

/** A schema or table name as a file name part: `.`, `/` and other awkward bytes percent-encoded. */
export function fileComponent(name: string): string {
  return name.replace(/[^A-Za-z0-9_$-]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

// ---------------------------------------------------------------------------------------------
// Partial backups

/** `<out>.tmp-<pid>-<8 hex>`: the folder a backup is written into before it is renamed to `<out>`. */
const TMP_INFIX = '.tmp-';
const TMP_PATTERN = /\.tmp-(\d+)-[0-9a-f]{8}$/;
/** Inside a partial backup: who writes it (removed before the rename). */
const PARTIAL_MARKER = '.tidemark-partial';

/**
 * Removes the partial backups in `parent` that a backup process on this host left when it died
 * (killed, power cut): folders named `<something>.tmp-<pid>-<hex>`, owned by this user, holding
 * tidemark's marker naming this host and a process that no longer runs. Returns a note per folder.
 * Anything else is left alone.
 */
function removeStalePartials(parent: string): string[] {
  const notes: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(parent, { withFileTypes: true });
  } catch {
    return notes;
  }
  for (const e of entries) {
    if (!e.isDirectory() || !TMP_PATTERN.test(e.name)) continue;
    const dir = path.join(parent, e.name);
    try {
      const st = fs.lstatSync(dir);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) continue;
      const marker = JSON.parse(fs.readFileSync(path.join(dir, PARTIAL_MARKER), 'utf8')) as { pid?: unknown; host?: unknown };
      if (marker.host !== os.hostname() || typeof marker.pid !== 'number' || processAlive(marker.pid)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      notes.push(`Removed ${escapeControl(e.name)}, a partial backup left by process ${marker.pid}, which is gone.`);
    } catch {
      // no marker, unreadable: not ours to remove
    }
  }
  return notes;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_') || 'database';
}

/** `20261125T101530Z`: sorts, and has no colon (Windows, scp). */
function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
