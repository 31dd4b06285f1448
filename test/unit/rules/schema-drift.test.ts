import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rule as schemaDrift } from '../../../src/check/rules/schema-drift.js';
import type { Change } from '../../../src/schema/diff/change.js';
import { context, tidemarkMigration as m, tidemarkService, withDatabase } from './fixtures.js';

const budget = tidemarkService('budget', [m('budget', 1, 'init')], { owns: ['budgets'] });
const column = { kind: 'column', schema: 'public', table: 'budgets', name: 'hotfix' } as const;
// diff(live, history): a column only live is a drop; a default changed by hand is an alter from live to history.
const hotfix: Change = { op: 'drop', id: column, before: { name: 'hotfix', type: 'text', notNull: false }, hazards: ['data-loss'] };
const statusDefault: Change = {
  op: 'alter',
  id: { kind: 'column', schema: 'public', table: 'budgets', name: 'status' },
  attribute: 'default',
  before: "'open'::text",
  after: "'draft'::text",
  hazards: [],
};

describe('schema-drift', () => {
  it('says nothing when drift was not computed, or when the live schema is what the history gives', () => {
    assert.deepEqual(schemaDrift.check(withDatabase(context([budget]), {})), []);
    assert.deepEqual(schemaDrift.check(withDatabase(context([budget]), { drift: [{ service: 'budget', changes: [] }] })), []);
  });

  it('reports each difference as one error, live first', () => {
    const found = schemaDrift.check(withDatabase(context([budget]), { drift: [{ service: 'budget', changes: [hotfix, statusDefault] }] }));
    assert.deepEqual(
      found.map((d) => [d.severity, d.service, d.file, d.message]),
      [
        ['error', 'budget', '/w/migrations/budget', 'column budgets.hotfix exists live but not in the history'],
        ['error', 'budget', '/w/migrations/budget', "column budgets.status: live default 'open'::text, history gives 'draft'::text"],
      ],
    );
    assert.equal(
      found[0].hint,
      'Record the hand-made change: `tidemark diff --service budget --to <this database URL>` writes the migration, `tidemark stamp` marks it applied here; or undo the change by hand.',
    );
  });

  it('reports a history that does not replay once', () => {
    const found = schemaDrift.check(withDatabase(context([budget]), { drift: [{ service: 'budget', changes: [], error: 'relation "x" does not exist' }] }));
    assert.deepEqual(
      found.map((d) => d.message),
      ['budget\'s applied migrations do not replay on a shadow database, so its live schema cannot be compared: relation "x" does not exist'],
    );
  });
});
