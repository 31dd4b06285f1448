/**
 * Shadow databases (DESIGN §4): where a service's migrations are replayed to see what they produce.
 *
 * - `shadowUrl` (`--shadow URL`) chooses explicitly: it must not be the target, and must be empty
 *   (what the replay leaves there is removed again on dispose, so the next run finds it empty too);
 * - against a server, a temporary database `tidemark_shadow_<pid>_<host>_<random>` on that same server
 *   (same major version and extensions as the target), dropped on dispose; if the role may not create
 *   one, an in-process PGlite, and the description says why. Before creating one, the ones a killed
 *   run left behind are dropped (see dropStaleShadows);
 * - against PGlite (or with no target), an in-process PGlite in memory.
 *
 * PGlite runs PostgreSQL 18 and accepts SQL an older server rejects: only a same-server shadow proves a
 * migration runs on the target's version. `description` says which one was used, so callers print it.
 */
import { TidemarkError } from '../errors.js';
import { quoteIdent } from '../sql/ident.js';
import type { Database } from './database.js';
import { openDatabase } from './open.js';
import { baseline, emptyAgain, userObjects } from './shadow-empty.js';
import { dropStaleShadows, shadowName } from './shadow-names.js';
import { isLocalHost, parseDatabaseUrl, realDataDir, resolveTarget, sameHost, type DatabaseTarget, type Env } from './url.js';
import { redactUrl } from './redact.js';

export type ShadowKind = 'same-server' | 'pglite' | 'url';

export interface Shadow {
  database: Database;
  /** One phrase for humans, e.g. "temporary database tidemark_shadow_1a2b3c4d on the target server (PostgreSQL 15)". */
  description: string;
  kind: ShadowKind;
  /** The temporary database's name (same-server only). */
  name?: string;
  /** Same-server only: temporary databases of killed runs dropped before this one was created (see dropStaleShadows). */
  staleDropped?: string[];
  /** Drops the temporary database / empties the given one, and closes. Idempotent. */
  dispose(): Promise<void>;
}

export interface ShadowOptions {
  /** The database the shadow stands in for (its backend and, lacking targetUrl, its URL when it has no password). */
  target?: Database;
  /** The target's URL with credentials: needed to open a temporary database on the same server. */
  targetUrl?: string;
  /** An explicit shadow database (`--shadow URL`). */
  shadowUrl?: string;
  /** Against a server: try a temporary database there first (default), or go straight to PGlite. */
  prefer?: 'same-server' | 'pglite';
  /** Where relative `pglite:PATH` URLs are resolved from (default process.cwd()). */
  cwd?: string;
}

export { SHADOW_DB_PREFIX } from './shadow-names.js';

/** What a command asks of the shadow (target.openShadow's argument). */
export interface ShadowRequest {
  /** An explicit shadow database (`--shadow URL`). */
  url?: string;
  /** Against a server: a temporary database there first (default), or straight to PGlite. */
  prefer?: 'same-server' | 'pglite';
}

/** What the shadow policy knows of the target: its backend and, when known, its URL with credentials. */
export interface ShadowTargetFacts {
  backend?: Database['backend'];
  /** The URL to reach the target's server with (no `***` in it); absent when only a redacted one is known. */
  url?: string;
}

/** Which shadow to open, and why (a pglite fallback's reason ends up in the shadow's description). */
export type ShadowPlan = { kind: 'url'; url: string } | { kind: 'same-server'; url: string } | { kind: 'pglite'; reason?: string };

/**
 * THE shadow policy, pure: a given URL; else, against a server, a temporary database on that same
 * server unless PGlite was asked for or no URL with credentials is known; else an in-process PGlite.
 * (A same-server plan can still fall back to PGlite when opening it, with the reason: see openShadow.)
 */
export function shadowPlan(target: ShadowTargetFacts, request: ShadowRequest = {}): ShadowPlan {
  if (request.url !== undefined) return { kind: 'url', url: request.url };
  if (target.backend !== 'postgres') return { kind: 'pglite' };
  if (request.prefer === 'pglite') return { kind: 'pglite', reason: 'pglite was asked for' };
  if (target.url === undefined) return { kind: 'pglite', reason: 'no URL with credentials for the target server was given to open a temporary database there' };
  return { kind: 'same-server', url: target.url };
}

export async function openShadow(options: ShadowOptions = {}): Promise<Shadow> {
  const targetUrl = options.targetUrl ?? options.target?.displayUrl;
  // The target's backend matters only without a given shadow URL (a bad target URL is then refused here, as before).
  const backend = options.shadowUrl !== undefined ? undefined : targetUrl !== undefined ? parseDatabaseUrl(targetUrl, options.cwd).backend : options.target?.backend;
  // The URL to reach the server with: given, else the target's own when nothing was redacted from it.
  const url = options.targetUrl ?? (options.target && !options.target.displayUrl.includes('***') ? options.target.displayUrl : undefined);
  const plan = shadowPlan({ backend, url }, { url: options.shadowUrl, prefer: options.prefer });
  switch (plan.kind) {
    case 'url':
      return openGivenShadow(plan.url, targetUrl, options.target, options.cwd);
    case 'pglite':
      return openPgliteShadow(plan.reason);
    case 'same-server': {
      const made = await createSameServerShadow(plan.url);
      return 'reason' in made ? openPgliteShadow(made.reason) : made;
    }
  }
}

// ---- PGlite ----

async function openPgliteShadow(reason?: string): Promise<Shadow> {
  const database = await openDatabase('pglite:memory');
  const major = await majorVersion(database);
  let disposed = false;
  return {
    database,
    kind: 'pglite',
    description: `in-process PGlite (PostgreSQL ${major})${reason ? `, because ${reason}` : ''}`,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await database.close();
    },
  };
}

// ---- a temporary database on the target server ----

async function createSameServerShadow(targetUrl: string): Promise<Shadow | { reason: string }> {
  const name = shadowName();
  let admin: Database;
  try {
    admin = await openDatabase(targetUrl);
  } catch (err) {
    return { reason: `the target server could not be reached to create a temporary database (${firstLine(err)})` };
  }
  let major: number;
  let staleDropped: string[];
  try {
    major = await majorVersion(admin);
    staleDropped = await dropStaleShadows(admin);
    await admin.exec(`CREATE DATABASE ${quoteIdent(name)}`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const role = await currentRole(admin);
    await admin.close().catch(() => {});
    if (code === '42501') {
      return {
        reason: `the role ${role ?? 'used'} may not create databases on the target server (no CREATEDB); grant it CREATEDB, or pass --shadow URL, to replay the migrations on the target's PostgreSQL version`,
      };
    }
    return { reason: `creating a temporary database on the target server failed (${firstLine(err)})` };
  }
  await admin.close().catch(() => {});

  const drop = async () => {
    const again = await openDatabase(targetUrl);
    try {
      await again.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    } finally {
      await again.close().catch(() => {});
    }
  };
  const dropOrSay = async () => {
    try {
      await drop();
    } catch (err) {
      throw new TidemarkError('shadow-not-dropped', `the temporary shadow database ${name} could not be dropped: ${firstLine(err)}`, {
        kind: 'failure',
        hint: `drop it by hand, as its owner or a superuser: DROP DATABASE ${name} WITH (FORCE). Once this process has ended and no session is connected to it, the next tidemark run on this machine that needs a temporary database drops it.`,
      });
    }
  };

  liveShadows.set(name, drop);
  watchSignals();
  let database: Database;
  try {
    database = await openDatabase(withDatabaseName(targetUrl, name));
  } catch (err) {
    liveShadows.delete(name);
    await dropOrSay();
    return { reason: `the temporary database ${name} could not be opened (${firstLine(err)})` };
  }
  let disposed = false;
  return {
    database,
    kind: 'same-server',
    name,
    staleDropped,
    description: `temporary database ${name} on the target server (PostgreSQL ${major})`,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await database.close().catch(() => {});
      try {
        await dropOrSay();
      } finally {
        liveShadows.delete(name);
        watchSignals();
      }
    },
  };
}

// ---- Ctrl-C: drop the temporary databases, then die of the signal as usual ----

const liveShadows = new Map<string, () => Promise<void>>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const DROP_ON_SIGNAL_MS = 5000;
let watching = false;

function onSignal(signal: NodeJS.Signals): void {
  stopWatching();
  const drops = [...liveShadows.values()].map((drop) => drop().catch(() => {}));
  liveShadows.clear();
  const timeout = new Promise((resolve) => setTimeout(resolve, DROP_ON_SIGNAL_MS).unref());
  void Promise.race([Promise.all(drops), timeout]).then(() => process.kill(process.pid, signal));
}

function stopWatching(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
  watching = false;
}

/** Signal listeners only while a temporary database exists: with none, a signal behaves as it always does. */
function watchSignals(): void {
  if (liveShadows.size > 0 && !watching) {
    for (const signal of SIGNALS) process.on(signal, onSignal);
    watching = true;
  } else if (liveShadows.size === 0 && watching) stopWatching();
}

/** The same server URL naming another database (the path wins; a `?dbname=` would override it, so drop it). */
export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  u.searchParams.delete('dbname');
  return u.toString();
}

async function currentRole(db: Database): Promise<string | undefined> {
  try {
    return (await db.query<{ r: string }>('SELECT current_user::text AS r')).rows[0]?.r;
  } catch {
    return undefined;
  }
}

// ---- an explicit shadow URL ----

function isTargetError(shown: string, how: string): TidemarkError {
  return new TidemarkError('shadow-is-target', `the shadow database ${shown} is the target database itself${how}; replaying migrations there would change it`, {
    kind: 'usage',
    hint: 'pass --shadow an empty database of its own (e.g. createdb app_shadow), or leave --shadow out to use a temporary one',
  });
}

async function openGivenShadow(shadowUrl: string, targetUrl: string | undefined, target: Database | undefined, cwd: string | undefined): Promise<Shadow> {
  const shown = redactUrl(shadowUrl);
  if (targetUrl !== undefined && sameDatabase(shadowUrl, targetUrl, cwd)) throw isTargetError(shown, '');
  const database = await openDatabase(shadowUrl, { cwd });
  try {
    // Another spelling the URLs cannot tell apart (a DNS alias, another address of the host, a proxy).
    if (target && (await sameServerDatabase(target, database))) throw isTargetError(shown, " (the server says so: it lists the target's own session there)");
    const found = await userObjects(database);
    if (found.length > 0) {
      throw new TidemarkError('shadow-not-empty', `the shadow database ${shown} is not empty (it holds ${found.join(', ')}); replaying migrations into it would mix them with what is there`, {
        kind: 'input',
        hint: 'pass --shadow an empty database (drop and recreate it), or leave --shadow out to use a temporary one',
      });
    }
    const before = await baseline(database);
    const major = await majorVersion(database);
    let disposed = false;
    return {
      database,
      kind: 'url',
      description: `the shadow database ${shown} (PostgreSQL ${major})`,
      async dispose() {
        if (disposed) return;
        disposed = true;
        try {
          await emptyAgain(database, before);
        } catch (err) {
          throw new TidemarkError('shadow-not-emptied', `the shadow database ${shown} could not be emptied after the replay: ${firstLine(err)}`, {
            kind: 'failure',
            hint: 'drop and recreate it before the next run, which needs it empty',
          });
        } finally {
          await database.close().catch(() => {});
        }
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}

/**
 * Whether two URLs name the same database, BEFORE connecting: each resolved by the one resolver
 * (src/db/url.ts: node-postgres' own parser, then PG* variables and pg's defaults), so
 * `postgres://127.0.0.1/app`, `postgresql://localhost:5432/app`, `postgres:///app?host=…`,
 * `?host=…&port=…` and PGHOST/PGPORT/PGDATABASE spellings of one target are one; hosts compare as the
 * guard compares them (loopback spellings and socket directories are this machine). PGlite: the same
 * real directory (symlinks, `..`, a trailing slash). A URL that does not resolve is not the target
 * (opening it fails on its own). DNS aliases and proxies are caught after connecting: sameServerDatabase.
 */
export function sameDatabase(a: string, b: string, cwd?: string, env: Env = process.env): boolean {
  let ta: DatabaseTarget;
  let tb: DatabaseTarget;
  try {
    ta = resolveTarget(a, cwd, env);
    tb = resolveTarget(b, cwd, env);
  } catch {
    return false;
  }
  if (ta.backend === 'pglite' || tb.backend === 'pglite') {
    return ta.backend === 'pglite' && tb.backend === 'pglite' && ta.dataDir !== undefined && tb.dataDir !== undefined && realDataDir(ta.dataDir) === realDataDir(tb.dataDir);
  }
  const [x, y] = [ta.server, tb.server];
  const host = sameHost(x.host, y.host) || (isLocalHost(x.host) && isLocalHost(y.host));
  return host && x.port === y.port && x.database === y.database;
}

/**
 * Whether an open shadow IS the open target, asked of the servers themselves (no URL spelling, DNS
 * alias, tunnel or proxy gets past): the shadow's server must not list the target's own session
 * (its pid, start time and user, which pg_stat_activity shows every role) in the shadow's database.
 */
async function sameServerDatabase(target: Database, shadow: Database): Promise<boolean> {
  if (target.backend !== 'postgres' || shadow.backend !== 'postgres') return false;
  const me = (
    await target.query<{ pid: number; started: string; role: string; db: string }>(
      `SELECT pid, extract(epoch FROM backend_start)::text AS started, usesysid::text AS role, datname AS db FROM pg_stat_activity WHERE pid = pg_backend_pid()`,
    )
  ).rows[0];
  if (!me) return false;
  const { rows } = await shadow.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE pid = $1 AND usesysid::text = $2 AND datname = current_database() AND current_database() = $3
        -- the start time is hidden from a role that may not see the session: pid, user and database then
        AND (backend_start IS NULL OR extract(epoch FROM backend_start)::text = $4)`,
    [me.pid, me.role, me.db, me.started],
  );
  return rows[0].n > 0;
}

// ---- shared ----

async function majorVersion(db: Database): Promise<number> {
  return Math.floor((await db.serverVersionNum()) / 10000);
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
