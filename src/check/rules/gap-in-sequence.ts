import type { Diagnostic } from '../../diagnostic.js';
import { compareMigrationNumbers, formatMigrationNumber } from '../../history/tidemark-source.js';
import type { Rule } from '../rule.js';

/**
 * gap-in-sequence — a tidemark service's numbers skip one (001, 002, 004). Usually a migration was
 * deleted or renamed after others were written; a database that applied the missing one no longer
 * matches the files.
 */
export const rule: Rule = {
  id: 'gap-in-sequence',
  severity: 'warning',
  scope: 'files',
  doc:
    "A tidemark service's migration numbers skip one or more values (001, 002, 004). Usually a migration was " +
    'deleted or renumbered after later ones were written, and a database that applied it no longer matches ' +
    'the files. Fix: restore the missing file, or renumber so the sequence is whole before anyone applies it.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      const sorted = [...(s.migrations ?? [])].sort((a, b) => compareMigrationNumbers(a.number, b.number));
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1];
        const next = sorted[i];
        if (next.number - prev.number <= 1n) continue;
        const missing = next.number - prev.number === 2n ? formatMigrationNumber(prev.number + 1n) : `${formatMigrationNumber(prev.number + 1n)}–${formatMigrationNumber(next.number - 1n)}`;
        out.push({
          rule: 'gap-in-sequence',
          severity: 'warning',
          service: s.name,
          file: next.file,
          line: 1,
          message: `${s.name} has no migration numbered ${missing} (between ${prev.id} and ${next.id}).`,
          hint: 'Restore the missing file, or renumber the later ones before any database applies them.',
        });
      }
    }
    return out;
  },
};
