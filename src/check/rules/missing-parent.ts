import type { Diagnostic } from '../../diagnostic.js';
import { findMissingReferences } from '../../history/graph/missing.js';
import type { Rule } from '../rule.js';

/**
 * missing-parent — a revision names a down_revision or depends_on that no file of any service
 * declares (a deleted or mistyped revision), or a down_revision naming a branch label. Alembic
 * fails to load the history ("Revision X referenced from Y is not present", then a KeyError).
 */
export const rule: Rule = {
  id: 'missing-parent',
  severity: 'error',
  scope: 'files',
  doc:
    'A revision names a down_revision or depends_on (tidemark: a `-- tidemark:requires`) that no migration of any ' +
    'service declares: the parent was deleted, renamed or mistyped; or a down_revision names a branch label ' +
    '(depends_on may name a label, down_revision only a revision id). Alembic warns "Revision X referenced from Y ' +
    'is not present" and fails to load the history (KeyError); it cannot be ordered. (A reference found in another service is reported as cross-service-reference.) ' +
    'Fix: restore the parent, or point the reference at the revision that replaced it.',
  check(ctx) {
    const everywhere = new Set(ctx.services.flatMap((s) => s.revisions.map((r) => r.id)));
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      const labels = new Set(s.revisions.flatMap((r) => r.branchLabels));
      for (const miss of findMissingReferences(s.revisions)) {
        if (everywhere.has(miss.missing)) continue;
        if (s.format === 'alembic' && miss.kind === 'parent' && labels.has(miss.missing)) {
          // Alembic resolves depends_on through branch labels, but a down_revision must be a revision id.
          out.push({
            rule: 'missing-parent',
            severity: 'error',
            service: s.name,
            file: miss.revision.file,
            line: miss.line,
            message: `${s.name} revision ${miss.revision.id} names branch label ${JSON.stringify(miss.missing)} as its down_revision; a down_revision must be a revision id, and Alembic fails to load the history.`,
            hint: `Name the revision id at the tip of that branch (or use depends_on = ${JSON.stringify(miss.missing)}, which may name a label).`,
          });
          continue;
        }
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
