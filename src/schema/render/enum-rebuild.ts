/**
 * The enum rebuild (issue 13 §2.3, pure): what a removed or reordered label needs, and so the down of
 * every ADD VALUE, since PostgreSQL can neither drop nor move a label. The type is renamed out of the
 * way, created again with `to`'s labels, each column using it cast over through text, and the old
 * type dropped:
 *
 *   3  ALTER TYPE status RENAME TO status__tidemark_old;  CREATE TYPE status AS ENUM (…);
 *      per column: DROP DEFAULT, ALTER COLUMN … TYPE status USING c::text::status, SET DEFAULT
 *   8  DROP TYPE status__tidemark_old;   (after the columns dropped at 5, which are not cast)
 *
 * What PostgreSQL re-parses from text when a column changes type, or refuses to let change under it,
 * is dropped at rank 1 and created again from `to` at its usual rank, in the very words tables.ts,
 * triggers.ts and views.ts write (changes.ts writes a statement two changes both need once): indexes,
 * CHECK and exclusion constraints naming the type (their text would name the old one), views reading a cast
 * table or naming the type (with the views reading them), policies and trigger WHEN clauses naming
 * the type or a cast column. What cannot be created again here is refused by name: a domain or
 * composite over the type, a function taking or returning it (or with a BEGIN ATOMIC body naming it),
 * a generated column computed from a cast column, and any object of another service that uses the
 * type (Snapshot.dependents). Another column whose default names the type gets its default set again.
 */
import { fittedName, ident, literal, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import type { ColumnInfo, EnumType, Snapshot, TableInfo, ViewInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import { indexStatement, orderViews, policyStatement, renderType, triggerStatements } from './objects.js';
import type { HazardNote } from './statement.js';
import type { RankedSql } from './tables.js';
import { renderViewChange } from './views.js';

// Ranks as changes.ts's header orders them; the drops and creates of dependents use the ranks (and
// words) of the renderer that owns their kind, so a statement both write is written once.
const RANK_DROP = [1, 1]; // tables.ts: constraints and indexes dropped or replaced
const RANK_DROP_TRIGGER = [1, 2]; // triggers.ts
const RANK_DROP_VIEW = [1, 3]; // views.ts
const RANK_REBUILD = [3, 1]; // types.ts: types altered
const RANK_CONSTRAINT = [7, 0];
const RANK_INDEX = [7, 2];
const RANK_CREATE_TRIGGER = [7, 3];
const RANK_COMMENT = [7, 4];
const RANK_DROP_TYPE = [8, 2];

const at = ([rank, sub]: number[], sql: string): RankedSql => ({ rank, sub, sql });
const commentSql = (target: string, comment: string) => `COMMENT ON ${target} IS ${literal(comment)};`;
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A hazard in words without its object: changes.ts names the object as it names the change. */
export type RebuildHazard = Omit<HazardNote, 'object'>;

export interface EnumRebuild {
  statements: RankedSql[];
  hazards: RebuildHazard[];
  refused?: string;
}

/** The suffix the old type takes while the columns are cast over. */
const OLD_SUFFIX = '__tidemark_old';

/** The rebuild of enum `c.id` from `from`'s labels to `to`'s (the RenderContext's snapshots, or the down's). */
export function renderEnumRebuild(c: Change, snapshots: { from: Snapshot; to: Snapshot }): EnumRebuild {
  const { from, to } = snapshots;
  const id = c.id;
  const before = (c.op === 'alter' ? (c.before as string[]) : []) ?? [];
  const type = to.types.find((t): t is EnumType => t.kind === 'enum' && t.schema === id.schema && t.name === id.name);
  if (!type) return { statements: [], hazards: [], refused: 'the enum is not in the new schema' };
  const names = typeNames(type);
  const name = qualified(type);
  const old = qualified({ schema: type.schema, name: fittedName(type.name, OLD_SUFFIX) });

  // The columns cast over: those of `from` that use the type and are still there, using it, in `to`.
  // A column dropped (or given another type) is left to tables.ts, before the old type goes at rank 8.
  // Another column whose default names the type gets `to`'s default again once the new type exists.
  const cast: { table: TableInfo; column: ColumnInfo; toColumn: ColumnInfo; array: boolean }[] = [];
  const defaults: { table: TableInfo; toColumn: ColumnInfo }[] = [];
  for (const table of from.tables) {
    const toTable = to.tables.find((t) => t.schema === table.schema && t.name === table.name);
    for (const column of table.columns) {
      const array = usesType(column.type, names);
      const toColumn = toTable?.columns.find((x) => x.name === column.name);
      if (!toColumn) continue;
      if (array !== undefined && column.type === toColumn.type) cast.push({ table, column, toColumn, array });
      else if (array === undefined && castsTo(column.default, names) && toColumn.default !== undefined) defaults.push({ table, toColumn });
    }
  }
  const refusals = [...cannotRebuild(type, from, to, names), ...generatedFrom(cast, names)];
  if (refusals.length > 0) return { statements: [], hazards: [], refused: `its labels change, which needs the type rebuilt, and ${refusals.join('; ')}` };

  const out: RankedSql[] = [at(RANK_REBUILD, `ALTER TYPE ${name} RENAME TO ${ident(fittedName(type.name, OLD_SUFFIX))};`), at(RANK_REBUILD, renderType(type))];
  for (const { table, column, toColumn, array } of cast) {
    const alter = `ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(column.name)}`;
    const target = `${name}${array ? '[]' : ''}`;
    // The default names the old type once it is renamed: dropped, and set again from `to`'s text.
    if (column.default !== undefined) out.push(at(RANK_REBUILD, `${alter} DROP DEFAULT;`));
    out.push(at(RANK_REBUILD, `${alter} TYPE ${target} USING ${ident(column.name)}::text${array ? '[]' : ''}::${target};`));
    if (column.default !== undefined && toColumn.default !== undefined) out.push(at(RANK_REBUILD, `${alter} SET DEFAULT ${toColumn.default};`));
  }
  for (const { table, toColumn } of defaults) out.push(at(RANK_REBUILD, `ALTER TABLE ${qualified(table)} ALTER COLUMN ${ident(toColumn.name)} SET DEFAULT ${toColumn.default};`));
  if (type.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`TYPE ${name}`, type.comment)));
  out.push(...dependents(from, to, names, cast));
  out.push(at(RANK_DROP_TYPE, `DROP TYPE ${old};`));

  const tables = [...new Set(cast.map((x) => displayName(x.table)))];
  const hazards: RebuildHazard[] = [
    {
      hazard: 'enum-rebuild',
      sentence:
        tables.length > 0
          ? `the type is rebuilt (renamed to ${displayName({ schema: type.schema, name: fittedName(type.name, OLD_SUFFIX) })}, created again, each column cast over): ${tables.join(', ')} ${tables.length === 1 ? 'is' : 'are'} rewritten under an ACCESS EXCLUSIVE lock`
          : `the type is rebuilt (renamed to ${displayName({ schema: type.schema, name: fittedName(type.name, OLD_SUFFIX) })}, created again, dropped); no table column uses it`,
    },
  ];
  const gone = before.filter((l) => !type.labels.includes(l));
  if (gone.length > 0) {
    hazards.push({
      hazard: 'data-loss',
      sentence: `${gone.length === 1 ? 'label' : 'labels'} ${gone.map(literal).join(', ')} ${gone.length === 1 ? 'is' : 'are'} removed: a row still holding ${gone.length === 1 ? 'it' : 'one'} makes the cast fail and the migration stop, changing nothing; move such rows to another label first`,
    });
  }
  return { statements: out, hazards };
}

/** How the catalog may print the type: `status` when visible, `public.status` or `billing.status` otherwise. */
function typeNames(t: EnumType): RegExp {
  return new RegExp(`(?:${reEscape(ident(t.schema))}\\.)?${reEscape(ident(t.name))}`);
}

/** undefined when `type` (format_type text) is not the enum; whether it is an array of it otherwise. */
function usesType(type: string, names: RegExp): boolean | undefined {
  const m = new RegExp(`^(?:${names.source})((?:\\[\\])?)$`).exec(type.trim());
  return m ? m[1] === '[]' : undefined;
}

/** Whether SQL text names the type in a cast (`'x'::status`, `'{x}'::status[]`): how pg_get_expr prints it. */
function castsTo(text: string | undefined, names: RegExp): boolean {
  return text !== undefined && new RegExp(`::\\s*(?:${names.source})(?![\\w$"])`).test(text);
}

/** Whether SQL text mentions an identifier (a table or column name) as a word. */
function mentions(text: string | undefined, name: string): boolean {
  return text !== undefined && new RegExp(`(?<![\\w$])${reEscape(ident(name))}(?![\\w$])`).test(text);
}

/** What holds the type and cannot be dropped and created again here, by name. */
function cannotRebuild(type: EnumType, from: Snapshot, to: Snapshot, names: RegExp): string[] {
  const label = `type ${displayName(type)}`;
  // Both sides' dependents: a down renders from the desired schema's snapshot, whose shadow may lack
  // the other service; the database it runs on is the one `to` was read from then.
  const users = [...(from.dependents ?? []), ...(to.dependents ?? [])]
    .filter((d) => d.object === label)
    .map((d) => `${d.from} of ${d.service ? `service ${d.service}` : 'no service'} uses it: change it there first, or rebuild the type by hand`);
  const out = [...new Set(users)];
  // `to`'s too: a domain or composite created in the same diff is created (rank 3, first) over the old type.
  const over = new Set<string>();
  for (const t of [...from.types, ...to.types]) {
    if (t.kind === 'domain' && usesType(t.baseType, names) !== undefined) over.add(`domain ${displayName(t)} is over it: rebuild the domain with it by hand`);
    if (t.kind === 'composite' && t.attributes.some((a) => usesType(a.type, names) !== undefined)) over.add(`composite type ${displayName(t)} has an attribute of it: rebuild it by hand`);
  }
  out.push(...over);
  for (const f of from.functions) {
    const args = f.arguments
      .split(',')
      .map((a) => a.replace(/\s+DEFAULT\s.*$/is, '').trim())
      .some((a) => new RegExp(`(?:^|\\s)(?:${names.source})(?:\\[\\])?$`).test(a));
    const returns = /^\s*RETURNS\s.*$/m.exec(f.definition)?.[0];
    const atomic = f.late && castsTo(f.definition, names);
    if (args || (returns !== undefined && new RegExp(`(?<![\\w$.])(?:${names.source})(?![\\w$"])`).test(returns)) || atomic) {
      out.push(`${f.kind} ${displayName(f)}(${f.arguments}) takes, returns or names it: rebuild the function with it by hand`);
    }
  }
  return out;
}

type Cast = { table: TableInfo; column: ColumnInfo }[];

/** A generated column over a cast column or the type (PostgreSQL refuses the new type under it, or a USING on it). */
function generatedFrom(cast: Cast, names: RegExp): string[] {
  const out: string[] = [];
  for (const table of new Set(cast.map((x) => x.table))) {
    const columns = cast.filter((x) => x.table === table).map((x) => x.column.name);
    for (const c of table.columns) {
      const g = c.generated?.expression;
      if (g !== undefined && (columns.includes(c.name) || castsTo(g, names) || columns.some((n) => mentions(g, n)))) {
        out.push(`generated column ${displayName(table)}.${ident(c.name)} is computed from it: rebuild it by hand`);
      }
    }
  }
  return out;
}

/** Drops (rank 1) and creates (from `to`, at their usual ranks) of what the cast would trip over. */
function dependents(from: Snapshot, to: Snapshot, names: RegExp, cast: Cast): RankedSql[] {
  const out: RankedSql[] = [];
  const castOn = (t: TableInfo) => cast.filter((x) => x.table.schema === t.schema && x.table.name === t.name).map((x) => x.column.name);
  for (const table of from.tables) {
    const toTable = to.tables.find((t) => t.schema === table.schema && t.name === table.name);
    const q = qualified(table);
    const columns = castOn(table);
    const touches = (text: string | undefined) => castsTo(text, names) || columns.some((c) => mentions(text, c));
    for (const k of table.constraints) {
      if ((k.kind !== 'check' && k.kind !== 'exclusion') || !castsTo(k.definition, names)) continue;
      out.push(at(RANK_DROP, `ALTER TABLE ${q} DROP CONSTRAINT ${ident(k.name)};`));
      const again = toTable?.constraints.find((x) => x.name === k.name);
      if (!again) continue;
      out.push(at(RANK_CONSTRAINT, `ALTER TABLE ${q} ADD CONSTRAINT ${ident(again.name)} ${again.definition};`));
      if (again.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`CONSTRAINT ${ident(again.name)} ON ${q}`, again.comment)));
    }
    for (const i of table.indexes) {
      if (!castsTo(i.definition, names)) continue;
      const name = qualified({ schema: table.schema, name: i.name });
      out.push(at(RANK_DROP, `DROP INDEX ${name};`));
      const again = toTable?.indexes.find((x) => x.name === i.name);
      if (!again) continue;
      out.push(at(RANK_INDEX, indexStatement(again)));
      if (again.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`INDEX ${name}`, again.comment)));
    }
    // PostgreSQL refuses to change the type of a column a policy or a trigger's WHEN uses.
    for (const p of table.policies) {
      if (!touches(p.using) && !touches(p.withCheck)) continue;
      const what = `POLICY ${ident(p.name)} ON ${q}`;
      out.push(at(RANK_DROP_TRIGGER, `DROP ${what};`));
      const again = toTable?.policies.find((x) => x.name === p.name);
      if (!again) continue;
      out.push(at(RANK_CREATE_TRIGGER, policyStatement(table, again)));
      if (again.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(what, again.comment)));
    }
    for (const tr of table.triggers) {
      const when = /\sWHEN\s*\(([\s\S]*)\)\s+EXECUTE\s/i.exec(tr.definition)?.[1];
      if (!touches(when)) continue;
      const what = `TRIGGER ${ident(tr.name)} ON ${q}`;
      out.push(at(RANK_DROP_TRIGGER, `DROP ${what};`));
      const again = toTable?.triggers.find((x) => x.name === tr.name);
      if (!again) continue;
      out.push(...triggerStatements(table, again).map((s) => at(RANK_CREATE_TRIGGER, s)));
      if (again.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(what, again.comment)));
    }
  }
  // A view reading a cast table blocks ALTER COLUMN TYPE; one naming the type would name the old one.
  const tables = [...new Set(cast.map((x) => x.table))];
  const readsCast = (v: ViewInfo) => castsTo(v.definition, names) || tables.some((t) => mentions(v.definition, t.name));
  for (const v of orderViews(from.views)) {
    if (!readsCast(v)) continue;
    const kind = v.materialized ? 'materialized-view' : 'view';
    const again = to.views.find((x) => x.schema === v.schema && x.name === v.name);
    if (!again) {
      out.push(at(RANK_DROP_VIEW, `DROP ${v.materialized ? 'MATERIALIZED VIEW' : 'VIEW'} ${qualified(v)};`));
      continue;
    }
    // views.ts's own rebuild: the view and every view reading it, dropped and created again from `to`.
    const rebuilt = renderViewChange({ op: 'alter', id: { kind, schema: v.schema, name: v.name }, attribute: 'definition', before: v.definition, after: again.definition, hazards: [] }, from, to);
    out.push(...rebuilt.statements);
  }
  return out;
}
