/** The public reset entry point (see api/migrate.ts for what this folder is). */
export { reset } from '../flows/reset.js';
export type { ResetOptions, ResetResult, ResetServiceResult } from '../flows/reset.js';
