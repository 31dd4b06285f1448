/**
 * The public entry point of `tidemark squash` (see api/migrate.ts for what this folder is): opens the target
 * (its database is only read, for the ledger; its shadow policy decides where the proof runs), runs the core
 * (flows/squash.ts) and closes what it opened. Results as values: never throws.
 */
import { failedSquash, squash as squashCore, type SquashCoreOptions, type SquashResult } from '../flows/squash.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { SquashResult } from '../flows/squash.js';

export interface SquashOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, SquashCoreOptions {}

export async function squash(options: SquashOptions): Promise<SquashResult> {
  const started = performance.now();
  const { service, to, dryRun, shadowUrl, ...where } = options;
  try {
    // The service is the core's to check (it names its own refusals): the target gets no selection.
    const result = await withTarget(where, {}, (target) => squashCore(target, { service, to, dryRun, shadowUrl }));
    result.durationMs = performance.now() - started;
    return result;
  } catch (err) {
    return failedSquash(options, err, performance.now() - started);
  }
}
