/**
 * The public baseline entry point (see api/migrate.ts for what this folder is): opens the target once
 * and connects at once (the CLI always did, before checking the service and the file already there),
 * runs the core on it, closes it. Results as values: never throws.
 *
 * Besides what the boundary resolves, two options of the API choose the proof's shadow and so
 * replace the target's openShadow: `shadow`, an open Database used as it is (neither checked, emptied
 * nor closed), and `targetUrl`, the live database's URL with credentials when the caller gave an open
 * Database (so the proof may use a temporary database on that server).
 */
import type { Database } from '../db/database.js';
import type { Shadow, ShadowRequest } from '../db/shadow.js';
import { baseline as baselineCore, failedBaseline, type BaselineCoreOptions, type BaselineResult } from '../flows/baseline.js';
import { openTarget, type OpenedTarget, type ScopeOptions } from '../target/open.js';
import type { Target } from '../target/target.js';

export type { BaselineResult } from '../flows/baseline.js';

export interface BaselineOptions extends Omit<ScopeOptions, 'service' | 'withRequired'>, BaselineCoreOptions {
  /** A shadow database to prove on (default: the shadow policy's, closed afterwards). Must be empty. */
  shadow?: Database;
  /** The live database's URL with credentials: lets the proof use a temporary database on that server. */
  targetUrl?: string;
}

export async function baseline(options: BaselineOptions): Promise<BaselineResult> {
  const started = performance.now();
  // `service` is baseline's own to check (an Alembic-kept service can be baselined): not the scope's selection.
  const { service, dir, force, dryRun, shadowUrl, schema, out, shadow, targetUrl, ...scope } = options;
  let target: OpenedTarget;
  try {
    target = await openTarget(scope);
  } catch (err) {
    return failedBaseline(options, err, performance.now() - started);
  }
  try {
    // baseline connects before it looks at the service and its files, as it always has: a database that
    // cannot be reached is the answer even when the file is already there. (A Database given is open.)
    if (target.name.source !== 'given') {
      try {
        await target.db.query('SELECT 1');
      } catch (err) {
        return failedBaseline(options, err, performance.now() - started, { database: target.name.display, databaseSource: target.name.source });
      }
    }
    // The core returns its failures as values; a throw here would be a bug, still reported as a result.
    const result = await baselineCore(withShadowOf(target, { shadow, targetUrl, cwd: options.cwd }), { service, dir, force, dryRun, shadowUrl, schema, out }).catch((err: unknown) =>
      failedBaseline(options, err, 0),
    );
    result.durationMs = performance.now() - started;
    return result;
  } finally {
    await target.close().catch(() => {});
  }
}

/** The target with the shadow the caller chose, when it chose one. */
function withShadowOf(target: OpenedTarget, chosen: { shadow?: Database; targetUrl?: string; cwd?: string }): Target {
  const { shadow, targetUrl, cwd } = chosen;
  if (shadow) {
    const given: Shadow = { database: shadow, kind: 'url', description: shadow.displayUrl, dispose: async () => {} };
    return { ...target, openShadow: async () => given };
  }
  if (targetUrl !== undefined) {
    return {
      ...target,
      async openShadow(request: ShadowRequest = {}) {
        const { openShadow } = await import('../db/shadow.js');
        return openShadow({ target: target.db, targetUrl, shadowUrl: request.url, prefer: request.prefer, cwd });
      },
    };
  }
  return target;
}
