// Moved to ./restore/ (issue 12): this shim keeps the old module path importable until Session 3.
export { BULK_FOREIGN_KEY_ROWS, restore, type FilledColumn, type RestoreOptions, type RestoreResult, type RestoreTableResult } from './restore/index.js';
