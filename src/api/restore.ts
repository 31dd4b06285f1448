/**
 * The public restore entry point (see api/migrate.ts for what this folder is): the boundary of the
 * restore core (data/restore/). It takes what a command gives (a config, a database URL or an open
 * Database, a caller's transaction as `session`, the guard's overrides), resolves the target once and
 * hands it down. Results as values, as before: never throws.
 *
 * The order of the checks is the one restore always had: the backup (verified) and the services asked
 * of it, then the config (none found is allowed: a restore needs only a database), then whether the
 * current config owns every table, and only then the database: guarded for `replace` (the same guard
 * as reset, so nobody is asked to type a name back for a backup that is refused anyway), else opened
 * on its first use.
 */
import path from 'node:path';
import type { Workspace } from '../config/types.js';
import type { Session } from '../db/database.js';
import { failedRestore, readRestoreInput, refuseNotOwned, restoreChecked, restoreResult, type RestoreCoreOptions, type RestoreInput, type RestoreResult } from '../data/restore/index.js';
import { isTidemarkError } from '../errors.js';
import type { GuardOverride } from '../ledger/guard.js';
import { openScope, openTarget, type OpenedTarget, type ScopeOptions } from '../target/open.js';
import { withTx } from '../target/target.js';
import { workspaceWithoutConfig } from './scope.js';

export type { FilledColumn, RestoreCoreOptions, RestoreResult, RestoreTableResult } from '../data/restore/index.js';

/**
 * What a command gives: where the config and the database are (no config found is allowed: a restore
 * needs only a database; no table is then owned), the guard's overrides for `replace`, and the core's
 * options (whose `service` names the backup's services, not a selection of the config's).
 */
export interface RestoreOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, GuardOverride, RestoreCoreOptions {
  /**
   * The session to restore on, instead of connecting to `database`: a flow such as rebaseline hands in
   * its transaction (a Tx) and already holds the services' locks. restore then takes no locks of its
   * own and runs in `session.transaction()` — a SAVEPOINT on a Tx, so a failure undoes the restore
   * alone and the result carries the error (the caller decides whether to roll back the rest). At the
   * end deferred constraints are checked (SET CONSTRAINTS ALL IMMEDIATE), so a violation is the
   * restore's error, and its settings are put back (SET LOCAL outlives RELEASE SAVEPOINT).
   * `database`, when it is the Database the session belongs to, only names it in the result.
   * (A caller holding a Target passes `withTx(target, tx)` to the core instead.)
   */
  session?: Session;
}

export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const result = restoreResult(path.resolve(options.cwd ?? process.cwd(), options.dir));
  let input: RestoreInput;
  let workspace: Workspace | undefined;
  try {
    input = await readRestoreInput(result, options.service);
    workspace = await workspaceOrNone(options);
    refuseNotOwned(input.tables, workspace);
  } catch (err) {
    return failedRestore(result, err, started);
  }

  const scope = {
    config: options.config,
    configFile: options.configFile,
    cwd: options.cwd,
    database: options.database,
    onConnect: options.onConnect,
    // No config: an empty one rooted at cwd (relative URLs and `protected` resolve as they did with none).
    workspace: workspace ?? workspaceWithoutConfig(options.cwd),
  };
  const session = options.session;
  let target: OpenedTarget;
  try {
    // --replace deletes rows: the same guard as reset (protected list, remote host, in-database mark).
    // A caller's session was guarded by the caller.
    target = await openTarget(scope, {
      ...(options.replace && !session ? { guard: 'restore --replace into' } : {}),
      forceProtected: options.forceProtected,
      yesIMean: options.yesIMean,
      ask: options.ask,
      report: result,
    });
  } catch (err) {
    return failedRestore(result, err, started);
  }
  try {
    const done = await restoreChecked(session ? withTx(target, session) : target, result, input, options, started);
    // A session without its Database: the result names no database, as before.
    if (session && typeof options.database !== 'object') Object.assign(done, { database: '', databaseSource: 'default' });
    return done;
  } finally {
    await target.close().catch(() => {});
  }
}

/** The workspace the options name; none when no config is found (a restore needs only a database). */
async function workspaceOrNone(options: RestoreOptions): Promise<Workspace | undefined> {
  try {
    return (await openScope({ config: options.config, workspace: options.workspace, configFile: options.configFile, cwd: options.cwd })).workspace;
  } catch (err) {
    if (isTidemarkError(err) && err.code === 'config-not-found') return undefined;
    throw err;
  }
}
