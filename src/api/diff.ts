/**
 * The public entry point of `tidemark diff` (see api/migrate.ts for what this folder is): the boundary
 * opens the target (whose shadow policy the sources and the proof use), hands the core a way to open a
 * `--from`/`--to` database URL that is not the target, runs it, and closes what it opened.
 */
import type { Database } from '../db/database.js';
import { autogenerate, type DiffCoreOptions, type DiffResult, failedDiff } from '../flows/autogen/diff.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { DiffResult } from '../flows/autogen/diff.js';

export type DiffOptions = Omit<ScopeOptions, 'service' | 'withRequired'> & Omit<DiffCoreOptions, 'open'>;

/** Writes the migration that turns a service's `from` schema into its `to` schema, proven first. Results as values: never throws. */
export async function diff(options: DiffOptions): Promise<DiffResult> {
  const started = performance.now();
  const { service, from, to, name, dryRun, oneFile, shadowUrl, ...where } = options;
  const core: DiffCoreOptions = { service, from, to, name, dryRun, oneFile, shadowUrl, open: (url) => openOther(url, options.cwd) };
  try {
    return await withTarget(where, {}, (target) => autogenerate(target, core));
  } catch (err) {
    return failedDiff(core, err, performance.now() - started);
  }
}

async function openOther(url: string, cwd: string | undefined): Promise<Database> {
  const { openDatabase } = await import('../db/open.js');
  return openDatabase(url, { cwd });
}
