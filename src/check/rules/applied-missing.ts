import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

/** applied-missing — the database has applied a migration whose file is not in the directory. */
export const rule: Rule = {
  id: 'applied-missing',
  severity: 'error',
  scope: 'database',
  doc:
    'tidemark.applied records a migration of a service whose file is not in that service\'s migrations ' +
    'directory: it was deleted or renamed after it ran, or this checkout is older than the database. ' +
    'Fix: restore the file from version control (or deploy the code that has it).',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      const ids = new Set((s.migrations ?? []).map((m) => m.id));
      for (const row of ctx.database?.ledger ?? []) {
        if (row.service !== s.name || ids.has(row.migration)) continue;
        out.push({
          rule: 'applied-missing',
          severity: 'error',
          service: s.name,
          file: s.dirs[0],
          message: `${row.migration} is applied in ${ctx.database!.url} but has no file in ${s.name}'s migrations directory.`,
          hint: 'Restore the file from version control, or deploy the code that has it.',
        });
      }
    }
    return out;
  },
};
