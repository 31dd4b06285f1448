/**
 * The public reset entry point (see api/migrate.ts for what this folder is): opens the target once,
 * guarded (`reset` is destructive: the protected list, a remote host, the server's answers and the
 * mark are checked as it connects, on the core's first use, before anything is dropped), runs the core
 * on it, closes it.
 */
import type { GuardOverride } from '../ledger/guard.js';
import { failedReset, reset as resetCore, type ResetCoreOptions, type ResetResult } from '../flows/reset.js';
import { openTarget, type OpenedTarget, type ScopeOptions } from '../target/open.js';
import type { DatabaseSource } from '../target/target.js';

export type { ResetCoreOptions, ResetResult, ResetServiceResult } from '../flows/reset.js';

export interface ResetOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, GuardOverride, ResetCoreOptions {
  /** One service or several (reset together: dependents dropped first, all re-applied in order). */
  service: string | readonly string[];
}

/** Drops what the chosen services own and re-applies their migrations. Results as values: never throws. */
export async function reset(options: ResetOptions): Promise<ResetResult> {
  const started = performance.now();
  // Filled in before connecting, so a failure before the core runs (config, services) still names what it can.
  const named: { database: string; databaseSource: DatabaseSource } = { database: '', databaseSource: 'default' };
  const { forceProtected, yesIMean, ask, lockTimeoutMs, dryRun, onEvent, ...scope } = options;
  let target: OpenedTarget;
  try {
    target = await openTarget(scope, { guard: 'reset', forceProtected, yesIMean, ask, report: named });
  } catch (err) {
    return failedReset(options, err, named, performance.now() - started);
  }
  // The core returns its failures as values; a throw here would be a bug, still reported as a result.
  const result = await resetCore(target, { lockTimeoutMs, dryRun, onEvent }).catch((err: unknown) =>
    failedReset(options, err, { database: target.name.display, databaseSource: target.name.source }, 0),
  );
  await target.close().catch(() => {});
  result.durationMs = performance.now() - started;
  return result;
}
