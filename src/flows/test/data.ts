/**
 * Check (f), data survival: rows are put on the shadow by fixtures `tests/<service>/<id or short id>[_*].sql`
 * (next to the config file), each loaded right after that migration's last up in the stairway. From then on,
 * before each migration's up the row count and content digest (data/digest.ts, computed in the database) of
 * every table of the closure, and of each of its columns, are read, and read again after the down: a down that
 * gives the schema back but not the rows (a column dropped and added again, a table re-created empty) is
 * named by table and column. The down is what must give the rows back: comparing after the second up instead
 * would fail every up that rewrites data on purpose. A file with `-- tidemark:lossy-down` is reported.
 * `--fixtures DIR` adds a backup's rows (`tidemark backup`), restored right after the last migration its
 * manifest's ledger rows name: the data of a real database, on the schema it was taken from.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentDigestSql, DIGEST_SETTINGS_SQL } from '../../data/digest.js';
import { type RestoreInput, readRestoreInput, restoreChecked, restoreResult } from '../../data/restore/index.js';
import type { Database, Session } from '../../db/database.js';
import type { History, MigrationFile } from '../../history/migration.js';
import { displayName, quoteQualified } from '../../sql/ident.js';
import type { Target } from '../../target/target.js';
import type { TestFinding } from './index.js';
import type { Snapshots } from './steps.js';

/** Fixture files per migration id, in name order, and a finding for each file that names no migration. */
export interface Fixtures {
  byMigration: Map<string, string[]>;
  findings: TestFinding[];
}

/** Where a service's fixtures are: `tests/<service>` under the workspace root (the config file's directory). */
function fixturesDir(root: string, service: string): string {
  return path.join(root, 'tests', service);
}

/**
 * Reads `tests/<service>/*.sql` for each of `services`: `budget_001.sql`, `budget_001_rows.sql` and
 * `budget_001_initial_schema_rows.sql` all belong to budget_001_initial_schema (the number decides).
 */
export async function findFixtures(root: string, services: readonly string[], histories: readonly History[]): Promise<Fixtures> {
  const byMigration = new Map<string, string[]>();
  const findings: TestFinding[] = [];
  for (const service of services) {
    const dir = fixturesDir(root, service);
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
    } catch {
      continue; // no fixtures for this service
    }
    const migrations = histories.find((h) => h.service === service)?.migrations ?? [];
    for (const name of names) {
      const file = path.join(dir, name);
      const m = migrationOfFixture(service, name.slice(0, -'.sql'.length), migrations);
      if (m) byMigration.set(m.id, [...(byMigration.get(m.id) ?? []), file]);
      else
        findings.push({
          check: 'data',
          service,
          status: 'fail',
          file,
          message: `the fixture ${name} names no migration of ${service}`,
          hint: `Name it after the migration it follows: <id or short id>[_anything].sql, e.g. ${migrations[0] ? `${migrations[0].id}.sql or ${shortId(service, migrations[0])}_rows.sql` : `${service}_001_rows.sql`}.`,
        });
    }
  }
  return { byMigration, findings };
}

function shortId(service: string, m: MigrationFile): string {
  return `${service}_${/^\d+/.exec(m.id.slice(service.length + 1))?.[0] ?? String(m.number)}`;
}

/** The migration a fixture's base name belongs to: `<service>_<number>` then nothing or `_…`, the number as the id writes it. */
function migrationOfFixture(service: string, base: string, migrations: readonly MigrationFile[]): MigrationFile | undefined {
  return migrations.find((m) => {
    const short = shortId(service, m);
    return base === short || base.startsWith(`${short}_`);
  });
}

/** Runs a fixture file on `db` in one transaction: it loads whole or not at all. */
export async function loadFixture(db: Database, file: string): Promise<void> {
  const sql = await readFile(file, 'utf8');
  await db.transaction((tx) => tx.exec(sql));
}

/** What is compared of one table: its FROM item, its name for humans and its columns. */
interface DataTable {
  from: string;
  label: string;
  columns: string[];
}

/**
 * Row count and digest of each table, and the digest of each of its columns, keyed by the table's place in
 * the list (`3`, `3\0price`): labels are for people, and two tables may print alike (`"x.y"` and `x.y`).
 */
export type Digests = Map<string, { rows: string; digest: string }>;

/** The tables (and columns) of every snapshot: what the digests cover. */
export function dataTables(snapshots: Snapshots): DataTable[] {
  const out: DataTable[] = [];
  for (const snapshot of snapshots.values()) {
    for (const t of snapshot.tables) {
      out.push({ from: quoteQualified(t), label: displayName({ schema: t.schema, name: t.name }), columns: t.columns.map((c) => c.name) });
    }
  }
  return out;
}

/** Reads every table's and column's digest in one query (one round trip per point of the walk). */
export async function readDigests(db: Database, tables: readonly DataTable[]): Promise<Digests> {
  const items: { key: string; sql: string }[] = [];
  tables.forEach((t, i) => {
    items.push({ key: `${i}`, sql: contentDigestSql(t.from, t.columns) });
    for (const c of t.columns) items.push({ key: `${i}\0${c}`, sql: contentDigestSql(t.from, [c]) });
  });
  const out: Digests = new Map();
  if (items.length === 0) return out;
  const sql = items.map((it, i) => `SELECT ${i} AS k, d.rows, d.digest FROM (${it.sql}) AS d`).join('\nUNION ALL\n');
  // The digest prints values: under the output settings it is defined with, whatever a migration SET.
  const result = await db.transaction(async (tx) => {
    await tx.exec(DIGEST_SETTINGS_SQL);
    return tx.query<{ k: number; rows: string; digest: string }>(sql);
  });
  for (const row of result.rows) out.set(items[Number(row.k)].key, { rows: row.rows, digest: row.digest });
  return out;
}

/** Whether any table holds a row: with none there is nothing a down could lose. */
export function anyRows(tables: readonly DataTable[], digests: Digests): boolean {
  return tables.some((_, i) => digests.get(`${i}`)?.rows !== '0');
}

/** What the down lost, in words: a row count per table, else the columns whose values changed. */
export function dataLosses(tables: readonly DataTable[], before: Digests, after: Digests): string[] {
  const out: string[] = [];
  for (const [i, t] of tables.entries()) {
    const b = before.get(`${i}`);
    const a = after.get(`${i}`);
    if (!b || !a) continue;
    if (b.rows !== a.rows) {
      out.push(`table ${t.label} has ${b.rows} rows before the up and ${a.rows} after the down`);
      continue;
    }
    if (b.digest === a.digest) continue;
    const changed = t.columns.filter((c) => before.get(`${i}\0${c}`)?.digest !== after.get(`${i}\0${c}`)?.digest);
    // Each column alone may hold the same values while rows swapped them: then the table is all there is to name.
    if (changed.length === 0) out.push(`the rows of table ${t.label} are combined differently after the down than before the up`);
    for (const c of changed) out.push(`column ${t.label}.${displayName(c)} holds other values after the down than before the up`);
  }
  return out;
}

/** A backup directory given as fixtures: verified once, restored into each walk that reaches its migrations. */
export interface BackupFixtures {
  dir: string;
  input: RestoreInput;
  /** The ledger's migration ids: the walk restores after the last of these it applies. */
  ids: ReadonlySet<string>;
}

/** Reads and verifies the backup at `dir` (absolute); throws restore's errors (backup-not-found, backup-corrupt, …). */
export async function readBackupFixtures(dir: string): Promise<BackupFixtures> {
  const input = await readRestoreInput(restoreResult(dir), undefined);
  return { dir, input, ids: new Set(input.manifest.ledger.filter((r) => r.status === 'applied').map((r) => r.migration)) };
}

/**
 * Restores the backup's tables of `services` into `db` (the shadow, through `target`'s workspace), as
 * `tidemark restore` does; returns the error's message when it does not restore.
 */
export async function restoreBackupFixtures(target: Target<Session>, db: Database, backup: BackupFixtures, services: readonly string[]): Promise<string | undefined> {
  const tables = backup.input.tables.filter((t) => t.service !== undefined && services.includes(t.service));
  if (tables.length === 0) return undefined;
  const onShadow: Target<Session> = { ...target, db };
  const r = await restoreChecked(onShadow, restoreResult(backup.dir), { ...backup.input, tables }, { dir: backup.dir }, performance.now());
  return r.error ? r.error.message.replace(/\.$/, '') : undefined;
}
