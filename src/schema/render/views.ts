/**
 * The view and materialized view part of renderChanges (pure), ranked as tables.ts does: views
 * dropped at rank 1 (dependents first, before the columns and tables they read go), created at rank
 * 6 after the late functions (in `to`'s dependency order, which changes.ts applies), their indexes
 * and comments at 7. A new query is a drop and create of the view and of every view of `from` that
 * reads it, each created again from `to` with its indexes and comments: the snapshot does not list a
 * view's columns, so CREATE OR REPLACE (columns appended only) cannot be told safe here. The same
 * statement written for two changes is written once (changes.ts).
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import type { Snapshot, ViewInfo } from '../snapshot.js';
import { indexStatement, orderViews, renderView } from './objects.js';
import type { RankedSql, TableRendering } from './tables.js';

const RANK_INDEX_DROP = [1, 2];
const RANK_DROP = [1, 3];
const RANK_CREATE = [6, 2];
const RANK_INDEX = [7, 2];
const RANK_SETTINGS = [7, 3];
const RANK_COMMENT = [7, 4];

const at = ([rank, sub]: number[], sql: string): RankedSql => ({ rank, sub, sql });
const commentSql = (target: string, comment: unknown) => `COMMENT ON ${target} IS ${typeof comment === 'string' ? literal(comment) : 'NULL'};`;
const key = (v: { schema: string; name: string }) => `${v.schema}.${v.name}`;
const word = (v: { materialized: boolean }) => (v.materialized ? 'MATERIALIZED VIEW' : 'VIEW');

export function isViewChange(c: Change): boolean {
  const { kind, parent } = c.id;
  return kind === 'view' || kind === 'materialized-view' || kind === 'comment' || (kind === 'index' && parent !== undefined && parent !== 'domain');
}

/** Where a view is created among the views of `to` (its dependency order), or dropped among `from`'s (the reverse). */
export function viewOrder(c: Change, from: Snapshot, to: Snapshot): number {
  if (c.id.kind !== 'view' && c.id.kind !== 'materialized-view') return 0;
  const id = key(c.id);
  if (c.op === 'drop') return -orderViews(from.views).findIndex((v) => key(v) === id);
  return orderViews(to.views).findIndex((v) => key(v) === id);
}

function created(v: ViewInfo): RankedSql[] {
  const name = qualified(v);
  const out = [at(RANK_CREATE, renderView(v))];
  for (const i of v.indexes) out.push(at(RANK_INDEX, indexStatement(i)));
  if (v.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`${word(v)} ${name}`, v.comment)));
  for (const c of v.columnComments) out.push(at(RANK_COMMENT, commentSql(`COLUMN ${name}.${ident(c.column)}`, c.comment)));
  for (const i of v.indexes) if (i.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`INDEX ${qualified({ schema: v.schema, name: i.name })}`, i.comment)));
  return out;
}

/** The views of `from` that read `id`, directly or through others, in dependency order. */
function readersOf(id: string, from: Snapshot): ViewInfo[] {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const v of from.views) {
      if (!found.has(key(v)) && v.dependsOn.some((d) => d === id || found.has(d))) {
        found.add(key(v));
        grew = true;
      }
    }
  }
  return orderViews(from.views).filter((v) => found.has(key(v)));
}

/** Drop the view and its readers (readers first), create them again from `to` (the view first). */
function rebuilt(v: ViewInfo, from: Snapshot, to: Snapshot): TableRendering {
  const readers = readersOf(key(v), from);
  const drops = [...readers].reverse().map((r) => at(RANK_DROP, `DROP ${word(r)} ${qualified(r)};`));
  const before = from.views.find((x) => key(x) === key(v));
  if (before) drops.push(at(RANK_DROP, `DROP ${word(before)} ${qualified(before)};`));
  const again = [v, ...readers.map((r) => to.views.find((x) => key(x) === key(r))).filter((x): x is ViewInfo => x !== undefined)];
  return { statements: [...drops, ...again.flatMap(created)] };
}

export function renderViewChange(c: Change, from: Snapshot, to: Snapshot): TableRendering {
  const id = c.id;
  if (id.kind === 'index' || id.kind === 'comment') return renderViewPart(c);
  if (c.op === 'add') return { statements: created(c.after as ViewInfo) };
  if (c.op === 'drop') return { statements: [at(RANK_DROP, `DROP ${word(c.before as ViewInfo)} ${qualified(id)};`)] };
  const v = to.views.find((x) => key(x) === key(id));
  if (!v) return { statements: [], refused: `view ${id.name} is not in the new schema` };
  const what = `${word(v)} ${qualified(v)}`;
  switch (c.attribute) {
    case 'definition':
    case 'materialized':
      return rebuilt(v, from, to);
    case 'comment':
      return { statements: [at(RANK_COMMENT, commentSql(what, c.after))] };
    case 'options': {
      const before = (c.before as string[] | undefined) ?? [];
      const after = (c.after as string[] | undefined) ?? [];
      const name = (o: string) => o.split('=')[0];
      const out: RankedSql[] = [];
      const reset = before.map(name).filter((k) => !after.some((o) => name(o) === k));
      if (reset.length) out.push(at(RANK_SETTINGS, `ALTER ${what} RESET (${reset.join(', ')});`));
      const set = after.filter((o) => !before.includes(o));
      if (set.length) out.push(at(RANK_SETTINGS, `ALTER ${what} SET (${set.join(', ')});`));
      return { statements: out };
    }
    default:
      return { statements: [], refused: `${id.kind} attribute ${c.attribute} is not rendered` };
  }
}

/** A materialized view's index, or a view column's comment. */
function renderViewPart(c: Change): TableRendering {
  const id = c.id;
  const view = { schema: id.schema, name: id.table ?? '' };
  if (id.kind === 'comment') {
    const text = c.op === 'drop' ? undefined : c.op === 'add' ? (c.after as { comment: string }).comment : c.after;
    return { statements: [at(RANK_COMMENT, commentSql(`COLUMN ${qualified(view)}.${ident(id.name)}`, text))] };
  }
  const name = qualified({ schema: id.schema, name: id.name });
  if (c.op === 'add') {
    const i = c.after as { name: string; definition: string; comment?: string };
    return { statements: [at(RANK_INDEX, indexStatement(i)), ...(i.comment !== undefined ? [at(RANK_COMMENT, commentSql(`INDEX ${name}`, i.comment))] : [])] };
  }
  if (c.op === 'drop') return { statements: [at(RANK_INDEX_DROP, `DROP INDEX ${name};`)] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(`INDEX ${name}`, c.after))] };
  return { statements: [at(RANK_INDEX_DROP, `DROP INDEX ${name};`), at(RANK_INDEX, indexStatement({ name: id.name, definition: String(c.after) }))] };
}
