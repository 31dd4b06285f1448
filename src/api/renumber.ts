/**
 * `renumber` as a public entry point: opens the target (config, the one service, its database: lazily,
 * so it is opened only when the core needs its ledger, never created), runs apply/renumber.ts on it,
 * closes what it opened. Results as values: a config or a service the boundary refuses comes back as
 * `ok: false` with `error`, as it always did.
 */
import { renumber as renumberCore, renumberFailure, type RenumberCoreOptions, type RenumberResult } from '../apply/renumber.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { RenumberDatabaseCheck, RenumberFile, RenumberGroup, RenumberMove, RenumberResult, RequiresEdit } from '../apply/renumber.js';

export interface RenumberOptions extends Omit<ScopeOptions, 'withRequired' | 'service'>, RenumberCoreOptions {
  service: string;
}

export async function renumber(options: RenumberOptions): Promise<RenumberResult> {
  const { config, workspace, configFile, cwd, database, onConnect, service } = options;
  try {
    return await withTarget({ config, workspace, configFile, cwd, database, onConnect, service }, {}, (target) => renumberCore(target, options));
  } catch (err) {
    return renumberFailure(service, options.dryRun, err);
  }
}
