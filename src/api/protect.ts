/**
 * The public protect entry point (see api/migrate.ts for what this folder is): the target opened once
 * (a URL given directly needs no config), then the core. Never throws: failures are the result's `error`.
 */
import { isTidemarkError } from '../errors.js';
import { protect as protectCore, protectFailed, type ProtectCoreOptions, type ProtectResult } from '../flows/guard.js';
import type { OpenedTarget, ScopeOptions } from '../target/open.js';
import { scopeWithoutConfig } from './scope.js';

export type { ProtectResult } from '../flows/guard.js';

export interface ProtectOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, ProtectCoreOptions {}

/** Marks the database as protected inside itself (the ledger schema), or removes the mark. Never throws. */
export async function protect(options: ProtectOptions): Promise<ProtectResult> {
  const { off, forceProtected, yesIMean, ask, ...where } = options;
  let target: OpenedTarget;
  try {
    const { openScope, openTarget } = await import('../target/open.js');
    const scope = await openScope(where).catch((err: unknown) => {
      // A URL given directly needs no config.
      if (options.database !== undefined && isTidemarkError(err) && err.code === 'config-not-found') return scopeWithoutConfig(options.cwd);
      throw err;
    });
    target = await openTarget({ ...where, workspace: scope.workspace });
  } catch (err) {
    return protectFailed(options, err);
  }
  try {
    return await protectCore(target, { off, forceProtected, yesIMean, ask });
  } finally {
    await target.close().catch(() => {});
  }
}
