/**
 * Where a command's workspace and database come from: the options (a URL or an open Database, a
 * config value, a workspace, a config file), DATABASE_URL, the config, the embedded default. Part of
 * the boundary: only target/open.ts uses it, once per command.
 */
import { loadWorkspace } from '../config/load.js';
import type { TidemarkConfig, Workspace } from '../config/types.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import { urlBaseDir } from './paths.js';
import type { Database } from '../db/database.js';
import type { DatabaseSource } from './target.js';
import { DEFAULT_DATABASE_URL, resolveTarget, type DatabaseTarget } from '../db/url.js';

export type { DatabaseSource };

export interface WorkspaceOptions {
  /** A config as a value (service start-up), or … */
  config?: TidemarkConfig;
  /** … an already loaded workspace, or … */
  workspace?: Workspace;
  /** … a config file (else tidemark.config.* is looked up from cwd). */
  configFile?: string;
  cwd?: string;
  /** A URL, or an open Database (left open afterwards). Else DATABASE_URL, the config, the embedded default. */
  database?: string | Database;
  /** Told which database is used (redacted URL) and where its URL came from, once it is open. */
  onConnect?: (database: string, source: DatabaseSource) => void;
}

export function resolveDatabaseUrl(given: string | undefined, workspace: Pick<Workspace, 'database'> | undefined): { url: string; source: DatabaseSource } {
  if (given) return { url: given, source: 'option' };
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, source: 'env' };
  if (workspace?.database) return { url: workspace.database, source: 'config' };
  return { url: DEFAULT_DATABASE_URL, source: 'default' };
}

export async function resolveWorkspace(options: WorkspaceOptions): Promise<Workspace> {
  if (options.workspace) return options.workspace;
  return loadWorkspace({ cwd: options.cwd, configFile: options.configFile, config: options.config });
}

/** Where a command's database is, resolved once (no I/O): the target to open and check, and where its URL came from. */
export interface ResolvedConnection {
  url: string;
  source: DatabaseSource;
  target: DatabaseTarget;
  /** The config file, when the URL came from it (for messages). */
  configFile?: string;
}

/** Filled in before connecting, so a result names the database and its source even when connecting fails. */
export interface ConnectionReport {
  database: string;
  databaseSource: DatabaseSource;
}

export function resolveConnection(options: WorkspaceOptions, workspace: Pick<Workspace, 'database' | 'root' | 'configFile'> | undefined): ResolvedConnection {
  const { url, source } = resolveDatabaseUrl(typeof options.database === 'string' ? options.database : undefined, workspace);
  const cwd = urlBaseDir(source, workspace?.root, options.cwd);
  try {
    return { url, source, target: resolveTarget(url, cwd), configFile: workspace?.configFile };
  } catch (err) {
    throw namingSource(err, source, workspace?.configFile);
  }
}

/** Who named the database, for a message: `--database`, `DATABASE_URL`, the config file, or nobody (the default). */
function describeSource(source: DatabaseSource, configFile?: string): string {
  switch (source) {
    case 'option':
      return '--database';
    case 'env':
      return 'the DATABASE_URL environment variable';
    case 'config':
      return `the config's database${configFile ? ` (${displayPath(configFile)})` : ''}`;
    case 'default':
      return `nothing (no --database, DATABASE_URL or config database): it is the embedded default ${DEFAULT_DATABASE_URL}`;
    case 'given':
      return 'the caller';
  }
}

/** The errors that depend on which database was named: they say who named it. */
const TARGET_ERRORS: ReadonlySet<string> = new Set(['bad-database-url', 'database-unreachable', 'database-in-use', 'not-a-database-dir']);

/**
 * The same error, its hint saying where the URL came from, so a user who meant another database sees
 * which flag, variable or file to change (the message already names the redacted URL). Other errors as they are.
 */
function namingSource(err: unknown, source: DatabaseSource, configFile: string | undefined): unknown {
  if (!isTidemarkError(err) || !TARGET_ERRORS.has(err.code) || source === 'given') return err;
  const named = `this database was named by ${describeSource(source, configFile)}`;
  const hint = err.hint ? `${err.hint.replace(/\.$/, '')}; ${named}.` : `${named[0].toUpperCase()}${named.slice(1)}.`;
  return new TidemarkError(err.code, err.message, { hint, cause: err });
}

/** Opens exactly the target resolved before (the one a guard checked). */
export async function connectResolved(options: WorkspaceOptions, resolved: ResolvedConnection): Promise<{ db: Database; url: string; source: DatabaseSource; close: () => Promise<void> }> {
  const { openDatabase } = await import('../db/open.js');
  let db: Database;
  try {
    db = await openDatabase(resolved.target);
  } catch (err) {
    throw namingSource(err, resolved.source, resolved.configFile);
  }
  options.onConnect?.(db.displayUrl, resolved.source);
  return { db, url: db.displayUrl, source: resolved.source, close: () => db.close() };
}

/** Closing a broken connection must not hide the real outcome. */
export async function closeQuietly(close: () => Promise<void>): Promise<void> {
  await close().catch(() => {});
}
