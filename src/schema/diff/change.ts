/**
 * The schema diff as data (issue 12): `diff(from, to)` in diff.ts returns the Changes that turn the
 * `from` Snapshot into the `to` one. Plain words (words.ts: compareSnapshots' sentences;
 * structure-words.ts: validate's) are views of these values; so will SQL rendering be.
 *
 * This file: the types only. A Change's `before` / `after` values are as the snapshots printed them
 * (not normalized), so every view can print them; whether two values differ was decided after
 * src/schema/normalize.ts (what only PostgreSQL 15 vs 18 printing changes is not a change).
 */

/** What sort of object a Change is about. Row level security, replica identity and the like are table attributes. */
export type ObjectKind =
  | 'schema'
  | 'extension'
  | 'enum'
  | 'domain'
  | 'composite'
  | 'function'
  | 'procedure'
  | 'sequence'
  | 'table'
  | 'column'
  | 'constraint'
  | 'index'
  | 'trigger'
  | 'policy'
  | 'view'
  | 'materialized-view'
  /** A view column's comment (comments of other objects are their `comment` attribute). */
  | 'comment'
  /** Something tidemark cannot reproduce (a rule, a partitioned table, …): Snapshot.unsupported. */
  | 'unsupported';

/**
 * Which object. `schema` is '' where the object has none (schema, extension, unsupported: a schema's
 * own name is `name`). `table` names the relation (or domain) a column, constraint, index, trigger,
 * policy or view-column comment belongs to, `parent` says what it is when it is not a table.
 */
export interface ObjectId {
  kind: ObjectKind;
  schema: string;
  name: string;
  table?: string;
  parent?: 'domain' | 'view' | 'materialized-view';
  /** A function's or procedure's identity arguments (`a integer, b text`). */
  args?: string;
  /** The finer sort where `kind` is coarse: a constraint's kind (`check`, `foreign key`), an unsupported object's (`rule`). */
  type?: string;
}

/**
 * What a change may do to a live database. `needs-backfill`: a NOT NULL column without a default added
 * to an existing table (fails on a filled one); `enum-rebuild`: an enum label removed or reordered,
 * done by a new type and every using column cast over (issue 13).
 */
export type Hazard = 'data-loss' | 'table-rewrite' | 'blocks-writes' | 'breaks-dependents' | 'needs-backfill' | 'enum-rebuild';

/**
 * One difference. add: the object is only in `to`; drop: only in `from`; alter: in both, one attribute
 * differs (`attribute` is the Snapshot field, e.g. `type`, `notNull`, `default`; an identity column's
 * sequence options are `identitySequence.start` and so on).
 */
export type Change =
  | { op: 'add'; id: ObjectId; after: unknown; hazards: Hazard[] }
  | { op: 'drop'; id: ObjectId; before: unknown; hazards: Hazard[] }
  | { op: 'alter'; id: ObjectId; attribute: string; before: unknown; after: unknown; hazards: Hazard[] };
