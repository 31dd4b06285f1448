/**
 * How diff.ts and diff-tables.ts gather Changes: one list, appended in walk order, and `match`, which
 * pairs two named lists the way compareSnapshots always has (the `from` list in its order — dropped or
 * compared — then what only `to` has, in its order). That order is the contract words.ts relies on.
 */
import type { Change, Hazard, ObjectId } from './change.js';

export interface Collect {
  add(id: ObjectId, after: unknown, hazards?: Hazard[]): void;
  drop(id: ObjectId, before: unknown, hazards?: Hazard[]): void;
  alter(id: ObjectId, attribute: string, before: unknown, after: unknown, hazards?: Hazard[]): void;
}

export function collector(out: Change[]): Collect {
  return {
    add: (id, after, hazards = []) => out.push({ op: 'add', id, after, hazards }),
    drop: (id, before, hazards = []) => out.push({ op: 'drop', id, before, hazards }),
    alter: (id, attribute, before, after, hazards = []) => out.push({ op: 'alter', id, attribute, before, after, hazards }),
  };
}

/** Pairs `from` and `to` by key: `both` for a pair, `onlyFrom` / `onlyTo` for the rest. */
export function match<T>(from: readonly T[], to: readonly T[], key: (x: T) => string, both: (f: T, t: T) => void, onlyFrom: (f: T) => void, onlyTo: (t: T) => void): void {
  const toMap = new Map(to.map((x) => [key(x), x]));
  const fromKeys = new Set(from.map(key));
  for (const f of from) {
    const t = toMap.get(key(f));
    if (t === undefined) onlyFrom(f);
    else both(f, t);
  }
  for (const t of to) if (!fromKeys.has(key(t))) onlyTo(t);
}

/** Two optional SQL texts equal after `norm` (absent equals only absent). */
export function sameText(a: string | undefined, b: string | undefined, norm: (s: string) => string): boolean {
  return a === undefined || b === undefined ? a === b : norm(a) === norm(b);
}

/** An attribute that differs when `same` says so: alter with the raw values. */
export function attr<T>(c: Collect, id: ObjectId, attribute: string, before: T, after: T, same: (a: T, b: T) => boolean = Object.is, hazards?: Hazard[]): void {
  if (!same(before, after)) c.alter(id, attribute, before, after, hazards);
}

/** Lists compared as comma-joined text (reloptions, roles: both sides are sorted). */
export const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => (a ?? []).join(',') === (b ?? []).join(',');
