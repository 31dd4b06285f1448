// The revision graph, one file per question: build (the one indexed form, memoized per array), heads,
// cycles, missing (references), labels, order (+ heap, its queue). Code outside this folder imports from here, except
// check/ (the rules, run, graph-view), which imports each file straight: one module fewer on `tidemark check`'s start-up.
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
export { type GraphSummary, type MissingReference, type RevisionGraph, buildGraph } from './build.js';
export { findCycles } from './cycles.js';
export { findBases, findBranchPoints, findEffectiveHeads, findHeads, findMergePoints, summarizeGraph } from './heads.js';
export { branchMembers, labelsOf } from './labels.js';
export { findMissingReferences } from './missing.js';
export { ancestorsOf, topologicalOrder } from './order.js';
