/**
 * The table part of renderChanges (pure): tables, their own attributes, columns, constraints and
 * indexes, in plain forms (safe forms are a later pass over these statements). Each Change becomes
 * statements with a rank (changes.ts orders by it): what must go first (foreign keys and other
 * constraints or indexes being dropped or replaced), the tables (alter, drop, then create: see changes.ts), then what
 * needs the final columns (constraints, indexes, replica identity, CLUSTER ON, comments).
 * Statements run on PostgreSQL 15 and 18: no SET EXPRESSION (17+), no SET STORAGE DEFAULT (16+).
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { Change, ObjectId } from '../diff/change.js';
import type { ColumnInfo, ConstraintInfo, IndexInfo, Snapshot, TableInfo } from '../snapshot.js';
import { columnSettings, indexStatement, policyStatement, renderColumn, renderTable, tableSettings, triggerStatements } from './objects.js';

/** Run order: 1 drops of dependents, 5 tables (created last: a dropped table's names are free then), 7 what hangs on final columns. Sub-ranks order within one. */
export interface RankedSql {
  rank: number;
  sub: number;
  sql: string;
}

export interface TableRendering {
  statements: RankedSql[];
  /** Set when the change cannot be rendered; nothing else is then used. */
  refused?: string;
}

const RANK_DROP_FK = [1, 0];
const RANK_DROP = [1, 1];
const RANK_TABLE_CREATE = [5, 6];
const RANK_TABLE_ALTER = [5, 1];
const RANK_COLUMN_ADD = [5, 2];
const RANK_COLUMN_ALTER = [5, 3];
const RANK_COLUMN_DROP = [5, 4];
const RANK_TABLE_DROP = [5, 5];
const RANK_CONSTRAINT = [7, 0];
const RANK_FK = [7, 1];
const RANK_INDEX = [7, 2];
const RANK_SETTINGS = [7, 3];
const RANK_COMMENT = [7, 4];
/** triggers.ts's rank for a created trigger or policy. */
const RANK_TRIGGER_CREATE = [7, 3];

const at = ([rank, sub]: number[], sql: string): RankedSql => ({ rank, sub, sql });

function tableOf(s: Snapshot, schema: string, name: string): TableInfo | undefined {
  return s.tables.find((t) => t.schema === schema && t.name === name);
}

const tableName = (id: ObjectId): string => qualified({ schema: id.schema, name: id.table ?? id.name });
const alterTable = (id: ObjectId) => `ALTER TABLE ${tableName(id)}`;
const alterColumn = (id: ObjectId) => `${alterTable(id)} ALTER COLUMN ${ident(id.name)}`;
const commentSql = (target: string, comment: unknown) => `COMMENT ON ${target} IS ${typeof comment === 'string' ? literal(comment) : 'NULL'};`;

/** Whether a change is about a table or what hangs on one (not a domain's constraint, not a view's index). */
export function isTableChange(c: Change): boolean {
  const { kind, parent } = c.id;
  return kind === 'table' || kind === 'column' || ((kind === 'constraint' || kind === 'index') && parent === undefined);
}

/** The statements of one table-side Change, going from `from` to `to`. */
export function renderTableChange(c: Change, from: Snapshot, to: Snapshot): TableRendering {
  switch (c.id.kind) {
    case 'table':
      return renderTableLevel(c);
    case 'column':
      return renderColumnChange(c, from, to);
    case 'constraint':
      return renderConstraintChange(c);
    case 'index':
      return renderIndexChange(c);
    default:
      return { statements: [], refused: `a ${c.id.kind} is not a table change` };
  }
}

function renderTableLevel(c: Change): TableRendering {
  const id = c.id;
  if (c.op === 'add') return { statements: createdTable(c.after as TableInfo) };
  if (c.op === 'drop') {
    // Its own foreign keys go first, so tables dropped together need no order among themselves.
    const t = c.before as TableInfo;
    const fks = t.constraints.filter((k) => k.kind === 'foreign key').map((k) => at(RANK_DROP_FK, `${alterTable(id)} DROP CONSTRAINT ${ident(k.name)};`));
    return { statements: [...fks, at(RANK_TABLE_DROP, `DROP TABLE ${qualified(t)};`)] };
  }
  const t = `ALTER TABLE ${qualified(id)}`;
  switch (c.attribute) {
    case 'unlogged':
      return { statements: [at(RANK_TABLE_ALTER, `${t} SET ${c.after ? 'UNLOGGED' : 'LOGGED'};`)] };
    case 'options': {
      const before = (c.before as string[] | undefined) ?? [];
      const after = (c.after as string[] | undefined) ?? [];
      const key = (o: string) => o.split('=')[0];
      const reset = before.map(key).filter((k) => !after.some((o) => key(o) === k));
      const set = after.filter((o) => !before.includes(o));
      const out: RankedSql[] = [];
      if (reset.length) out.push(at(RANK_TABLE_ALTER, `${t} RESET (${reset.join(', ')});`));
      if (set.length) out.push(at(RANK_TABLE_ALTER, `${t} SET (${set.join(', ')});`));
      return { statements: out };
    }
    case 'rowSecurity':
      return { statements: [at(RANK_SETTINGS, `${t} ${c.after ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY;`)] };
    case 'forceRowSecurity':
      return { statements: [at(RANK_SETTINGS, `${t} ${c.after ? 'FORCE' : 'NO FORCE'} ROW LEVEL SECURITY;`)] };
    case 'replicaIdentity': {
      const r = c.after as TableInfo['replicaIdentity'];
      const how = !r ? 'DEFAULT' : r.kind === 'index' ? `USING INDEX ${ident(r.index ?? '')}` : r.kind.toUpperCase();
      return { statements: [at(RANK_SETTINGS, `${t} REPLICA IDENTITY ${how};`)] };
    }
    case 'clusterOn':
      return { statements: [at(RANK_SETTINGS, c.after === undefined ? `${t} SET WITHOUT CLUSTER;` : `${t} CLUSTER ON ${ident(String(c.after))};`)] };
    case 'comment':
      return { statements: [at(RANK_COMMENT, commentSql(`TABLE ${qualified(id)}`, c.after))] };
    default:
      return { statements: [], refused: `table attribute ${c.attribute} is not rendered` };
  }
}

/** A new table as a baseline creates it: inline keys and checks, then foreign keys, indexes, settings, comments. */
function createdTable(t: TableInfo): RankedSql[] {
  const out = [at(RANK_TABLE_CREATE, renderTable(t)), ...columnSettings(t).map((s) => at(RANK_TABLE_CREATE, s))];
  const table = qualified(t);
  for (const k of t.constraints) {
    if (k.kind === 'foreign key') out.push(at(RANK_FK, `ALTER TABLE ${table} ADD CONSTRAINT ${ident(k.name)} ${k.definition};`));
    else if (!k.validated) out.push(at(RANK_CONSTRAINT, `ALTER TABLE ${table} ADD CONSTRAINT ${ident(k.name)} ${k.definition};`));
  }
  for (const i of t.indexes) out.push(at(RANK_INDEX, indexStatement(i)));
  for (const s of tableSettings(t)) out.push(at(RANK_SETTINGS, s));
  // A new table's triggers and policies come as part of its `add` (the diff has no change of their own for
  // them): created after the table and the late functions they call, as triggers.ts creates one.
  for (const tr of t.triggers) out.push(...triggerStatements(t, tr).map((s) => at(RANK_TRIGGER_CREATE, s)));
  for (const p of t.policies) out.push(at(RANK_TRIGGER_CREATE, policyStatement(t, p)));
  if (t.rowSecurity) out.push(at(RANK_SETTINGS, `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;`));
  if (t.forceRowSecurity) out.push(at(RANK_SETTINGS, `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;`));
  if (t.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`TABLE ${table}`, t.comment)));
  for (const c of t.columns) if (c.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`COLUMN ${table}.${ident(c.name)}`, c.comment)));
  for (const k of t.constraints) if (k.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`CONSTRAINT ${ident(k.name)} ON ${table}`, k.comment)));
  for (const i of t.indexes) if (i.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`INDEX ${qualified({ schema: t.schema, name: i.name })}`, i.comment)));
  for (const tr of t.triggers) if (tr.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`TRIGGER ${ident(tr.name)} ON ${table}`, tr.comment)));
  for (const p of t.policies) if (p.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`POLICY ${ident(p.name)} ON ${table}`, p.comment)));
  return out;
}

function renderColumnChange(c: Change, from: Snapshot, to: Snapshot): TableRendering {
  const id = c.id;
  const toTable = tableOf(to, id.schema, id.table ?? '');
  if (c.op === 'add') {
    const col = c.after as ColumnInfo;
    const out = [at(RANK_COLUMN_ADD, `${alterTable(id)} ADD COLUMN ${renderColumn(toTable ?? { schema: id.schema, name: id.table ?? '' }, col)};`)];
    out.push(...columnAttributes(id, col));
    if (col.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`COLUMN ${tableName(id)}.${ident(col.name)}`, col.comment)));
    return { statements: out };
  }
  if (c.op === 'drop') return { statements: [at(RANK_COLUMN_DROP, `${alterTable(id)} DROP COLUMN ${ident(id.name)};`)] };
  const col = alterColumn(id);
  const toCol = toTable?.columns.find((x) => x.name === id.name);
  const fromCol = tableOf(from, id.schema, id.table ?? '')?.columns.find((x) => x.name === id.name);
  switch (c.attribute) {
    case 'type': {
      // The default is cast with the column or fails: dropped first and set again after.
      const collate = toCol?.collation ? ` COLLATE ${toCol.collation}` : '';
      const out: RankedSql[] = [];
      if (fromCol?.default !== undefined) out.push(at(RANK_COLUMN_ALTER, `${col} DROP DEFAULT;`));
      out.push(at(RANK_COLUMN_ALTER, `${col} TYPE ${c.after}${collate} USING ${ident(id.name)}::${c.after};`));
      if (toCol?.default !== undefined && fromCol?.default !== undefined) out.push(at(RANK_COLUMN_ALTER, `${col} SET DEFAULT ${toCol.default};`));
      return { statements: out };
    }
    case 'collation':
      // With a type change the collation rides on its ALTER TYPE.
      if (fromCol && toCol && fromCol.type !== toCol.type) return { statements: [] };
      return { statements: [at(RANK_COLUMN_ALTER, `${col} TYPE ${toCol?.type ?? ''} COLLATE ${c.after ?? '"default"'};`)] };
    case 'notNull':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} ${c.after ? 'SET' : 'DROP'} NOT NULL;`)] };
    case 'default':
      // A type change already set it again (see `type`).
      if (fromCol && toCol && fromCol.type !== toCol.type && fromCol.default !== undefined && toCol.default !== undefined) return { statements: [] };
      return { statements: [at(RANK_COLUMN_ALTER, c.after === undefined ? `${col} DROP DEFAULT;` : `${col} SET DEFAULT ${c.after};`)] };
    case 'generated': {
      const after = c.after as ColumnInfo['generated'];
      if (!after) return { statements: [at(RANK_COLUMN_ALTER, `${col} DROP EXPRESSION;`)] };
      // No SET EXPRESSION before PostgreSQL 17: the column is made again (its values are computed anyway).
      if (!toCol || !toTable) return { statements: [], refused: `column ${id.name} is not in the target schema` };
      return {
        statements: [at(RANK_COLUMN_ALTER, `${alterTable(id)} DROP COLUMN ${ident(id.name)};`), at(RANK_COLUMN_ALTER, `${alterTable(id)} ADD COLUMN ${renderColumn(toTable, toCol)};`)],
      };
    }
    case 'identity': {
      const kind = (k: unknown) => (k === 'always' ? 'ALWAYS' : 'BY DEFAULT');
      if (c.after === undefined) return { statements: [at(RANK_COLUMN_ALTER, `${col} DROP IDENTITY;`)] };
      if (c.before === undefined) {
        const seq = toCol?.identity?.sequence;
        const name = seq && toTable && !(seq.schema === toTable.schema && seq.name === `${toTable.name}_${id.name}_seq`) ? ` (SEQUENCE NAME ${qualified(seq)})` : '';
        return { statements: [at(RANK_COLUMN_ALTER, `${col} ADD GENERATED ${kind(c.after)} AS IDENTITY${name};`)] };
      }
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET GENERATED ${kind(c.after)};`)] };
    }
    case 'identitySequence':
      return { statements: [], refused: `renaming the identity sequence of column ${id.name} is not rendered` };
    case 'identitySequence.dataType': {
      const seq = toCol?.identity?.sequence;
      if (!seq) return { statements: [], refused: `column ${id.name} has no identity in the target schema` };
      return { statements: [at(RANK_COLUMN_ALTER, `ALTER SEQUENCE ${qualified(seq)} AS ${c.after};`)] };
    }
    case 'identitySequence.start':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET START WITH ${c.after};`)] };
    case 'identitySequence.increment':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET INCREMENT BY ${c.after};`)] };
    case 'identitySequence.min':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET MINVALUE ${c.after};`)] };
    case 'identitySequence.max':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET MAXVALUE ${c.after};`)] };
    case 'identitySequence.cache':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET CACHE ${c.after};`)] };
    case 'identitySequence.cycle':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET ${c.after ? '' : 'NO '}CYCLE;`)] };
    case 'storage':
      if (c.after === undefined) return { statements: [], refused: `column ${id.name}: back to the type's default storage has no form before PostgreSQL 16` };
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET STORAGE ${c.after};`)] };
    case 'statistics':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET STATISTICS ${c.after ?? -1};`)] };
    case 'compression':
      return { statements: [at(RANK_COLUMN_ALTER, `${col} SET COMPRESSION ${c.after ?? 'DEFAULT'};`)] };
    case 'options': {
      const before = (c.before as string[] | undefined) ?? [];
      const after = (c.after as string[] | undefined) ?? [];
      const key = (o: string) => o.split('=')[0];
      const out: RankedSql[] = [];
      const reset = before.map(key).filter((k) => !after.some((o) => key(o) === k));
      if (reset.length) out.push(at(RANK_COLUMN_ALTER, `${col} RESET (${reset.join(', ')});`));
      const set = after.filter((o) => !before.includes(o));
      if (set.length) out.push(at(RANK_COLUMN_ALTER, `${col} SET (${set.join(', ')});`));
      return { statements: out };
    }
    case 'comment':
      return { statements: [at(RANK_COMMENT, commentSql(`COLUMN ${tableName(id)}.${ident(id.name)}`, c.after))] };
    default:
      return { statements: [], refused: `column attribute ${c.attribute} is not rendered` };
  }
}

/** An added column's settings, as a baseline writes them after CREATE TABLE. */
function columnAttributes(id: ObjectId, col: ColumnInfo): RankedSql[] {
  return columnSettings({ schema: id.schema, name: id.table ?? '', columns: [col] }).map((s) => at(RANK_COLUMN_ADD, s));
}

function renderConstraintChange(c: Change): TableRendering {
  const id = c.id;
  const table = alterTable(id);
  const add = (k: ConstraintInfo) => at(k.kind === 'foreign key' ? RANK_FK : RANK_CONSTRAINT, `${table} ADD CONSTRAINT ${ident(k.name)} ${k.definition};`);
  const drop = (fk: boolean) => at(fk ? RANK_DROP_FK : RANK_DROP, `${table} DROP CONSTRAINT ${ident(id.name)};`);
  const comment = (k: ConstraintInfo) => (k.comment !== undefined ? [at(RANK_COMMENT, commentSql(`CONSTRAINT ${ident(k.name)} ON ${tableName(id)}`, k.comment))] : []);
  if (c.op === 'add') return { statements: [add(c.after as ConstraintInfo), ...comment(c.after as ConstraintInfo)] };
  if (c.op === 'drop') return { statements: [drop(id.type === 'foreign key')] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(`CONSTRAINT ${ident(id.name)} ON ${tableName(id)}`, c.after))] };
  const before = String(c.before);
  const after = String(c.after);
  // Only NOT VALID went: the rows are checked in place, nothing dropped.
  if (before.endsWith(' NOT VALID') && before.slice(0, -' NOT VALID'.length) === after) {
    return { statements: [at(RANK_CONSTRAINT, `${table} VALIDATE CONSTRAINT ${ident(id.name)};`)] };
  }
  const fk = id.type === 'foreign key' || /^FOREIGN KEY/.test(after);
  return { statements: [drop(id.type === 'foreign key'), at(fk ? RANK_FK : RANK_CONSTRAINT, `${table} ADD CONSTRAINT ${ident(id.name)} ${after};`)] };
}

function renderIndexChange(c: Change): TableRendering {
  const id = c.id;
  const name = qualified({ schema: id.schema, name: id.name });
  if (c.op === 'add') {
    const i = c.after as IndexInfo;
    return { statements: [at(RANK_INDEX, indexStatement(i)), ...(i.comment !== undefined ? [at(RANK_COMMENT, commentSql(`INDEX ${name}`, i.comment))] : [])] };
  }
  if (c.op === 'drop') return { statements: [at(RANK_DROP, `DROP INDEX ${name};`)] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(`INDEX ${name}`, c.after))] };
  return { statements: [at(RANK_DROP, `DROP INDEX ${name};`), at(RANK_INDEX, indexStatement({ name: id.name, definition: String(c.after) }))] };
}
