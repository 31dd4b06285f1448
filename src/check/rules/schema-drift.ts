import type { Diagnostic } from '../../diagnostic.js';
import { describeChanges } from '../../schema/diff/words.js';
import type { Rule } from '../rule.js';

/** schema-drift — the live schema of a service is not what its applied migrations give. */
export const rule: Rule = {
  id: 'schema-drift',
  severity: 'error',
  scope: 'database',
  doc:
    'The objects a service owns in the database differ from what its applied migrations give when they are ' +
    'replayed on a shadow database: someone changed the schema by hand (a hotfix, a console session), or a ' +
    'migration file was edited after it ran. Each difference is one finding. Fix: write a migration recording ' +
    'the hand-made change (or undo it by hand); `tidemark check --no-drift` skips this rule and its shadow.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const fact of ctx.database?.drift ?? []) {
      const service = ctx.services.find((s) => s.name === fact.service);
      const base = { rule: 'schema-drift', severity: 'error' as const, service: fact.service, file: service?.dirs[0] };
      if (fact.error !== undefined) {
        out.push({
          ...base,
          message: `${fact.service}'s applied migrations do not replay on a shadow database, so its live schema cannot be compared: ${fact.error}`,
          hint: 'Run `tidemark test` to see which migration fails on an empty database.',
        });
        continue;
      }
      // The facts hold diff(live, history): the `from` side is called live, the `to` side history.
      for (const d of describeChanges(fact.changes, { expected: 'live', actual: 'history' })) {
        out.push({
          ...base,
          message: d.message,
          hint: `Record the hand-made change: \`tidemark diff --service ${fact.service} --to <this database URL>\` writes the migration, \`tidemark stamp\` marks it applied here; or undo the change by hand.`,
        });
      }
    }
    return out;
  },
};
