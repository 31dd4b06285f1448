// Cycles through parents and depends_on: strongly connected components, found iteratively.
import type { Revision } from '../revision.js';
import { type Cache, cacheFor } from './build.js';

/**
 * Every cycle through parents and/or depends_on: each strongly connected component with two or
 * more revisions, or one revision naming itself. Each cycle's ids sorted; cycles sorted by first id.
 */
export function findCycles(revisions: readonly Revision[]): string[][] {
  const c = cacheFor(revisions);
  if (!c.cycles) computeCycles(c);
  return c.cycles!.map((ids) => [...ids]);
}

export function computeCycles(c: Cache): void {
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
