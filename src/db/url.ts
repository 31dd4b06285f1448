/**
 * Database URLs: `pglite:memory`, `pglite:PATH` (relative to the working directory) and
 * `postgres://` / `postgresql://`. Everything printed goes through redactUrl first.
 */
import path from 'node:path';
import { TidemarkError } from '../errors.js';

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

/** Replaces a password (userinfo or `password=` query parameter) with `***`; keeps the rest as written. */
export function redactUrl(url: string): string {
  // In a valid URL the userinfo ends at the last '@' before any '/', '?' or '#'. An invalid one may hold
  // a raw password with those characters in it: then take everything up to the last '@', to be safe.
  const userinfo = isValidUrl(url) ? /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i : /^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i;
  return url
    .replace(userinfo, (_m, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return colon < 0 ? `${scheme}${info}@` : `${scheme}${info.slice(0, colon)}:***@`;
    })
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

function isValidUrl(url: string): boolean {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
}

function serverUrl(url: string): URL | undefined {
  if (!/^postgres(ql)?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The database a server URL names (path, else `?dbname=`); undefined for PGlite or when not given. */
export function databaseNameOf(url: string): string | undefined {
  const u = serverUrl(url);
  if (!u) return undefined;
  const fromPath = decodeURIComponent(u.pathname.replace(/^\//, ''));
  return fromPath || u.searchParams.get('dbname') || undefined;
}

/** The host a server URL names, lowercased (`?host=` wins, as in libpq); undefined for PGlite or a default socket. */
export function hostOf(url: string): string | undefined {
  const u = serverUrl(url);
  if (!u) return undefined;
  const host = u.searchParams.get('host') || decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  // Host names compare case-insensitively; a socket directory (`/…`) is a path and keeps its case.
  return (host.startsWith('/') ? host : host.toLowerCase()) || undefined;
}
