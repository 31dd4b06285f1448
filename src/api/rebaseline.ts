/** The public rebaseline entry point (see api/migrate.ts for what this folder is). */
export { rebaseline } from '../flows/rebaseline.js';
export type { RebaselineOptions, RebaselineResult, RebaselineStep, RebaselineStepName } from '../flows/rebaseline.js';
