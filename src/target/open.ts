/**
 * The boundary's opener: a command (src/cli/*) or a public API wrapper (src/api/*) calls openScope or
 * openTarget ONCE, then hands the result to the cores. This is the only place below which nothing
 * loads a config or opens a connection (resolve.ts: where the workspace and the URL come from).
 *
 * Whoever opens closes: `close()` closes the database only when openTarget opened it (a Database the
 * caller handed in is wrapped, never reopened, never closed), plus any shadow still open.
 *
 * The target's database connects on its first use (db/lazy.ts), and for a destructive command the guard
 * is part of connecting: the core checks its own input first (migration files, a backup, the doctor), as
 * it always did, and nothing reaches the database before the guard has passed.
 */
import { withRequiredServices } from '../config/services.js';
import { selectServices } from '../config/select.js';
import type { Service, Workspace } from '../config/types.js';
import { closeQuietly, connectResolved, resolveConnection, resolveDatabaseUrl, resolveWorkspace, type ConnectionReport, type ResolvedConnection, type WorkspaceOptions } from './resolve.js';
import { lazyDatabase } from '../db/lazy.js';
import type { Database } from '../db/database.js';
import { openShadow as openShadowDb, type Shadow, type ShadowRequest } from '../db/shadow.js';
import type { DatabaseTarget } from '../db/url.js';
import { redactUrl } from '../db/redact.js';
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
  /** The verb of a destructive command (`reset`, `rebaseline`, `restore --replace into`): the guard is enforced on the first use, before anything runs. */
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
function scopeOf(workspace: Workspace, options: Pick<ScopeOptions, 'service' | 'withRequired' | 'cwd'>): Scope {
  let services: readonly Service[] = selectServices(workspace, options.service);
  if (options.withRequired) {
    const names = new Set(
      withRequiredServices(
        workspace,
        services.map((s) => s.name),
      ),
    );
    services = workspace.services.filter((s) => names.has(s.name));
  }
  return { workspace, services, paths: makePaths(workspace.root, options.cwd ?? process.cwd()) };
}

export async function openTarget(options: ScopeOptions, how: OpenTargetHow = {}): Promise<OpenedTarget> {
  const scope = await openScope(options);
  const { workspace } = scope;
  const guard = how.guard;
  const given = typeof options.database === 'object' ? options.database : undefined;
  if (given) {
    if (how.report) Object.assign(how.report, { database: given.displayUrl, databaseSource: 'given' });
    const name: TargetName = { display: given.displayUrl, source: 'given', backend: given.backend };
    if (given.backend === 'pglite') name.pglitePath = given.displayUrl.replace(/^pglite:/, '');
    if (!guard) return withShadows(scope, given, name, undefined, async () => {});
    // Guarded on its first use, like a URL; the caller opened it, so closing the target never closes it.
    const checked = lazyDatabase(given.displayUrl, given.backend, async () => {
      await enforceConnected(guard, given, workspace, how, how.yesIMean, name.pglitePath);
      return given;
    });
    return withShadows(scope, checked, name, undefined, async () => {});
  }

  const { url, source } = resolveDatabaseUrl(typeof options.database === 'string' ? options.database : undefined, workspace);
  let resolved: ResolvedConnection | undefined;
  let refused: unknown;
  try {
    resolved = resolveConnection(options, workspace);
  } catch (err) {
    refused = err;
  }
  const t = resolved?.target;
  const backend = t?.backend ?? (/^pglite:/i.test(url) ? 'pglite' : 'postgres');
  const display = t?.display ?? redactUrl(url);
  if (how.report) Object.assign(how.report, { database: display, databaseSource: source });
  const db = lazyDatabase(display, backend, async () => {
    if (resolved === undefined) throw refused;
    const target = resolved.target;
    let typed = how.yesIMean;
    if (guard) {
      // `protected` entries are written in the config: relative to its directory.
      const before = guardTarget(target, workspace.protected ?? [], scope.paths.root);
      // Name what the driver will really reach (PG* variables may have filled in the URL's gaps).
      const shown =
        target.backend === 'postgres'
          ? `${target.display} (database ${target.server.database} on ${target.server.host}${target.server.host.startsWith('/') ? '' : `:${target.server.port}`})`
          : target.display;
      typed = await enforceGuard(guard, before, shown, how);
    }
    const conn = await connectResolved(options, resolved);
    if (guard) {
      try {
        await enforceConnected(guard, conn.db, workspace, how, typed, target.backend === 'pglite' ? target.displayPath : undefined);
      } catch (err) {
        await closeQuietly(conn.close);
        throw err;
      }
    }
    return conn.db;
  });
  const name: TargetName = { display, source, backend };
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
