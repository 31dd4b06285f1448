/**
 * `tidemark backup` (DESIGN §2 "Backup", issue 4): the tables a service owns (or every service's,
 * or the named ones) read in ONE snapshot — one REPEATABLE READ READ ONLY transaction for the
 * catalog, the counts, the digests, the data and the ledger — streamed through COPY into
 * `data/<schema>.<table>.{ndjson,csv}`, with `manifest.json`, `manifest.sha256` and `schema.sql`.
 *
 * Everything is written into `<out>.tmp-<random>` and renamed to `<out>` only once complete, so a
 * crash never leaves a directory that looks like a finished backup. Results as values: never throws.
 *
 * The core takes a Target (the boundary, api/backup.ts, resolved the config, the services and the
 * database): the target's services are backed up, its db holds the snapshot, its `openSibling` gives
 * the digests' second session (server), its `server` pg_dump's connection, a relative `--out` or
 * `--pg-dump` is the user's (`paths.fromUser`).
 *
 * This folder is that command, one file per concern: the entry here; selection (what to back up),
 * checks (row-level security, JSON null), snapshot (the second session and the digests), pieces
 * and copy (reading tables into files), schema-sql, pg-dump, files (names, writes), partials.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Queryable } from '../../db/database.js';
import { TidemarkError, isTidemarkError } from '../../errors.js';
import { readLedger } from '../../ledger/ledger.js';
import { ROW_SECURITY_OFF_SQL, liveTables, type LiveTable } from '../../schema/catalog.js';
import { displayQualified } from '../../sql/ident.js';
import type { Target } from '../../target/target.js';
import { DIGEST_ALGORITHM, DIGEST_SETTINGS_SQL, contentDigestSql, ownRows } from '../digest.js';
import { buildManifest, type DataFormat, type ManifestTable } from '../manifest.js';
import { ownerOfTable } from '../owner.js';
import { holdsJsonNull, refuseRowSecurity } from './checks.js';
import { copyTable } from './copy.js';
import { DATA_DIR, dataFileName, refuseNonEmpty, sha256, syncDir, writeSmallFile } from './files.js';
import { PARTIAL_MARKER, TMP_INFIX, removeStalePartials, safeName, utcStamp } from './partials.js';
import { PGDUMP_FILE, preparePgDump, runPgDump, type PgDumpCommand } from './pg-dump.js';
import { estimatedRows, readPieces, readPlan } from './pieces.js';
import { describeTable, renderSchemaSql, type TableInfo } from './schema-sql.js';
import { chooseTables, describeSelection } from './selection.js';
import { openDigester, openSnapshotSession, type SnapshotSession } from './snapshot.js';
import type { BackupCoreOptions, BackupFormat, BackupResult } from './types.js';

export type { BackupCoreOptions, BackupFormat, BackupResult } from './types.js';

/** Refuses what no target can fix: an unknown format, `--pg-dump` without `--format pgdump` (the boundary asks first too, before the config). */
export function checkBackupOptions(options: BackupCoreOptions): void {
  const format = options.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv' && format !== 'pgdump') {
    throw new TidemarkError('bad-usage', `Unknown backup format ${String(format)}: use ndjson, csv or pgdump.`, { kind: 'usage' });
  }
  if (options.pgDump !== undefined && format !== 'pgdump') {
    throw new TidemarkError('bad-usage', `--pg-dump names the pg_dump of --format pgdump, and the format is ${format}.`, {
      kind: 'usage',
      hint: 'Add --format pgdump, or leave --pg-dump out.',
    });
  }
}

/** The result of a backup that failed before it had a target (a refused option, a config that cannot be read): `err` as its error. */
export function failedBackup(options: Pick<BackupCoreOptions, 'format'>, err: unknown, started = performance.now()): BackupResult {
  return {
    ok: false,
    database: '',
    databaseSource: 'default',
    format: options.format ?? 'ndjson',
    tables: [],
    notes: [],
    rows: 0,
    bytes: 0,
    durationMs: performance.now() - started,
    error: asBackupError(err),
  };
}

function asBackupError(err: unknown): TidemarkError {
  return isTidemarkError(err) ? err : new TidemarkError('backup-failed', `Backup failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** Backs up the target's services' tables (and `options.table`) into a new directory. The target stays open: whoever opened it closes it. */
export async function backup(target: Target, options: BackupCoreOptions = {}): Promise<BackupResult> {
  const started = performance.now();
  const format: BackupFormat = options.format ?? 'ndjson';
  const result: BackupResult = { ok: false, database: '', databaseSource: 'default', format, tables: [], notes: [], rows: 0, bytes: 0, durationMs: 0 };
  let tmpDir: string | undefined;
  let canceller: Queryable | undefined;
  let closeDigester: (canceller?: Queryable) => Promise<void> = async () => {};
  let helper: SnapshotSession | undefined;
  try {
    checkBackupOptions(options);
    const dataFormat: 'ndjson' | 'csv' = format === 'pgdump' ? 'ndjson' : format;
    const { workspace, paths } = target;
    const serviceNames = target.services.map((s) => s.name);
    if (options.out !== undefined) refuseNonEmpty(paths.fromUser(options.out), options.out);

    // Named before any I/O, so a failure to connect (the first use of an unguarded target's db) names the database tried.
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const db = target.db;
    canceller = db;

    let pgDump: PgDumpCommand | undefined;
    if (format === 'pgdump') pgDump = await preparePgDump(db, target.server, options.pgDump === undefined ? undefined : paths.fromUser(options.pgDump));

    // One snapshot for everything: a REPEATABLE READ READ ONLY transaction whose Tx every read is handed
    // (COPY included); its COMMIT just ends the snapshot. The settings fix the text of timestamps,
    // floats and bytea in the data files and in the digests (see digest.ts).
    const snap = await db.transaction(
      async (tx) => {
        await tx.exec(`${DIGEST_SETTINGS_SQL};\n${ROW_SECURITY_OFF_SQL}`);
        // pg_dump and the digest connection read the very snapshot this transaction reads.
        const snapshot = tx.backend === 'postgres' ? (await tx.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id : undefined;

        const meta = (await tx.query<{ db: string; version: string }>(`SELECT current_database() AS db, current_setting('server_version') AS version`)).rows[0];
        const serverVersion = tx.backend === 'pglite' ? `${meta.version} (PGlite)` : meta.version;

        // Partitions are read through their parent; tidemark's ledger goes into the manifest, not as a table.
        // A table without columns is backed up too: its rows are empty lines (`{}`), their count its content.
        const live = await liveTables(tx);
        const chosen = chooseTables(live, workspace, serviceNames, options.table);
        if (chosen.length === 0) {
          throw new TidemarkError(
            'nothing-to-back-up',
            `No table to back up: ${describeSelection(serviceNames, options.table)} own${serviceNames.length === 1 && !options.table?.length ? 's' : ''} no table in the database.`,
            {
              kind: 'input',
              hint: "Check the services' `owns` in the config, or name tables with --table.",
            },
          );
        }

        await refuseRowSecurity(tx, chosen);

        const outDir = paths.fromUser(options.out ?? path.join('backups', `${safeName(meta.db)}-${utcStamp(new Date())}`));
        refuseNonEmpty(outDir, options.out ?? outDir);
        // Folders created for it are private whatever the umask (a backup holds every row).
        fs.mkdirSync(path.dirname(outDir), { recursive: true, mode: 0o700 });
        result.notes.push(...removeStalePartials(path.dirname(outDir)));
        const tmp = `${outDir}${TMP_INFIX}${process.pid}-${randomBytes(4).toString('hex')}`;
        tmpDir = tmp; // removed in `finally` unless renamed into place
        fs.mkdirSync(tmp, { mode: 0o700 });
        fs.chmodSync(tmp, 0o700); // umask may only have removed bits; make it exactly 0700
        // Who is writing it: a later backup removes it if that process is gone (killed, power cut).
        writeSmallFile(path.join(tmp, PARTIAL_MARKER), `${JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`);
        fs.mkdirSync(path.join(tmp, DATA_DIR), { mode: 0o700 });
        fs.chmodSync(path.join(tmp, DATA_DIR), 0o700);

        const tables: ManifestTable[] = [];
        const schemaParts: string[] = [];
        const schemaFks: string[] = [];
        const enums = new Map<string, string>();
        // The catalog first (cheap), so the digests can start on a second connection before the COPYs.
        const described: { t: LiveTable; name: string; info: TableInfo; columns: string[]; format: DataFormat; file: string }[] = [];
        const fileNames = new Set<string>();
        for (const t of chosen) {
          const info = await describeTable(tx, t.oid);
          for (const [typeName, ddl] of info.enums) enums.set(typeName, ddl);
          schemaParts.push(info.ddl);
          schemaFks.push(...info.fkDdl);
          const name = displayQualified(t);
          // ndjson cannot tell a JSON `null` from SQL NULL: such a table is written as csv, which can.
          const jsonNull = dataFormat === 'ndjson' && (await holdsJsonNull(tx, t));
          if (jsonNull) {
            result.notes.push(`${name} holds the JSON literal null in ${jsonNull}: written as csv (ndjson cannot tell it from SQL NULL).`);
          }
          const tableFormat: DataFormat = jsonNull ? 'csv' : dataFormat;
          described.push({ t, name, info, columns: info.columns.map((c) => c.name), format: tableFormat, file: dataFileName(t, tableFormat, fileNames) });
        }
        const digestQueries = described.map((d) => contentDigestSql(ownRows(d.t, d.t.kind), d.columns, DIGEST_ALGORITHM));
        // Server: the digests run on a second connection inside THIS snapshot, in parallel with the
        // COPYs (one full scan each, on two cores). PGlite, or a Database handed in: one after another.
        const digester = await openDigester(tx, target.openSibling, snapshot, digestQueries);
        closeDigester = digester.close;
        const plans = [];
        for (const d of described) plans.push(await readPlan(tx, d.t, options.piecePages));
        // A big table is read in two halves at once: row_to_json costs the server more than the client
        // costs to take it in, so one COPY leaves a core idle. The second half needs a third connection.
        if (plans.some((p) => p.parallel)) helper = await openSnapshotSession(tx, target.openSibling, snapshot);

        for (const [index, d] of described.entries()) {
          const { t, name, info, columns, file } = d;
          const tableStarted = performance.now(); // per-table time includes the digest scan when sequential
          const digestPromise = digester.digest(index);
          // The progress bar's total: the exact count when the digest is already known, else the planner's estimate.
          const early = digester.parallel ? undefined : await digestPromise;
          const total = early ? Number(early.rows) : await estimatedRows(tx, t.oid);
          options.onProgress?.({ type: 'table-start', table: name, index, total: chosen.length, rows: total, ...(early ? {} : { estimated: true }) });

          const written = await copyTable(tx, helper?.db, readPieces(plans[index], d.format, t, columns, helper !== undefined), path.join(tmp, file), d.format, (rows, bytes) =>
            options.onProgress?.({ type: 'table-progress', table: name, rows, bytes, elapsedMs: performance.now() - tableStarted }),
          );
          const digest = early ?? (await digestPromise);
          const rowCount = Number(digest.rows);
          // Same snapshot: COPY must see exactly the rows count(*) saw. Anything else is a bug worth stopping for.
          if (written.records !== rowCount) {
            throw new TidemarkError(
              'backup-count-mismatch',
              `${name}: COPY wrote ${written.records} row${written.records === 1 ? '' : 's'} but the snapshot counts ${rowCount}; nothing was written.`,
              {
                hint: 'COPY and count(*) read one snapshot, so they cannot differ: a bug of tidemark or of the driver. Run again with --debug and report it.',
              },
            );
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
          result.tables.push({
            table: name,
            schema: t.schema,
            name: t.name,
            ...(service ? { service } : {}),
            format: d.format,
            rows: rowCount,
            bytes: written.bytes,
            file,
            pieces: written.pieces,
            parallel: written.parallel,
          });
          result.rows += rowCount;
          result.bytes += written.bytes;
          options.onProgress?.({ type: 'table-done', table: name, rows: rowCount, bytes: written.bytes, elapsedMs: performance.now() - tableStarted });
        }

        const services = [...new Set([...serviceNames, ...tables.map((t) => t.service).filter((s): s is string => !!s)])].sort();
        const ledger = services.length ? await readLedger(tx, services) : [];
        let dumpFile: { sha256: string; bytes: number } | undefined;
        if (pgDump && snapshot) {
          dumpFile = await runPgDump(pgDump, snapshot, chosen, path.join(tmp, PGDUMP_FILE));
          result.bytes += dumpFile.bytes;
        }
        await closeDigester();
        await helper?.close();
        return { meta, serverVersion, enums, schemaParts, schemaFks, services, tables, ledger, dumpFile, outDir, tmp };
      },
      { isolation: 'repeatable read', readOnly: true },
    );
    const { meta, serverVersion, enums, schemaParts, schemaFks, services, tables, ledger, dumpFile, outDir, tmp } = snap;

    const schemaSql = renderSchemaSql(meta.db, serverVersion, [...enums.values()], schemaParts, schemaFks);
    const schemaFile = writeSmallFile(path.join(tmp, 'schema.sql'), schemaSql);
    const manifest = buildManifest({
      serverVersion,
      database: meta.db,
      format: dataFormat,
      services,
      tables,
      ledger,
      files: [{ file: 'schema.sql', ...schemaFile }, ...(dumpFile ? [{ file: PGDUMP_FILE, ...dumpFile }] : [])],
    });
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    writeSmallFile(path.join(tmp, 'manifest.json'), manifestText);
    // The manifest's own integrity (an edited manifest is caught by verify-backup); sha256sum's format.
    writeSmallFile(path.join(tmp, 'manifest.sha256'), `${sha256(manifestText)}  manifest.json\n`);
    fs.rmSync(path.join(tmp, PARTIAL_MARKER));
    syncDir(path.join(tmp, DATA_DIR));
    syncDir(tmp);

    // An empty target directory (allowed) is replaced by rename(2) atomically on POSIX. Checked again:
    // something may have appeared there meanwhile (a symlink, a file).
    refuseNonEmpty(outDir, options.out ?? outDir);
    fs.renameSync(tmp, outDir);
    tmpDir = undefined;
    syncDir(path.dirname(outDir));
    result.dir = outDir;
    result.ok = true;
  } catch (err) {
    result.error = asBackupError(err);
  } finally {
    await closeDigester(canceller).catch(() => {}); // the second connection, on every path
    await helper?.close(canceller).catch(() => {});

    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    result.durationMs = performance.now() - started;
  }
  return result;
}
