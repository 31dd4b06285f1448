/** The public check entry point (see api/migrate.ts for what this folder is). */
export { check } from '../check/run.js';
export type { CheckOptions, CheckReport, ServiceReport } from '../check/run.js';
