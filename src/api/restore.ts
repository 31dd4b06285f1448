/** The public restore entry point (see api/migrate.ts for what this folder is). */
export { restore } from '../data/restore.js';
export type { RestoreOptions, RestoreResult, RestoreTableResult, FilledColumn } from '../data/restore.js';
