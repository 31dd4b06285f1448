/** tidemark's programmatic API: results are returned as values (see README, "Programmatic API"). */
export { defineConfig } from './config/types.js';
export type { TidemarkConfig, ServiceConfig, Service, Workspace, SoftRelation } from './config/types.js';
export { loadWorkspace } from './config/load.js';
export { up, down, status, stamp } from './apply/migrate.js';
export { DEFAULT_DATABASE_URL } from './db/url.js';
export type { MigrateOptions, MigrateResult, StatusResult, ServiceStatus, MigrationStatus, StampResult, PlannedStep } from './apply/migrate.js';
export type { StepResult, ApplyEvent, MigrationContext } from './apply/execute.js';
export { planUp, planDown, BASE } from './apply/plan.js';
export type { Plan, PlanStep } from './apply/plan.js';
export { readTidemarkHistory } from './history/read-tidemark.js';
export type { History, MigrationFile } from './history/migration.js';
export type { Database, Queryable } from './db/database.js';
export type { Diagnostic } from './diagnostic.js';
export { TidemarkError } from './errors.js';
