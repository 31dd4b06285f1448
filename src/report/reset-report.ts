/**
 * What `reset` dropped, counted and named by kind: "9 tables, 2 sequences, 1 function" — one per object,
 * not one per DROP statement (a single `DROP TABLE a, b, …` drops many). Names go through displayName.
 */
import { displayName, type QualifiedName } from '../sql/ident.js';

export type DroppedKind = 'table' | 'view' | 'materialized view' | 'function' | 'procedure' | 'sequence' | 'type' | 'domain' | 'schema';

export interface DroppedObject {
  kind: DroppedKind;
  /** For a schema, `schema` and `name` are both the schema's name. */
  name: QualifiedName;
}

const ORDER: readonly DroppedKind[] = ['table', 'view', 'materialized view', 'sequence', 'function', 'procedure', 'type', 'domain', 'schema'];

/** Count per kind, in a fixed order, zero kinds left out. */
export function countByKind(objects: readonly DroppedObject[]): { kind: DroppedKind; count: number }[] {
  return ORDER.map((kind) => ({ kind, count: objects.filter((o) => o.kind === kind).length })).filter((c) => c.count > 0);
}

/** `9 tables, 1 view, 2 functions`, or `nothing`. */
export function describeCounts(objects: readonly DroppedObject[]): string {
  const parts = countByKind(objects).map(({ kind, count }) => `${count} ${count === 1 ? kind : `${kind}s`}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

/** One line per object: `table "sales.orders"`. */
export function describeObject(o: DroppedObject): string {
  return `${o.kind} ${displayName(o.kind === 'schema' ? o.name.schema : o.name)}`;
}
