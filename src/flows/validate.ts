/**
 * `tidemark validate` as the CLI and the package run it: src/data/validate.ts with its structure
 * check wired to the one replay (apply/replay.ts `replay` on the shadow). data/ sits below apply/ (DESIGN §7), so
 * the wiring is done here, where flows compose the layers. The boundary (api/validate.ts) opens the target.
 */
import { replay } from '../apply/replay.js';
import type { Session } from '../db/database.js';
import { validate as validateWith, type MigrationReplay, type ValidateCoreOptions, type ValidateResult } from '../data/validate.js';
import type { Target } from '../target/target.js';

// validate compares tables only: the `tables` mode reads them in 13 catalog queries instead of 22.
const replayMigrations: MigrationReplay = (shadow, workspace, service) => replay({ workspace }, service, shadow, { mode: 'tables' });

export function validate(target: Target<Session>, options: ValidateCoreOptions = {}): Promise<ValidateResult> {
  return validateWith(target, { ...options, replay: options.replay ?? replayMigrations });
}
