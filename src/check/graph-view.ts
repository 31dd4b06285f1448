import { findHeads, findMergePoints } from '../history/graph/heads.js';
import { topologicalOrder } from '../history/graph/order.js';
import type { GraphService } from '../report/graph-render.js';
import type { Revision } from '../history/revision.js';
import type { Scope } from '../target/target.js';
import { buildServiceViews, sourceOf } from './views.js';
import { resolveAlembicLocation } from '../history/alembic-lazy.js';

export interface GraphView {
  services: (GraphService & { revisions: Revision[] })[];
  duplicateIds: { service: string; id: string }[];
  crossServiceEdges: { from: { service: string; id: string }; to: { service: string; id: string } }[];
}

export interface GraphViewOptions {
  /** Draw these Alembic histories (a versions dir, environment dir or alembic.ini each) instead of the workspace's services. */
  alembic?: string[];
}

/**
 * What `tidemark graph` draws: every service's revisions, duplicates and undeclared cross-service edges.
 * Every service of the workspace is drawn (Alembic-kept ones too), whatever the scope selects.
 */
export async function graphView(scope: Scope, options: GraphViewOptions = {}): Promise<GraphView> {
  const sources = options.alembic?.length
    ? await Promise.all(
        options.alembic.map(async (p) => {
          const loc = await resolveAlembicLocation(p);
          return { name: loc.service, format: 'alembic' as const, dirs: loc.dirs, owns: [], requires: [], recursive: loc.recursive, versionTable: 'alembic_version' };
        }),
      )
    : scope.workspace.services.map(sourceOf);
  const views = await buildServiceViews(sources);
  const serviceOf = new Map<string, string[]>();
  for (const v of views) for (const r of v.revisions) serviceOf.set(r.id, [...(serviceOf.get(r.id) ?? []), v.name]);
  const duplicateIds: GraphView['duplicateIds'] = [];
  const crossServiceEdges: GraphView['crossServiceEdges'] = [];
  for (const v of views) {
    const seen = new Set<string>();
    const own = new Set(v.revisions.map((x) => x.id));
    for (const r of v.revisions) {
      if (seen.has(r.id)) duplicateIds.push({ service: v.name, id: r.id });
      seen.add(r.id);
      for (const ref of [...r.parents, ...r.dependsOn]) {
        if (own.has(ref)) continue;
        for (const other of serviceOf.get(ref) ?? []) {
          if (other === v.name || v.requires.includes(other)) continue;
          crossServiceEdges.push({ from: { service: v.name, id: r.id }, to: { service: other, id: ref } });
        }
      }
    }
  }
  return { services: views.map((v) => serviceGraph(v.name, v.revisions)), duplicateIds, crossServiceEdges };
}

/** A service's revisions with the graph facts the renderer draws (heads, merge points, order). */
export function serviceGraph(name: string, revisions: Revision[]): GraphService & { revisions: Revision[] } {
  return { name, revisions, heads: findHeads(revisions), merges: findMergePoints(revisions), order: topologicalOrder(revisions) };
}
