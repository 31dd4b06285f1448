// Moved to ./restore/ (issue 12): this shim keeps the old module path importable until Session 3.
// The public entry point, with the options a command gives (config, database, session…), is api/restore.ts.
export { BULK_FOREIGN_KEY_ROWS, restore, type FilledColumn, type RestoreCoreOptions, type RestoreResult, type RestoreTableResult } from './restore/index.js';
