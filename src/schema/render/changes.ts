/**
 * renderChanges (issue 13): the Changes of `diff(from, to)` as SQL that turns `from` into `to`, and the
 * down that turns it back (rendered from `diff(to, from)` by the same rules), in plain forms. Tables,
 * their columns, constraints and indexes are rendered (tables.ts); a change of any other kind is
 * refused by name rather than written half-right, and a refusal means nothing is written.
 *
 * Order (docs/plan-issue-13.md §2.3), by rank: 0 schemas and extensions created; 1 drops of foreign
 * keys, then of other constraints and indexes being dropped or replaced; 3 types created and altered;
 * 4 functions and sequences; 5 tables altered (columns added in position order, altered, dropped),
 * dropped, then created (in `to`'s creation order: a table renamed without `renamed-from` is a drop and a
 * create, and the names it keeps, e.g. its identity sequence's, are free only once the old one is gone);
 * 6 late functions (they read tables); 7 constraints
 * (foreign keys last), indexes, replica identity, CLUSTER ON, row level security, OWNED BY, comments;
 * 8 functions, sequences and types dropped; 9 schemas dropped. Within a rank, the diff's own order.
 * Schemas, extensions, sequences and functions: routines.ts; enums, domains, composites: types.ts
 * (an enum losing or moving a label is rebuilt by enum-rebuild.ts: renamed, created again and its
 * columns cast at rank 3, what names it dropped at 1 and created again at 6-7, the old type dropped at 8);
 * triggers and policies (dropped at rank 1, created at 7): triggers.ts; views (dropped at rank 1,
 * readers first; created at 6 in dependency order): views.ts. A statement two changes both need (a
 * view rebuilt for itself and for a view it reads) is written once.
 * When a function body is written, `SET LOCAL check_function_bodies = off` goes first, as a baseline's.
 * When new labels go to a file of their own (`enum-values`), the down is rendered in two steps, so each
 * file's down undoes only that file: the main file's back to `from` with the labels kept, then the
 * labels file's (the rebuild that removes them).
 */
import { displayName, nameKey } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import { diff as diffSnapshots } from '../diff/diff.js';
import type { Snapshot } from '../snapshot.js';
import { compositeRetypedInUse } from './composite-in-use.js';
import { isRoutineChange, renderRoutineChange, writesFunctionBody } from './routines.js';
import type { HazardNote, RenderContext, RenderedChanges, Statement } from './statement.js';
import { isTableChange, renderTableChange, type TableRendering } from './tables.js';
import { isTriggerOrPolicyChange, renderTriggerOrPolicyChange } from './triggers.js';
import { isViewChange, renderViewChange, viewOrder } from './views.js';
import { isTypeChange, renderTypeChange, type TypeRendering, type TypeSql } from './types.js';

/**
 * The diff a down is rendered from (every `diff` call in this file renders a down; the up's changes are
 * given). It keeps an extension the up creates: CREATE EXTENSION IF NOT EXISTS may have found it there
 * unused (a snapshot lists only extensions something uses, e.g. one a history's migration 000 installs),
 * and dropping one is refused anyway. Left unused, it is not in a snapshot: the down still gives `from`.
 */
function diff(from: Snapshot, to: Snapshot): Change[] {
  return diffSnapshots(from, to).filter((c) => !(c.op === 'drop' && c.id.kind === 'extension'));
}

export function renderChanges(changes: readonly Change[], ctx: RenderContext): RenderedChanges {
  const up = renderOneWay(changes, ctx.from, ctx.to, ctx.existingTables);
  const backFrom = (s: Snapshot) => new Set(s.tables.map(nameKey));
  const labelled = up.statements.filter((s) => s.phase === 'enum-values').map((s) => s.changes[0]?.id);
  if (labelled.length === 0) {
    // No labels file to carry them: labels the down gives back come by a rebuild, in the down's own
    // transaction (an ADD VALUE there could not be used by the down's next statement, a default naming it).
    const down = renderOneWay(diff(ctx.to, ctx.from), ctx.to, ctx.from, backFrom(ctx.to), { labelsByRebuild: true });
    return { up: up.statements, down: down.statements, hazards: up.hazards, refused: once([...up.refused, ...down.refused]) };
  }
  // New labels in a file of their own run first, so their down runs last and alone (`tidemark test`
  // runs each file's up, down, up): the main file's down goes back to `from` with the new labels
  // kept, and the labels file's down (an enum rebuild) takes them away from exactly `from`.
  const mid: Snapshot = {
    ...ctx.from,
    types: ctx.from.types.map((t) => {
      const gains = labelled.some((id) => id?.kind === 'enum' && id.schema === t.schema && id.name === t.name);
      const after = ctx.to.types.find((x) => x.kind === 'enum' && nameKey(x) === nameKey(t));
      return gains && t.kind === 'enum' && after?.kind === 'enum' ? { ...t, labels: after.labels } : t;
    }),
  };
  const main = renderOneWay(diff(ctx.to, mid), ctx.to, mid, backFrom(ctx.to));
  const labels = renderOneWay(diff(mid, ctx.from), mid, ctx.from, backFrom(mid));
  return {
    up: up.statements,
    down: [...main.statements, ...labels.statements.map((s) => ({ ...s, phase: 'enum-values' as const }))],
    hazards: up.hazards,
    refused: once([...up.refused, ...main.refused, ...labels.refused]),
  };
}

/** Each refusal once: the up and the down of one change may refuse it for the same reason. */
function once(refused: { object: string; reason: string }[]): { object: string; reason: string }[] {
  const seen = new Set<string>();
  return refused.filter((r) => {
    const key = `${r.object}\0${r.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function renderOneWay(changes: readonly Change[], from: Snapshot, to: Snapshot, existing: ReadonlySet<string>, options: { labelsByRebuild?: boolean } = {}) {
  const ranked: (TypeSql & { seq: number; change?: Change })[] = [];
  const refused: { object: string; reason: string }[] = [];
  const hazards: HazardNote[] = [];
  let seq = 0;
  // Tables created in `to`'s creation order; everything else in the diff's order.
  const created = new Map((to.createOrder ?? []).map((k, i) => [k, i]));
  const orderOf = (c: Change) => (c.op === 'add' && c.id.kind === 'table' ? (created.get(`table:${nameKey(c.id)}`) ?? 0) : viewOrder(c, from, to));
  const sorted = [...changes].map((c, i) => ({ c, i })).sort((a, b) => orderOf(a.c) - orderOf(b.c) || a.i - b.i);
  for (const { c } of sorted) {
    const retyped = compositeRetypedInUse(c, from);
    const r: ReturnType<typeof renderOne> = retyped ? { statements: [], refused: retyped } : renderOne(c, from, to, options);
    if (r === undefined) {
      // Only `unsupported` reaches here today: what baseline cannot reproduce, diff cannot write either.
      const reason =
        c.id.kind === 'unsupported' ? `a ${c.id.type ?? 'object'} is not reproduced by tidemark (baseline refuses it too)` : `tidemark diff does not render a change of kind ${c.id.kind} yet`;
      refused.push({ object: objectLabel(c), reason });
      continue;
    }
    if (r.refused) {
      refused.push({ object: objectLabel(c), reason: r.refused });
      continue;
    }
    for (const s of r.statements) ranked.push({ ...s, seq: seq++, change: c });
    hazards.push(...hazardNotes(c, existing));
    if ('hazards' in r) hazards.push(...(r.hazards ?? []).map((h) => ({ ...h, object: objectLabel(c) })));
  }
  if (changes.some(writesFunctionBody)) ranked.push({ rank: -1, sub: 0, sql: 'SET LOCAL check_function_bodies = off;', seq: -1 });
  ranked.sort((a, b) => a.rank - b.rank || a.sub - b.sub || a.seq - b.seq);
  const seen = new Set<string>();
  const once = ranked.filter((s) => !seen.has(s.sql) && seen.add(s.sql));
  const ownFile = labelsUsed(once);
  const statements: Statement[] = once.map((s) => ({
    sql: s.sql,
    phase: s.phase === 'enum-values' && !ownFile ? 'main' : (s.phase ?? 'main'),
    changes: s.change ? [s.change] : [],
    hazards: s.change ? notesOf(s.change, hazards, changes, existing) : [],
  }));
  return { statements, refused, hazards };
}

/**
 * The hazard notes written above a statement of change `c`: its object's, less those another change of
 * the same object gave (a column's type change rewrites the table; its comment change does not).
 */
function notesOf(c: Change, hazards: readonly HazardNote[], changes: readonly Change[], existing: ReadonlySet<string>): HazardNote[] {
  const label = objectLabel(c);
  const key = (h: HazardNote) => `${h.hazard}\0${h.sentence}`;
  const own = new Set(hazardNotes(c, existing).map(key));
  const others = new Set(changes.filter((o) => o !== c && objectLabel(o) === label).flatMap((o) => hazardNotes(o, existing).map(key)));
  return hazards.filter((h) => h.object === label && (own.has(key(h)) || !others.has(key(h))));
}

function renderOne(c: Change, from: Snapshot, to: Snapshot, options: { labelsByRebuild?: boolean }): TableRendering | TypeRendering | undefined {
  if (isTableChange(c)) return renderTableChange(c, from, to);
  if (isRoutineChange(c)) return renderRoutineChange(c, to, from);
  if (isTypeChange(c)) return renderTypeChange(c, from, to, options);
  if (isTriggerOrPolicyChange(c)) return renderTriggerOrPolicyChange(c, from, to);
  if (isViewChange(c)) return renderViewChange(c, from, to);
  return undefined;
}

/**
 * New enum labels get their own file only when another statement uses one: PostgreSQL refuses a label
 * used in the transaction that added it. Use is seen as the label's literal in the other SQL. All of
 * them move together, since one may be placed AFTER another.
 */
function labelsUsed(ranked: readonly TypeSql[]): boolean {
  const labels = ranked.filter((s) => s.phase === 'enum-values').map((s) => s.label ?? '');
  return ranked.some((s) => s.phase !== 'enum-values' && labels.some((l) => s.sql.includes(l)));
}

/** `table public.users`, `column users.email`, `constraint users_email_key on users`, `index users_name_idx`. */
function objectLabel(c: Change): string {
  const { kind, schema, name, table } = c.id;
  const q = (n: string) => displayName({ schema, name: n });
  if (table !== undefined && (kind === 'column' || kind === 'constraint' || kind === 'index')) {
    return kind === 'column' ? `column ${q(table)}.${name}` : `${kind} ${name} on ${q(table)}`;
  }
  if (kind === 'unsupported') return `${c.id.type ?? kind} ${name}`;
  return `${kind} ${schema ? q(name) : name}`;
}

const HAZARD_WORDS: Record<string, (c: Change) => string> = {
  'data-loss': (c) => (c.id.kind === 'table' ? 'dropping the table deletes its rows' : 'dropping the column deletes its values'),
  'table-rewrite': (c) => (c.op === 'add' ? 'each row gets its own value: the table is rewritten under an ACCESS EXCLUSIVE lock' : 'the table is rewritten under an ACCESS EXCLUSIVE lock'),
  'blocks-writes': (c) =>
    c.id.kind === 'constraint'
      ? 'an exclusion constraint has no NOT VALID or concurrent form: its index is built under an ACCESS EXCLUSIVE lock'
      : 'SET NOT NULL reads every row under an ACCESS EXCLUSIVE lock',
  'breaks-dependents': () => "another service's objects depend on it",
};

function hazardNotes(c: Change, existing: ReadonlySet<string>): HazardNote[] {
  const object = objectLabel(c);
  const notes = c.hazards.filter((h) => HAZARD_WORDS[h]).map((hazard) => ({ hazard, object, sentence: HAZARD_WORDS[hazard](c) }));
  // A NOT NULL column without a default cannot be added to a table with rows.
  if (c.op === 'add' && c.id.kind === 'column' && c.id.table !== undefined && existing.has(nameKey({ schema: c.id.schema, name: c.id.table }))) {
    const col = c.after as { notNull: boolean; default?: string; identity?: unknown; generated?: unknown };
    if (col.notNull && col.default === undefined && col.identity === undefined && col.generated === undefined) {
      notes.push({ hazard: 'needs-backfill', object, sentence: 'a NOT NULL column without a default fails on a table with rows: add it nullable, fill it, then SET NOT NULL' });
    }
  }
  return notes;
}
