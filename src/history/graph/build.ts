// The graph's one construction: revisions → index-based CSR arrays, memoized per array, that every query
// here reads; and the id-keyed RevisionGraph view of it.
import type { Revision } from '../revision.js';

export interface RevisionGraph {
  /** Distinct revisions, in input order; a repeated id keeps its first revision. */
  revisions: readonly Revision[];
  byId: ReadonlyMap<string, Revision>;
  /** id → sorted ids of the revisions naming it as a parent (only revisions present). */
  children: ReadonlyMap<string, readonly string[]>;
  /** id → sorted ids of the revisions that depend on it (depends_on, resolved through labels). */
  dependents: ReadonlyMap<string, readonly string[]>;
  /** id → its distinct present parents, in declaration order. */
  parentsOf: ReadonlyMap<string, readonly string[]>;
  /** id → its distinct present dependencies (labels resolved to ids), in declaration order. */
  dependenciesOf: ReadonlyMap<string, readonly string[]>;
}

export interface MissingReference {
  revision: Revision;
  missing: string;
  kind: 'parent' | 'depends_on';
  /** Where the reference is written (refLines), else the revision's own line. */
  line: number;
}

export interface GraphSummary {
  /** Distinct revision ids. */
  revisionCount: number;
  heads: string[];
  effectiveHeads: string[];
  bases: string[];
  mergePoints: string[];
  branchPoints: string[];
}

/** Index-based form used by the algorithms: revision i is `ids[i]`; adjacency as CSR arrays. */
export interface Core {
  ids: string[];
  revs: Revision[];
  index: Map<string, number>;
  /** Present distinct parents of i: parentList[parentStart[i] .. parentStart[i+1]). */
  parentStart: Int32Array;
  parentList: Int32Array;
  /** Present distinct dependencies (labels resolved) of i. */
  depStart: Int32Array;
  depList: Int32Array;
  /** Children through parents, and dependents, in the same CSR form. */
  childStart: Int32Array;
  childList: Int32Array;
  dependentStart: Int32Array;
  dependentList: Int32Array;
  /** Distinct parents declared, present or not (a merge point has two or more). */
  declaredParents: Int32Array;
}

export interface Cache {
  length: number;
  core: Core;
  graph?: RevisionGraph;
  cycles?: string[][];
  inCycle?: Uint8Array;
  topo?: string[];
  labels?: Map<string, Set<string>>;
  missing?: MissingReference[];
}

const caches = new WeakMap<readonly Revision[], Cache>();

export function cacheFor(revisions: readonly Revision[]): Cache {
  let c = caches.get(revisions);
  if (!c || c.length !== revisions.length) {
    c = { length: revisions.length, core: construct(revisions) };
    caches.set(revisions, c);
  }
  return c;
}

export const idsWhere = (core: Core, keep: (i: number) => boolean): string[] => {
  const out: string[] = [];
  for (let i = 0; i < core.ids.length; i++) if (keep(i)) out.push(core.ids[i]);
  return out.sort();
};

function construct(input: readonly Revision[]): Core {
  const index = new Map<string, number>();
  const revs: Revision[] = [];
  const ids: string[] = [];
  for (const r of input) {
    if (!r || typeof r.id !== 'string' || index.has(r.id)) continue;
    index.set(r.id, ids.length);
    ids.push(r.id);
    revs.push(r);
  }
  const n = ids.length;
  // Branch labels name the first revision declaring them, unless the label is itself an id.
  const labelOwner = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const ls = revs[i].branchLabels;
    if (ls) for (const l of ls) if (!labelOwner.has(l) && !index.has(l)) labelOwner.set(l, i);
  }
  const parentStart = new Int32Array(n + 1);
  const depStart = new Int32Array(n + 1);
  const declaredParents = new Int32Array(n);
  const parentTmp: number[] = [];
  const depTmp: number[] = [];
  const childCount = new Int32Array(n);
  const dependentCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = revs[i];
    const ps = r.parents ?? [];
    let declared = 0;
    for (let k = 0; k < ps.length; k++) {
      const p = ps[k];
      if (ps.indexOf(p) !== k) continue;
      declared++;
      const j = index.get(p);
      if (j === undefined) continue;
      parentTmp.push(j);
      childCount[j]++;
    }
    declaredParents[i] = declared;
    parentStart[i + 1] = parentTmp.length;
    const ds = r.dependsOn ?? [];
    const dFrom = depTmp.length;
    for (const d of ds) {
      const j = index.get(d) ?? labelOwner.get(d);
      if (j === undefined) continue;
      let dup = false;
      for (let k = dFrom; k < depTmp.length; k++) if (depTmp[k] === j) dup = true;
      if (dup) continue;
      depTmp.push(j);
      dependentCount[j]++;
    }
    depStart[i + 1] = depTmp.length;
  }
  const parentList = Int32Array.from(parentTmp);
  const depList = Int32Array.from(depTmp);
  const [childStart, childList] = invert(n, parentStart, parentList, childCount);
  const [dependentStart, dependentList] = invert(n, depStart, depList, dependentCount);
  return { ids, revs, index, parentStart, parentList, depStart, depList, childStart, childList, dependentStart, dependentList, declaredParents };
}

/** Reverse a CSR adjacency; each reversed list comes out in ascending index (input) order. */
function invert(n: number, start: Int32Array, list: Int32Array, count: Int32Array): [Int32Array, Int32Array] {
  const rStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rStart[i + 1] = rStart[i] + count[i];
  const fill = rStart.slice(0, n);
  const rList = new Int32Array(list.length);
  for (let i = 0; i < n; i++) for (let k = start[i]; k < start[i + 1]; k++) rList[fill[list[k]]++] = i;
  return [rStart, rList];
}

function namesOf(core: Core, start: Int32Array, list: Int32Array, i: number, sort: boolean): string[] {
  const out: string[] = [];
  for (let k = start[i]; k < start[i + 1]; k++) out.push(core.ids[list[k]]);
  return sort ? out.sort() : out;
}

/** The graph with children and dependents indexed by id. Memoized per array. */
export function buildGraph(revisions: readonly Revision[]): RevisionGraph {
  const c = cacheFor(revisions);
  if (!c.graph) {
    const core = c.core;
    const byId = new Map<string, Revision>();
    const children = new Map<string, string[]>();
    const dependents = new Map<string, string[]>();
    const parentsOf = new Map<string, string[]>();
    const dependenciesOf = new Map<string, string[]>();
    for (let i = 0; i < core.ids.length; i++) {
      const id = core.ids[i];
      byId.set(id, core.revs[i]);
      parentsOf.set(id, namesOf(core, core.parentStart, core.parentList, i, false));
      dependenciesOf.set(id, namesOf(core, core.depStart, core.depList, i, false));
      if (core.childStart[i + 1] > core.childStart[i]) children.set(id, namesOf(core, core.childStart, core.childList, i, true));
      if (core.dependentStart[i + 1] > core.dependentStart[i]) dependents.set(id, namesOf(core, core.dependentStart, core.dependentList, i, true));
    }
    c.graph = { revisions: core.revs, byId, children, dependents, parentsOf, dependenciesOf };
  }
  return c.graph;
}
