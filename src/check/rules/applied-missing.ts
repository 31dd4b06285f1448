import type { Diagnostic } from '../../diagnostic.js';
import { ledgerDiagnosis } from '../database-facts.js';
import type { Rule } from '../rule.js';

/** applied-missing — the database has applied a migration whose file is not in the directory. */
export const rule: Rule = {
  id: 'applied-missing',
  severity: 'error',
  scope: 'database',
  doc:
    "tidemark.applied records a migration of a service whose file is not in that service's migrations " +
    'directory: it was deleted or renamed after it ran, or this checkout is older than the database. ' +
    'Fix: restore the file from version control (or deploy the code that has it).',
  check(ctx) {
    const out: Diagnostic[] = [];
    if (!ctx.database) return out;
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      for (const d of ledgerDiagnosis(ctx.database, s).recorded) {
        if (d.state !== 'missing-file') continue;
        out.push({
          rule: 'applied-missing',
          severity: 'error',
          service: s.name,
          file: s.dirs[0],
          message: `${d.id} is applied in ${ctx.database!.url} but has no file in ${s.name}'s migrations directory.`,
          hint: 'Restore the file from version control, or deploy the code that has it.',
        });
      }
    }
    return out;
  },
};
