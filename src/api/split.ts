/**
 * `alembic split-version-table` as a public entry point: opens the target (config, its database:
 * lazily, so the config's own errors come first), runs apply/alembic-split.ts on it, closes what it
 * opened. Results as values: a config the boundary refuses comes back as `ok: false` with `error`.
 */
import { splitFailure, splitVersionTable as splitCore, type SplitOptions, type SplitResult } from '../apply/alembic-split.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { SplitMove, SplitResult } from '../apply/alembic-split.js';

export interface SplitVersionTableOptions extends Omit<ScopeOptions, 'withRequired' | 'service'>, SplitOptions {}

export async function splitVersionTable(options: SplitVersionTableOptions): Promise<SplitResult> {
  const { config, workspace, configFile, cwd, database, onConnect } = options;
  try {
    return await withTarget({ config, workspace, configFile, cwd, database, onConnect }, {}, (target) => splitCore(target, options));
  } catch (err) {
    return splitFailure(options.dryRun, err);
  }
}
