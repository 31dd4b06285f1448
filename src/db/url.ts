/**
 * Database URLs: `pglite:memory`, `pglite:PATH` (relative to the working directory) and
 * `postgres://` / `postgresql://`. Everything printed goes through redactUrl first.
 *
 * A server URL is resolved here ONCE into a ServerTarget, exactly as node-postgres would read it
 * (its own parser, pg-connection-string, then the PG* variables and defaults of pg's
 * connection-parameters.js). The reset guard checks that object and the client is created from it,
 * so what is checked and what is connected to cannot differ.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseConnectionString } from 'pg-connection-string';
import { TidemarkError } from '../errors.js';
import { redactUrl } from './redact.js';

export const DEFAULT_DATABASE_URL = 'pglite:./.tidemark/db';

export type ParsedDatabaseUrl =
  | {
      backend: 'pglite';
      /** Absolute data directory; undefined for `pglite:memory`. */
      dataDir: string | undefined;
      /** The path as the user wrote it (for messages); 'memory' for memory. */
      displayPath: string;
    }
  | { backend: 'postgres'; url: string };

const ACCEPTED = 'postgres://…, postgresql://…, pglite:PATH or pglite:memory';

export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): ParsedDatabaseUrl {
  if (/^postgres(ql)?:\/\//i.test(url)) return { backend: 'postgres', url };
  if (url.startsWith('pglite:')) {
    const rest = url.slice('pglite:'.length);
    // `pglite://x` is almost certainly a typo for `pglite:x`; don't silently treat `//x` as `/x`.
    if (rest === 'memory') return { backend: 'pglite', dataDir: undefined, displayPath: 'memory' };
    if (rest !== '' && !rest.startsWith('//')) {
      return { backend: 'pglite', dataDir: path.resolve(cwd, rest), displayPath: rest };
    }
  }
  throw new TidemarkError('bad-database-url', `unsupported database URL "${redactUrl(url)}": use ${ACCEPTED}`, {
    kind: 'usage',
    hint: 'for example postgres://user@localhost:5432/app or pglite:./.tidemark/db',
  });
}

// ---------------------------------------------------------------------------------------------
// Resolving a server URL as node-postgres does

/** Connection parameters of the URL that node-postgres reads (besides host, port, database, user, password). */
const PASSED_THROUGH = [
  'options',
  'ssl',
  'sslnegotiation',
  'client_encoding',
  'replication',
  'application_name',
  'fallback_application_name',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
] as const;

/** Where a server connection goes, resolved once; the guard checks it and the client is made from it. */
export interface ServerTarget {
  /** A host name, an address, or a Unix socket directory (starts with `/`), as the driver uses it. */
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** The URL with any password hidden: safe to print. */
  readonly display: string;
  /** The password (from the URL or PGPASSWORD); not enumerable, so it never reaches JSON or a log. */
  readonly password?: string;
  /** The other parameters the URL gave that node-postgres reads (ssl, options, application_name…). */
  readonly params: Readonly<Record<string, unknown>>;
  /** The URL's libpq parameters for a libpq client such as pg_dump (sslmode, sslrootcert…), as written. */
  readonly libpq: Readonly<Record<string, string>>;
}

const LIBPQ_PASSED = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslnegotiation', 'options', 'application_name'] as const;

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves a `postgres://` URL exactly as node-postgres 8 would: pg-connection-string's parse (the
 * last `host=` wins, `?host=`/`?port=` override the authority, the database is the path only, `?dbname=`
 * is ignored), then for each empty part PGHOST / PGPORT / PGDATABASE / PGUSER / PGPASSWORD, then pg's
 * defaults (localhost, 5432, the user name as database, $USER as user).
 */
export function resolveServerTarget(url: string, env: Env = process.env): ServerTarget {
  const display = redactUrl(url);
  const bad = (why: string, hint?: string) =>
    new TidemarkError('bad-database-url', `cannot use database URL "${display}": ${why}`, {
      kind: 'usage',
      hint: hint ?? 'percent-encode special characters in the user name and password (/ is %2F, @ is %40, # is %23)',
    });
  let parsed: Record<string, unknown>;
  try {
    parsed = parseConnectionString(url) as Record<string, unknown>;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // Node's URL error carries the raw input: never show it. A missing sslcert file is worth naming.
    if (e.code === 'ENOENT' || e.code === 'EACCES') throw bad(String(e.message).split('\n')[0]);
    throw new TidemarkError('bad-database-url', `cannot parse database URL "${display}": Invalid URL`, {
      kind: 'usage',
      hint: 'percent-encode special characters in the user name and password (/ is %2F, @ is %40, # is %23)',
    });
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const host = text(parsed.host) ?? text(env.PGHOST) ?? 'localhost';
  const portText = text(parsed.port) ?? text(env.PGPORT) ?? '5432';
  const port = parseInt(portText, 10); // as pg does
  const user = text(parsed.user) ?? text(env.PGUSER) ?? text(process.platform === 'win32' ? env.USERNAME : env.USER);
  const database = text(parsed.database) ?? text(env.PGDATABASE) ?? user;
  const password = text(parsed.password) ?? text(env.PGPASSWORD);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw bad(`its port ${JSON.stringify(portText)} is not a number from 1 to 65535`, 'write the port as digits, e.g. postgres://user@localhost:5432/app');
  if (host.includes(',')) throw bad(`it names several hosts (${host}); tidemark connects to one`, 'name one host');
  if (user === undefined || database === undefined) throw bad('it names no user, and neither PGUSER nor USER is set', 'put the user in the URL: postgres://user@host/db');
  const params: Record<string, unknown> = {};
  for (const key of PASSED_THROUGH) if (parsed[key] !== undefined && parsed[key] !== null) params[key] = parsed[key];
  const libpq: Record<string, string> = {};
  for (const key of LIBPQ_PASSED) if (typeof parsed[key] === 'string') libpq[key] = parsed[key] as string;
  const target = { host, port, database, user, display, params, libpq };
  Object.defineProperty(target, 'password', { value: password, enumerable: false });
  return target as ServerTarget;
}

/**
 * What a server URL itself says (pg-connection-string's reading, no PG* variables, no defaults): for
 * the `protected` list, where a part left out matches anything. Undefined when it does not parse.
 */
export function serverUrlParts(url: string): { host?: string; port?: number; database?: string } | undefined {
  try {
    const c = parseConnectionString(url) as Record<string, unknown>;
    const port = typeof c.port === 'string' && c.port !== '' ? parseInt(c.port, 10) : undefined;
    return {
      ...(typeof c.host === 'string' && c.host !== '' ? { host: c.host } : {}),
      ...(port !== undefined && Number.isInteger(port) ? { port } : {}),
      ...(typeof c.database === 'string' && c.database !== '' ? { database: c.database } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * The target as the driver reaches it, for a message: the redacted URL, followed by
 * `(database D on HOST:PORT)` when PG* variables or defaults filled in what the URL itself leaves out.
 */
export function describeServerTarget(target: ServerTarget): string {
  const said = serverUrlParts(target.display);
  const where = `${target.host}${target.host.startsWith('/') ? '' : `:${target.port}`}`;
  const complete = said?.host !== undefined && said.port !== undefined && said.database !== undefined;
  return complete ? target.display : `${target.display} (database ${target.database} on ${where})`;
}

/** A database target: what openDatabase opens and what the guard checks, resolved once. */
export type DatabaseTarget =
  | { backend: 'pglite'; dataDir: string | undefined; displayPath: string; display: string; url: string }
  | { backend: 'postgres'; server: ServerTarget; display: string; url: string };

export function resolveTarget(url: string, cwd?: string, env: Env = process.env): DatabaseTarget {
  const parsed = parseDatabaseUrl(url, cwd);
  if (parsed.backend === 'pglite') return { ...parsed, display: redactUrl(url), url };
  const server = resolveServerTarget(url, env);
  return { backend: 'postgres', server, display: server.display, url };
}

// ---------------------------------------------------------------------------------------------
// Hosts

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * A host as compared by the guard: lower case, without trailing dots and IPv6 brackets, addresses in
 * their canonical spelling (`0:0:0:0:0:0:0:1` → `::1`, `127.1` → `127.0.0.1`). No DNS lookup. A
 * socket directory (`/…`) is a path and is kept as written.
 */
export function canonicalHost(host: string): string {
  if (host.startsWith('/')) return host;
  let h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');
  try {
    h = h.includes(':') ? new URL(`http://[${h}]`).hostname.replace(/^\[(.*)\]$/, '$1') : new URL(`http://${h}`).hostname;
  } catch {
    // not an address nor a plain host name: compare it as written
  }
  return h;
}

/** This machine: a socket directory, localhost, 127.0.0.1 or ::1 (any spelling). */
export function isLocalHost(host: string): boolean {
  return host.startsWith('/') || LOOPBACK.has(canonicalHost(host));
}

/**
 * The real path of a PGlite data directory, symlinks resolved in the part that exists (the directory
 * itself may not exist yet): two spellings of one directory give one path.
 */
export function realDataDir(dir: string): string {
  const tail: string[] = [];
  for (let head = path.resolve(dir); ; ) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.resolve(dir);
      tail.unshift(path.basename(head));
      head = parent;
    }
  }
}

/** Same host, loopback aliases (localhost, 127.0.0.1, ::1) counting as one. */
export function sameHost(a: string, b: string): boolean {
  const ca = canonicalHost(a);
  const cb = canonicalHost(b);
  return ca === cb || (LOOPBACK.has(ca) && LOOPBACK.has(cb));
}
