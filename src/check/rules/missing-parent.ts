import type { Diagnostic } from '../../diagnostic.js';
import { findMissingReferences } from '../../history/graph.js';
import type { Rule } from '../rule.js';

/**
 * missing-parent — a revision names a down_revision or depends_on that no file of any service
 * declares (a deleted or mistyped revision). Alembic fails with "Can't locate revision".
 */
export const rule: Rule = {
  id: 'missing-parent',
  severity: 'error',
  scope: 'files',
  doc:
    'A revision names a down_revision or depends_on (tidemark: a `-- tidemark:requires`) that no migration of any ' +
    'service declares: the parent was deleted, renamed or mistyped. Alembic stops with "Can\'t locate revision"; ' +
    'the history cannot be ordered. (A reference found in another service is reported as cross-service-reference.) ' +
    'Fix: restore the parent, or point the reference at the revision that replaced it.',
  check(ctx) {
    const everywhere = new Set(ctx.services.flatMap((s) => s.revisions.map((r) => r.id)));
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      for (const miss of findMissingReferences(s.revisions)) {
        if (everywhere.has(miss.missing)) continue;
        const what = s.format === 'tidemark' ? 'requires' : `names ${miss.kind === 'parent' ? 'as its down_revision' : 'in depends_on'}`;
        out.push({
          rule: 'missing-parent',
          severity: 'error',
          service: s.name,
          file: miss.revision.file,
          line: miss.line,
          message:
            s.format === 'tidemark'
              ? `${miss.revision.id} requires ${miss.missing}, which no service declares.`
              : `${s.name} revision ${miss.revision.id} ${what} ${miss.missing}, which no file declares.`,
          hint: 'Restore the missing revision, or point the reference at the revision that replaced it.',
        });
      }
    }
    return out;
  },
};
