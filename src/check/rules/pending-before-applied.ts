import type { Diagnostic } from '../../diagnostic.js';
import { formatMigrationNumber } from '../../history/tidemark-source.js';
import { ledgerDiagnosis } from '../database-facts.js';
import type { Rule } from '../rule.js';

/**
 * pending-before-applied — a migration numbered below one already applied is not applied: it was
 * merged late. dbmate would apply it out of order, postgrator would skip it forever; tidemark's up
 * refuses, and check says so before the deploy.
 */
export const rule: Rule = {
  id: 'pending-before-applied',
  severity: 'error',
  scope: 'database',
  doc:
    'A migration is not applied although a later number of the same service is: it was merged after the ' +
    'higher one had run. Applying it now would run migrations in a different order than every other ' +
    'database did. Fix: renumber it above the highest applied (`tidemark renumber` or rename it).',
  check(ctx) {
    const out: Diagnostic[] = [];
    if (!ctx.database) return out;
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      const diagnosis = ledgerDiagnosis(ctx.database, s);
      const highest = diagnosis.highestRecorded!;
      for (const { file: m } of diagnosis.late) {
        out.push({
          rule: 'pending-before-applied',
          severity: 'error',
          service: s.name,
          file: m.file,
          line: 1,
          message: `${m.id} is not applied in ${ctx.database!.url}, but ${highest.id}, a later number, is.`,
          hint: `Renumber ${m.id} above ${formatMigrationNumber(highest.number)} before deploying it.`,
        });
      }
    }
    return out;
  },
};
