/**
 * `tidemark validate` as the CLI and the package run it: src/data/validate.ts with its structure
 * check wired to the one replay (apply/replay.ts `replay` on the shadow). data/ sits below apply/ (DESIGN §7), so
 * the wiring is done here, where flows compose the layers.
 */
import { replay } from '../apply/replay.js';
import { validate as validateWith, type MigrationReplay, type ValidateOptions, type ValidateResult } from '../data/validate.js';

const replayMigrations: MigrationReplay = (shadow, workspace, service) => replay({ workspace }, service, shadow);

export function validate(options: ValidateOptions = {}): Promise<ValidateResult> {
  return validateWith({ ...options, replay: options.replay ?? replayMigrations });
}
