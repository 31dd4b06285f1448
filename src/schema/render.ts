/**
 * DDL from a Snapshot (pure): the baseline migration of a service (`renderBaseline`), the drops of
 * everything it owns (`renderDrop`, also the baseline's down section and what `reset` runs), and the
 * list of what cannot be reproduced (`unsupportedObjects`).
 *
 * Over 400 lines since the one formatting pass (same code, wrapped): docs/plan-issue-13.md moves the
 * per-kind renderers into schema/render/ when the diff learns to render changes; split there, not twice.
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
import { ident, literal, nameKey, qualified } from '../sql/ident.js';
import type { ColumnInfo, FunctionInfo, IndexInfo, SequenceInfo, SequenceOptions, Snapshot, TableInfo, TypeInfo, ViewInfo } from './snapshot.js';
import { displayName, objectKey } from './snapshot.js';

export interface RenderOptions {
  /**
   * For each other service this one references (foreign keys, views, types): its latest migration id,
   * written as `-- tidemark:requires <id>`; undefined when none was found (a comment says so then).
   */
  requires?: Record<string, string | undefined>;
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
    snapshot.tables.flatMap((t) =>
      t.triggers.flatMap((tr) => {
        const out = [`${tr.definition.trim().replace(/;$/, '')};`];
        const state = { D: 'DISABLE TRIGGER', R: 'ENABLE REPLICA TRIGGER', A: 'ENABLE ALWAYS TRIGGER', O: '' }[tr.enabled];
        if (state) out.push(`ALTER TABLE ${qualified(t)} ${state} ${ident(tr.name)};`);
        return out;
      }),
    ),
  );
  section(
    'policies and row level security',
    snapshot.tables.flatMap((t) => [
      ...t.policies.map((p) => {
        const parts = [`CREATE POLICY ${ident(p.name)} ON ${qualified(t)}`];
        if (!p.permissive) parts.push('AS RESTRICTIVE');
        if (p.command !== 'ALL') parts.push(`FOR ${p.command}`);
        if (!(p.roles.length === 1 && p.roles[0] === 'PUBLIC')) parts.push(`TO ${p.roles.join(', ')}`);
        if (p.using !== undefined) parts.push(`USING (${p.using})`);
        if (p.withCheck !== undefined) parts.push(`WITH CHECK (${p.withCheck})`);
        return `${parts.join(' ')};`;
      }),
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
    `-- ${service} baseline, written by \`tidemark baseline\` from the live schema (PostgreSQL ${version}).`,
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

// ---------------------------------------------------------------------------------------------

function formatVersion(num: number): string {
  if (!num) return 'unknown';
  return `${Math.floor(num / 10000)}.${num % 10000}`;
}

const TYPE_MAX: Record<string, [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};

/** Sequence options that differ from the defaults CREATE SEQUENCE would pick. */
function sequenceOptions(s: SequenceOptions, withType: boolean): string {
  const [tmin, tmax] = TYPE_MAX[s.dataType] ?? TYPE_MAX.bigint;
  const ascending = !s.increment.startsWith('-');
  const defMin = ascending ? '1' : tmin;
  const defMax = ascending ? tmax : '-1';
  const defStart = ascending ? s.min : s.max;
  const parts: string[] = [];
  if (withType && s.dataType !== 'bigint') parts.push(`AS ${s.dataType}`);
  if (s.increment !== '1') parts.push(`INCREMENT BY ${s.increment}`);
  if (s.min !== defMin) parts.push(`MINVALUE ${s.min}`);
  if (s.max !== defMax) parts.push(`MAXVALUE ${s.max}`);
  if (s.start !== defStart) parts.push(`START WITH ${s.start}`);
  if (s.cache !== '1') parts.push(`CACHE ${s.cache}`);
  if (s.cycle) parts.push('CYCLE');
  return parts.length ? ` ${parts.join(' ')}` : '';
}

function renderColumn(t: TableInfo, c: ColumnInfo): string {
  const parts = [ident(c.name), c.type];
  if (c.collation) parts.push(`COLLATE ${c.collation}`);
  if (c.generated) parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.kind === 'stored' ? 'STORED' : 'VIRTUAL'}`);
  if (c.identity) {
    const seq = c.identity.sequence;
    const opts: string[] = [];
    if (!(seq.schema === t.schema && seq.name === `${t.name}_${c.name}_seq`)) opts.push(`SEQUENCE NAME ${qualified(seq)}`);
    const rest = sequenceOptions(seq, false).trim();
    if (rest) opts.push(rest);
    parts.push(`GENERATED ${c.identity.kind === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY${opts.length ? ` (${opts.join(' ')})` : ''}`);
  }
  if (c.default !== undefined) parts.push(`DEFAULT ${c.default}`);
  if (c.notNull) parts.push('NOT NULL');
  return parts.join(' ');
}

function renderTable(t: TableInfo): string {
  const lines = t.columns.map((c) => `  ${renderColumn(t, c)}`);
  // Primary key, unique, exclusion, then checks; foreign keys and NOT VALID ones come later.
  const rank = { 'primary key': 0, unique: 1, exclusion: 2, check: 3, 'foreign key': 4 };
  const inline = t.constraints.filter((c) => c.kind !== 'foreign key' && c.validated).sort((a, b) => rank[a.kind] - rank[b.kind] || a.name.localeCompare(b.name));
  for (const c of inline) lines.push(`  CONSTRAINT ${ident(c.name)} ${c.definition}`);
  const options = t.options.length ? ` WITH (${t.options.join(', ')})` : '';
  return `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${qualified(t)} (\n${lines.join(',\n')}\n)${options};`;
}

/** Per-column settings pg_dump writes as ALTER TABLE … ALTER COLUMN (storage, statistics, compression, options). */
function columnSettings(t: TableInfo): string[] {
  const out: string[] = [];
  for (const c of t.columns) {
    const col = `ALTER TABLE ONLY ${qualified(t)} ALTER COLUMN ${ident(c.name)}`;
    if (c.storage) out.push(`${col} SET STORAGE ${c.storage};`);
    if (c.statistics !== undefined) out.push(`${col} SET STATISTICS ${c.statistics};`);
    if (c.compression) out.push(`${col} SET COMPRESSION ${c.compression};`);
    if (c.options && c.options.length > 0) out.push(`${col} SET (${c.options.join(', ')});`);
  }
  return out;
}

/** REPLICA IDENTITY and CLUSTER ON (after the indexes they name). */
function tableSettings(t: TableInfo): string[] {
  const out: string[] = [];
  const r = t.replicaIdentity;
  if (r) out.push(`ALTER TABLE ONLY ${qualified(t)} REPLICA IDENTITY ${r.kind === 'index' ? `USING INDEX ${ident(r.index ?? '')}` : r.kind.toUpperCase()};`);
  if (t.clusterOn !== undefined) out.push(`ALTER TABLE ONLY ${qualified(t)} CLUSTER ON ${ident(t.clusterOn)};`);
  return out;
}

function indexStatement(i: IndexInfo): string {
  return `${i.definition.trim().replace(/;$/, '')};`;
}

function renderType(t: TypeInfo): string {
  if (t.kind === 'enum') return `CREATE TYPE ${qualified(t)} AS ENUM (${t.labels.map(literal).join(', ')});`;
  if (t.kind === 'composite') {
    return `CREATE TYPE ${qualified(t)} AS (${t.attributes.map((a) => `${ident(a.name)} ${a.type}${a.collation ? ` COLLATE ${a.collation}` : ''}`).join(', ')});`;
  }
  const parts = [`CREATE DOMAIN ${qualified(t)} AS ${t.baseType}`];
  if (t.collation) parts.push(`COLLATE ${t.collation}`);
  if (t.default !== undefined) parts.push(`DEFAULT ${t.default}`);
  if (t.notNull) parts.push('NOT NULL');
  for (const c of t.constraints) parts.push(`CONSTRAINT ${ident(c.name)} ${c.definition}`);
  return `${parts.join(' ')};`;
}

function renderFunction(f: FunctionInfo): string {
  return `${f.definition.trim().replace(/;$/, '')};`;
}

function renderView(v: ViewInfo): string {
  const query = v.definition.trim().replace(/;$/, '');
  const options = v.options.length ? ` WITH (${v.options.join(', ')})` : '';
  return `CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(v)}${options} AS\n${query};`;
}

function renderComments(s: Snapshot): string[] {
  const out: string[] = [];
  const on = (what: string, text: string | undefined) => {
    if (text !== undefined) out.push(`COMMENT ON ${what} IS ${literal(text)};`);
  };
  for (const t of s.types) on(`${t.kind === 'domain' ? 'DOMAIN' : 'TYPE'} ${qualified(t)}`, t.comment);
  for (const f of s.functions) on(`${f.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${qualified(f)}(${f.arguments})`, f.comment);
  for (const q of s.sequences) on(`SEQUENCE ${qualified(q)}`, q.comment);
  for (const t of s.tables) {
    const name = qualified(t);
    on(`TABLE ${name}`, t.comment);
    for (const c of t.columns) on(`COLUMN ${name}.${ident(c.name)}`, c.comment);
    for (const c of t.constraints) on(`CONSTRAINT ${ident(c.name)} ON ${name}`, c.comment);
    for (const i of t.indexes) on(`INDEX ${qualified({ schema: t.schema, name: i.name })}`, i.comment);
    for (const tr of t.triggers) on(`TRIGGER ${ident(tr.name)} ON ${name}`, tr.comment);
    for (const p of t.policies) on(`POLICY ${ident(p.name)} ON ${name}`, p.comment);
  }
  for (const v of s.views) {
    const name = qualified(v);
    on(`${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${name}`, v.comment);
    for (const c of v.columnComments) on(`COLUMN ${name}.${ident(c.column)}`, c.comment);
    for (const i of v.indexes) on(`INDEX ${qualified({ schema: v.schema, name: i.name })}`, i.comment);
  }
  return out;
}

/** Enums first, then domains and composite types once the types they use are created (by name). */
function orderTypes(types: readonly TypeInfo[]): TypeInfo[] {
  const pending = [...types];
  const done: TypeInfo[] = [];
  const names = (t: TypeInfo) => [`${t.schema}.${t.name}`, displayName(t), qualified(t)];
  const uses = (t: TypeInfo): string[] => (t.kind === 'domain' ? [t.baseType] : t.kind === 'composite' ? t.attributes.map((a) => a.type) : []);
  const bare = (typeText: string) =>
    typeText
      .replace(/\[\]/g, '')
      .replace(/\(.*\)$/, '')
      .trim();
  while (pending.length > 0) {
    const i = pending.findIndex((t) => uses(t).every((u) => !pending.some((p) => p !== t && names(p).includes(bare(u)))));
    const next = pending.splice(Math.max(i, 0), 1)[0];
    done.push(next);
  }
  return done;
}

/** Views after the views they read (by the snapshot's dependsOn), ties by name. */
function orderViews(views: readonly ViewInfo[]): ViewInfo[] {
  const pending = [...views];
  const done: ViewInfo[] = [];
  const emitted = new Set<string>();
  const key = (v: ViewInfo) => `${v.schema}.${v.name}`;
  const inSet = new Set(views.map(key));
  while (pending.length > 0) {
    const i = pending.findIndex((v) => v.dependsOn.every((d) => !inSet.has(d) || emitted.has(d)));
    const next = pending.splice(Math.max(i, 0), 1)[0];
    done.push(next);
    emitted.add(key(next));
  }
  return done;
}
