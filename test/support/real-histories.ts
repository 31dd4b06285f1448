/**
 * Real migration histories vendored by bench/real-histories/vendor.mjs (test/fixtures/real/<name>@<version>/,
 * described by its source.json) turned into tidemark workspaces: one service per project, files
 * `<service>_NNN_<slug>.sql` with `-- tidemark:up` / `-- tidemark:down` (down only where the project has a
 * revert script), `-- tidemark:no-transaction` where the project runs the entry outside a transaction,
 * and tidemark.sum written by the project's own sum writer. The prelude (graphile-worker's installSchema)
 * or the required extensions (pgpm's control file) become migration 000.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeSlug } from '../../src/history/new-migration.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { formatMigrationId } from '../../src/history/tidemark-source.js';
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
