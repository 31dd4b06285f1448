/**
 * The public entry point of `tidemark test` (see api/migrate.ts for what this folder is): the boundary
 * opens the target (its shadow policy decides where the migrations run: a temporary database on the
 * target's server, else PGlite, or `shadow`), runs the core (flows/test) and closes what it opened.
 */
import { asTidemarkError, type TidemarkError } from '../errors.js';
import { testMigrations as testCore, type TestOptions as TestCoreOptions, type TestReport } from '../flows/test/index.js';
import type { ScopeOptions } from '../target/open.js';
import { withTarget } from './boundary.js';

export type { TestCheck, TestFinding, TestReport } from '../flows/test/index.js';

export type TestOptions = Omit<ScopeOptions, 'service' | 'withRequired'> & TestCoreOptions;

/** A TestReport, or `error` when the run could not start (a config or `service` refused, no shadow to open). */
export interface TestResult extends TestReport {
  error?: TidemarkError;
}

/** Runs the checks of `tidemark test`. Results as values: never throws. */
export async function testMigrations(options: TestOptions = {}): Promise<TestResult> {
  const started = performance.now();
  const { service, requireDown, shadow, fixtures, ...where } = options;
  try {
    // The selection is the core's (only tidemark services by default): the target gets none.
    return await withTarget(where, {}, (target) => testCore(target, { service, requireDown, shadow, fixtures }));
  } catch (err) {
    return { ok: false, findings: [], shadow: '', ms: Math.round(performance.now() - started), error: asTidemarkError(err) };
  }
}
