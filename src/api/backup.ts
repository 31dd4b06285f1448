/**
 * The public backup entry points (see api/migrate.ts for what this folder is): `backup(options)` is the
 * boundary of the backup core (data/backup/index.ts): it resolves the config (none needed for named
 * tables alone), the services and the database once, runs the core on that target and closes what it
 * opened. Results as values, as always: a refused option or an unreadable config is `error` in the result.
 * The core and the opener are imported when backup runs, so `verify-backup` (files only) starts without them.
 */
import { isTidemarkError } from '../errors.js';
import type { BackupCoreOptions, BackupResult } from '../data/backup/types.js';
import type * as Selection from '../data/backup/selection.js';
import type { OpenedTarget, openTarget as OpenTarget, ScopeOptions } from '../target/open.js';

export type { BackupResult, BackupFormat } from '../data/backup/types.js';
export type { BackupEvent } from '../progress.js';
export { verifyBackup } from '../data/verify.js';
export type { VerifyResult, VerifyProblem } from '../data/verify.js';
export type { Manifest, ManifestTable } from '../data/manifest.js';

export interface BackupOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, BackupCoreOptions {
  /** Services whose owned tables to back up (default: every service, Alembic-kept ones included, when no table is named). */
  service?: string | readonly string[];
}

export async function backup(options: BackupOptions = {}): Promise<BackupResult> {
  const [{ backup: backupCore, checkBackupOptions, failedBackup }, { openTarget }, selection] = await Promise.all([
    import('../data/backup/index.js'),
    import('../target/open.js'),
    import('../data/backup/selection.js'),
  ]);
  const started = performance.now();
  let target: OpenedTarget;
  try {
    // In today's order: the options, then the config, then the services named; the database comes last (lazily).
    checkBackupOptions(options);
    target = await openBackupTarget(options, openTarget, selection);
  } catch (err) {
    return failedBackup(options, err, started);
  }
  try {
    return await backupCore(target, options);
  } finally {
    await target.close().catch(() => {}); // closing a broken connection must not hide the real outcome
  }
}

/** The target of a backup: backup's own choice of services (not the migrating commands'), and no config needed for named tables alone. */
async function openBackupTarget(options: BackupOptions, openTarget: typeof OpenTarget, { backupServices }: typeof Selection): Promise<OpenedTarget> {
  const { service: _service, ...rest } = options;
  let target: OpenedTarget;
  try {
    target = await openTarget(rest);
  } catch (err) {
    if (!(options.table?.length && !options.service && isTidemarkError(err) && err.code === 'config-not-found')) throw err;
    // Named tables need no config, nor does a database URL given directly; services do.
    const { workspaceWithoutConfig } = await import('./scope.js');
    target = await openTarget({ ...rest, workspace: workspaceWithoutConfig(rest.cwd) });
  }
  try {
    target.services = backupServices(target.workspace, options);
  } catch (err) {
    await target.close().catch(() => {});
    throw err;
  }
  return target;
}
