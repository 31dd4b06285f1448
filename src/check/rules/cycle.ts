import type { Diagnostic } from '../../diagnostic.js';
import { findCycles } from '../../history/graph/cycles.js';
import type { Rule } from '../rule.js';

/** cycle — revisions that are their own ancestors, through down_revision or depends_on. */
export const rule: Rule = {
  id: 'cycle',
  severity: 'error',
  scope: 'files',
  doc:
    'Some revisions are their own ancestors: a down_revision or depends_on chain leads back to where it started ' +
    '(including a revision that names itself). No order can apply them; Alembic raises CycleDetected. Fix: break ' +
    'the loop by correcting the down_revision or depends_on that points forward.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      for (const ids of findCycles(s.revisions)) {
        const first = s.revisions.find((r) => r.id === ids[0]);
        out.push({
          rule: 'cycle',
          severity: 'error',
          service: s.name,
          file: first?.file,
          line: first?.line,
          message: ids.length === 1 ? `${s.name} revision ${ids[0]} names itself as its own parent or dependency.` : `${s.name} revisions ${ids.join(', ')} form a cycle.`,
          hint: 'Break the loop: fix the down_revision or depends_on that points at a later revision.',
        });
      }
    }
    return out;
  },
};
