/**
 * The CREATE text of each object of a Snapshot (pure), as a baseline writes it and as a rendered
 * change will: tables with their columns and settings, indexes, types, functions, views, sequence
 * options, comments, and the by-name orders of types and views. PostgreSQL 15 and 18 both run it:
 * the catalog's own printing (pg_get_*def) inside plain syntax.
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { ColumnInfo, FunctionInfo, IndexInfo, PolicyInfo, QualifiedName, SequenceOptions, Snapshot, TableInfo, TriggerInfo, TypeInfo, ViewInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';

const TYPE_MAX: Record<string, [string, string]> = {
  smallint: ['-32768', '32767'],
  integer: ['-2147483648', '2147483647'],
  bigint: ['-9223372036854775808', '9223372036854775807'],
};

/** Sequence options that differ from the defaults CREATE SEQUENCE would pick. */
export function sequenceOptions(s: SequenceOptions, withType: boolean): string {
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

export function renderColumn(t: QualifiedName, c: ColumnInfo): string {
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

export function renderTable(t: TableInfo): string {
  const lines = t.columns.map((c) => `  ${renderColumn(t, c)}`);
  // Primary key, unique, exclusion, then checks; foreign keys and NOT VALID ones come later.
  const rank = { 'primary key': 0, unique: 1, exclusion: 2, check: 3, 'foreign key': 4 };
  const inline = t.constraints.filter((c) => c.kind !== 'foreign key' && c.validated).sort((a, b) => rank[a.kind] - rank[b.kind] || a.name.localeCompare(b.name));
  for (const c of inline) lines.push(`  CONSTRAINT ${ident(c.name)} ${c.definition}`);
  const options = t.options.length ? ` WITH (${t.options.join(', ')})` : '';
  return `CREATE ${t.unlogged ? 'UNLOGGED ' : ''}TABLE ${qualified(t)} (\n${lines.join(',\n')}\n)${options};`;
}

/** Per-column settings pg_dump writes as ALTER TABLE … ALTER COLUMN (storage, statistics, compression, options). */
export function columnSettings(t: QualifiedName & { columns: readonly ColumnInfo[] }): string[] {
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
export function tableSettings(t: TableInfo): string[] {
  const out: string[] = [];
  const r = t.replicaIdentity;
  if (r) out.push(`ALTER TABLE ONLY ${qualified(t)} REPLICA IDENTITY ${r.kind === 'index' ? `USING INDEX ${ident(r.index ?? '')}` : r.kind.toUpperCase()};`);
  if (t.clusterOn !== undefined) out.push(`ALTER TABLE ONLY ${qualified(t)} CLUSTER ON ${ident(t.clusterOn)};`);
  return out;
}

export function indexStatement(i: IndexInfo): string {
  return `${i.definition.trim().replace(/;$/, '')};`;
}

export function renderType(t: TypeInfo): string {
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

export function renderFunction(f: FunctionInfo): string {
  return `${f.definition.trim().replace(/;$/, '')};`;
}

export function renderView(v: ViewInfo): string {
  const query = v.definition.trim().replace(/;$/, '');
  const options = v.options.length ? ` WITH (${v.options.join(', ')})` : '';
  return `CREATE ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(v)}${options} AS\n${query};`;
}

export function renderComments(s: Snapshot): string[] {
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
export function orderTypes(types: readonly TypeInfo[]): TypeInfo[] {
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
export function orderViews(views: readonly ViewInfo[]): ViewInfo[] {
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

/** A trigger as pg_get_triggerdef printed it, then its enabled state when not the default. */
export function triggerStatements(t: QualifiedName, tr: TriggerInfo): string[] {
  const out = [`${tr.definition.trim().replace(/;$/, '')};`];
  const state = triggerState(tr.enabled);
  if (state !== 'ENABLE TRIGGER') out.push(`ALTER TABLE ${qualified(t)} ${state} ${ident(tr.name)};`);
  return out;
}

/** The ALTER TABLE words that put a trigger in a pg_trigger.tgenabled state. */
export function triggerState(enabled: TriggerInfo['enabled']): string {
  return { O: 'ENABLE TRIGGER', D: 'DISABLE TRIGGER', R: 'ENABLE REPLICA TRIGGER', A: 'ENABLE ALWAYS TRIGGER' }[enabled];
}

export function policyStatement(t: QualifiedName, p: PolicyInfo): string {
  const parts = [`CREATE POLICY ${ident(p.name)} ON ${qualified(t)}`];
  if (!p.permissive) parts.push('AS RESTRICTIVE');
  if (p.command !== 'ALL') parts.push(`FOR ${p.command}`);
  if (!(p.roles.length === 1 && p.roles[0] === 'PUBLIC')) parts.push(`TO ${p.roles.join(', ')}`);
  if (p.using !== undefined) parts.push(`USING (${p.using})`);
  if (p.withCheck !== undefined) parts.push(`WITH CHECK (${p.withCheck})`);
  return `${parts.join(' ')};`;
}
