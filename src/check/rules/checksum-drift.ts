import type { Diagnostic } from '../../diagnostic.js';
import { displayPath } from '../../paths.js';
import { ledgerDiagnosis } from '../database-facts.js';
import type { Rule } from '../rule.js';

/** checksum-drift — an applied tidemark migration's file was edited afterwards. */
export const rule: Rule = {
  id: 'checksum-drift',
  severity: 'error',
  scope: 'database',
  doc:
    'A migration recorded as applied in tidemark.applied no longer matches its file (SHA-256 differs): it was ' +
    'edited after it ran, so databases built from the files and this database differ. Fix: restore the file ' +
    'as it was applied and put the change in a new migration.',
  check(ctx) {
    const out: Diagnostic[] = [];
    if (!ctx.database) return out;
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      for (const d of ledgerDiagnosis(ctx.database, s).recorded) {
        if (d.state !== 'drift') continue;
        const m = d.file;
        out.push({
          rule: 'checksum-drift',
          severity: 'error',
          service: s.name,
          file: m.file,
          line: 1,
          message: `${displayPath(m.file)} was edited after it was applied to ${ctx.database!.url}.`,
          hint: 'Restore the file as it was applied (git log -p) and put the change in a new migration.',
        });
      }
    }
    return out;
  },
};
