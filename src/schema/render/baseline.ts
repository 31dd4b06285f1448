/**
 * DDL from a Snapshot (pure): the baseline migration of a service (`renderBaseline`), the drops of
 * everything it owns (`renderDrop`, also the baseline's down section and what `reset` runs), and the
 * list of what cannot be reproduced (`unsupportedObjects`).

 *
 * The SQL runs on PostgreSQL 15 and 18: it uses what the catalog printed (pg_get_constraintdef,
 * pg_get_indexdef, pg_get_triggerdef, pg_get_viewdef, pg_get_functiondef) and plain syntax around
 * it; no NOT NULL constraint names (18), no NULLS NOT DISTINCT unless the live schema has it.
 * Order of creation: schemas, extensions, then types, functions, sequences, tables and views in the
 * dependency order introspect.ts read from pg_depend (Snapshot.createOrder: a domain after the function
 * its CHECK calls, a BEGIN ATOMIC function after the tables it reads, a table after the sequence and
 * functions its defaults use, a view after what it reads); function bodies kept as strings are created
 * with check_function_bodies off, as pg_dump does. Then column settings (storage, statistics,
 * compression, options), indexes (a foreign key may reference a unique index), replica identity and
 * CLUSTER ON, foreign keys and NOT VALID constraints (ALTER TABLE, so cycles work), triggers,
 * policies, row level security, comments, then OWNED BY for serial sequences.
 */
import { ident, nameKey, qualified } from '../../sql/ident.js';
import type { FunctionInfo, SequenceInfo, Snapshot, TableInfo, TypeInfo, ViewInfo } from '../snapshot.js';
import { objectKey } from '../snapshot.js';
import {
  columnSettings,
  indexStatement,
  orderTypes,
  orderViews,
  policyStatement,
  renderComments,
  renderFunction,
  renderTable,
  renderType,
  renderView,
  sequenceOptions,
  tableSettings,
  triggerStatements,
} from './objects.js';

export interface RenderOptions {
  /**
   * For each other service this one references (foreign keys, views, types): its latest migration id,
   * written as `-- tidemark:requires <id>`; undefined when none was found (a comment says so then).
   */
  requires?: Record<string, string | undefined>;
  /** The first comment line (default: a baseline written from the live schema); squash's says what it replaces. */
  title?: string;
}

/** Human names of what the snapshot holds but tidemark cannot reproduce; [] when all is supported. */
export function unsupportedObjects(snapshot: Snapshot): string[] {
  return snapshot.unsupported.map((u) => `${u.kind} ${u.name}`);
}

export interface RenderedBaseline {
  /** The up section's SQL (what runs), without the `-- tidemark:up` marker. */
  up: string;
  /** The down section's SQL: renderDrop. */
  down: string;
  /** The whole migration file: `-- tidemark:requires` lines, `-- tidemark:up`, up, `-- tidemark:down`, down. */
  file: string;
  /** Migration ids written as `-- tidemark:requires`. */
  requires: string[];
}

/** The baseline migration of `service`: its up and down sections, and the whole file text. */
export function renderBaseline(snapshot: Snapshot, service: string, options: RenderOptions = {}): RenderedBaseline {
  const header: string[] = [];
  const notes: string[] = [];
  const services = [...new Set(snapshot.references.map((r) => r.service))].sort();
  for (const other of services) {
    const objects = [...new Set(snapshot.references.filter((r) => r.service === other).map((r) => r.object))].join(', ');
    if (other === '') {
      notes.push(`-- Needs ${objects}, which no service owns: create it before this migration runs.`);
      continue;
    }
    const id = options.requires?.[other];
    if (id) header.push(`-- tidemark:requires ${id}`);
    else notes.push(`-- Needs ${objects} of service ${other}; add \`-- tidemark:requires <${other} migration>\` above \`-- tidemark:up\`.`);
  }

  const up: string[] = [];
  const section = (title: string, statements: string[]) => {
    if (statements.length === 0) return;
    up.push(`-- ${title}`, ...statements, '');
  };

  section(
    'schemas',
    snapshot.schemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${ident(s)};`),
  );
  section(
    'extensions',
    snapshot.extensions.map((e) => `CREATE EXTENSION IF NOT EXISTS ${ident(e.name)}${e.schema === 'public' ? '' : ` WITH SCHEMA ${ident(e.schema)}`};`),
  );
  // String bodies (LANGUAGE sql with quotes, plpgsql) may read tables created further down: pg_depend
  // cannot see into them, so they are checked when they run, as pg_dump does.
  if (snapshot.functions.length > 0) up.push('SET LOCAL check_function_bodies = off;', '');
  // Types, functions, sequences, tables and views in dependency order, consecutive ones of a kind under one heading.
  const TITLES = { type: 'types', function: 'functions', sequence: 'sequences', table: 'tables', view: 'views' } as const;
  let group: { kind: keyof typeof TITLES; statements: string[] } | undefined;
  for (const item of creationSequence(snapshot)) {
    if (!group || group.kind !== item.kind) {
      if (group) section(TITLES[group.kind], group.statements);
      group = { kind: item.kind, statements: [] };
    }
    group.statements.push(...item.statements);
  }
  if (group) section(TITLES[group.kind], group.statements);
  section('column settings', snapshot.tables.flatMap(columnSettings));
  const later: string[] = [];
  for (const t of snapshot.tables) {
    for (const c of t.constraints) {
      if (c.kind === 'foreign key' || !c.validated) later.push(`ALTER TABLE ${qualified(t)} ADD CONSTRAINT ${ident(c.name)} ${c.definition};`);
    }
  }
  // Indexes before foreign keys: a foreign key may reference the columns of a unique index.
  section(
    'indexes',
    snapshot.tables.flatMap((t) => t.indexes.map(indexStatement)),
  );
  section('replica identity and clustering', snapshot.tables.flatMap(tableSettings));
  section('foreign keys and NOT VALID constraints', later);
  section(
    'triggers',
    snapshot.tables.flatMap((t) => t.triggers.flatMap((tr) => triggerStatements(t, tr))),
  );
  section(
    'policies and row level security',
    snapshot.tables.flatMap((t) => [
      ...t.policies.map((p) => policyStatement(t, p)),
      ...(t.rowSecurity ? [`ALTER TABLE ${qualified(t)} ENABLE ROW LEVEL SECURITY;`] : []),
      ...(t.forceRowSecurity ? [`ALTER TABLE ${qualified(t)} FORCE ROW LEVEL SECURITY;`] : []),
    ]),
  );
  section('comments', renderComments(snapshot));
  section(
    'sequence ownership',
    snapshot.sequences
      .filter((s) => s.ownedBy)
      .map((s) => {
        const o = s.ownedBy as NonNullable<SequenceInfo['ownedBy']>;
        return `ALTER SEQUENCE ${qualified(s)} OWNED BY ${qualified({ schema: o.schema, name: o.table })}.${ident(o.column)};`;
      }),
  );

  const version = formatVersion(snapshot.serverVersion);
  const upText = [
    `-- ${options.title ?? `${service} baseline, written by \`tidemark baseline\` from the live schema`} (PostgreSQL ${version}).`,
    snapshot.tables.some((t) => t.columns.some((c) => c.generated?.kind === 'virtual'))
      ? '-- Uses PostgreSQL 18 syntax (virtual generated columns), as the live schema does.'
      : '-- Runs on PostgreSQL 15 and later.',
    ...notes,
    '',
    ...up,
  ];
  while (upText[upText.length - 1] === '') upText.pop();
  const upSql = `${upText.join('\n')}\n`;
  const down = renderDrop(snapshot);
  const file = `${[...header, '-- tidemark:up'].join('\n')}\n${upSql}\n-- tidemark:down\n${down}`;
  return { up: upSql, down, file, requires: header.map((h) => h.slice('-- tidemark:requires '.length)) };
}

/**
 * Drops every object of the snapshot, dependents first (the reverse of the creation order), with no CASCADE: an object of another service
 * that still depends on one of them makes the statement fail instead of silently going too.
 * Schemas and extensions are left in place (CREATE … IF NOT EXISTS made them; others may use them).
 */
export function renderDrop(snapshot: Snapshot): string {
  const out: string[] = [];
  const sequence = creationSequence(snapshot).reverse();
  // Reverse creation order. Tables go in runs, one DROP TABLE per run of tables with nothing else
  // between them (foreign keys within a run, cycles included, need no CASCADE); usually that is one run.
  const runs: TableInfo[][] = [];
  let last: CreationItem['kind'] | undefined;
  for (const item of sequence) {
    if (item.kind === 'table') {
      if (last !== 'table') runs.push([]);
      runs[runs.length - 1].push(item.table);
    }
    last = item.kind;
  }
  // With several runs (a function reading one table used by another's default), a foreign key from a
  // later run onto a table of an earlier run would block it: those keys go first.
  const runOf = new Map<string, number>();
  runs.forEach((run, i) => run.forEach((t) => runOf.set(nameKey(t), i)));
  for (const t of snapshot.tables) {
    for (const c of t.constraints) {
      if (c.kind !== 'foreign key' || !c.references) continue;
      const to = runOf.get(nameKey(c.references));
      if (to !== undefined && to < (runOf.get(nameKey(t)) ?? 0)) out.push(`ALTER TABLE ${qualified(t)} DROP CONSTRAINT ${ident(c.name)};`);
    }
  }
  // Serial sequences go with their column's table.
  const tableKeys = new Set(snapshot.tables.map((t) => nameKey(t)));
  let run = 0;
  last = undefined;
  for (const item of sequence) {
    if (item.kind === 'table') {
      if (last !== 'table')
        out.push(
          `DROP TABLE ${[...runs[run++]]
            .reverse()
            .map((t) => qualified(t))
            .join(', ')};`,
        );
    } else if (item.kind === 'view') out.push(`DROP ${item.view.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(item.view)};`);
    else if (item.kind === 'function') out.push(`DROP ${item.fn.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${qualified(item.fn)}(${item.fn.arguments});`);
    else if (item.kind === 'sequence') {
      const s = item.seq;
      if (!(s.ownedBy && tableKeys.has(nameKey({ schema: s.ownedBy.schema, name: s.ownedBy.table })))) out.push(`DROP SEQUENCE ${qualified(s)};`);
    } else out.push(`DROP ${item.type.kind === 'domain' ? 'DOMAIN' : 'TYPE'} ${qualified(item.type)};`);
    last = item.kind;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

type CreationItem =
  | { kind: 'type'; type: TypeInfo; statements: string[] }
  | { kind: 'function'; fn: FunctionInfo; statements: string[] }
  | { kind: 'sequence'; seq: SequenceInfo; statements: string[] }
  | { kind: 'table'; table: TableInfo; statements: string[] }
  | { kind: 'view'; view: ViewInfo; statements: string[] };

/**
 * Types, functions, sequences, tables and views with their CREATE statements, in the snapshot's
 * createOrder (dependency order from pg_depend); a snapshot without one gets the kind order: types,
 * functions that read no table, sequences, tables, functions that read tables, views.
 */
function creationSequence(snapshot: Snapshot): CreationItem[] {
  const items = new Map<string, CreationItem>();
  for (const t of snapshot.types) items.set(objectKey('type', t), { kind: 'type', type: t, statements: [renderType(t)] });
  for (const f of snapshot.functions) items.set(objectKey('function', f, f.arguments), { kind: 'function', fn: f, statements: [renderFunction(f)] });
  for (const q of snapshot.sequences) items.set(objectKey('sequence', q), { kind: 'sequence', seq: q, statements: [`CREATE SEQUENCE ${qualified(q)}${sequenceOptions(q, true)};`] });
  for (const t of snapshot.tables) items.set(objectKey('table', t), { kind: 'table', table: t, statements: [renderTable(t)] });
  for (const v of snapshot.views) items.set(objectKey('view', v), { kind: 'view', view: v, statements: [renderView(v), ...v.indexes.map(indexStatement)] });
  const order =
    snapshot.createOrder && snapshot.createOrder.length === items.size && snapshot.createOrder.every((k) => items.has(k))
      ? snapshot.createOrder
      : [
          ...orderTypes(snapshot.types).map((t) => objectKey('type', t)),
          ...snapshot.functions.filter((f) => !f.late).map((f) => objectKey('function', f, f.arguments)),
          ...snapshot.sequences.map((q) => objectKey('sequence', q)),
          ...snapshot.tables.map((t) => objectKey('table', t)),
          ...snapshot.functions.filter((f) => f.late).map((f) => objectKey('function', f, f.arguments)),
          ...orderViews(snapshot.views).map((v) => objectKey('view', v)),
        ];
  return order.map((k) => items.get(k) as CreationItem);
}

function formatVersion(num: number): string {
  if (!num) return 'unknown';
  return `${Math.floor(num / 10000)}.${num % 10000}`;
}
