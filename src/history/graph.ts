import type { Revision } from './revision.js';

/**
 * Graph algorithms over one service's revisions — pure functions, no I/O, no exceptions.
 *
 * Semantics follow Alembic's `RevisionMap` (alembic/script/revision.py):
 *
 * - Two kinds of edge. `parents` (down_revision) order a branch; `dependsOn` (depends_on, tidemark
 *   `requires`) only constrain order. Alembic keeps them apart as `_versioned_down_revisions` vs
 *   `_all_down_revisions`, and `nextrev` vs `_all_nextrev`.
 * - Heads (`RevisionMap.heads`): revisions no other revision names as a parent (`not nextrev`).
 * - Effective heads (`RevisionMap._real_heads`): revisions nothing names as a parent OR as a
 *   dependency (`not _all_nextrev`). A head that another revision depends_on is no effective head:
 *   `alembic upgrade heads` reaches it through the dependent anyway. Always a subset of heads.
 * - Bases (`RevisionMap.bases`): revisions with no parent (`down_revision is None`), whether or not
 *   they depend_on something.
 * - Merge points: two or more distinct parents (`is_merge_point`). Branch points: two or more
 *   children through parents (`is_branch_point`; dependents do not count).
 * - A depends_on entry may name a revision id or a branch label (Alembic's `_add_depends_on` looks it
 *   up in a map holding both); a label resolves to the revision that declares it. Parents must be ids.
 * - Branch labels (`_add_branches`): a label applies to the revision declaring it and to all its
 *   descendants through parents. Then Alembic walks down single parents from the last descendant it
 *   visited, labelling until a merge point or a "real" branch point (two or more distinct revisions
 *   naming it as parent or dependency), which is not labelled. So the revision's ancestors are labelled
 *   only when its descendants form one unforked chain and nothing on the way down is such a point.
 * - Cycles: Alembic raises LoopDetected / DependencyLoopDetected for a revision naming itself and
 *   CycleDetected / DependencyCycleDetected for longer loops; here every strongly connected component of
 *   the parent + depends_on graph with two or more members, or with a self-edge, is one cycle.
 *
 * Differences, on purpose: a duplicate id keeps the FIRST revision (Alembic keeps the last, with a
 * warning) and the duplicate-id rule names both; missing references are data, not a crash.
 * Arrays are memoized per identity (WeakMap, checked against the length): do not mutate an array
 * in place between calls. Every algorithm is iterative (10,000-deep chains are fine).
 */

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
interface Core {
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

interface Cache {
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

function cacheFor(revisions: readonly Revision[]): Cache {
  let c = caches.get(revisions);
  if (!c || c.length !== revisions.length) {
    c = { length: revisions.length, core: construct(revisions) };
    caches.set(revisions, c);
  }
  return c;
}

const idsWhere = (core: Core, keep: (i: number) => boolean): string[] => {
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

const hasChildren = (core: Core, i: number): boolean => core.childStart[i + 1] > core.childStart[i];
const hasDependents = (core: Core, i: number): boolean => core.dependentStart[i + 1] > core.dependentStart[i];

/** Alembic `heads`: revisions no other revision names as a parent. Sorted ids. */
export function findHeads(revisions: readonly Revision[]): string[] {
  const core = cacheFor(revisions).core;
  return idsWhere(core, (i) => !hasChildren(core, i));
}

/**
 * Alembic `_real_heads`: revisions nothing names as a parent or a dependency — a head another
 * revision depends_on is not an effective head. Sorted ids; a subset of findHeads.
 */
export function findEffectiveHeads(revisions: readonly Revision[]): string[] {
  const core = cacheFor(revisions).core;
  return idsWhere(core, (i) => !hasChildren(core, i) && !hasDependents(core, i));
}

/** Alembic `bases`: revisions with no parent (depends_on does not count). Sorted ids. */
export function findBases(revisions: readonly Revision[]): string[] {
  const core = cacheFor(revisions).core;
  return idsWhere(core, (i) => core.declaredParents[i] === 0);
}

/** Revisions naming two or more distinct parents (present or not). Sorted ids. */
export function findMergePoints(revisions: readonly Revision[]): string[] {
  const core = cacheFor(revisions).core;
  return idsWhere(core, (i) => core.declaredParents[i] >= 2);
}

/** Revisions that two or more revisions name as a parent (dependents do not count). Sorted ids. */
export function findBranchPoints(revisions: readonly Revision[]): string[] {
  const core = cacheFor(revisions).core;
  return idsWhere(core, (i) => core.childStart[i + 1] - core.childStart[i] >= 2);
}

/**
 * Every cycle through parents and/or depends_on: each strongly connected component with two or
 * more revisions, or one revision naming itself. Each cycle's ids sorted; cycles sorted by first id.
 */
export function findCycles(revisions: readonly Revision[]): string[][] {
  const c = cacheFor(revisions);
  if (!c.cycles) computeCycles(c);
  return c.cycles!.map((ids) => [...ids]);
}

function computeCycles(c: Cache): void {
  const { ids, parentStart, parentList, depStart, depList } = c.core;
  const n = ids.length;
  // Out-edges of v: its parents, then its dependencies. Edge cursor e runs over both ranges.
  const degree = (v: number): number => parentStart[v + 1] - parentStart[v] + depStart[v + 1] - depStart[v];
  const edgeAt = (v: number, e: number): number => {
    const np = parentStart[v + 1] - parentStart[v];
    return e < np ? parentList[parentStart[v] + e] : depList[depStart[v] + e - np];
  };
  // Iterative Tarjan.
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const inCycle = new Uint8Array(n);
  const stack = new Int32Array(n);
  let sp = 0;
  const callNode = new Int32Array(n);
  const callEdge = new Int32Array(n);
  let cp = 0;
  const cycles: string[][] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (idx[root] !== -1) continue;
    callNode[cp] = root;
    callEdge[cp++] = 0;
    idx[root] = low[root] = counter++;
    stack[sp++] = root;
    onStack[root] = 1;
    while (cp > 0) {
      const v = callNode[cp - 1];
      if (callEdge[cp - 1] < degree(v)) {
        const w = edgeAt(v, callEdge[cp - 1]++);
        if (idx[w] === -1) {
          idx[w] = low[w] = counter++;
          stack[sp++] = w;
          onStack[w] = 1;
          callNode[cp] = w;
          callEdge[cp++] = 0;
        } else if (onStack[w] && idx[w] < low[v]) low[v] = idx[w];
        continue;
      }
      cp--;
      if (cp > 0) {
        const u = callNode[cp - 1];
        if (low[v] < low[u]) low[u] = low[v];
      }
      if (low[v] === idx[v]) {
        const top = sp;
        let w: number;
        do {
          w = stack[--sp];
          onStack[w] = 0;
        } while (w !== v);
        let selfLoop = false;
        for (let e = 0; e < degree(v); e++) if (edgeAt(v, e) === v) selfLoop = true;
        if (top - sp > 1 || selfLoop) {
          const comp: string[] = [];
          for (let k = sp; k < top; k++) {
            inCycle[stack[k]] = 1;
            comp.push(ids[stack[k]]);
          }
          cycles.push(comp.sort());
        }
      }
    }
  }
  cycles.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  c.cycles = cycles;
  c.inCycle = inCycle;
}

/**
 * References to ids this service does not declare, in input order (parents before depends_on).
 * A depends_on naming a branch label declared here is resolved, not missing. A duplicate id's later
 * revisions are not looked at (the duplicate-id rule reports them).
 */
export function findMissingReferences(revisions: readonly Revision[]): MissingReference[] {
  const c = cacheFor(revisions);
  if (!c.missing) {
    const { revs, index } = c.core;
    const labels = new Set<string>();
    for (const r of revs) for (const l of r.branchLabels ?? []) labels.add(l);
    const missing: MissingReference[] = [];
    for (const r of revs) {
      const lineOf = (ref: string): number => r.refLines?.[ref] ?? r.line;
      for (const p of new Set(r.parents ?? [])) if (!index.has(p)) missing.push({ revision: r, missing: p, kind: 'parent', line: lineOf(p) });
      for (const d of new Set(r.dependsOn ?? []))
        if (!index.has(d) && !labels.has(d)) missing.push({ revision: r, missing: d, kind: 'depends_on', line: lineOf(d) });
    }
    c.missing = missing;
  }
  return c.missing.map((m) => ({ ...m }));
}

function computeLabels(core: Core): Map<string, Set<string>> {
  const { ids, revs, childStart, childList, parentStart, parentList, declaredParents } = core;
  const labels = new Map<string, Set<string>>();
  const add = (i: number, ls: readonly string[]): void => {
    let set = labels.get(ids[i]);
    if (!set) labels.set(ids[i], (set = new Set()));
    for (const l of ls) set.add(l);
  };
  for (let r = 0; r < ids.length; r++) {
    const ls = revs[r].branchLabels ?? [];
    if (ls.length === 0) continue;
    // The revision and all its descendants through parents.
    const seen = new Uint8Array(ids.length);
    const todo = [r];
    seen[r] = 1;
    while (todo.length) {
      const i = todo.pop()!;
      add(i, ls);
      for (let k = childStart[i]; k < childStart[i + 1]; k++) if (!seen[childList[k]]) (seen[childList[k]] = 1, todo.push(childList[k]));
    }
    // Alembic's walk down starts at the LAST descendant it visited (`parent = node`), not at the
    // labelled revision. If the descendants fork, every such walk stops at the fork or a merge inside
    // them, so ancestors get nothing; only a single chain lets the walk reach the revision and go on.
    let tip = r;
    const chain = new Set<number>([r]);
    while (childStart[tip + 1] - childStart[tip] === 1 && !chain.has(childList[childStart[tip]])) chain.add((tip = childList[childStart[tip]]));
    if (childStart[tip + 1] > childStart[tip]) continue; // a fork (or a cycle)
    // From the tip down single parents until a merge point or a real branch point (two or more
    // distinct children + dependents: `_all_nextrev` is a set), which stays unlabelled.
    const walked = new Set<number>();
    let cur = tip;
    while (cur !== -1 && !walked.has(cur)) {
      walked.add(cur);
      if (realNextCount(core, cur) > 1 || declaredParents[cur] > 1) break;
      add(cur, ls);
      cur = parentStart[cur + 1] > parentStart[cur] ? parentList[parentStart[cur]] : -1;
    }
  }
  return labels;
}

/** Distinct revisions naming i as a parent or a dependency (Alembic `_all_nextrev`). */
function realNextCount(core: Core, i: number): number {
  const { childStart, childList, dependentStart, dependentList } = core;
  let n = childStart[i + 1] - childStart[i];
  for (let k = dependentStart[i]; k < dependentStart[i + 1]; k++) {
    let also = false;
    for (let c = childStart[i]; c < childStart[i + 1]; c++) if (childList[c] === dependentList[k]) also = true;
    if (!also) n++;
  }
  return n;
}

/** Branch labels that apply to a revision, with Alembic's propagation. Sorted; [] for an unknown id. */
export function labelsOf(revisions: readonly Revision[], id: string): string[] {
  const c = cacheFor(revisions);
  c.labels ??= computeLabels(c.core);
  return [...(c.labels.get(id) ?? [])].sort();
}

/** Revisions a branch label applies to, with Alembic's propagation. Sorted ids. */
export function branchMembers(revisions: readonly Revision[], label: string): string[] {
  const c = cacheFor(revisions);
  c.labels ??= computeLabels(c.core);
  const out: string[] = [];
  for (const [id, ls] of c.labels) if (ls.has(label)) out.push(id);
  return out.sort();
}

/**
 * A deterministic order to apply the revisions in: every parent and dependency before the revision,
 * ties broken by id (code-unit order). Cycle members are left out; their descendants are kept.
 */
export function topologicalOrder(revisions: readonly Revision[]): string[] {
  const c = cacheFor(revisions);
  if (!c.topo) {
    if (!c.inCycle) computeCycles(c);
    const { ids, parentStart, parentList, depStart, depList, childStart, childList, dependentStart, dependentList } = c.core;
    const skip = c.inCycle!;
    const n = ids.length;
    const indegree = new Int32Array(n);
    const heap = new MinHeap(ids);
    for (let i = 0; i < n; i++) {
      if (skip[i]) continue;
      let d = 0;
      for (let k = parentStart[i]; k < parentStart[i + 1]; k++) if (!skip[parentList[k]]) d++;
      for (let k = depStart[i]; k < depStart[i + 1]; k++) if (!skip[depList[k]]) d++;
      indegree[i] = d;
      if (d === 0) heap.push(i);
    }
    const order: string[] = [];
    const release = (j: number): void => {
      if (!skip[j] && --indegree[j] === 0) heap.push(j);
    };
    while (heap.size) {
      const i = heap.pop();
      order.push(ids[i]);
      for (let k = childStart[i]; k < childStart[i + 1]; k++) release(childList[k]);
      for (let k = dependentStart[i]; k < dependentStart[i + 1]; k++) release(dependentList[k]);
    }
    c.topo = order;
  }
  return [...c.topo];
}

/**
 * Every revision reachable from `id` through parents (and depends_on unless
 * `includeDependencies: false`), the revision itself excluded unless in a cycle. Sorted ids; [] for an unknown id.
 */
export function ancestorsOf(revisions: readonly Revision[], id: string, options: { includeDependencies?: boolean } = {}): string[] {
  const { ids, index, parentStart, parentList, depStart, depList } = cacheFor(revisions).core;
  const from = index.get(id);
  if (from === undefined) return [];
  const withDeps = options.includeDependencies ?? true;
  const seen = new Uint8Array(ids.length);
  const out: string[] = [];
  const todo = [from];
  const visit = (j: number): void => {
    if (seen[j]) return;
    seen[j] = 1;
    out.push(ids[j]);
    todo.push(j);
  };
  while (todo.length) {
    const i = todo.pop()!;
    for (let k = parentStart[i]; k < parentStart[i + 1]; k++) visit(parentList[k]);
    if (withDeps) for (let k = depStart[i]; k < depStart[i + 1]; k++) visit(depList[k]);
  }
  return out.sort();
}

/** Revision count, heads, effective heads, bases, merge points and branch points — each a sorted id list. */
export function summarizeGraph(revisions: readonly Revision[]): GraphSummary {
  return {
    revisionCount: cacheFor(revisions).core.ids.length,
    heads: findHeads(revisions),
    effectiveHeads: findEffectiveHeads(revisions),
    bases: findBases(revisions),
    mergePoints: findMergePoints(revisions),
    branchPoints: findBranchPoints(revisions),
  };
}

/** A binary min-heap of revision indices, ordered by id. */
class MinHeap {
  private a: number[] = [];
  constructor(private readonly ids: readonly string[]) {}
  get size(): number {
    return this.a.length;
  }
  push(v: number): void {
    const { a, ids } = this;
    const key = ids[v];
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ids[a[p]] <= key) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const { a, ids } = this;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      const key = ids[last];
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && ids[a[r]] < ids[a[l]] ? r : l;
        if (ids[a[m]] >= key) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
