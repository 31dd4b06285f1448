/**
 * The service graph of a workspace: `requires` between services. The one place for its closure, its order
 * and its cycles. (The migration-level `-- tidemark:requires` checks stay with the planner:
 * src/apply/plan.ts `checkRequirements`, which reads migration files rather than the config.)
 */
import type { Service } from './types.js';

/** What the graph needs of a workspace: its services in declaration order. */
export interface ServiceGraph {
  services: readonly Pick<Service, 'name' | 'requires' | 'format'>[];
}

/** The named services and, transitively, the tidemark services they require (declaration-independent order). */
export function withRequiredServices(workspace: ServiceGraph, names: readonly string[]): string[] {
  const out = new Set<string>();
  const visit = (name: string) => {
    if (out.has(name)) return;
    const s = workspace.services.find((x) => x.name === name);
    // An Alembic service has no tidemark history to replay, so the closure stops there.
    if (s?.format !== 'tidemark') return;
    out.add(name);
    s.requires.forEach(visit);
  };
  names.forEach(visit);
  return [...out];
}

/**
 * The named services, every tidemark service that requires one of them (transitively), and what those
 * require: what a change to the named services could break, all built (`tidemark diff`'s `from` side).
 */
export function withDependentServices(workspace: ServiceGraph, names: readonly string[]): string[] {
  const dependents = workspace.services.filter((s) => s.format === 'tidemark' && withRequiredServices(workspace, [s.name]).some((n) => names.includes(n) && n !== s.name));
  return withRequiredServices(workspace, [...names, ...dependents.map((s) => s.name)]);
}

/** Services in requirement order (a required service before the one requiring it), only the ones asked for. */
export function requirementOrder(workspace: Pick<ServiceGraph, 'services'>, names: readonly string[]): string[] {
  const wanted = new Set(names);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const r of workspace.services.find((s) => s.name === name)?.requires ?? []) if (wanted.has(r)) visit(r);
    out.push(name);
  };
  for (const s of workspace.services) if (wanted.has(s.name)) visit(s.name);
  return out;
}

/** Cycles among `requires`, each once, as `a → b → a` (the first node repeated at the end). */
export function findCycles(names: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'active') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        // Same cycle reached from another entry point: compare as a set of edges.
        const key = cycle
          .slice(0, -1)
          .map((n, i) => `${n}>${cycle[i + 1]}`)
          .sort()
          .join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const name of names) if (!state.has(name)) visit(name);
  return cycles;
}
