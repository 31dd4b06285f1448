// Heads, effective heads, bases, merge points and branch points (Alembic's RevisionMap names).
import type { Revision } from '../revision.js';
import { cacheFor, type Core, type GraphSummary, idsWhere } from './build.js';

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
