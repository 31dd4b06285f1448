// Moved to history/graph/ (issue 12); this re-export keeps old import paths compiling until they are repointed.
export {
  ancestorsOf,
  branchMembers,
  buildGraph,
  findBases,
  findBranchPoints,
  findCycles,
  findEffectiveHeads,
  findHeads,
  findMergePoints,
  findMissingReferences,
  type GraphSummary,
  labelsOf,
  type MissingReference,
  type RevisionGraph,
  summarizeGraph,
  topologicalOrder,
} from './graph/index.js';
