import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

/**
 * alembic-version-contamination — a row of an Alembic version table that belongs to another
 * service's directory, or to none. The CRM's services all wrote the default `alembic_version`, so
 * each saw the other's revisions as its own "current" and `fix_*.py` scripts kept patching rows.
 */
export const rule: Rule = {
  id: 'alembic-version-contamination',
  severity: 'error',
  scope: 'database',
  doc:
    "An Alembic version table holds a revision that belongs to another service's directory, or to no " +
    "directory at all. When several services share one version table (Alembic's default alembic_version), " +
    "each one reads the others' rows as its own current revision: upgrades fail with \"Can't locate " +
    'revision" or skip work. Fix: give each service its own version table (`tidemark alembic ' +
    'split-version-table`), which moves every row to its owner in one transaction.',
  check(ctx) {
    const db = ctx.database;
    if (!db) return [];
    const alembic = ctx.services.filter((s) => s.format === 'alembic');
    if (alembic.length === 0) return [];
    const owners = new Map<string, string[]>();
    for (const s of alembic) for (const r of s.revisions) owners.set(r.id, [...new Set([...(owners.get(r.id) ?? []), s.name])]);
    const usersOf = (table: string) => alembic.filter((s) => (s.versionTable ?? 'alembic_version') === table).map((s) => s.name);
    const out: Diagnostic[] = [];
    for (const { table, versionNum } of db.alembicVersions) {
      const users = usersOf(table);
      const owner = owners.get(versionNum) ?? [];
      if (owner.length === 0) {
        out.push({
          rule: 'alembic-version-contamination',
          severity: 'error',
          service: users.length === 1 ? users[0] : undefined,
          message: `${table} holds revision ${versionNum}, which no service's directory defines.`,
          hint: 'It is a leftover (a deleted revision or a hand fix): after checking, delete the row, or stamp the service to its real head.',
        });
        continue;
      }
      const foreignTo = users.filter((u) => !owner.includes(u));
      if (foreignTo.length === 0) continue;
      out.push({
        rule: 'alembic-version-contamination',
        severity: 'error',
        service: owner[0],
        message:
          users.length > 1
            ? `${table} is shared by ${users.join(', ')}: its row ${versionNum} belongs to ${owner.join(', ')}, so ${foreignTo.join(', ')} read${foreignTo.length === 1 ? 's' : ''} it as ${foreignTo.length === 1 ? 'its' : 'their'} own.`
            : `${table} of ${users[0]} holds revision ${versionNum}, which belongs to ${owner.join(', ')}.`,
        hint: 'Give each service its own version table: `tidemark alembic split-version-table` (then set version_table in each env.py).',
      });
    }
    return out;
  },
};
