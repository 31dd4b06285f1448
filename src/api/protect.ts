/** The public protect entry point (see api/migrate.ts for what this folder is). */
export { protect } from '../flows/guard.js';
export type { ProtectOptions, ProtectResult } from '../flows/guard.js';
