/**
 * The public graph entry point (see api/migrate.ts for what this folder is): the config loaded once
 * (none with `alembic`), then the core. Throws what the core or the config loading throws.
 */
import { graphView as graphCore, type GraphView, type GraphViewOptions } from '../check/graph-view.js';
import type { ScopeOptions } from '../target/open.js';
import { scopeWithoutConfig, workspaceOf, workspaceScope } from './scope.js';

/** The options every entry point takes (a database among them, which graph does not use), and the core's. */
export type GraphOptions = Omit<ScopeOptions, 'service' | 'withRequired'> & GraphViewOptions;

/** What `tidemark graph` draws: every service's revisions, duplicates and undeclared cross-service edges. */
export async function graphView(options: GraphOptions = {}): Promise<GraphView> {
  const scope = options.alembic?.length ? scopeWithoutConfig(options.cwd) : workspaceScope(await workspaceOf(options), options.cwd);
  return graphCore(scope, { alembic: options.alembic });
}
