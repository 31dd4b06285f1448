// Apply order (topological, ties by id) and ancestors.
import type { Revision } from '../revision.js';
import { cacheFor } from './build.js';
import { computeCycles } from './cycles.js';
import { MinHeap } from './heap.js';

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
