/**
 * The guard (src/flows/guard.ts adds `tidemark protect`). Which databases destructive commands (`reset`, `rebaseline`, `restore --replace`) refuse, and how a
 * user overrides that.
 *
 * A target is guarded when
 * - it matches an entry of the config's `protected` list (a URL, a database name or a host name,
 *   `*`/`?` globs allowed), checked on the target as the driver resolves it (src/db/url.ts: the URL
 *   parsed by node-postgres' own parser, then PG* variables and defaults) AND, once connected, on what
 *   the server answers (current_database(), inet_server_addr(), inet_server_port());
 * - its host is not this machine (before connecting: a remote host is never contacted unless overridden);
 * - it carries the mark `tidemark protect` sets inside the database (the ledger schema), which no URL
 *   spelling, DNS alias or proxy can get past.
 * A server in recovery (a standby) is always refused. Overriding takes two deliberate acts, as
 * `dropdb` and Prisma's `migrate reset` ask for: `--force-protected` AND the database name typed back
 * (at a prompt, or `--yes-i-mean <name>` for scripts). Removing the mark (`tidemark protect --off`)
 * takes the same two acts.
 */
import path from 'node:path';
import type { Database, Queryable } from '../db/database.js';
import { canonicalHost, isLocalHost, realDataDir, resolveTarget, sameHost, serverUrlParts, type DatabaseTarget } from '../db/url.js';
import { redactUrl } from '../db/redact.js';
import { TidemarkError } from '../errors.js';
import { readProtection, type ProtectionMark } from './ledger.js';

export interface TargetGuard {
  /** What the user must type back: the database name, or the PGlite path. */
  name: string;
  /** Why the target is guarded; empty when it is not. */
  reasons: string[];
}

// A flat match over names, hosts, URLs and paths alike. picomatch was measured against the table in
// test/unit/guard.test.ts (issue 12): its path rules (`?` stops at `/`, `*` skips `.` and `..`, `[]`, `{}`, `!`
// and `./` mean something) needed escaping, `/` masking and special cases to agree, so this stays.
function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether a `protected` entry (a glob: `*` any run, `?` one character, both crossing `/ . :`; case-insensitive) matches a text. */
export function protectedGlobMatches(glob: string, text: string): boolean {
  return globToRegExp(glob).test(text);
}

const isUrlEntry = (entry: string) => /^postgres(ql)?:\/\//i.test(entry);
const hasGlob = (s: string) => /[*?]/.test(s);

/** A host of the protected list against a host: a glob, else the same host (loopback aliases are one). */
function hostMatches(entry: string, host: string): boolean {
  if (hasGlob(entry)) return globToRegExp(entry).test(host) || globToRegExp(entry).test(canonicalHost(host));
  return sameHost(entry, host);
}

/** What a `protected` URL entry names; absent parts match anything (so an entry protects more, never less). */
interface UrlEntry {
  host?: string;
  port?: number;
  database?: string;
}

function parseUrlEntry(entry: string): UrlEntry | undefined {
  const parts = serverUrlParts(entry);
  if (!parts) return undefined;
  return {
    ...(parts.host !== undefined ? { host: parts.host } : {}),
    ...(parts.port !== undefined ? { port: parts.port } : {}),
    ...(parts.database !== undefined ? { database: parts.database } : {}),
  };
}

/** Server facts (resolved target before connecting, or the server's own answers after) against one entry. */
function entryMatches(entry: string, facts: { host?: string; port?: number; database: string }): boolean {
  if (!isUrlEntry(entry)) {
    return globToRegExp(entry).test(facts.database) || (facts.host !== undefined && hostMatches(entry, facts.host));
  }
  const e = parseUrlEntry(entry);
  if (!e) return false;
  if (e.host === undefined && e.port === undefined && e.database === undefined) return true;
  if (e.host !== undefined && (facts.host === undefined || !hostMatches(e.host, facts.host))) return false;
  if (e.port !== undefined && facts.port !== undefined && e.port !== facts.port) return false;
  if (e.database !== undefined && !globToRegExp(e.database).test(facts.database)) return false;
  return true;
}

/** An entry of the list as shown (a URL entry may hold a password). */
const listReason = (entry: string) => `it matches \`${redactUrl(entry)}\` in the config's protected list`;

/**
 * Pure: the guard for a resolved target (or a URL, resolved here with PG* variables) given the
 * config's `protected` list. Runs before connecting: a remote host is refused without being contacted.
 */
export function guardTarget(target: DatabaseTarget | string, protectedList: readonly string[], cwd = process.cwd()): TargetGuard {
  const t = typeof target === 'string' ? resolveTarget(target, cwd) : target;
  const reasons: string[] = [];
  if (t.backend === 'pglite') {
    const name = t.displayPath;
    // The directory itself, however it is spelled (relative, trailing slash, `..`, a symlink).
    const dir = t.dataDir === undefined ? 'memory' : realDataDir(t.dataDir);
    for (const entry of protectedList) {
      const bare = entry.replace(/^pglite:/i, '');
      const entryDir = bare === 'memory' ? 'memory' : hasGlob(bare) ? path.resolve(cwd, bare) : realDataDir(path.resolve(cwd, bare));
      if (globToRegExp(entry).test(name) || globToRegExp(entry).test(`pglite:${name}`) || globToRegExp(entryDir).test(dir)) reasons.push(listReason(entry));
    }
    return { name, reasons };
  }
  const { host, port, database } = t.server;
  for (const entry of protectedList) {
    // The legacy spelling match on the URL text too: an entry can only add protection.
    const textual = isUrlEntry(entry) && (globToRegExp(entry).test(t.display) || globToRegExp(entry).test(t.url));
    if (textual || entryMatches(entry, { host, port, database })) reasons.push(listReason(entry));
  }
  if (!isLocalHost(host)) reasons.push(`its host ${host} is not this machine`);
  return { name: database, reasons };
}

/** What the server says it is, asked after connecting. */
export interface ServerFacts {
  database: string;
  /** inet_server_addr(): null over a Unix socket and on PGlite. */
  address: string | null;
  port: number | null;
  inRecovery: boolean;
}

export async function serverFacts(q: Queryable): Promise<ServerFacts> {
  const { rows } = await q.query<{ db: string; addr: string | null; port: number | null; recovery: boolean }>(
    `SELECT current_database() AS db, host(inet_server_addr()) AS addr, inet_server_port() AS port, pg_is_in_recovery() AS recovery`,
  );
  const r = rows[0];
  return { database: r.db, address: r.addr, port: r.port === null ? null : Number(r.port), inRecovery: r.recovery };
}

/** The reason a marked database gives (refusals, `protect --off`, status). */
export function markReason(mark: ProtectionMark): string {
  return `it is marked protected inside the database (\`tidemark protect\`, ${mark.at.toISOString().slice(0, 10)} by ${mark.by})`;
}

/** What the connected checks find: the server's answers against the list, and the mark. Reads only. */
async function connectedReasons(db: Database, protectedList: readonly string[]): Promise<{ facts: ServerFacts; mark?: ProtectionMark; reasons: string[] }> {
  const reasons: string[] = [];
  const facts = await serverFacts(db);
  if (db.backend === 'postgres') {
    for (const entry of protectedList) {
      if (entryMatches(entry, { host: facts.address ?? undefined, port: facts.port ?? undefined, database: facts.database })) {
        reasons.push(`the server says it is ${facts.database}${facts.address ? ` at ${facts.address}:${facts.port}` : ''}, which matches \`${redactUrl(entry)}\` in the config's protected list`);
      }
    }
  }
  const mark = await readProtection(db);
  if (mark) reasons.push(markReason(mark));
  return { facts, mark, reasons };
}

/**
 * The guard on a connected database: the server's answers against the protected list, the in-database
 * mark, and a standby (refused outright: it cannot be written, and it is a copy of something).
 */
export async function guardConnected(db: Database, protectedList: readonly string[], name?: string): Promise<TargetGuard> {
  const { facts, reasons } = await connectedReasons(db, protectedList);
  if (facts.inRecovery) {
    throw new TidemarkError('target-in-recovery', `Refusing to change ${db.displayUrl}: the server is a standby in recovery (pg_is_in_recovery() is true). Nothing was changed.`, {
      kind: 'usage',
      hint: 'Point --database at the primary server.',
    });
  }
  return { name: db.backend === 'postgres' ? facts.database : (name ?? facts.database), reasons };
}

/** What `status` and `check --db` show about the guard, so a user sees it before running reset. */
export interface ProtectionStatus {
  /** reset, rebaseline and restore --replace refuse this database without --force-protected and its name typed back. */
  protected: boolean;
  /** It carries the `tidemark protect` mark. */
  marked: boolean;
  /** When it was marked (ISO 8601), with `marked`. */
  since?: string;
  /** Who marked it (`user@host`), with `marked`. */
  by?: string;
  /** The other reasons (the config's protected list, a remote host, a standby), worded as a refusal gives them. */
  reasons: string[];
}

/**
 * The guard's verdict on an open database, without refusing anything: the resolved target against the
 * protected list and the remote-host rule (when the database was opened from a URL), the server's
 * answers, the mark, a standby. Reads only.
 */
export async function protectionStatus(db: Database, options: { target?: DatabaseTarget; protectedList: readonly string[]; cwd: string }): Promise<ProtectionStatus> {
  const reasons = options.target ? guardTarget(options.target, options.protectedList, options.cwd).reasons : [];
  const connected = await connectedReasons(db, options.protectedList);
  if (connected.facts.inRecovery) reasons.push('the server is a standby in recovery (pg_is_in_recovery() is true)');
  const { mark } = connected;
  for (const r of connected.reasons) if (!reasons.includes(r) && !(mark && r === markReason(mark))) reasons.push(r);
  return { protected: mark !== undefined || reasons.length > 0, marked: mark !== undefined, ...(mark ? { since: mark.at.toISOString(), by: mark.by } : {}), reasons };
}

export interface GuardOverride {
  forceProtected?: boolean;
  /** `--yes-i-mean <name>`. */
  yesIMean?: string;
  /** Asks for the name on a TTY; undefined when there is no one to ask. */
  ask?: (question: string) => Promise<string | undefined>;
}

/**
 * Throws unless the target is unguarded or the user overrode the guard with both acts. Returns the
 * name typed back (so a second check after connecting does not ask again).
 */
export async function enforceGuard(command: string, guard: TargetGuard, displayUrl: string, override: GuardOverride): Promise<string | undefined> {
  if (guard.reasons.length === 0) return override.yesIMean;
  const why = guard.reasons.join(' and ');
  if (!override.forceProtected) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: ${why}. Nothing was changed.`, {
      kind: 'usage',
      hint: `If you really mean this database, pass --force-protected and type its name back (or --yes-i-mean ${guard.name}).`,
    });
  }
  let typed = override.yesIMean;
  if (typed === undefined && override.ask) typed = (await override.ask(`${displayUrl} is protected (${why}). Type the database name to ${command} it: `))?.trim();
  if (typed === undefined) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: ${why}, and no one typed its name back. Nothing was changed.`, {
      kind: 'usage',
      hint: `Without a terminal, pass --yes-i-mean ${guard.name} next to --force-protected.`,
    });
  }
  if (typed !== guard.name) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: the name typed back (${typed}) is not ${guard.name}. Nothing was changed.`, {
      kind: 'usage',
    });
  }
  return typed;
}
