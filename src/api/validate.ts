/**
 * The public validate entry point (see api/migrate.ts for what this folder is): the boundary opens the
 * target (its database connects on first use, after validate has checked `--against`), runs the core
 * (flows/validate.ts: data/validate.ts with the replay wired in) and closes what it opened.
 */
import { failedValidation, type ValidateCoreOptions, type ValidateResult } from '../data/validate.js';
import { validate as validateTarget } from '../flows/validate.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { ValidateResult, ValidateFinding, ValidateCheck, CountComparison, RelationshipCheck } from '../data/validate.js';

/** Where the workspace and the database come from (a config, a workspace, a URL or an open Database, left open), the services, and validate's own options. */
export type ValidateOptions = Omit<ScopeOptions, 'withRequired'> & ValidateCoreOptions;

/** Results as values: never throws (a config or `--service` refused is the result's `error`, with no database named yet). */
export async function validate(options: ValidateOptions = {}): Promise<ValidateResult> {
  const started = performance.now();
  let result: ValidateResult;
  try {
    // The core returns its failures as values: what reaches the catch is the target refusing to open.
    result = await withTarget(options, {}, (target) => validateTarget(target, { against: options.against, structure: options.structure, shadow: options.shadow, replay: options.replay }));
  } catch (err) {
    result = failedValidation(err);
  }
  // As validate has always timed itself: from loading the config to closing the database.
  result.durationMs = performance.now() - started;
  return result;
}
