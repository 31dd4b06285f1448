import type { Diagnostic } from '../../diagnostic.js';
import { displayName } from '../../sql/ident.js';
import type { Rule } from '../rule.js';

/** unowned-object — a table in the database that no service's `owns` covers. */
export const rule: Rule = {
  id: 'unowned-object',
  severity: 'warning',
  scope: 'database',
  doc:
    'A table in the database is owned by no service (no `owns` entry matches it). No migration history is ' +
    'responsible for it, so no baseline will include it and no reset will keep it. Fix: add it to the `owns` ' +
    'of the service that creates it, or drop it if it is a leftover.',
  check(ctx) {
    if (!ctx.database || ctx.services.every((s) => s.owns.length === 0)) return [];
    const out: Diagnostic[] = [];
    for (const table of ctx.database.tables) {
      if (ctx.ownerOf(table)) continue;
      out.push({
        rule: 'unowned-object',
        severity: 'warning',
        message: `Table ${displayName(table)} in ${ctx.database.url} is owned by no service.`,
        hint: 'Add it to the `owns` list of the service that creates it, or drop it if it is a leftover.',
      });
    }
    return out;
  },
};
