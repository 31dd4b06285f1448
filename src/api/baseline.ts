/** The public baseline entry point (see api/migrate.ts for what this folder is). */
export { baseline } from '../flows/baseline.js';
export type { BaselineOptions, BaselineResult } from '../flows/baseline.js';
