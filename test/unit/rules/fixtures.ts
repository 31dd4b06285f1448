import type { CheckContext, ServiceView } from '../../../src/check/rule.js';
import { ownerOf } from '../../../src/config/owns.js';
import type { MigrationFile } from '../../../src/history/migration.js';
import type { Revision, TableReference } from '../../../src/history/revision.js';

/** An Alembic revision literal: `rev('budget', 'b2', ['b1'], { dependsOn: ['u1'] })`. */
export function rev(service: string, id: string, parents: string[] = [], extra: Partial<Revision> = {}): Revision {
  return {
    service,
    id,
    file: `/p/${service}/versions/${id}.py`,
    line: 10,
    parents,
    dependsOn: [],
    branchLabels: [],
    refLines: Object.fromEntries([...parents, ...(extra.dependsOn ?? [])].map((p) => [p, 11])),
    format: 'alembic',
    ...extra,
  };
}

export function tidemarkMigration(service: string, number: number, slug = `m${number}`, requires: string[] = []): MigrationFile {
  const id = `${service}_${String(number).padStart(3, '0')}_${slug}`;
  return {
    service,
    id,
    number: BigInt(number),
    slug,
    file: `/w/migrations/${service}/${id}.sql`,
    kind: 'sql',
    checksum: `c-${id}`,
    transactional: true,
    requires: requires.map((ref) => ({ ref, line: 1 })),
    up: { text: 'SELECT 1;', line: 2 },
  };
}

export function alembicService(name: string, revisions: Revision[], extra: Partial<ServiceView> = {}): ServiceView {
  return { name, format: 'alembic', dirs: [`/p/${name}/versions`], owns: [], requires: [], files: revisions.map((r) => r.file), revisions, readProblems: [], tableReferences: [], ...extra };
}

export function tidemarkService(name: string, migrations: MigrationFile[], extra: Partial<ServiceView> = {}): ServiceView {
  const sorted = [...migrations].sort((a, b) => (a.number < b.number ? -1 : a.number > b.number ? 1 : 0));
  const revisions: Revision[] = sorted.map((m, i) => ({
    service: name,
    id: m.id,
    file: m.file,
    line: 1,
    parents: i > 0 ? [sorted[i - 1].id] : [],
    dependsOn: m.requires.map((r) => r.ref),
    branchLabels: [],
    refLines: Object.fromEntries(m.requires.map((r) => [r.ref, r.line])),
    format: 'tidemark',
  }));
  return {
    name,
    format: 'tidemark',
    dirs: [`/w/migrations/${name}`],
    owns: [],
    requires: [],
    files: migrations.map((m) => m.file),
    revisions,
    migrations,
    readProblems: [],
    tableReferences: [],
    ...extra,
  };
}

export function context(services: ServiceView[], owners: Record<string, string> = {}): CheckContext {
  // Keys are owns entries of exact tables (`users`, `crm.users`, `"a.b".c`): matched as pairs, never split.
  return { services, ownerOf: (table) => ownerOf({ services: Object.entries(owners).map(([entry, name]) => ({ name, owns: [entry] })) }, table)?.name };
}

export function tableRef(table: string, action: string, line = 5, file = '/p/budget/versions/b2.py'): TableReference {
  // Fixture tables are plain `table` or `schema.table`: split at the first dot.
  const dot = table.indexOf('.');
  const name = dot < 0 ? { schema: 'public', name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  return { table, name, file, line, via: action.startsWith('op.') ? 'op' : 'sql', action };
}

export function withDatabase(ctx: CheckContext, facts: Partial<NonNullable<CheckContext['database']>>): CheckContext {
  return { ...ctx, database: { url: 'postgres://db/x', ledger: [], alembicVersions: [], tables: [], ...facts } };
}

export const applied = (service: string, migration: string, checksum = `c-${migration}`, status = 'applied') => ({ service, migration, checksum, status });
