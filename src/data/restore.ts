/**
 * `tidemark restore DIR` (DESIGN §2, issue 4): loads a backup into the CURRENT schema.
 *
 * 1. verify-backup first (the one manifest reader): a backup with any problem is refused, nothing is
 *    written. Then what it may write into: ONLY ordinary or partitioned tables that the CURRENT config
 *    assigns to the service each was backed up for — never the ledger (schema tidemark), a system
 *    schema, another service's table, a table no service owns, a view, a foreign or temporary table —
 *    and none whose row-level security applies to this role (the load runs with row_security off, so
 *    an owner without FORCE, a BYPASSRLS role or a superuser load every row). Refused before anything
 *    is written, naming the tables.
 * 2. Plan every table before writing anything: columns mapped by name; backup columns gone from the
 *    target are skipped (and reported); target columns absent from the backup take their default,
 *    identity or generated value, a `fill` value, NULL when nullable — else the restore is refused
 *    naming table.column. A non-empty target table is refused unless `replace`.
 * 3. ONE transaction (the services' `up` locks held around it; or the caller's, `inTransaction`):
 *    the foreign keys of big tables that point at restored tables dropped, to come back after the
 *    load checked in one pass (holdForeignKeys); `SET CONSTRAINTS ALL DEFERRED`; with `replace`,
 *    `DELETE FROM ONLY` (a table's own rows) in reverse foreign-key order; then
 *    per table in foreign-key order (parents first; a cycle is loaded in manifest order and relies on
 *    the deferral, which only DEFERRABLE constraints honour):
 *    - csv, and ndjson whose column types the client converts (ndjson-csv.ts: each line becomes a
 *      CSV record while Node streams the file, on the other core): COPY straight into the table when
 *      every backup column maps to a plain target column, else into a temporary staging table typed
 *      as the backup typed them, then `INSERT … OVERRIDING SYSTEM VALUE SELECT` the mapped columns.
 *    - ndjson of a table having a column the client does not convert (a composite, an array of
 *      json/jsonb/composites/domains, a type with its own json cast, a type missing here): the json
 *      staging path — one `json` value per line by COPY (CSV quoting with \x01/\x02 so the JSON stays
 *      exact), then INSERT … SELECT through json_populate_record. Staging is `json`, not `jsonb`, so
 *      a `json` column's text survives; one known loss there, caught by the digest (the restore rolls
 *      back): a `json` SCALAR with whitespace around it (`'  "x"'`) comes back trimmed. The client
 *      conversion keeps it.
 *    Values never pass through JS numbers. ndjson cannot tell a json/jsonb column's JSON `null` from
 *    SQL NULL: backup writes a table holding one as csv (manifest format 3), and the digest catches
 *    it in an older backup.
 *    On PGlite, whose COPY holds its whole input in memory, each COPY runs once per 8 MiB piece of
 *    its input cut at record ends (copy-pieces.ts), in the same transaction: memory stays flat.
 * 4. Identity/serial sequences are set past the restored maximum.
 * 5. The content digest is recomputed in the database: columns identical to the backup's → the
 *    target's digest must equal the manifest's; otherwise the staging rows (typed as the backup
 *    typed them) must match the manifest over all its columns, and the target must match the staging
 *    rows over the common columns. COMMIT only if every table matches; else ROLLBACK, naming the
 *    table and how many rows differ. An `events` row (action 'restore') is written in the same
 *    transaction on success.
 *
 * Results as values: never throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connect, resolveWorkspace, type DatabaseSource, type WorkspaceOptions } from '../db/connect.js';
import { withServiceLocks } from '../ledger/locks.js';
import type { Workspace } from '../config/types.js';
import type { Database, Queryable } from '../db/database.js';
import { formatColumnRef, parseColumnRef } from '../config/column-ref.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { shellWord } from '../paths.js';
import { ensureLedger, logEvent, readLedger } from '../ledger/ledger.js';
import { connectGuarded, type GuardOverride } from '../ledger/guard.js';
import { displayName, displayQualified, literal, quoteIdent, quoteQualified, type QualifiedName } from '../sql/ident.js';
import { copyPieces } from './copy-pieces.js';
import { DIGEST_SETTINGS_SQL, contentDigestSql, digestAlgorithmOf, ownRows, type DigestAlgorithm } from './digest.js';
import type { Manifest, ManifestTable } from './manifest.js';
import { isArrayDelimiter, ndjsonToCsv, type CsvColumn } from './ndjson-csv.js';
import { ownerOfTable } from './owner.js';
import { verifyBackupRead } from './verify.js';

export interface RestoreOptions extends WorkspaceOptions, GuardOverride {
  /** The backup directory. */
  dir: string;
  /** Restore only the tables these services own (as recorded in the manifest). Default: all. */
  service?: string[];
  /** Empty non-empty target tables first (DELETE, in the same transaction). */
  replace?: boolean;
  /**
   * Values for target columns the backup lacks: `table.col` (or `schema.table.col`, names quoted as
   * in `owns`: `'"a.b".c.col'`) → the value's text, e.g. `{ 'users.plan': 'free' }`. It is quoted as
   * a literal and cast to the column's type.
   */
  fill?: Record<string, string>;
  /** How long to wait for another tidemark run holding a restored service's lock (default 10 minutes). */
  lockTimeoutMs?: number;
  /** Called when a service's lock is held by another run, before waiting for it. */
  onWait?: (service: string) => void;
  /**
   * The caller (a flow such as rebaseline) has a transaction open on `database`, which must be a
   * Database it hands in, and already holds the services' locks: restore then runs inside that
   * transaction — no BEGIN/COMMIT/ROLLBACK, no locks of its own. On failure the result carries the
   * error and the caller must roll back. At the end the output settings are put back and deferred
   * constraints are checked (SET CONSTRAINTS ALL IMMEDIATE), so a violation is the restore's error.
   */
  inTransaction?: boolean;
  /**
   * For tests: the backup row count from which a table's foreign keys are checked in one pass after
   * the load instead of row by row (default BULK_FOREIGN_KEY_ROWS).
   */
  bulkRows?: number;
  /**
   * For tests only (no CLI flag): the size of the pieces a PGlite restore loads each table in,
   * instead of PGLITE_COPY_PIECE_BYTES, so a small table already spans several pieces.
   */
  pgliteCopyPieceBytes?: number;
}

export interface FilledColumn {
  column: string;
  /** default: the column's DEFAULT; fill: the `fill` value; null: nullable, no default; identity/generated: computed. */
  from: 'default' | 'fill' | 'null' | 'identity' | 'generated';
  value?: string;
}

export interface RestoreTableResult {
  /** The label: schema-qualified, quoted where needed, control characters escaped. */
  table: string;
  schema: string;
  name: string;
  rows: number;
  /** Backup columns the target no longer has: not restored. */
  skippedColumns: string[];
  /** Target columns the backup lacks, and where their values came from. */
  filledColumns: FilledColumn[];
  /** The columns the digest was compared over. */
  comparedColumns: string[];
  digestMatched: boolean;
  /**
   * How the rows went in: `csv` (a csv backup), `ndjson-as-csv` (ndjson converted to csv on the
   * client), `json-staging` (ndjson through a json staging table: a column type the client does not
   * convert, see ndjson-csv.ts).
   */
  loadedAs?: 'csv' | 'ndjson-as-csv' | 'json-staging';
  /** Rows that differ between the backup and the restored table (set when the digest did not match). */
  differingRows?: number;
  sequences: { column: string; sequence: string; value: string }[];
}

export interface RestoreResult {
  ok: boolean;
  dir: string;
  database: string;
  databaseSource: DatabaseSource;
  format?: 'ndjson' | 'csv';
  /** Tables (labels) in the order they were loaded (parents first). */
  order: string[];
  tables: RestoreTableResult[];
  rows: number;
  /** Services whose advisory locks the restore held (the ones `up` takes), sorted. */
  lockedServices: string[];
  /** Things worth saying: foreign-key cycles, tables emptied by `replace`, a ledger that differs from the backup's. */
  notes: string[];
  /** Time spent loading (COPY + INSERT) and verifying (digests), apart. */
  loadMs: number;
  verifyMs: number;
  durationMs: number;
  error?: TidemarkError;
}

interface TargetColumn {
  name: string;
  type: string;
  notnull: boolean;
  identity: '' | 'a' | 'd';
  generated: '' | 's' | 'v';
  hasDefault: boolean;
}

interface TablePlan {
  m: ManifestTable;
  /** displayQualified(m): for messages and results. */
  label: string;
  qualified: string;
  /** The table's own rows as a FROM item (ownRows: `ONLY t` for an ordinary table). */
  rowsFrom: string;
  oid: number;
  target: TargetColumn[];
  /** Backup columns inserted (present in the target, not generated there). */
  mapped: string[];
  skipped: string[];
  filled: FilledColumn[];
  /** `fill` expressions for columns the backup lacks. */
  fillExprs: { column: string; expr: string }[];
  compared: string[];
  /** Staging type per backup column: the backup's type when it exists here, else text. */
  stagingTypes: Map<string, string>;
  /** ndjson backups: how to convert each column to csv on the client; undefined → json staging. */
  csvColumns?: CsvColumn[];
  result: RestoreTableResult;
}

const NDJSON_COPY_OPTIONS = `(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;

/** PGlite's COPY holds its whole input in memory as one Blob: pieces this big keep a restore's memory flat. */
const PGLITE_COPY_PIECE_BYTES = 8 * 1024 * 1024;

export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const result: RestoreResult = {
    ok: false,
    dir: path.resolve(options.cwd ?? process.cwd(), options.dir),
    database: '',
    databaseSource: 'default',
    order: [],
    tables: [],
    rows: 0,
    lockedServices: [],
    notes: [],
    loadMs: 0,
    verifyMs: 0,
    durationMs: 0,
  };
  let close = async () => {};
  let db: Database | undefined;
  let inTransaction = false;
  try {
    // 1. The backup must be intact before anything else happens.
    const verifiedRead = await verifyBackupRead(result.dir);
    const verified = verifiedRead.result;
    if (verified.error) throw verified.error;
    if (!verified.ok || !verifiedRead.manifest) {
      throw new TidemarkError(
        'backup-corrupt',
        `${result.dir} is not a trustworthy backup, nothing restored: ${verified.problems.map((p) => p.message).join('; ')}`,
        { kind: 'input', hint: 'Run `tidemark verify-backup` on it for the details; restore from another backup.' },
      );
    }
    const manifest: Manifest = verifiedRead.manifest;
    result.format = manifest.format;
    const algorithm = digestAlgorithmOf(manifest)!; // the reader refused an unknown one
    const tables = pickTables(manifest, options.service);

    const workspace = await loadWorkspaceFor(options);
    refuseNotOwned(tables, workspace);
    // --replace deletes rows: the same guard as reset (protected list, remote host, in-database mark).
    const conn = options.replace && !options.inTransaction ? await connectGuarded('restore --replace into', options, workspace, result) : await connect(options, workspace, result);
    close = conn.close;
    db = conn.db;
    result.database = conn.url;
    result.databaseSource = conn.source;

    const database = db;
    if (options.inTransaction) {
      if (typeof options.database !== 'object') {
        throw new TidemarkError('bad-usage', 'restore inTransaction needs the Database whose transaction it joins (options.database).', { kind: 'usage' });
      }
      const saved = await currentSettings(database);
      await restoreLocked(false);
      // Deferred checks fire now, inside the restore; the caller's settings come back.
      await database.exec('SET CONSTRAINTS ALL IMMEDIATE');
      await database.exec(saved);
    } else {
      // The services whose tables are restored hold their `up` locks meanwhile: a restore and an `up`
      // (or another restore) of the same service queue instead of interleaving.
      result.lockedServices = restoredServices(tables, workspace);
      await withServiceLocks(database, result.lockedServices, options, async () => {
        try {
          await restoreLocked(true);
        } catch (err) {
          // Roll back while the locks are still held (an aborted transaction could not even release them).
          if (inTransaction) await database.exec('ROLLBACK').catch(() => {});
          inTransaction = false;
          throw err;
        }
      }, ', nothing restored');
    }

    async function restoreLocked(ownTransaction: boolean): Promise<void> {
      // Nothing is written before BEGIN, not even the ledger (see recordRestore): a refused or
      // rolled-back restore leaves the database exactly as it was.
      if (ownTransaction) {
        await database.exec('BEGIN');
        inTransaction = true;
      }
      await database.exec(`${DIGEST_SETTINGS_SQL};\n${ROW_SECURITY_OFF_SQL}`);
      const ledgerNote = await compareLedger(database, manifest, tables);
      if (ledgerNote) result.notes.push(ledgerNote);

      // 2. Plan everything; refuse before writing anything.
      const plans: TablePlan[] = [];
      for (const m of tables) plans.push(await planTable(database, m));
      await refuseRowSecurity(database, plans);
      refuseUnusedFill(options.fill, plans);
      applyFill(options.fill, plans);
      refuseMissing(plans);
      const { ordered, cycle } = await loadOrder(database, plans);
      result.order = ordered.map((p) => p.label);
      if (cycle.length) {
        result.notes.push(
          `Foreign-key cycle among ${cycle.join(', ')}: loaded in manifest order with SET CONSTRAINTS ALL DEFERRED (only DEFERRABLE constraints wait for COMMIT).`,
        );
      }
      const nonEmpty: string[] = [];
      for (const p of ordered) {
        const r = await database.query<{ some: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${p.rowsFrom}) AS some`);
        if (r.rows[0].some) nonEmpty.push(p.label);
      }
      if (nonEmpty.length && !options.replace) {
        throw new TidemarkError('restore-target-not-empty', `Refusing to restore into non-empty table${nonEmpty.length === 1 ? '' : 's'} ${nonEmpty.join(', ')}: nothing restored.`, {
          kind: 'input',
          hint: 'Pass --replace to delete their rows first (in the same transaction), or restore into an empty database.',
        });
      }

      if (options.replace && nonEmpty.length) await refuseCascades(database, ordered.filter((p) => nonEmpty.includes(p.label)), ordered);

      // 3. Write, all in this one transaction.
      // Big tables: their foreign keys go for the load and come back validated in one pass each. First
      // of all: a table with pending (deferred) trigger events cannot be altered.
      const held = await holdForeignKeys(
        database,
        ordered.filter((p) => p.m.rowCount >= (options.bulkRows ?? BULK_FOREIGN_KEY_ROWS)),
        ordered,
        result.notes,
      );
      if (held.length) {
        result.notes.push(
          `Checked ${held.length === 1 ? 'the foreign key' : `${held.length} foreign keys`} of ${[...new Set(held.map((h) => h.table))].join(', ')} in one pass after loading, not row by row (${held.map((h) => h.name).join(', ')}).`,
        );
      }
      await database.exec('SET CONSTRAINTS ALL DEFERRED');
      if (options.replace && nonEmpty.length) {
        for (const p of [...ordered].reverse()) if (nonEmpty.includes(p.label)) await database.exec(`DELETE FROM ${p.rowsFrom}`);
        result.notes.push(`Deleted the rows of ${nonEmpty.join(', ')} first (--replace).`);
      }
      const pieceBytes = options.pgliteCopyPieceBytes ?? PGLITE_COPY_PIECE_BYTES;
      for (const [i, p] of ordered.entries()) {
        const t0 = performance.now();
        // In pg_temp, qualified: no table of the database can be meant instead.
        const staging = `pg_temp.tidemark_restore_${i}`;
        let source: string | undefined;
        // ndjson whose column types the client can convert is loaded as csv (see ndjson-csv.ts).
        const file = path.join(result.dir, p.m.file);
        const viaCsv = p.m.format === 'csv' || p.csvColumns !== undefined;
        const input = (): AsyncIterable<Uint8Array> => {
          const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
          return p.m.format === 'ndjson' && p.csvColumns ? ndjsonToCsv(raw, p.csvColumns, p.m.file) : raw;
        };
        if (viaCsv) p.result.loadedAs = p.m.format === 'csv' ? 'csv' : 'ndjson-as-csv';
        else p.result.loadedAs = 'json-staging';
        if (viaCsv && direct(p)) {
          // Every backup column lands in a plain target column of the same name: COPY straight in.
          const list = p.m.columns.map((c) => quoteIdent(c.name)).join(', ');
          p.result.rows = await copyIn(database, `COPY ${p.qualified} (${list}) FROM STDIN WITH (FORMAT csv, HEADER MATCH)`, input(), 'csv', pieceBytes);
        } else {
          const mode = viaCsv ? 'csv' : 'ndjson';
          await stage(database, p, staging, input(), mode, pieceBytes);
          source = stagingSource(p, staging, mode);
          p.result.rows = (await database.query(insertSql(p, staging, mode))).rowCount;
        }
        p.result.sequences = await bumpSequences(database, p);
        const t1 = performance.now();
        result.loadMs += t1 - t0;
        await verifyTable(database, p, source, algorithm);
        // ON COMMIT DROP would keep it to the end of a caller's transaction (inTransaction): drop it now.
        if (source !== undefined) await database.exec(`DROP TABLE ${staging}`);
        result.verifyMs += performance.now() - t1;
        result.tables.push(p.result);
        result.rows += p.result.rows;
      }

      const t2 = performance.now();
      if (held.length) {
        // Deferred checks of what was loaded fire now (the rows are all in), so no table has pending
        // trigger events when its keys are added back.
        await database.exec('SET CONSTRAINTS ALL IMMEDIATE');
        await restoreForeignKeys(database, held);
      }
      result.loadMs += performance.now() - t2;

      // 4. Commit only if every table matches.
      const bad = result.tables.filter((t) => !t.digestMatched);
      if (bad.length) {
        throw new TidemarkError(
          'restore-digest-mismatch',
          `Restored data differs from the backup, rolled back, nothing restored: ${bad
            .map((t) =>
              t.differingRows
                ? `${t.table} (${t.differingRows} row${t.differingRows === 1 ? '' : 's'} differ)`
                : `${t.table} (its values change on the way in: the loaded rows' digest differs from the backup's)`,
            )
            .join(', ')}.`,
        );
      }
      await recordRestore(database, {
        action: 'restore',
        outcome: 'ok',
        detail: {
          backup: path.basename(result.dir),
          createdAt: manifest.createdAt,
          format: manifest.format,
          replace: !!options.replace,
          tables: result.tables.map((t) => ({ table: t.table, schema: t.schema, name: t.name, rows: t.rows, skippedColumns: t.skippedColumns, filledColumns: t.filledColumns })),
        },
      });
      if (ownTransaction) {
        await database.exec('COMMIT');
        inTransaction = false;
      }
    }
    result.ok = true;
  } catch (err) {
    result.error = isTidemarkError(err) ? err : new TidemarkError('restore-failed', `Restore failed, rolled back, nothing restored: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    if (inTransaction && db) await db.exec('ROLLBACK').catch(() => {});
    await close().catch(() => {});
    result.durationMs = performance.now() - started;
  }
  return result;
}

/** `SELECT set_config(…, true)` putting back the settings DIGEST_SETTINGS_SQL changes (for inTransaction). */
async function currentSettings(db: Queryable): Promise<string> {
  const names = ['TimeZone', 'DateStyle', 'IntervalStyle', 'extra_float_digits', 'bytea_output', 'row_security'];
  const r = await db.query<Record<string, string>>(`SELECT ${names.map((n, i) => `current_setting('${n}') AS s${i}`).join(', ')}`);
  return `SELECT ${names.map((n, i) => `set_config('${n}', ${literal(r.rows[0][`s${i}`])}, true)`).join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Locks and the ledger

/**
 * The services whose tables are restored: each table's owner as the backup recorded it, and its
 * owner in the current config (they differ only if ownership moved since). Sorted.
 */
function restoredServices(tables: ManifestTable[], workspace: Workspace | undefined): string[] {
  const names = new Set<string>();
  for (const t of tables) {
    if (t.service) names.add(t.service);
    const owner = ownerOfTable(workspace, t);
    if (owner) names.add(owner.name);
  }
  return [...names].sort();
}

/**
 * restore does NOT rewrite the target's ledger: the target's schema history is its own (its tables
 * are the ones its migrations built), and the backup's ledger rows stay in the manifest for the
 * record. When they differ from the target's rows for the restored services, say so once.
 */
async function compareLedger(db: Queryable, manifest: Manifest, tables: ManifestTable[]): Promise<string | undefined> {
  const services = [...new Set(tables.map((t) => t.service).filter((s): s is string => !!s))].sort();
  if (!services.length) return undefined;
  const key = (r: { service: string; migration: string; checksum: string; status: string }) => `${r.service}\0${r.migration}\0${r.checksum}\0${r.status}`;
  const backupRows = new Set((manifest.ledger ?? []).filter((r) => services.includes(r.service)).map(key));
  const targetRows = new Set((await readLedger(db, services)).map(key));
  const same = backupRows.size === targetRows.size && [...backupRows].every((k) => targetRows.has(k));
  if (same) return undefined;
  return (
    `The backup's ledger (${backupRows.size} migration row${backupRows.size === 1 ? '' : 's'} of ${services.join(', ')}) differs from this database's (${targetRows.size}): ` +
    `restore leaves this database's ledger as it is (its schema history is its own); the backup's rows stay in its manifest.json for the record.`
  );
}

/**
 * The restore's `events` row, inside the restore's transaction. A database with no ledger yet gets
 * one created here, in the same transaction (under a savepoint standing in for ensureLedger's own
 * transaction), so a restore that fails creates nothing. ensureLedger's `SET LOCAL lock_timeout`
 * would outlive its savepoint: the restore's setting is put back after.
 */
async function recordRestore(db: Database, event: Parameters<typeof logEvent>[1]): Promise<void> {
  const saved = (await db.query<{ v: string }>(`SELECT current_setting('lock_timeout') AS v`)).rows[0].v;
  const inside: Database = Object.create(db, {
    transaction: {
      value: async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
        await db.exec('SAVEPOINT tidemark_ledger');
        try {
          const r = await fn(db);
          await db.exec('RELEASE SAVEPOINT tidemark_ledger');
          return r;
        } catch (err) {
          await db.exec('ROLLBACK TO SAVEPOINT tidemark_ledger').catch(() => {});
          throw err;
        }
      },
    },
  }) as Database;
  await ensureLedger(inside);
  await db.query(`SELECT set_config('lock_timeout', $1, true)`, [saved]);
  await logEvent(db, event);
}

// ---------------------------------------------------------------------------------------------
// What to restore

async function loadWorkspaceFor(options: RestoreOptions): Promise<Workspace | undefined> {
  try {
    return await resolveWorkspace(options);
  } catch (err) {
    // A restore needs only a database: with none configured it uses the option, DATABASE_URL or the default.
    if (isTidemarkError(err) && err.code === 'config-not-found') return undefined;
    throw err;
  }
}

function pickTables(manifest: Manifest, services: string[] | undefined): ManifestTable[] {
  if (!services?.length) return manifest.tables;
  const known = new Set(manifest.tables.map((t) => t.service).filter((s): s is string => !!s));
  for (const s of services) {
    if (!known.has(s)) {
      throw new TidemarkError('unknown-service', `The backup holds no table of service ${s}.`, {
        kind: 'usage',
        hint: `Services in this backup: ${[...known].sort().join(', ') || 'none'}.`,
      });
    }
  }
  return manifest.tables.filter((t) => t.service && services.includes(t.service));
}

async function planTable(db: Queryable, m: ManifestTable): Promise<TablePlan> {
  const qualified = quoteQualified(m);
  const label = displayQualified(m);
  // Looked up as the pair it is (never a text to parse); what kind of relation it is decides.
  const rel = (
    await db.query<{ oid: number; kind: string; persistence: string }>(
      `SELECT c.oid::int8::float8 AS oid, c.relkind::text AS kind, c.relpersistence::text AS persistence
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [m.schema, m.name],
    )
  ).rows[0];
  if (!rel) {
    throw new TidemarkError('restore-no-table', `Table ${label} is in the backup but not in the database: nothing restored.`, {
      kind: 'input',
      hint: 'Restore loads into the current schema: run the migrations first (tidemark up), or restore other services with --service.',
    });
  }
  if ((rel.kind !== 'r' && rel.kind !== 'p') || rel.persistence === 't') {
    const what = rel.persistence === 't' ? 'a temporary table' : (RELKINDS[rel.kind] ?? `a relation of kind ${rel.kind}`);
    throw new TidemarkError('restore-not-a-table', `${label} is ${what} here, not a table: restore writes only into ordinary and partitioned tables, nothing restored.`, {
      kind: 'input',
    });
  }
  const target = (
    await db.query<TargetColumn>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
              a.attidentity::text AS identity, a.attgenerated::text AS generated, a.atthasdef AS "hasDefault"
         FROM pg_attribute a
        WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [rel.oid],
    )
  ).rows;
  const byName = new Map(target.map((c) => [c.name, c]));
  const backupCols = m.columns.map((c) => c.name);
  const backupSet = new Set(backupCols);
  const mapped = backupCols.filter((c) => byName.has(c) && !byName.get(c)!.generated);
  const skipped = backupCols.filter((c) => !byName.has(c));
  const filled: FilledColumn[] = [];
  for (const c of target) {
    if (backupSet.has(c.name)) continue;
    if (c.generated) filled.push({ column: c.name, from: 'generated' });
    else if (c.identity) filled.push({ column: c.name, from: 'identity' });
    else if (c.hasDefault) filled.push({ column: c.name, from: 'default' });
    else if (!c.notnull) filled.push({ column: c.name, from: 'null' });
    // NOT NULL, no default: needs a fill value (checked after applyFill)
  }
  // Compared: common columns, in the backup's (digest) order, except ones that became generated here.
  const generatedInBackup = new Set(m.columns.filter((c) => c.generated).map((c) => c.name));
  const compared = m.digestColumns.filter((c) => byName.has(c) && (!byName.get(c)!.generated || generatedInBackup.has(c)));

  const stagingTypes = new Map<string, string>();
  for (const c of m.columns) {
    const ok = (await db.query<{ t: string | null }>(`SELECT to_regtype($1)::text AS t`, [c.type])).rows[0].t;
    stagingTypes.set(c.name, ok ? c.type : 'text');
  }
  const csvColumns = m.format === 'ndjson' ? await classifyColumns(db, m) : undefined;
  return {
    m,
    label,
    qualified,
    rowsFrom: ownRows(m, rel.kind),
    oid: rel.oid,
    ...(csvColumns ? { csvColumns } : {}),
    target,
    mapped,
    skipped,
    filled,
    fillExprs: [],
    compared,
    stagingTypes,
    result: { table: label, schema: m.schema, name: m.name, rows: 0, skippedColumns: skipped, filledColumns: filled, comparedColumns: compared, digestMatched: false, sequences: [] },
  };
}

const JSON_OID = 114;
const JSONB_OID = 3802;
const FIRST_NORMAL_OID = 16384;

/**
 * How row_to_json wrote each backup column (by its type, resolved HERE: domains to their base type),
 * so ndjson-csv can turn it into COPY csv input: json/jsonb → raw JSON text; arrays (array_in input)
 * of plain elements → array literals; enums, ranges and other base types → scalar text. Undefined —
 * the table then goes through the json staging path — when any column's type is missing here, is
 * composite, is an array of json/jsonb, composites or domains, or of elements whose array delimiter
 * the CSV literal cannot use (json_populate_record reads such an array from its JSON array instead),
 * or (a non-built-in type) has its own cast to json (row_to_json would have written an object or array).
 */
async function classifyColumns(db: Queryable, m: ManifestTable): Promise<CsvColumn[] | undefined> {
  const out: CsvColumn[] = [];
  for (const c of m.columns) {
    const r = (
      await db.query<{ oid: number; typtype: string; typcategory: string; input: string; eoid: number | null; etyptype: string | null; edelim: string | null; bcast: boolean; ecast: boolean }>(
        `WITH RECURSIVE d(oid, depth) AS (
           SELECT to_regtype($1)::oid, 0
           UNION ALL
           SELECT t.typbasetype, d.depth + 1 FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd' AND d.depth < 50
         )
         SELECT b.oid::int8::float8 AS oid, b.typtype::text AS typtype, b.typcategory::text AS typcategory, b.typinput::text AS input,
                e.oid::int8::float8 AS eoid, e.typtype::text AS etyptype, e.typdelim::text AS edelim,
                EXISTS (SELECT 1 FROM pg_cast k WHERE k.castsource = b.oid AND k.casttarget = 'json'::regtype) AS bcast,
                EXISTS (SELECT 1 FROM pg_cast k WHERE k.castsource = e.oid AND k.casttarget = 'json'::regtype) AS ecast
           FROM (SELECT oid FROM d ORDER BY depth DESC LIMIT 1) x
           JOIN pg_type b ON b.oid = x.oid
           LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typinput = 'array_in'::regproc`,
        [c.type],
      )
    ).rows[0];
    if (!r) return undefined; // the type does not exist here
    const oid = Number(r.oid);
    const plain = (typtype: string | null, typeOid: number, cast: boolean) =>
      (typtype === 'b' || typtype === 'e' || typtype === 'r' || typtype === 'm') && typeOid !== JSON_OID && typeOid !== JSONB_OID && !(typeOid >= FIRST_NORMAL_OID && cast);
    if (oid === JSON_OID || oid === JSONB_OID) out.push({ name: c.name, kind: 'json' });
    else if (r.input === 'array_in' && r.eoid !== null) {
      if (!plain(r.etyptype, Number(r.eoid), r.ecast) || !r.edelim || !isArrayDelimiter(r.edelim)) return undefined;
      out.push({ name: c.name, kind: 'array', delimiter: r.edelim });
    } else if (r.typcategory !== 'A' && plain(r.typtype, oid, r.bcast)) out.push({ name: c.name, kind: 'scalar' });
    else return undefined;
  }
  return out;
}

/**
 * `table.col` or `schema.table.col` in the owns grammar (src/config/column-ref.ts: `"a.b".c.col` and
 * `a."b.c".col` are two tables) → the plan and column it names, if any. Without a schema, the one
 * restored table of that name, whatever its schema (two of them: none is chosen).
 */
function resolveFillKey(key: string, plans: TablePlan[]): { plan: TablePlan; column: string } | undefined {
  const parsed = parseColumnRef(key);
  if (!parsed.ok) return undefined;
  const { table, column, qualified } = parsed.ref;
  const hits = plans.filter((p) => p.m.name === table.name && (!qualified || p.m.schema === table.schema));
  return hits.length === 1 ? { plan: hits[0], column } : undefined;
}

function refuseUnusedFill(fill: Record<string, string> | undefined, plans: TablePlan[]): void {
  for (const key of Object.keys(fill ?? {})) {
    const parsed = parseColumnRef(key);
    if (!parsed.ok) {
      throw new TidemarkError('bad-fill', `--fill ${key}: the column ${parsed.error.message}.`, { kind: 'usage', hint: parsed.error.hint ?? 'Write --fill table.column=value.' });
    }
    const hit = resolveFillKey(key, plans);
    const col = hit?.plan.target.find((c) => c.name === hit.column);
    if (!hit || !col) {
      throw new TidemarkError('bad-fill', `--fill ${key}: no such column among the tables restored.`, { kind: 'usage', hint: 'Write --fill table.column=value.' });
    }
    if (hit.plan.m.columns.some((c) => c.name === hit.column)) {
      throw new TidemarkError('bad-fill', `--fill ${key}: the backup has values for ${hit.plan.label}.${displayName(hit.column)}; --fill is only for columns it lacks.`, { kind: 'usage' });
    }
    if (col.generated) throw new TidemarkError('bad-fill', `--fill ${key}: ${hit.plan.label}.${displayName(hit.column)} is a generated column.`, { kind: 'usage' });
  }
}

function applyFill(fill: Record<string, string> | undefined, plans: TablePlan[]): void {
  for (const [key, value] of Object.entries(fill ?? {})) {
    const { plan, column } = resolveFillKey(key, plans)!;
    const col = plan.target.find((c) => c.name === column)!;
    plan.fillExprs.push({ column, expr: `CAST(${literal(value)} AS ${col.type})` });
    const i = plan.filled.findIndex((f) => f.column === column);
    if (i >= 0) plan.filled.splice(i, 1);
    plan.filled.push({ column, from: 'fill', value });
  }
}

function refuseMissing(plans: TablePlan[]): void {
  const missing: { label: string; fill: string }[] = [];
  for (const p of plans) {
    const backupSet = new Set(p.m.columns.map((c) => c.name));
    for (const c of p.target) {
      if (!backupSet.has(c.name) && !p.filled.some((f) => f.column === c.name)) {
        missing.push({ label: `${p.label}.${displayName(c.name)}`, fill: formatColumnRef({ table: { schema: p.m.schema, name: p.m.name }, column: c.name }) });
      }
    }
  }
  if (missing.length) {
    throw new TidemarkError(
      'restore-missing-column',
      `The backup has no values for ${missing.map((m) => m.label).join(', ')} (NOT NULL, no default): nothing restored.`,
      { kind: 'input', hint: `Give values with ${missing.map((m) => `--fill ${shellWord(`${m.fill}=value`)}`).join(' ')}, or add a DEFAULT in a migration.` },
    );
  }
}

/** Parents first (the target's foreign keys among the restored tables); a cycle in manifest order. */
async function loadOrder(db: Queryable, plans: TablePlan[]): Promise<{ ordered: TablePlan[]; cycle: string[] }> {
  const byOid = new Map(plans.map((p) => [p.oid, p]));
  const fks = (
    await db.query<{ child: number; parent: number }>(
      `SELECT conrelid::int8::float8 AS child, confrelid::int8::float8 AS parent FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY($1::int8[]::oid[]) AND confrelid = ANY($1::int8[]::oid[])`,
      [plans.map((p) => p.oid)],
    )
  ).rows.filter((r) => r.child !== r.parent);
  const parents = new Map<number, Set<number>>(plans.map((p) => [p.oid, new Set()]));
  for (const fk of fks) if (byOid.has(fk.child) && byOid.has(fk.parent)) parents.get(fk.child)!.add(fk.parent);
  const done = new Set<number>();
  const ordered: TablePlan[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const p of plans) {
      if (done.has(p.oid)) continue;
      if ([...parents.get(p.oid)!].every((o) => done.has(o))) {
        done.add(p.oid);
        ordered.push(p);
        progress = true;
      }
    }
  }
  const rest = plans.filter((p) => !done.has(p.oid));
  return { ordered: [...ordered, ...rest], cycle: rest.map((p) => p.label) };
}

/**
 * `replace` deletes rows: an ON DELETE CASCADE / SET NULL / SET DEFAULT foreign key from a table
 * this restore does not load would silently change that table's rows. Refuse when it has any.
 * (A NO ACTION / RESTRICT key just makes the DELETE fail, which rolls everything back.)
 */
async function refuseCascades(db: Queryable, emptied: TablePlan[], restored: TablePlan[]): Promise<void> {
  const r = await db.query<{ child_schema: string; child_name: string; parent_schema: string; parent_name: string; action: string; name: string }>(
    `SELECT cn.nspname AS child_schema, cc.relname AS child_name, pn.nspname AS parent_schema, pc.relname AS parent_name,
            c.confdeltype::text AS action, c.conname AS name
       FROM pg_catalog.pg_constraint c
       JOIN pg_catalog.pg_class cc ON cc.oid = c.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_catalog.pg_class pc ON pc.oid = c.confrelid JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE c.contype = 'f' AND c.confdeltype IN ('c', 'n', 'd')
        AND c.confrelid = ANY($1::int8[]::oid[]) AND NOT c.conrelid = ANY($2::int8[]::oid[])`,
    [emptied.map((p) => p.oid), restored.map((p) => p.oid)],
  );
  const hits: string[] = [];
  for (const fk of r.rows) {
    const child = { schema: fk.child_schema, name: fk.child_name };
    const some = (await db.query<{ some: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${quoteQualified(child)}) AS some`)).rows[0].some;
    const what = fk.action === 'c' ? 'ON DELETE CASCADE' : fk.action === 'n' ? 'ON DELETE SET NULL' : 'ON DELETE SET DEFAULT';
    if (some) hits.push(`${displayQualified(child)} (${displayName(fk.name)}, ${what} from ${displayQualified({ schema: fk.parent_schema, name: fk.parent_name })})`);
  }
  if (hits.length) {
    throw new TidemarkError('restore-would-cascade', `--replace would change rows of tables this restore does not load: ${hits.join(', ')}. Nothing restored.`, {
      kind: 'input',
      hint: 'Restore those tables too (their service with --service, or all services), or empty them first.',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Foreign keys checked in one pass

/**
 * From this many backup rows a table's foreign keys are dropped before its load and added back after
 * every table is loaded, in the same transaction: PostgreSQL then checks each in one join instead of
 * one lookup (and one row lock on the parent) per row — the bulk-load advice of its manual
 * ("Populating a Database"). Only keys between tables this restore loads (a table and itself
 * included): dropping a key locks BOTH its tables ACCESS EXCLUSIVE until COMMIT, which must never
 * reach a table the restore does not load (another service's, in a shared database). Small tables
 * keep their keys: the per-row cost is small.
 */
export const BULK_FOREIGN_KEY_ROWS = 10_000;

/** How long a key's drop may wait for readers of its two tables before the key stays row by row. */
const HOLD_LOCK_TIMEOUT = '5s';

interface HeldForeignKey {
  /** The table's label (displayQualified) and quoted. */
  table: string;
  qualified: string;
  name: string;
  /** pg_get_constraintdef: columns, reference, actions, MATCH, DEFERRABLE, NOT VALID — all of it. */
  def: string;
  comment: string | null;
  columns: string[];
  /** The referenced table's label. */
  references: string;
  /** The referenced table's own rows (a key sees neither inheritance children nor, for a child, its parent). */
  referencedRows: string;
  referencedColumns: string[];
  /** From the catalog, not the definition's text (a column may be called "NOT VALID"). */
  validated: boolean;
  matchFull: boolean;
}

/**
 * Drops the foreign keys declared ON the big tables (ordinary tables, not partitions or partitioned
 * ones, whose keys are inherited) that point at a table this restore loads, and returns them to be
 * added back. Kept row by row instead: keys to other tables, keys whose table the user does not own
 * or whose parent it may not reference (ALTER TABLE and ADD FOREIGN KEY need those), and keys whose
 * tables are in use for longer than HOLD_LOCK_TIMEOUT. Keys pointing at these tables from tables the
 * restore does not load are not touched.
 */
async function holdForeignKeys(db: Queryable, big: TablePlan[], restored: TablePlan[], notes: string[]): Promise<HeldForeignKey[]> {
  if (!big.length) return [];
  const byOid = new Map(big.map((p) => [p.oid, p]));
  const r = await db.query<{
    rel: number;
    name: string;
    def: string;
    comment: string | null;
    cols: string[];
    ref_schema: string;
    ref_name: string;
    refcols: string[];
    validated: boolean;
    matchtype: string;
    refkind: string;
  }>(
    `SELECT con.conrelid::int8::float8 AS rel, con.conname AS name, pg_get_constraintdef(con.oid) AS def,
            obj_description(con.oid, 'pg_constraint') AS comment,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
            rn.nspname AS ref_schema, rc.relname AS ref_name,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS refcols,
            con.convalidated AS validated, con.confmatchtype::text AS matchtype,
            (SELECT relkind::text FROM pg_class WHERE oid = con.confrelid) AS refkind
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conrelid = ANY($1::int8[]::oid[]) AND con.confrelid = ANY($2::int8[]::oid[])
        AND con.conparentid = 0 AND c.relkind = 'r' AND NOT c.relispartition
        AND pg_has_role(c.relowner, 'USAGE') AND has_table_privilege(con.confrelid, 'REFERENCES')
      ORDER BY con.conrelid, con.conname`,
    [big.map((p) => p.oid), restored.map((p) => p.oid)],
  );
  const candidates: HeldForeignKey[] = r.rows.map((k) => {
    const p = byOid.get(Number(k.rel))!;
    const ref: QualifiedName = { schema: k.ref_schema, name: k.ref_name };
    return {
      table: p.label,
      qualified: p.qualified,
      name: k.name,
      def: k.def,
      comment: k.comment,
      columns: k.cols,
      references: displayName(ref),
      referencedRows: ownRows(ref, k.refkind),
      referencedColumns: k.refcols,
      validated: k.validated,
      matchFull: k.matchtype === 'f',
    };
  });
  if (!candidates.length) return [];
  const previous = (await db.query<{ t: string }>(`SELECT current_setting('lock_timeout') AS t`)).rows[0].t;
  const held: HeldForeignKey[] = [];
  let busy: HeldForeignKey[] = [];
  await db.exec(`SET LOCAL lock_timeout = '${HOLD_LOCK_TIMEOUT}'`);
  for (const [i, k] of candidates.entries()) {
    await db.exec('SAVEPOINT tidemark_hold_key');
    try {
      await db.exec(`ALTER TABLE ${k.qualified} DROP CONSTRAINT ${quoteIdent(k.name)}`);
      await db.exec('RELEASE SAVEPOINT tidemark_hold_key');
      held.push(k);
    } catch (err) {
      await db.exec('ROLLBACK TO SAVEPOINT tidemark_hold_key');
      if ((err as { code?: string }).code !== '55P03') throw err;
      // Readers of these tables: wait no longer, the rest stay row by row too.
      busy = candidates.slice(i);
      break;
    }
  }
  await db.query(`SELECT set_config('lock_timeout', $1, true)`, [previous]);
  if (busy.length) {
    notes.push(`Checked ${busy.map((k) => `${displayName(k.name)} of ${k.table}`).join(', ')} row by row: other sessions were using the tables (no lock within ${HOLD_LOCK_TIMEOUT}).`);
  }
  return held;
}

/**
 * Adds the held keys back exactly as they were (definition and comment). A key the restored rows
 * break is reported with its table, columns and how many rows reference nothing; the caller rolls back.
 */
async function restoreForeignKeys(db: Queryable, held: HeldForeignKey[]): Promise<void> {
  for (const k of held) {
    await db.exec('SAVEPOINT tidemark_foreign_key');
    try {
      await db.exec(`ALTER TABLE ${k.qualified} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`);
      await db.exec('RELEASE SAVEPOINT tidemark_foreign_key');
    } catch (err) {
      await db.exec('ROLLBACK TO SAVEPOINT tidemark_foreign_key');
      if ((err as { code?: string }).code !== '23503') throw err;
      throw orphanError(k, await orphans(db, k));
    }
    // NOT VALID spares the rows that were there, never new ones: row by row every restored row would
    // have been checked, so they are checked here too.
    if (!k.validated) {
      const n = await orphans(db, k);
      if (n > 0) throw orphanError(k, n);
    }
    if (k.comment !== null) await db.exec(`COMMENT ON CONSTRAINT ${quoteIdent(k.name)} ON ${k.qualified} IS ${literal(k.comment)}`);
  }
}

/** Rows of the table the key rejects: MATCH SIMPLE passes a key with any NULL, MATCH FULL only an all-NULL one. */
async function orphans(db: Queryable, k: HeldForeignKey): Promise<number> {
  const cols = k.columns.map((c) => `c.${quoteIdent(c)}`);
  const parent = `EXISTS (SELECT 1 FROM ${k.referencedRows} AS p WHERE ${k.referencedColumns.map((rc, i) => `p.${quoteIdent(rc)} = ${cols[i]}`).join(' AND ')})`;
  const allSet = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  const where = k.matchFull
    ? `NOT (${cols.map((c) => `${c} IS NULL`).join(' AND ')}) AND NOT (${allSet} AND ${parent})`
    : `${allSet} AND NOT ${parent}`;
  return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${k.qualified} AS c WHERE ${where}`)).rows[0].n);
}

function orphanError(k: HeldForeignKey, n: number): TidemarkError {
  return new TidemarkError(
    'restore-foreign-key',
    `Restored rows of ${k.table} break its foreign key ${displayName(k.name)} (${k.columns.map(displayName).join(', ')} → ${k.references}(${k.referencedColumns.map(displayName).join(', ')})): ${n || 'some'} row${n === 1 ? '' : 's'} reference no row there; rolled back, nothing restored.`,
    { kind: 'input', hint: `Restore ${k.references} from the same backup too, or fix those rows in the backup's source and back up again.` },
  );
}

// ---------------------------------------------------------------------------------------------
// Loading

/**
 * One COPY … FROM STDIN of `input` (csv with its header, or ndjson lines), returning the rows copied.
 * On a server it is one stream. On PGlite, whose COPY takes its whole input as one Blob, the same
 * statement runs once per piece cut at record ends (copy-pieces.ts), in the caller's transaction.
 */
async function copyIn(db: Database, sql: string, input: AsyncIterable<Uint8Array>, format: 'ndjson' | 'csv', pieceBytes: number): Promise<number> {
  if (db.backend !== 'pglite') return db.copyIn(sql, input);
  let rows = 0;
  for await (const piece of copyPieces(input, { format, maxBytes: pieceBytes })) rows += await db.copyIn(sql, piece);
  return rows;
}

async function stage(db: Database, p: TablePlan, staging: string, input: AsyncIterable<Uint8Array>, format: 'ndjson' | 'csv', pieceBytes: number): Promise<void> {
  if (format === 'ndjson') {
    await db.exec(`CREATE TEMP TABLE ${staging} (j json) ON COMMIT DROP`);
    await copyIn(db, `COPY ${staging} (j) FROM STDIN WITH ${NDJSON_COPY_OPTIONS}`, input, 'ndjson', pieceBytes);
  } else {
    const cols = p.m.columns.map((c) => `${quoteIdent(c.name)} ${p.stagingTypes.get(c.name)}`).join(', ');
    await db.exec(`CREATE TEMP TABLE ${staging} (${cols}) ON COMMIT DROP`);
    const list = p.m.columns.map((c) => quoteIdent(c.name)).join(', ');
    // HEADER MATCH: the file's header must name exactly the manifest's columns, in order (none: an empty line).
    await copyIn(db, `COPY ${staging}${list ? ` (${list})` : ''} FROM STDIN WITH (FORMAT csv, HEADER MATCH)`, input, 'csv', pieceBytes);
  }
}

/** The staging rows typed as the backup typed them, as a FROM item (for digests). */
function stagingSource(p: TablePlan, staging: string, format: 'ndjson' | 'csv'): string {
  if (format === 'csv') return staging;
  const defs = p.m.columns.map((c) => `${quoteIdent(c.name)} ${p.stagingTypes.get(c.name)}`).join(', ');
  return `(SELECT x.* FROM ${staging} AS s, pg_catalog.json_to_record(s.j) AS x(${defs}))`;
}

function insertSql(p: TablePlan, staging: string, format: 'ndjson' | 'csv'): string {
  const byName = new Map(p.target.map((c) => [c.name, c]));
  const cols = [...p.mapped.map(quoteIdent), ...p.fillExprs.map((f) => quoteIdent(f.column))];
  const exprs = [
    ...p.mapped.map((c) => {
      if (format === 'ndjson') return `r.${quoteIdent(c)}`;
      const t = byName.get(c)!.type;
      return p.stagingTypes.get(c) === t ? `r.${quoteIdent(c)}` : `CAST(r.${quoteIdent(c)} AS ${t})`;
    }),
    ...p.fillExprs.map((f) => f.expr),
  ];
  const overriding = p.mapped.some((c) => byName.get(c)!.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
  const from = format === 'ndjson' ? `${staging} AS s, pg_catalog.json_populate_record(NULL::${p.qualified}, s.j) AS r` : `${staging} AS r`;
  // A backup without columns (and nothing to fill): one row of defaults per staged row.
  if (!cols.length) return `INSERT INTO ${p.qualified} SELECT FROM ${from}`;
  return `INSERT INTO ${p.qualified} (${cols.join(', ')})${overriding} SELECT ${exprs.join(', ')} FROM ${from}`;
}

async function bumpSequences(db: Queryable, p: TablePlan): Promise<RestoreTableResult['sequences']> {
  const out: RestoreTableResult['sequences'] = [];
  for (const c of p.target) {
    if (!p.mapped.includes(c.name)) continue;
    const seq = (await db.query<{ seq: string | null }>(`SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS seq`, [p.qualified, c.name])).rows[0].seq;
    if (!seq) continue;
    // Never back: setval outlives a ROLLBACK (or a killed process), and the rows the sequence handed
    // out before may still be there. Its last value as pg_sequences reads it (NULL before first use).
    const lit = literal(seq);
    const last = `CASE WHEN pg_catalog.has_sequence_privilege(${lit}, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(${lit}::pg_catalog.regclass) END`;
    const r = await db.query<{ v: string }>(
      `SELECT pg_catalog.setval(${lit}::pg_catalog.regclass, GREATEST(s.m, ${last}))::pg_catalog.text AS v FROM (SELECT pg_catalog.max(t.${quoteIdent(c.name)})::pg_catalog.int8 AS m FROM ${p.qualified} AS t) AS s WHERE s.m IS NOT NULL`,
    );
    if (r.rows.length) out.push({ column: c.name, sequence: seq, value: r.rows[0].v });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Verifying

async function digestOf(db: Queryable, from: string, columns: readonly string[], algorithm: DigestAlgorithm): Promise<{ rows: string; digest: string }> {
  return (await db.query<{ rows: string; digest: string }>(contentDigestSql(from, columns, algorithm))).rows[0];
}

/**
 * The csv fast path (no staging table): no backup column skipped or generated here, no `fill`
 * expression, and the columns compared are exactly the backup's, so the target's digest alone is
 * checked against the manifest. Target-only columns still take their defaults (COPY fills them).
 */
function direct(p: TablePlan): boolean {
  // A backup without columns goes through staging: `COPY t ()` is not SQL, and its rows must take the target's defaults.
  return p.m.columns.length > 0 && p.mapped.length === p.m.columns.length && p.fillExprs.length === 0 && sameColumns(p);
}

function sameColumns(p: TablePlan): boolean {
  return p.compared.length === p.m.digestColumns.length && p.compared.every((c, i) => c === p.m.digestColumns[i]);
}

/** `algorithm`: the manifest's, so the digests compare with the ones the backup recorded. */
async function verifyTable(db: Queryable, p: TablePlan, source: string | undefined, algorithm: DigestAlgorithm): Promise<void> {
  const same = sameColumns(p);
  const target = await digestOf(db, p.rowsFrom, p.compared, algorithm);
  if (same || source === undefined) {
    p.result.digestMatched = target.digest === p.m.contentDigest && Number(target.rows) === p.m.rowCount;
  } else {
    // The staging rows must be the backup's rows (all its columns), and the target must hold them (common columns).
    const full = await digestOf(db, source, p.m.digestColumns, algorithm);
    const common = await digestOf(db, source, p.compared, algorithm);
    p.result.digestMatched = full.digest === p.m.contentDigest && common.digest === target.digest && Number(target.rows) === p.m.rowCount;
  }
  if (!p.result.digestMatched && source !== undefined) p.result.differingRows = await countDiffering(db, source, p.rowsFrom, p.compared);
}

/**
 * How many rows differ over the given columns: the larger of the multiset differences both ways, so a
 * changed row counts once (missing from one side and unexpected in the other), and an extra row once.
 */
async function countDiffering(db: Queryable, a: string, b: string, columns: readonly string[]): Promise<number> {
  const h = (from: string) => `SELECT pg_catalog.md5(${columns.length ? `ROW(${columns.map((c) => `t.${quoteIdent(c)}`).join(', ')})::text` : `''`}) AS h FROM ${from} AS t`;
  const r = await db.query<{ n: string }>(
    `SELECT greatest((SELECT count(*) FROM (${h(a)} EXCEPT ALL ${h(b)}) x), (SELECT count(*) FROM (${h(b)} EXCEPT ALL ${h(a)}) y))::text AS n`,
  );
  return Number(r.rows[0].n);
}

const RELKINDS: Record<string, string> = {
  v: 'a view',
  m: 'a materialized view',
  f: 'a foreign table',
  S: 'a sequence',
  i: 'an index',
  I: 'a partitioned index',
  c: 'a composite type',
  t: 'a TOAST table',
};

/** Like pg_dump and backup: the load runs with row_security off (see refuseRowSecurity). */
const ROW_SECURITY_OFF_SQL = `SET LOCAL row_security = off`;

/**
 * Restore writes ONLY into tables the CURRENT config assigns to the service each was backed up for
 * (any owning service when the backup recorded none). Checked before connecting: a manifest naming
 * another service's table, or one no service owns, writes nothing.
 */
function refuseNotOwned(tables: ManifestTable[], workspace: Workspace | undefined): void {
  const bad: string[] = [];
  for (const t of tables) {
    const owner = ownerOfTable(workspace, t)?.name;
    const label = displayQualified(t);
    if (!owner) bad.push(`${label} (no service owns it${workspace ? ' in the current config' : ': no config was found'})`);
    else if (t.service !== undefined && owner !== t.service) bad.push(`${label} (backed up as ${t.service}'s, the current config gives it to ${owner})`);
  }
  if (bad.length) {
    throw new TidemarkError(
      'restore-not-owned',
      `Restore writes only into tables the current config assigns to the service being restored; refused, nothing restored: ${bad.join(', ')}.`,
      { kind: 'input', hint: "Check the services' `owns` in the config, or restore only some services with --service." },
    );
  }
}

/**
 * Row-level security that applies to this role (row_security_active: not a superuser or BYPASSRLS,
 * and not the owner of a table without FORCE) would make COPY FROM fail and DELETE miss rows: refused
 * before anything is written, saying what the role needs.
 */
async function refuseRowSecurity(db: Queryable, plans: TablePlan[]): Promise<void> {
  if (!plans.length) return;
  const r = await db.query<{ oid: number; force: boolean; owner: boolean; role: string }>(
    `SELECT c.oid::int8::float8 AS oid, c.relforcerowsecurity AS force, pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owner, current_user::text AS role
       FROM pg_catalog.pg_class c WHERE c.oid = ANY($1::int8[]::oid[]) AND c.relrowsecurity AND pg_catalog.row_security_active(c.oid)`,
    [plans.map((p) => p.oid)],
  );
  if (!r.rows.length) return;
  const names = r.rows.map((row) => {
    const p = plans.find((x) => x.oid === Number(row.oid))!;
    return `${p.label}${row.owner && row.force ? ' (owned by it, with FORCE ROW LEVEL SECURITY)' : ''}`;
  });
  throw new TidemarkError(
    'restore-row-security',
    `Row-level security of ${names.join(', ')} applies to role ${displayName(r.rows[0].role)}: it could not load (or, with --replace, delete) every row, nothing restored.`,
    { hint: 'Restore as a role with BYPASSRLS or a superuser, or as the table owner without FORCE ROW LEVEL SECURITY (ALTER TABLE … NO FORCE ROW LEVEL SECURITY).' },
  );
}
