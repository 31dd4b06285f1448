/**
 * The restore folder: `tidemark restore DIR` (DESIGN §2, issue 4): loads a backup into the CURRENT schema.
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
 * 3. ONE transaction (the services' `up` locks held around it), or, when the target's database is a
 *    caller's transaction (`withTx(target, tx)`), a savepoint of it (the caller holds the locks):
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
 *
 * The core takes a Target (target/target.ts): it reads `target.db` (a Database, or a caller's Tx),
 * `target.workspace` (who owns what) and `target.paths` (the backup directory is a path the user
 * typed). It opens nothing and loads no config: api/restore.ts is the boundary (and runs the checks of
 * the input, `readRestoreInput` and `refuseNotOwned`, before it opens or guards the database).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Queryable, Session, Tx } from '../../db/database.js';
import { TidemarkError, isTidemarkError } from '../../errors.js';
import { withServiceLocks } from '../../ledger/locks.js';
import { ROW_SECURITY_OFF_SQL } from '../../schema/catalog.js';
import { literal, quoteIdent } from '../../sql/ident.js';
import type { Target } from '../../target/target.js';
import { DIGEST_SETTINGS_SQL, digestAlgorithmOf, type DigestAlgorithm } from '../digest.js';
import type { Manifest, ManifestTable } from '../manifest.js';
import { ndjsonToCsv } from '../ndjson-csv.js';
import { verifyBackupRead } from '../verify.js';
import { holdForeignKeys, restoreForeignKeys, BULK_FOREIGN_KEY_ROWS } from './foreign-keys.js';
import { compareLedger, recordRestore, restoredServices } from './ledger.js';
import { PGLITE_COPY_PIECE_BYTES, bumpSequences, copyIn, insertSql, stage, stagingSource } from './load.js';
import { applyFill, loadOrder, pickTables, planTable, refuseMissing, refuseUnusedFill } from './plan.js';
import { refuseCascades, refuseNotOwned, refuseRowSecurity } from './refuse.js';
import type { RestoreCoreOptions, RestoreResult, TablePlan } from './types.js';
import { direct, verifyTable } from './verify.js';

export { BULK_FOREIGN_KEY_ROWS } from './foreign-keys.js';
export { refuseNotOwned } from './refuse.js';
export type { FilledColumn, RestoreCoreOptions, RestoreResult, RestoreTableResult } from './types.js';

/** The verified backup and the tables of it to restore: what the restore checks before it touches the database. */
export interface RestoreInput {
  manifest: Manifest;
  tables: ManifestTable[];
  algorithm: DigestAlgorithm;
}

/** A restore's result before anything happened (`dir` absolute). */
export function restoreResult(dir: string): RestoreResult {
  return {
    ok: false,
    dir,
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
}

/** The failed result: the error as a value (an unexpected one wrapped as `restore-failed`), the time taken. */
export function failedRestore(result: RestoreResult, err: unknown, started: number): RestoreResult {
  result.error = isTidemarkError(err) ? err : new TidemarkError('restore-failed', `Restore failed, rolled back, nothing restored: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  result.durationMs = performance.now() - started;
  return result;
}

/**
 * 1. The backup must be intact before anything else happens (verify-backup's reader), then the
 * services asked for must be in it. Sets `result.format`. Throws a TidemarkError.
 */
export async function readRestoreInput(result: RestoreResult, service: string[] | undefined): Promise<RestoreInput> {
  const verifiedRead = await verifyBackupRead(result.dir);
  const verified = verifiedRead.result;
  if (verified.error) throw verified.error;
  if (!verified.ok || !verifiedRead.manifest) {
    throw new TidemarkError('backup-corrupt', `${result.dir} is not a trustworthy backup, nothing restored: ${verified.problems.map((p) => p.message).join('; ')}`, {
      kind: 'input',
      hint: 'Run `tidemark verify-backup` on it for the details; restore from another backup.',
    });
  }
  const manifest: Manifest = verifiedRead.manifest;
  result.format = manifest.format;
  const algorithm = digestAlgorithmOf(manifest)!; // the reader refused an unknown one
  return { manifest, tables: pickTables(manifest, service), algorithm };
}

/**
 * Restores the backup at `options.dir` into `target.db`: a Database (the restored services' locks
 * held, one transaction) or a caller's transaction (`withTx(target, tx)`: a savepoint of it, no locks
 * of its own — the caller holds them — its settings put back, deferred constraints checked at the end
 * so a violation is the restore's error). Results as values: never throws.
 */
export async function restore(target: Target<Session>, options: RestoreCoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const result = restoreResult(target.paths.fromUser(options.dir));
  let input: RestoreInput;
  try {
    input = await readRestoreInput(result, options.service);
    refuseNotOwned(input.tables, target.workspace);
  } catch (err) {
    return failedRestore(result, err, started);
  }
  return restoreChecked(target, result, input, options, started);
}

/** A caller's transaction (or savepoint) rather than a whole session. */
function isTx(db: Session): db is Tx {
  return typeof (db as Partial<Tx>).depth === 'number';
}

/**
 * Steps 2 to 5, once the input is checked (readRestoreInput, refuseNotOwned): what `restore` does
 * next, and what api/restore.ts calls after opening (and guarding) the target.
 */
export async function restoreChecked(target: Target<Session>, result: RestoreResult, input: RestoreInput, options: RestoreCoreOptions, started: number): Promise<RestoreResult> {
  const { manifest, tables, algorithm } = input;
  result.database = target.name.display;
  result.databaseSource = target.name.source;
  try {
    const given = target.db;
    if (isTx(given)) {
      // The caller's transaction: it connected, guarded and holds the locks.
      await given.transaction(async (tx) => {
        const saved = await currentSettings(tx);
        await work(tx);
        // Deferred checks fire now, inside the restore; SET LOCAL outlives RELEASE SAVEPOINT, so the caller's settings come back.
        await tx.exec('SET CONSTRAINTS ALL IMMEDIATE');
        await tx.exec(saved);
      });
    } else {
      // The services whose tables are restored hold their `up` locks meanwhile: a restore and an `up`
      // (or another restore) of the same service queue instead of interleaving. transaction() rolls
      // back while the locks are still held (an aborted transaction could not even release them).
      result.lockedServices = restoredServices(tables, target.workspace);
      await withServiceLocks(given, result.lockedServices, options, () => given.transaction(work), ', nothing restored');
    }

    async function work(database: Tx): Promise<void> {
      // Nothing is written outside the transaction, not even the ledger (see recordRestore): a refused
      // or rolled-back restore leaves the database exactly as it was.
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
        result.notes.push(`Foreign-key cycle among ${cycle.join(', ')}: loaded in manifest order with SET CONSTRAINTS ALL DEFERRED (only DEFERRABLE constraints wait for COMMIT).`);
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

      if (options.replace && nonEmpty.length)
        await refuseCascades(
          database,
          ordered.filter((p) => nonEmpty.includes(p.label)),
          ordered,
        );

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
        // ON COMMIT DROP would keep it to the end of a caller's transaction (withTx): drop it now.
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
    }
    result.ok = true;
  } catch (err) {
    return failedRestore(result, err, started);
  }
  result.durationMs = performance.now() - started;
  return result;
}

/** `SELECT set_config(…, true)` putting back the settings DIGEST_SETTINGS_SQL changes (for a caller's session). */
async function currentSettings(db: Queryable): Promise<string> {
  const names = ['TimeZone', 'DateStyle', 'IntervalStyle', 'extra_float_digits', 'bytea_output', 'row_security'];
  const r = await db.query<Record<string, string>>(`SELECT ${names.map((n, i) => `current_setting('${n}') AS s${i}`).join(', ')}`);
  return `SELECT ${names.map((n, i) => `set_config('${n}', ${literal(r.rows[0][`s${i}`])}, true)`).join(', ')}`;
}
