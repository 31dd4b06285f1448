/**
 * The boundary's opener: a command (src/cli/*) or a public API wrapper (src/api/*) calls openScope or
 * openTarget ONCE, then hands the result to the cores. This is the only place below which nothing
 * loads a config or opens a connection (db/connect.ts stays for the cores not switched yet).
 *
 * Whoever opens closes: `close()` closes the database only when openTarget opened it (a Database the
 * caller handed in is wrapped, never reopened, never closed), plus any shadow still open.
 */
import { withRequiredServices } from '../config/load.js';
import { selectServices } from '../config/select.js';
import type { Service, Workspace } from '../config/types.js';
import { closeQuietly, connectResolved, resolveConnection, resolveDatabaseUrl, resolveWorkspace, type ConnectionReport, type DatabaseSource, type ResolvedConnection, type WorkspaceOptions } from '../db/connect.js';
import { lazyDatabase } from '../db/lazy.js';
import type { Database } from '../db/database.js';
import { openShadow as openShadowDb, type Shadow, type ShadowRequest } from '../db/shadow.js';
import { redactUrl, type DatabaseTarget } from '../db/url.js';
import { enforceGuard, guardConnected, guardTarget, protectionStatus, type GuardOverride } from '../ledger/guard.js';
import { makePaths } from './paths.js';
import type { Scope, Target, TargetName } from './target.js';

export interface ScopeOptions extends WorkspaceOptions {
  /** The services to work on (default: every tidemark service); unknown and Alembic-kept ones are refused. */
  service?: string | readonly string[];
  /** Add the services the selected ones require (replay, reset). */
  withRequired?: boolean;
}

export interface OpenTargetHow extends GuardOverride {
  /** The verb of a destructive command (`reset`, `rebaseline`, `restore --replace into`): the guard is enforced. */
  guard?: string;
  /** Gets the database and its source BEFORE connecting, so a refusal or a failure to connect names them. */
  report?: Partial<ConnectionReport>;
}

/** A Target this module opened: the caller closes it. */
export interface OpenedTarget extends Target {
  close(): Promise<void>;
}

export async function openScope(options: ScopeOptions): Promise<Scope> {
  const workspace = await resolveWorkspace(options);
  return scopeOf(workspace, options);
}

/** The Scope of a loaded workspace (no I/O). */
export function scopeOf(workspace: Workspace, options: Pick<ScopeOptions, 'service' | 'withRequired' | 'cwd'>): Scope {
  let services: readonly Service[] = selectServices(workspace, options.service);
  if (options.withRequired) {
    const names = new Set(withRequiredServices(workspace, services.map((s) => s.name)));
    services = workspace.services.filter((s) => names.has(s.name));
  }
  return { workspace, services, paths: makePaths(workspace.root, options.cwd ?? process.cwd()) };
}

export async function openTarget(options: ScopeOptions, how: OpenTargetHow = {}): Promise<OpenedTarget> {
  const scope = await openScope(options);
  const { workspace } = scope;
  const given = typeof options.database === 'object' ? options.database : undefined;
  if (given) {
    if (how.report) Object.assign(how.report, { database: given.displayUrl, databaseSource: 'given' });
    if (how.guard) await enforceConnected(how.guard, given, workspace, how, how.yesIMean, given.displayUrl.replace(/^pglite:/, ''));
    const name: TargetName = { display: given.displayUrl, source: 'given', backend: given.backend };
    if (given.backend === 'pglite') name.pglitePath = given.displayUrl.replace(/^pglite:/, '');
    return withShadows(scope, given, name, undefined, async () => {});
  }

  const { url, source } = resolveDatabaseUrl(typeof options.database === 'string' ? options.database : undefined, workspace);
  if (how.report) Object.assign(how.report, { database: redactUrl(url), databaseSource: source });
  if (!how.guard) return lazyTarget(scope, options, url, source);

  const resolved = resolveConnection(options, workspace);
  const t = resolved.target;
  if (how.report) Object.assign(how.report, { database: t.display, databaseSource: resolved.source });
  // `protected` entries are written in the config: relative to its directory.
  const before = guardTarget(t, workspace.protected ?? [], scope.paths.root);
  // Name what the driver will really reach (PG* variables may have filled in the URL's gaps).
  const shown = t.backend === 'postgres' ? `${t.display} (database ${t.server.database} on ${t.server.host}${t.server.host.startsWith('/') ? '' : `:${t.server.port}`})` : t.display;
  const typed = await enforceGuard(how.guard, before, shown, how);
  const conn = await connectResolved(options, resolved);
  try {
    await enforceConnected(how.guard, conn.db, workspace, how, typed, t.backend === 'pglite' ? t.displayPath : undefined);
  } catch (err) {
    await closeQuietly(conn.close);
    throw err;
  }
  const name: TargetName = { display: conn.db.displayUrl, source: resolved.source, backend: conn.db.backend };
  if (t.backend === 'pglite' && t.dataDir !== undefined) name.pglitePath = t.dataDir;
  return withShadows(scope, conn.db, name, t, conn.close);
}

/**
 * An unguarded target connects on its first use (db/lazy.ts): the core checks its own input first, as
 * it always did. A URL that cannot be used is that first use's error, naming who gave the URL.
 */
function lazyTarget(scope: Scope, options: ScopeOptions, url: string, source: DatabaseSource): OpenedTarget {
  let resolved: ResolvedConnection | undefined;
  let refused: unknown;
  try {
    resolved = resolveConnection(options, scope.workspace);
  } catch (err) {
    refused = err;
  }
  const t = resolved?.target;
  const backend = t?.backend ?? (/^pglite:/i.test(url) ? 'pglite' : 'postgres');
  const db = lazyDatabase(t?.display ?? redactUrl(url), backend, async () => {
    if (resolved === undefined) throw refused;
    return (await connectResolved(options, resolved)).db;
  });
  const name: TargetName = { display: db.displayUrl, source, backend };
  if (t?.backend === 'pglite' && t.dataDir !== undefined) name.pglitePath = t.dataDir;
  return withShadows(scope, db, name, t, () => db.close());
}

/** The guard on the connected database: the server's answers, the mark, a standby. */
async function enforceConnected(command: string, db: Database, workspace: Workspace, override: GuardOverride, typed: string | undefined, pgliteName: string | undefined): Promise<void> {
  const after = await guardConnected(db, workspace.protected ?? [], pgliteName);
  await enforceGuard(command, after, db.displayUrl, { ...override, yesIMean: typed });
}

/** The Target's database-bound parts; `target` is absent for a Database the caller gave (no URL known). */
function withShadows(scope: Scope, db: Database, name: TargetName, target: DatabaseTarget | undefined, closeDb: () => Promise<void>): OpenedTarget {
  const shadows = new Set<Shadow>();
  // The target as the shadow policy sees it: an absolute pglite: path (so --shadow, typed from cwd, compares
  // against where the target really is), or the server URL with its credentials.
  const targetUrl = target === undefined ? undefined : target.backend === 'pglite' ? `pglite:${target.dataDir ?? 'memory'}` : target.url;
  const opened: OpenedTarget = {
    ...scope,
    db,
    name,
    async openShadow(request: ShadowRequest = {}) {
      const shadow = await openShadowDb({ target: db, targetUrl, shadowUrl: request.url, prefer: request.prefer, cwd: scope.paths.cwd });
      shadows.add(shadow);
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        shadows.delete(shadow);
        await dispose();
      };
      return shadow;
    },
    // A Database the caller gave has no URL to check: only what the server and the mark say.
    protection: () => protectionStatus(db, { target, protectedList: scope.workspace.protected ?? [], cwd: scope.paths.root }),
    async close() {
      for (const shadow of [...shadows]) await shadow.dispose().catch(() => {});
      await closeDb();
    },
  };
  if (target?.backend === 'postgres') {
    const server = target;
    opened.server = server.server;
    // A second session on the same server (backup's digests). Only when this module opened the first.
    opened.openSibling = async () => {
      const { openDatabase } = await import('../db/open.js');
      return openDatabase(server);
    };
  }
  return opened;
}
