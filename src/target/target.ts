/**
 * target/ is the boundary between a command and the cores: what a command works on, resolved ONCE
 * (config loaded and validated, services selected, the database opened, relative paths' one rule).
 * Cores take `(target, options)` and never load a config or open a connection themselves.
 *
 * This file is types only (plus pure helpers later): cores import it and nothing else from target/.
 * Only src/cli/* and src/api/* import target/open.ts, which does the resolving.
 */
import type { Service, Workspace } from '../config/types.js';
import type { Backend, Database, Session } from '../db/database.js';
import type { Shadow, ShadowRequest } from '../db/shadow.js';
import type { ServerTarget } from '../db/url.js';
import type { ProtectionStatus } from '../ledger/guard.js';

/** Where a database URL came from, so a command can say which one it uses. */
export type DatabaseSource = 'option' | 'env' | 'config' | 'default' | 'given';

/** The one rule for relative paths (config entries, `pglite:` URLs, output directories). */
export interface Paths {
  /** The workspace root: the config file's directory (or cwd for a config given as a value). */
  root: string;
  /** The directory the command was run from. */
  cwd: string;
  /** A path from the config, made absolute against root. */
  fromConfig(p: string): string;
  /** A path the user typed (a flag, DATABASE_URL), made absolute against cwd. */
  fromUser(p: string): string;
  /** What a relative `pglite:` URL from this source is relative to: root for the config and the default, else cwd. */
  urlBase(source: DatabaseSource): string;
}

/** What every command has, database or not (check without --db, graph, sum). */
export interface Scope {
  workspace: Workspace;
  /** The selected services (plus those they require, where the command says so), in config order. */
  services: readonly Service[];
  paths: Paths;
}

/** How the database was named, safe to print. */
export interface TargetName {
  /** The URL with any password replaced by `***`. */
  display: string;
  source: DatabaseSource;
  backend: Backend;
  /** The absolute data directory of a `pglite:` database. */
  pglitePath?: string;
}

/** What a command asks of the shadow: `--shadow URL`, or a preference (defined next to the one policy, db/shadow.ts). */
export type { ShadowRequest } from '../db/shadow.js';

/** A Scope with its database opened (and, for destructive commands, the guard already passed). */
export interface Target<S extends Session = Database> extends Scope {
  db: S;
  name: TargetName;
  /** The one shadow policy (given URL, then same server, then PGlite), opened lazily. */
  openShadow(request?: ShadowRequest): Promise<Shadow>;
  /** A second session on the same database (backup's digests); absent when the caller gave an open Database. */
  openSibling?(): Promise<Database>;
  /** The server's connection facts (pg_dump); absent on PGlite. */
  server?: ServerTarget;
  /** The guard's verdict on this database (its URL against `protected`, the server, the mark), refusing nothing: status and check --db show it. */
  protection(): Promise<ProtectionStatus>;
}

/**
 * The same target with its work going through `tx`: how a flow hands its transaction down to a core
 * (restore and validate inside rebaseline). A second session would not see the transaction's rows, so
 * the sibling is dropped; the shadow and the server facts stay.
 */
export function withTx<S extends Session>(target: Target<Session>, tx: S): Target<S> {
  const { openSibling: _sibling, ...rest } = target;
  return { ...rest, db: tx };
}
