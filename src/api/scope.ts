/**
 * The light half of the boundary for the commands that may run with no database (check, graph) or
 * no config (`check --alembic`, `graph --alembic`, `protect --database URL` outside a workspace).
 * target/open.ts loads the shadow and the guard with it (a dozen modules `tidemark check` without a
 * database never needs, and check's start-up is measured): these build the same Scope without it.
 */
import path from 'node:path';
import { selectServices } from '../config/select.js';
import type { TidemarkConfig, Workspace } from '../config/types.js';
import { makePaths } from '../target/paths.js';
import type { Scope } from '../target/target.js';

/** Where a workspace comes from, as every entry point takes it. */
export interface WorkspaceSource {
  config?: TidemarkConfig;
  workspace?: Workspace;
  configFile?: string;
  cwd?: string;
}

/** The workspace given, or the config loaded (a config file, a value, or tidemark.config.* looked up from cwd). */
export async function workspaceOf(options: WorkspaceSource): Promise<Workspace> {
  if (options.workspace) return options.workspace;
  // Loaded only with a config: `check --alembic` never pays for config validation (zod).
  const { loadWorkspace } = await import('../config/load.js');
  return loadWorkspace({ cwd: options.cwd, configFile: options.configFile, config: options.config });
}

/** The Scope of a loaded workspace with the default selection (every tidemark service): openScope's, without its imports. */
export function workspaceScope(workspace: Workspace, cwd: string | undefined): Scope {
  return { workspace, services: selectServices(workspace, undefined), paths: makePaths(workspace.root, cwd ?? process.cwd()) };
}

/**
 * The workspace of a command run with no config (check --alembic, protect on a URL, backup of named
 * tables, restore): no service, nothing protected, rooted at cwd, where the embedded default would be.
 */
export function workspaceWithoutConfig(cwd: string | undefined): Workspace {
  return { root: path.resolve(cwd ?? process.cwd()), services: [], protected: [], softRelations: [] };
}

/** A Scope with no config behind it: workspaceWithoutConfig's, no service, no database. */
export function scopeWithoutConfig(cwd: string | undefined): Scope {
  const workspace = workspaceWithoutConfig(cwd);
  return { workspace, services: [], paths: makePaths(workspace.root, workspace.root) };
}
