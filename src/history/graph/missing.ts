// References to revisions (or branch labels) the service does not declare.
import type { Revision } from '../revision.js';
import { cacheFor, type MissingReference } from './build.js';

/**
 * References to ids this service does not declare, in input order (parents before depends_on).
 * A depends_on naming a branch label declared here is resolved, not missing. A duplicate id's later
 * revisions are not looked at (the duplicate-id rule reports them).
 */
export function findMissingReferences(revisions: readonly Revision[]): MissingReference[] {
  const c = cacheFor(revisions);
  if (!c.missing) {
    const { revs, index } = c.core;
    const labels = new Set<string>();
    for (const r of revs) for (const l of r.branchLabels ?? []) labels.add(l);
    const missing: MissingReference[] = [];
    for (const r of revs) {
      const lineOf = (ref: string): number => r.refLines?.[ref] ?? r.line;
      for (const p of new Set(r.parents ?? [])) if (!index.has(p)) missing.push({ revision: r, missing: p, kind: 'parent', line: lineOf(p) });
      for (const d of new Set(r.dependsOn ?? [])) if (!index.has(d) && !labels.has(d)) missing.push({ revision: r, missing: d, kind: 'depends_on', line: lineOf(d) });
    }
    c.missing = missing;
  }
  return c.missing.map((m) => ({ ...m }));
}
