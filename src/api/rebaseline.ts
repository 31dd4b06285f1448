/**
 * The public rebaseline entry point (see api/migrate.ts for what this folder is): opens the guarded
 * target once (the guard runs on its first use, after the history and the doctor) and runs the flow.
 */
import type { GuardOverride } from '../ledger/guard.js';
import { asTidemarkError } from '../errors.js';
import { rebaseline as rebaselineTarget, rebaselineFailed, type RebaselineResult, type RebaselineSettings } from '../flows/rebaseline.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { RebaselineResult, RebaselineStep, RebaselineStepName, RebaselineTableRows } from '../flows/rebaseline.js';

export interface RebaselineOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, GuardOverride, RebaselineSettings {
  /** The one service to rebaseline. */
  service: string;
}

export async function rebaseline(options: RebaselineOptions): Promise<RebaselineResult> {
  const { forceProtected, yesIMean, ask } = options;
  try {
    return await withTarget(options, { guard: 'rebaseline', forceProtected, yesIMean, ask }, (target) => rebaselineTarget(target, options));
  } catch (err) {
    // Only opening the target throws (the flow returns its failures): a config or service refused.
    return rebaselineFailed(options.service, !!options.dryRun, asTidemarkError(err));
  }
}
