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
 * - Branch labels (`_add_branches`): a label applies to the revision declaring it, to all its
 *   descendants through parents, and to its ancestors down a single-parent chain, stopping at the first
 *   merge point or "real" branch point (two or more children counting dependents), which is not labelled.
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

interface Cache {
  length: number;
  graph: RevisionGraph;
  cycles?: string[][];
  cycleMembers?: Set<string>;
  topo?: string[];
  labels?: Map<string, Set<string>>;
  missing?: MissingReference[];
}

const caches = new WeakMap<readonly Revision[], Cache>();

function cacheFor(revisions: readonly Revision[]): Cache {
  let c = caches.get(revisions);
  if (!c || c.length !== revisions.length) {
    c = { length: revisions.length, graph: construct(revisions) };
    caches.set(revisions, c);
  }
  return c;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sorted = (ids: Iterable<string>): string[] => [...ids].sort(byCodeUnit);

function construct(input: readonly Revision[]): RevisionGraph {
  const byId = new Map<string, Revision>();
  const revisions: Revision[] = [];
  for (const r of input) {
    if (!r || typeof r.id !== 'string' || byId.has(r.id)) continue;
    byId.set(r.id, r);
    revisions.push(r);
  }
  // Branch labels name the first revision declaring them, unless the label is itself an id.
  const labelOwner = new Map<string, string>();
  for (const r of revisions) for (const l of r.branchLabels ?? []) if (!labelOwner.has(l) && !byId.has(l)) labelOwner.set(l, r.id);

  const children = new Map<string, string[]>();
  const dependents = new Map<string, string[]>();
  const parentsOf = new Map<string, string[]>();
  const dependenciesOf = new Map<string, string[]>();
  for (const r of revisions) {
    const ps: string[] = [];
    for (const p of new Set(r.parents ?? [])) {
      if (!byId.has(p)) continue;
      ps.push(p);
      push(children, p, r.id);
    }
    const ds: string[] = [];
    for (const d of r.dependsOn ?? []) {
      const id = byId.has(d) ? d : labelOwner.get(d);
      if (id === undefined || ds.includes(id)) continue;
      ds.push(id);
      push(dependents, id, r.id);
    }
    parentsOf.set(r.id, ps);
    dependenciesOf.set(r.id, ds);
  }
  for (const list of children.values()) list.sort(byCodeUnit);
  for (const list of dependents.values()) list.sort(byCodeUnit);
  return { revisions, byId, children, dependents, parentsOf, dependenciesOf };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const EMPTY: readonly string[] = [];

/** The graph with children and dependents indexed. Memoized per array. */
export function buildGraph(revisions: readonly Revision[]): RevisionGraph {
  return cacheFor(revisions).graph;
}

/** Alembic `heads`: revisions no other revision names as a parent. Sorted ids. */
export function findHeads(revisions: readonly Revision[]): string[] {
  const g = buildGraph(revisions);
  return sorted(g.revisions.filter((r) => !g.children.has(r.id)).map((r) => r.id));
}

/**
 * Alembic `_real_heads`: revisions nothing names as a parent or a dependency — a head another
 * revision depends_on is not an effective head. Sorted ids; a subset of findHeads.
 */
export function findEffectiveHeads(revisions: readonly Revision[]): string[] {
  const g = buildGraph(revisions);
  return sorted(g.revisions.filter((r) => !g.children.has(r.id) && !g.dependents.has(r.id)).map((r) => r.id));
}

/** Alembic `bases`: revisions with no parent (depends_on does not count). Sorted ids. */
export function findBases(revisions: readonly Revision[]): string[] {
  const g = buildGraph(revisions);
  return sorted(g.revisions.filter((r) => (r.parents ?? []).length === 0).map((r) => r.id));
}

/** Revisions naming two or more distinct parents. Sorted ids. */
export function findMergePoints(revisions: readonly Revision[]): string[] {
  const g = buildGraph(revisions);
  return sorted(g.revisions.filter((r) => new Set(r.parents ?? []).size >= 2).map((r) => r.id));
}

/** Revisions that two or more revisions name as a parent (dependents do not count). Sorted ids. */
export function findBranchPoints(revisions: readonly Revision[]): string[] {
  const g = buildGraph(revisions);
  return sorted(g.revisions.filter((r) => (g.children.get(r.id)?.length ?? 0) >= 2).map((r) => r.id));
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
  const g = c.graph;
  const n = g.revisions.length;
  const index = new Map<string, number>();
  g.revisions.forEach((r, i) => index.set(r.id, i));
  // Out-edges: revision → its parents and dependencies (present ones).
  const out: number[][] = g.revisions.map((r) => {
    const e: number[] = [];
    for (const p of g.parentsOf.get(r.id) ?? EMPTY) e.push(index.get(p)!);
    for (const d of g.dependenciesOf.get(r.id) ?? EMPTY) e.push(index.get(d)!);
    return e;
  });
  // Iterative Tarjan.
  const idx = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const cycles: string[][] = [];
  const members = new Set<string>();
  let counter = 0;
  const callNode: number[] = [];
  const callEdge: number[] = [];
  for (let root = 0; root < n; root++) {
    if (idx[root] !== -1) continue;
    callNode.push(root);
    callEdge.push(0);
    idx[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (callNode.length) {
      const top = callNode.length - 1;
      const v = callNode[top];
      const edges = out[v];
      if (callEdge[top] < edges.length) {
        const w = edges[callEdge[top]++];
        if (idx[w] === -1) {
          idx[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          callNode.push(w);
          callEdge.push(0);
        } else if (onStack[w] && idx[w] < low[v]) low[v] = idx[w];
        continue;
      }
      callNode.pop();
      callEdge.pop();
      if (callNode.length) {
        const u = callNode[callNode.length - 1];
        if (low[v] < low[u]) low[u] = low[v];
      }
      if (low[v] === idx[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || edges.includes(v)) {
          const ids = sorted(comp.map((i) => g.revisions[i].id));
          cycles.push(ids);
          for (const id of ids) members.add(id);
        }
      }
    }
  }
  cycles.sort((a, b) => byCodeUnit(a[0], b[0]));
  c.cycles = cycles;
  c.cycleMembers = members;
}

/**
 * References to ids this service does not declare, in input order (parents before depends_on).
 * A depends_on naming a branch label declared here is resolved, not missing. A duplicate id's later
 * revisions are not looked at (the duplicate-id rule reports them).
 */
export function findMissingReferences(revisions: readonly Revision[]): MissingReference[] {
  const c = cacheFor(revisions);
  if (!c.missing) {
    const g = c.graph;
    const labels = new Set<string>();
    for (const r of g.revisions) for (const l of r.branchLabels ?? []) labels.add(l);
    const missing: MissingReference[] = [];
    for (const r of g.revisions) {
      const lineOf = (ref: string): number => r.refLines?.[ref] ?? r.line;
      for (const p of new Set(r.parents ?? [])) if (!g.byId.has(p)) missing.push({ revision: r, missing: p, kind: 'parent', line: lineOf(p) });
      for (const d of new Set(r.dependsOn ?? []))
        if (!g.byId.has(d) && !labels.has(d)) missing.push({ revision: r, missing: d, kind: 'depends_on', line: lineOf(d) });
    }
    c.missing = missing;
  }
  return c.missing.map((m) => ({ ...m }));
}

function computeLabels(c: Cache): Map<string, Set<string>> {
  const g = c.graph;
  const labels = new Map<string, Set<string>>();
  const add = (id: string, ls: readonly string[]): void => {
    let set = labels.get(id);
    if (!set) labels.set(id, (set = new Set()));
    for (const l of ls) set.add(l);
  };
  for (const r of g.revisions) {
    const ls = r.branchLabels ?? [];
    if (ls.length === 0) continue;
    // The revision and all its descendants through parents.
    const seen = new Set<string>([r.id]);
    const todo = [r.id];
    while (todo.length) {
      const id = todo.pop()!;
      add(id, ls);
      for (const ch of g.children.get(id) ?? EMPTY) if (!seen.has(ch)) (seen.add(ch), todo.push(ch));
    }
    // Down a single-parent chain until a merge point or a real branch point.
    let cur: Revision | undefined = r;
    const walked = new Set<string>();
    while (cur && !walked.has(cur.id)) {
      walked.add(cur.id);
      const realChildren = new Set([...(g.children.get(cur.id) ?? EMPTY), ...(g.dependents.get(cur.id) ?? EMPTY)]);
      if (realChildren.size > 1 || new Set(cur.parents ?? []).size > 1) break;
      add(cur.id, ls);
      const parent: string | undefined = (cur.parents ?? [])[0];
      cur = parent === undefined ? undefined : g.byId.get(parent);
    }
  }
  return labels;
}

/** Branch labels that apply to a revision, with Alembic's propagation. Sorted; [] for an unknown id. */
export function labelsOf(revisions: readonly Revision[], id: string): string[] {
  const c = cacheFor(revisions);
  c.labels ??= computeLabels(c);
  return sorted(c.labels.get(id) ?? []);
}

/** Revisions a branch label applies to, with Alembic's propagation. Sorted ids. */
export function branchMembers(revisions: readonly Revision[], label: string): string[] {
  const c = cacheFor(revisions);
  c.labels ??= computeLabels(c);
  const out: string[] = [];
  for (const [id, ls] of c.labels) if (ls.has(label)) out.push(id);
  return sorted(out);
}

/**
 * A deterministic order to apply the revisions in: every parent and dependency before the revision,
 * ties broken by id (code-unit order). Cycle members are left out; their descendants are kept.
 */
export function topologicalOrder(revisions: readonly Revision[]): string[] {
  const c = cacheFor(revisions);
  if (!c.topo) {
    if (!c.cycleMembers) computeCycles(c);
    const g = c.graph;
    const skip = c.cycleMembers!;
    const indegree = new Map<string, number>();
    for (const r of g.revisions) {
      if (skip.has(r.id)) continue;
      let d = 0;
      for (const p of g.parentsOf.get(r.id) ?? EMPTY) if (!skip.has(p)) d++;
      for (const p of g.dependenciesOf.get(r.id) ?? EMPTY) if (!skip.has(p)) d++;
      indegree.set(r.id, d);
    }
    const heap = new MinHeap();
    for (const [id, d] of indegree) if (d === 0) heap.push(id);
    const order: string[] = [];
    while (heap.size) {
      const id = heap.pop();
      order.push(id);
      for (const next of [...(g.children.get(id) ?? EMPTY), ...(g.dependents.get(id) ?? EMPTY)]) {
        const d = indegree.get(next);
        if (d === undefined) continue;
        indegree.set(next, d - 1);
        if (d === 1) heap.push(next);
      }
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
  const g = buildGraph(revisions);
  if (!g.byId.has(id)) return [];
  const withDeps = options.includeDependencies ?? true;
  const seen = new Set<string>();
  const todo = [id];
  while (todo.length) {
    const cur = todo.pop()!;
    const next = withDeps ? [...(g.parentsOf.get(cur) ?? EMPTY), ...(g.dependenciesOf.get(cur) ?? EMPTY)] : (g.parentsOf.get(cur) ?? EMPTY);
    for (const p of next) if (!seen.has(p)) (seen.add(p), todo.push(p));
  }
  return sorted(seen);
}

/** Revision count, heads, effective heads, bases, merge points and branch points — each a sorted id list. */
export function summarizeGraph(revisions: readonly Revision[]): GraphSummary {
  return {
    revisionCount: buildGraph(revisions).revisions.length,
    heads: findHeads(revisions),
    effectiveHeads: findEffectiveHeads(revisions),
    bases: findBases(revisions),
    mergePoints: findMergePoints(revisions),
    branchPoints: findBranchPoints(revisions),
  };
}

class MinHeap {
  private a: string[] = [];
  get size(): number {
    return this.a.length;
  }
  push(v: string): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= v) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = v;
  }
  pop(): string {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const m = r < a.length && a[r] < a[l] ? r : l;
        if (a[m] >= last) break;
        a[i] = a[m];
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}
