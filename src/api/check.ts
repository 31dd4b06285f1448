/**
 * The public check entry point, and the boundary of `tidemark check` (see api/migrate.ts for what this
 * folder is). It decides what the core gets: no config with --alembic; a Scope without a database; a
 * Target (opened lazily: the files are read first) when --db is asked or the config names a database.
 * Never throws: a config that cannot be loaded is the report's `error`, as are the core's failures.
 */
import { check as checkCore, checkFailed, type CheckCoreOptions, type CheckReport } from '../check/run.js';
import type { Scope } from '../target/target.js';
import type { ScopeOptions } from '../target/open.js';
import { scopeWithoutConfig, workspaceOf, workspaceScope } from './scope.js';

export type { CheckReport, ServiceReport } from '../check/run.js';

export interface CheckOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, CheckCoreOptions {
  /** Run the database rules (URL from `database`, DATABASE_URL, the config or the embedded default). Default: only when the config names a database. */
  db?: boolean;
  /** With the database: compare each service's live schema with its applied history replayed on a shadow (rule schema-drift). Default true. */
  drift?: boolean;
}

/** Runs every rule over the workspace's histories (and the database with `db`). Never throws. */
export async function check(options: CheckOptions = {}): Promise<CheckReport> {
  const { alembic, service, rules, db, drift, ...where } = options;
  const core: CheckCoreOptions = { alembic, service, rules };
  let scope: Scope;
  try {
    // `check --alembic` reads no config, and its database (with --db) is never the config's.
    scope = alembic?.length ? scopeWithoutConfig(options.cwd) : workspaceScope(await workspaceOf(options), options.cwd);
  } catch (err) {
    return checkFailed(options, err);
  }
  // A database named in the config is checked without asking; --no-db skips it.
  if (!(db ?? Boolean(scope.workspace.database))) return checkCore(scope, core);
  // The selection stays check's own (it may name Alembic-kept services): the target gets none.
  const { withTarget } = await import('./boundary.js');
  // `check --alembic` has no tidemark services, so no drift to read.
  const readDrift = drift === false || alembic?.length ? undefined : (await import('../flows/drift.js')).readDrift;
  return withTarget({ ...where, workspace: scope.workspace }, {}, (target) => checkCore(target, { ...core, readDrift: readDrift && ((services) => readDrift(target, services)) })).catch(
    (err: unknown) => checkFailed(options, err),
  );
}
