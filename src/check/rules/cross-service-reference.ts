import type { Diagnostic } from '../../diagnostic.js';
import { displayName } from '../../sql/ident.js';
import type { Rule, ServiceView } from '../rule.js';

/** Actions that change another service's table (DDL or data): never allowed, even with `requires`. */
const CHANGES = /^(CREATE TABLE|CREATE INDEX|ALTER TABLE|DROP|TRUNCATE|RENAME|COMMENT ON|INSERT|UPDATE|DELETE|MERGE|CREATE TRIGGER|CREATE RULE|CREATE POLICY|op\.(?!f$|get_bind|execute).*)$/;

function revisionOwners(services: readonly ServiceView[]): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>();
  for (const s of services) for (const r of s.revisions) owners.set(r.id, (owners.get(r.id) ?? new Set()).add(s.name));
  return owners;
}

/**
 * cross-service-reference — one service's history reaches into another's: a down_revision or
 * depends_on that only exists in another service's directory (the CRM's budget migrations pointing
 * at user revisions through one shared alembic_version), or SQL / op.* calls on a table another
 * service owns without listing it in `requires` — and changing another service's table at all.
 */
export const rule: Rule = {
  id: 'cross-service-reference',
  severity: 'error',
  scope: 'files',
  doc:
    "A migration of one service depends on another service's history or tables: a down_revision / depends_on " +
    "that resolves only in another service's directory, a `-- tidemark:requires` on a service not listed in " +
    '`requires`, SQL or an Alembic op.* call that reads a table another service owns without declaring it in ' +
    '`requires`, or that changes (DDL or writes) a table another service owns at all. Histories that cross ' +
    'services can only be applied in one interleaved order and break as soon as one service deploys alone. ' +
    'Fix: remove the reference; declare the dependency in the config (`requires`) and, for tidemark services, ' +
    'use `-- tidemark:requires <id>`; let the owning service make changes to its own tables.',
  check(ctx) {
    const out: Diagnostic[] = [];
    const owners = revisionOwners(ctx.services);
    for (const s of ctx.services) {
      const own = new Set(s.revisions.map((r) => r.id));
      for (const r of s.revisions) {
        const refs = [...r.parents.map((id) => ({ id, kind: 'down_revision' })), ...r.dependsOn.map((id) => ({ id, kind: 'depends_on' }))];
        for (const ref of refs) {
          const elsewhere = [...(owners.get(ref.id) ?? [])].filter((o) => o !== s.name);
          if (elsewhere.length === 0) continue;
          const line = r.refLines[ref.id] ?? r.line;
          if (s.format === 'tidemark') {
            // `-- tidemark:requires` is the sanctioned link, when the config declares the service.
            if (elsewhere.every((o) => s.requires.includes(o))) continue;
            out.push({
              rule: 'cross-service-reference',
              severity: 'error',
              service: s.name,
              file: r.file,
              line,
              message: `${r.id} requires ${ref.id} of ${elsewhere.join(', ')}, which ${s.name} does not list in \`requires\`.`,
              hint: `Add '${elsewhere[0]}' to services.${s.name}.requires in the config, or remove the directive.`,
            });
            continue;
          }
          if (own.has(ref.id)) continue;
          out.push({
            rule: 'cross-service-reference',
            severity: 'error',
            service: s.name,
            file: r.file,
            line,
            message: `${s.name} revision ${r.id} names ${ref.id} as its ${ref.kind}, but ${ref.id} is a revision of ${elsewhere.join(', ')}.`,
            hint: `Each service's history must stand alone: point ${r.id} at a revision of ${s.name} (or none), and give each service its own version table (\`tidemark alembic split-version-table\`).`,
          });
        }
      }
      for (const ref of s.tableReferences) {
        const owner = ctx.ownerOf(ref.name);
        if (!owner || owner === s.name) continue;
        const changes = CHANGES.test(ref.action);
        if (!changes && s.requires.includes(owner)) continue;
        const shown = displayName(ref.name);
        const verb = changes ? `changes table ${shown} (${ref.action})` : `reads table ${shown} (${ref.action})`;
        out.push({
          rule: 'cross-service-reference',
          severity: 'error',
          service: s.name,
          file: ref.file,
          line: ref.line,
          message: changes ? `A migration of ${s.name} ${verb}, which ${owner} owns.` : `A migration of ${s.name} ${verb}, which ${owner} owns, and ${s.name} does not list ${owner} in \`requires\`.`,
          hint: changes ? `Move this change into a migration of ${owner}.` : `Add '${owner}' to services.${s.name}.requires in the config if the dependency is intended.`,
        });
      }
    }
    return out;
  },
};
