/**
 * api/ is the public programmatic API (README "Programmatic API"): convenience entry points that take a
 * config or a URL, resolve the target once, and call the cores. src/index.ts re-exports this folder.
 * Issue 12: these are re-exports until the cores take `(target, options)`; then each becomes a thin wrapper.
 */
export { up, down, status, stamp } from '../apply/migrate.js';
export type { MigrateOptions, MigrateResult, StatusResult, ServiceStatus, MigrationStatus, StampResult, PlannedStep } from '../apply/migrate.js';
