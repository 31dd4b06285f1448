import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

export type IdFormat = 'sequential' | 'hex hash' | 'timestamp' | 'name';

/** What kind of id this is: `001`, `1f4f4176aeb7`, `20250915_124515`, or a name like `liberty`. */
export function idFormatOf(id: string): IdFormat {
  if (/^(19|20)\d{6}[_-]?\d{4,6}(?:_|$)/.test(id) || /^(19|20)\d{12}/.test(id)) return 'timestamp';
  if (/^[0-9a-f]{8,40}$/.test(id) && /[a-f]/.test(id)) return 'hex hash';
  if (/^\d+(?:_|$)/.test(id)) return 'sequential';
  return 'name';
}

/**
 * mixed-id-format — one Alembic history mixes id formats (sequential `001`, hex hashes
 * `1f4f4176aeb7`, timestamps `20250915_124515`, names). Ordering by eye stops working and each
 * tool that generates ids keeps its own scheme, which is how duplicates and forks creep in.
 */
export const rule: Rule = {
  id: 'mixed-id-format',
  severity: 'warning',
  scope: 'files',
  doc:
    'One history mixes revision id formats: sequential numbers (001), hex hashes (1f4f4176aeb7), timestamps ' +
    '(20250915_124515) or names. Nobody can tell the order from the ids, and each way of generating them ' +
    'collides differently. Fix: pick one format for new revisions (tidemark uses <service>_<NNN>_<slug>), ' +
    'or move the service to tidemark with a baseline.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'alembic' || s.revisions.length < 2) continue;
      const byFormat = new Map<IdFormat, typeof s.revisions>();
      for (const r of s.revisions) {
        const format = idFormatOf(r.id);
        const list = byFormat.get(format);
        if (list) list.push(r);
        else byFormat.set(format, [r]);
      }
      if (byFormat.size < 2) continue;
      const ranked = [...byFormat].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
      const odd = ranked
        .slice(1)
        .flatMap(([, list]) => list)
        .sort((a, b) => a.file.localeCompare(b.file))[0];
      const listing = ranked
        .map(([format, list]) => {
          const ids = [...new Set(list.map((r) => r.id))].sort();
          return `${format} (${ids.slice(0, 3).join(', ')}${ids.length > 3 ? `, … ${ids.length} in all` : ''})`;
        })
        .join(', ');
      out.push({
        rule: 'mixed-id-format',
        severity: 'warning',
        service: s.name,
        file: odd.file,
        line: odd.line,
        message: `${s.name} mixes ${byFormat.size} revision id formats: ${listing}.`,
        hint: "Use one format for new revisions; tidemark numbers each service's migrations <service>_<NNN>_<slug>.",
      });
    }
    return out;
  },
};
