import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

/** foreign-ledger-rows — the ledger holds rows for a service this workspace does not declare. */
export const rule: Rule = {
  id: 'foreign-ledger-rows',
  severity: 'warning',
  scope: 'database',
  doc:
    'tidemark.applied holds rows for a service the config does not declare: a renamed or removed service, ' +
    'or another workspace migrating the same database. Nothing will ever reconcile those rows. Fix: declare ' +
    'the service, or remove its rows once you are sure (`tidemark stamp --service S --to base` after declaring it).',
  check(ctx) {
    const declared = new Set(ctx.services.map((s) => s.name));
    const counts = new Map<string, number>();
    for (const row of ctx.database?.ledger ?? []) if (!declared.has(row.service)) counts.set(row.service, (counts.get(row.service) ?? 0) + 1);
    const out: Diagnostic[] = [];
    for (const [service, n] of [...counts].sort()) {
      out.push({
        rule: 'foreign-ledger-rows',
        severity: 'warning',
        service,
        message: `tidemark.applied in ${ctx.database!.url} has ${n} row${n === 1 ? '' : 's'} for service ${service}, which the config does not declare.`,
        hint: `Declare ${service} in the config, or, if it is gone for good, delete its rows from tidemark.applied.`,
      });
    }
    return out;
  },
};
