/**
 * Where a command's workspace and database come from: the options (a URL or an open Database, a
 * config value, a workspace, a config file), DATABASE_URL, the config, the embedded default. Used by
 * every layer that opens the database itself (apply, data, flows).
 */
import { loadWorkspace } from '../config/load.js';
import type { TidemarkConfig, Workspace } from '../config/types.js';
import type { Database } from './database.js';
import { DEFAULT_DATABASE_URL, redactUrl, resolveTarget, type DatabaseTarget } from './url.js';

/** Where the database URL came from, so the CLI can say which one it uses. */
export type DatabaseSource = 'option' | 'env' | 'config' | 'default' | 'given';

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

export function resolveDatabaseUrl(
  given: string | undefined,
  workspace: Pick<Workspace, 'database'> | undefined,
): { url: string; source: DatabaseSource } {
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
}

/** Filled in before connecting, so a result names the database and its source even when connecting fails. */
export interface ConnectionReport {
  database: string;
  databaseSource: DatabaseSource;
}

export function resolveConnection(options: WorkspaceOptions, workspace: Pick<Workspace, 'database' | 'root'> | undefined): ResolvedConnection {
  const { url, source } = resolveDatabaseUrl(typeof options.database === 'string' ? options.database : undefined, workspace);
  // URLs from the config and the default are relative to the config's directory.
  const cwd = source === 'config' || source === 'default' ? (workspace?.root ?? options.cwd) : options.cwd;
  return { url, source, target: resolveTarget(url, cwd) };
}

/** Opens the database the options point at; `close` is a no-op for a Database the caller gave. */
export async function connect(
  options: WorkspaceOptions,
  workspace: Workspace | undefined,
  report?: ConnectionReport,
): Promise<{ db: Database; url: string; source: DatabaseSource; close: () => Promise<void> }> {
  if (options.database && typeof options.database !== 'string') {
    const db = options.database;
    if (report) Object.assign(report, { database: db.displayUrl, databaseSource: 'given' });
    return { db, url: db.displayUrl, source: 'given', close: async () => {} };
  }
  if (report) {
    const { url, source } = resolveDatabaseUrl(options.database, workspace);
    Object.assign(report, { database: redactUrl(url), databaseSource: source });
  }
  return connectResolved(options, resolveConnection(options, workspace));
}

/** Opens exactly the target resolved before (the one a guard checked). */
export async function connectResolved(
  options: WorkspaceOptions,
  resolved: ResolvedConnection,
): Promise<{ db: Database; url: string; source: DatabaseSource; close: () => Promise<void> }> {
  const { openDatabase } = await import('./open.js');
  const db = await openDatabase(resolved.target);
  options.onConnect?.(db.displayUrl, resolved.source);
  return { db, url: db.displayUrl, source: resolved.source, close: () => db.close() };
}

/** Closing a broken connection must not hide the real outcome. */
export async function closeQuietly(close: () => Promise<void>): Promise<void> {
  await close().catch(() => {});
}
