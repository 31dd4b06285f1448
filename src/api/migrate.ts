/**
 * api/ is the public programmatic API (README "Programmatic API"): convenience entry points that take a
 * config or a URL, resolve the target once, and call the cores. src/index.ts re-exports this folder.
 *
 * up, down, status, stamp: each opens its Target (config, services, the database: lazily, so a broken
 * migration file is still reported before any connection), runs the core of apply/migrate.ts on it,
 * and closes what it opened. Results are values: a config or a service the boundary refuses comes back
 * as `ok: false` with `error`, as it always did; nothing throws.
 */
import {
  down as downCore,
  downNeedsOneService,
  migrateFailure,
  stamp as stampCore,
  stampFailure,
  status as statusCore,
  statusFailure,
  up as upCore,
  type MigrateCoreOptions,
  type MigrateResult,
  type StampCoreOptions,
  type StampResult,
  type StatusResult,
} from '../apply/migrate.js';
import { openScope, type ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { MigrateResult, StatusResult, ServiceStatus, MigrationStatus, StampResult, PlannedStep } from '../apply/migrate.js';

/** Where to migrate (a config, a workspace or a config file; a URL or an open Database, left open) and how. */
export interface MigrateOptions extends Omit<ScopeOptions, 'withRequired'>, MigrateCoreOptions {
  /** One service or several; default all tidemark services. */
  service?: string | readonly string[];
}

export type StatusOptions = Omit<ScopeOptions, 'withRequired'>;

export interface StampOptions extends Omit<ScopeOptions, 'withRequired' | 'service'>, StampCoreOptions {
  service: string;
}

/** The boundary's part of the options: who gives the config, the database, the services. */
function scopeOptions(options: Omit<ScopeOptions, 'withRequired'>): ScopeOptions {
  const { config, workspace, configFile, cwd, database, onConnect, service } = options;
  return { config, workspace, configFile, cwd, database, onConnect, service };
}

/** Applies pending migrations (all tidemark services, or `service`), as values: never throws. */
export async function up(options: MigrateOptions = {}): Promise<MigrateResult> {
  try {
    return await withTarget(scopeOptions(options), {}, (target) => upCore(target, options));
  } catch (err) {
    return migrateFailure('up', options.dryRun, err);
  }
}

/** Reverts one service's migrations down to `to` (or BASE), or the last `steps`. Never throws. */
export async function down(options: MigrateOptions & { service: string }): Promise<MigrateResult> {
  try {
    // The config's own errors first, then this usage error, then the service names (as always).
    const { workspace } = await openScope({ ...scopeOptions(options), service: undefined });
    // Typed as one name, but JavaScript callers (and the CLI, with no --service) may give none or several.
    const service: string | readonly string[] | undefined = options.service;
    if (service === undefined || (typeof service !== 'string' && service.length !== 1)) throw downNeedsOneService();
    return await withTarget({ ...scopeOptions(options), workspace }, {}, (target) => downCore(target, options));
  } catch (err) {
    return migrateFailure('down', options.dryRun, err);
  }
}

/** Files against ledger, per service. Reads only: never creates the ledger. Never throws. */
export async function status(options: StatusOptions = {}): Promise<StatusResult> {
  try {
    return await withTarget(scopeOptions(options), {}, (target) => statusCore(target));
  } catch (err) {
    return statusFailure(err);
  }
}

/**
 * Makes the ledger say exactly "every migration of the service up to `to` is applied" without
 * running any SQL (Alembic's stamp): for databases built before tidemark, and to resolve a failed
 * no-transaction migration. `to` may be BASE. Never throws.
 */
export async function stamp(options: StampOptions): Promise<StampResult> {
  try {
    return await withTarget(scopeOptions(options), {}, (target) => stampCore(target, options));
  } catch (err) {
    return stampFailure(options.service, err);
  }
}
