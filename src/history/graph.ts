// Moved to history/graph/ (issue 12); this re-export keeps old import paths compiling until they are repointed.
// Straight from each file, not through index.js: one module fewer on `tidemark check`'s start-up.
export { buildGraph, type GraphSummary, type MissingReference, type RevisionGraph } from './graph/build.js';
export { findCycles } from './graph/cycles.js';
export { findBases, findBranchPoints, findEffectiveHeads, findHeads, findMergePoints, summarizeGraph } from './graph/heads.js';
export { branchMembers, labelsOf } from './graph/labels.js';
export { findMissingReferences } from './graph/missing.js';
export { ancestorsOf, topologicalOrder } from './graph/order.js';
