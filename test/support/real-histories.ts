/**
 * Real migration histories vendored by bench/real-histories/vendor.mjs (test/fixtures/real/<name>@<version>/,
 * described by its source.json) turned into tidemark workspaces: one service per project, files
 * `<service>_NNN_<slug>.sql` with `-- tidemark:up` / `-- tidemark:down` (down only where the project has a
 * revert script), `-- tidemark:no-transaction` where the project runs the entry outside a transaction,
 * and tidemark.sum written by the project's own sum writer. The prelude (graphile-worker's installSchema)
 * or the required extensions (pgpm's control file) become migration 000.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type DiffResult, diff } from '../../src/api/diff.js';
import { down, up } from '../../src/api/migrate.js';
import type { Database } from '../../src/db/database.js';
import { normalizeSlug, writeMigrationFiles } from '../../src/history/new-migration.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { formatMigrationId } from '../../src/history/tidemark-source.js';
import { quoteIdent } from '../../src/sql/ident.js';
import { REPO_ROOT, makeWorkspace, sqlMigration, type TempWorkspace } from './workspace.js';

const REAL_FIXTURES = path.join(REPO_ROOT, 'test/fixtures/real');

/** One entry of source.json's `migrations`: paths relative to the fixture directory. */
export interface RealMigration {
  number: number;
  name: string;
  up: string;
  down?: string;
  noTransaction?: boolean;
}

/** A fixture's source.json. */
export interface RealHistorySource {
  package: string;
  version: string;
  license: string;
  integrity: string;
  transform: string;
  prelude?: string;
  requires?: { extensions: string[]; roles: string[] };
  migrations: RealMigration[];
}

/** A vendored project: the tidemark service it becomes and the schema-qualified names it owns. */
export interface RealHistory {
  /** `<name>@<version>`, the fixture directory under test/fixtures/real. */
  fixture: string;
  service: string;
  owns: string[];
}

/** The vendored histories (docs/plan-issue-13.md §3 "Candidate real histories"). */
export const REAL_HISTORIES: readonly RealHistory[] = [
  { fixture: 'graphile-worker@0.17.3', service: 'worker', owns: ['schema:graphile_worker'] },
  { fixture: '@dbos-inc/dbos-sdk@5.3.0', service: 'dbos', owns: ['schema:dbos'] },
  { fixture: '@pgpm/database-jobs@0.16.0', service: 'jobs', owns: ['schema:app_jobs'] },
  // Its domains are created in public, unqualified.
  { fixture: '@pgpm/types@0.16.0', service: 'types', owns: ['*'] },
];

export function readRealSource(fixture: string): RealHistorySource {
  return JSON.parse(readFileSync(path.join(REAL_FIXTURES, fixture, 'source.json'), 'utf8')) as RealHistorySource;
}

/**
 * The slug of a migration name: `schemas/app_jobs/tables/jobs/table` → `app_jobs_tables_jobs_table`,
 * `20240123183021_tables` → `tables`, `000001` → `migration_000001`. A slug starting with digits would
 * make the file name ambiguous (`dbos_001_2024_x` reads as service `dbos_001`), so it never does.
 */
function slugOf(name: string, number: number): string {
  const slug = normalizeSlug(name.replace(/^schemas\//, '')).replace(/^(\d+_)+/, '');
  if (!slug) return `migration_${number}`;
  return /^\d/.test(slug) ? `migration_${slug}` : slug;
}

export interface RealWorkspace {
  ws: TempWorkspace;
  /** Per service: migration ids in order, migration 000 (prelude or extensions) first when there is one. */
  ids: Record<string, string[]>;
}

/**
 * A temp workspace with one service per given project, each history cut after its first `k`
 * migrations when `k` is given (migration 000 is not counted). The caller removes it (`ws.remove()`).
 */
export async function realHistoryWorkspace(histories: readonly RealHistory[], options: { k?: number } = {}): Promise<RealWorkspace> {
  const ws = makeWorkspace(Object.fromEntries(histories.map((h) => [h.service, { owns: h.owns }])));
  const ids: Record<string, string[]> = {};
  for (const history of histories) ids[history.service] = await writeHistory(ws, history, options.k);
  return { ws, ids };
}

async function writeHistory(ws: TempWorkspace, history: RealHistory, k: number | undefined): Promise<string[]> {
  const dir = path.join(REAL_FIXTURES, history.fixture);
  const source = readRealSource(history.fixture);
  const read = (relative: string) => readFileSync(path.join(dir, relative), 'utf8').trimEnd();
  const { service } = history;
  const ids: string[] = [];
  const add = (number: number, slug: string, text: string) => {
    const id = formatMigrationId(service, BigInt(number), slug);
    ws.write(`migrations/${service}/${id}.sql`, text);
    ids.push(id);
  };

  // What the project's own tool does before its first migration.
  const preludeParts: string[] = [];
  if (source.prelude) preludeParts.push(read(source.prelude));
  for (const ext of source.requires?.extensions ?? []) preludeParts.push(`CREATE EXTENSION IF NOT EXISTS "${ext}";`);
  if (preludeParts.length > 0) add(0, source.prelude ? 'prelude' : 'extensions', sqlMigration(preludeParts.join('\n')));

  const cut = k === undefined ? source.migrations : source.migrations.slice(0, k);
  for (const m of cut) {
    const header = m.noTransaction ? '-- tidemark:no-transaction\n' : '';
    add(m.number, slugOf(m.name, m.number), sqlMigration(read(m.up), m.down === undefined ? undefined : read(m.down), header));
  }
  await writeSumFile(service, path.join(ws.dir, 'migrations', service));
  return ids;
}

/** The pg_dump that matches the test server (PostgreSQL 15); `pg_dump` on the PATH otherwise. */
export const PG_DUMP = existsSync('/usr/lib/postgresql/15/bin/pg_dump') ? '/usr/lib/postgresql/15/bin/pg_dump' : 'pg_dump';

/**
 * `pg_dump --schema-only` of a server database without what differs between two equal schemas: the
 * ledger (schema tidemark), owners and grants, the `\restrict` key pg_dump draws at random on every run
 * and the `-- Dumped from/by` version lines. Throws with pg_dump's own words when it fails.
 */
export function pgDumpSchema(url: string): string {
  const res = spawnSync(PG_DUMP, ['--schema-only', '--no-owner', '--no-privileges', '--exclude-schema=tidemark', url], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`pg_dump failed: ${res.error?.message ?? res.stderr.trim()}`);
  return res.stdout
    .replace(/^\\(un)?restrict .*$/gm, '')
    .replace(/^-- Dumped (from|by) .*$/gm, '')
    .replace(/\n{2,}/g, '\n');
}

/** The first differing lines of two dumps (a few around the first difference), for a failure message. */
export function firstDumpDifference(expected: string, actual: string, context = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return '';
  const from = Math.max(0, i - context);
  const show = (lines: string[]) => lines.slice(from, i + context).join('\n');
  return `first difference at line ${i + 1}:\n--- expected\n${show(a)}\n--- actual\n${show(b)}`;
}

/**
 * Creates the roles the histories grant to, unless present. They are left in place (roles are per
 * server; db/real-schemas.test.ts leaves the same `administrator` role, and dropping it could run between
 * that file's CREATE ROLE and its GRANT under `--test-concurrency=2`). The grants go with each database.
 */
export async function ensureRoles(db: Database, roles: readonly string[]): Promise<void> {
  for (const role of roles) {
    await db.exec(`DO $$ BEGIN CREATE ROLE ${quoteIdent(role)} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  }
}

/** The roles and contrib extensions a history needs (pgpm's control file), [] for none. */
export function requirementsOf(history: RealHistory): { extensions: string[]; roles: string[] } {
  const requires = readRealSource(history.fixture).requires;
  return { extensions: requires?.extensions ?? [], roles: requires?.roles ?? [] };
}

/** Whether the history has a migration 000 (a prelude or its extensions), which cuts do not count. */
export function hasMigrationZero(history: RealHistory): boolean {
  const source = readRealSource(history.fixture);
  return Boolean(source.prelude) || (source.requires?.extensions.length ?? 0) > 0;
}

/** The id of a history's k-th migration (migration 000 not counted), what `--from history:ID` takes for a cut at k. */
export function kthMigration(real: RealWorkspace, history: RealHistory, k: number): string {
  const ids = real.ids[history.service] ?? [];
  const id = ids[k - 1 + (hasMigrationZero(history) ? 1 : 0)];
  if (id === undefined) throw new Error(`${history.fixture} has no migration ${k}`);
  return id;
}

/** `tidemark diff --from history:<k-th> --to history --dry-run` in `full` (one project's whole history), against `database`. */
export function diffFromCut(full: RealWorkspace, history: RealHistory, k: number, database: string): Promise<DiffResult> {
  return diff({ cwd: full.ws.dir, database, service: history.service, from: `history:${kthMigration(full, history, k)}`, to: 'history', dryRun: true });
}

export interface ServerRoundTrip {
  /** diff's result: refused when `ok` is false (then nothing else ran). */
  result: DiffResult;
  /** '' when pg_dump of the first k + the generated up equals `dumpAll`, else where they differ first. */
  up?: string;
  /** '' when pg_dump after the generated down equals the first k's own dump, else where they differ first. */
  down?: string;
}

/**
 * The round trip of one cut on a server database `url` (empty; diff's shadows go to the same server):
 * the migration from the first k to all of `full`'s history is generated; the first k are run with `up`
 * and dumped (the dump of "the first k replayed"); the generated files are written next to them and run
 * with `up`, the dump compared with `dumpAll` (the whole history's); `down` to the k-th migration runs
 * their downs, the dump compared with the first k's again. Throws when up or down fails.
 */
export async function serverRoundTrip(full: RealWorkspace, history: RealHistory, k: number, url: string, dumpAll: string): Promise<ServerRoundTrip> {
  const result = await diffFromCut(full, history, k, url);
  if (!result.ok) return { result };
  const { service } = history;
  const cut = await realHistoryWorkspace([history], { k });
  const must = (r: { ok: boolean; error?: { code: string; message: string } }, what: string) => {
    if (!r.ok) throw new Error(`${history.fixture}, cut at ${k}: ${what}: ${r.error?.code}: ${r.error?.message}`);
  };
  try {
    must(await up({ cwd: cut.ws.dir, database: url, service }), `up of the first ${k}`);
    const dumpCut = pgDumpSchema(url);
    // Nothing generated (the rest changes no object): the first k must then dump as the whole history.
    if (result.files.length === 0) return { result, up: firstDumpDifference(dumpAll, dumpCut), down: '' };
    await writeMigrationFiles(
      service,
      path.join(cut.ws.dir, 'migrations', service),
      result.files.map((f) => ({ id: f.id, text: f.text })),
    );
    must(await up({ cwd: cut.ws.dir, database: url, service }), 'up of the generated files');
    const afterUp = firstDumpDifference(dumpAll, pgDumpSchema(url));
    must(await down({ cwd: cut.ws.dir, database: url, service, to: kthMigration(cut, history, k) }), 'down of the generated files');
    return { result, up: afterUp, down: firstDumpDifference(dumpCut, pgDumpSchema(url)) };
  } finally {
    cut.ws.remove();
  }
}
