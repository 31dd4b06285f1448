/**
 * The public adopt entry point (see api/migrate.ts for what this folder is): opens the target once
 * (lazily: the service, the new directory and the archive are checked before the first connection),
 * runs the core on it, closes it. Results as values: never throws.
 */
import { adopt as adoptCore, failedAdopt, type AdoptCoreOptions, type AdoptResult } from '../flows/adopt.js';
import { openTarget, type OpenedTarget, type ScopeOptions } from '../target/open.js';

export type { AdoptResult } from '../flows/adopt.js';

export interface AdoptOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, AdoptCoreOptions {}

export async function adopt(options: AdoptOptions): Promise<AdoptResult> {
  const started = performance.now();
  // `service` is an Alembic-kept one, adopt's own to check: not the scope's selection (which refuses those).
  const { service, as, dir, write, archive, lockTimeoutMs, onEvent, ...scope } = options;
  let target: OpenedTarget;
  try {
    target = await openTarget(scope);
  } catch (err) {
    return failedAdopt(options, err, performance.now() - started);
  }
  try {
    // The core returns its failures as values; a throw here would be a bug, still reported as a result.
    const result = await adoptCore(target, { service, as, dir, write, archive, lockTimeoutMs, onEvent }).catch((err: unknown) => failedAdopt(options, err, 0));
    result.durationMs = performance.now() - started;
    return result;
  } finally {
    await target.close().catch(() => {});
  }
}
