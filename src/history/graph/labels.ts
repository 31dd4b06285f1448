// Branch labels with Alembic's propagation (`_add_branches`).
import type { Revision } from '../revision.js';
import { cacheFor, type Core } from './build.js';

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
      for (let k = childStart[i]; k < childStart[i + 1]; k++) {
        if (seen[childList[k]]) continue;
        seen[childList[k]] = 1;
        todo.push(childList[k]);
      }
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
