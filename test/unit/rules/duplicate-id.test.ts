import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/duplicate-id.js';
import { alembicService, context, rev, tidemarkMigration, tidemarkService } from './fixtures.js';

it('duplicate-id: ok when every id is unique', () => {
  assert.deepEqual(rule.check(context([alembicService('budget', [rev('budget', '004'), rev('budget', '005', ['004'])])])), []);
  assert.deepEqual(rule.check(context([tidemarkService('budget', [tidemarkMigration('budget', 1), tidemarkMigration('budget', 2)])])), []);
});

it('duplicate-id: names every Alembic file declaring the same revision', () => {
  const a = rev('budget', '005', ['004'], { file: '/p/budget/versions/005_remove_quantity_column.py', line: 13 });
  const b = rev('budget', '005', ['004'], { file: '/p/budget/versions/005_add_commission_percentage_actual.py', line: 14 });
  const found = rule.check(context([alembicService('budget', [rev('budget', '004'), a, b])]));
  assert.equal(found.length, 1);
  assert.equal(found[0].file, '/p/budget/versions/005_add_commission_percentage_actual.py');
  assert.equal(found[0].line, 14);
  assert.equal(
    found[0].message,
    'budget declares revision id 005 in 2 files: /p/budget/versions/005_add_commission_percentage_actual.py:14, /p/budget/versions/005_remove_quantity_column.py:13 (Alembic would silently keep only the last one it loads).',
  );
});

it('duplicate-id: a tidemark number used twice', () => {
  const found = rule.check(context([tidemarkService('budget', [tidemarkMigration('budget', 5, 'a'), tidemarkMigration('budget', 5, 'b')])]));
  assert.equal(found.length, 1);
  assert.match(found[0].message, /^budget declares number 005 in 2 files: .*budget_005_a\.sql:1, .*budget_005_b\.sql:1\.$/);
  assert.match(found[0].hint!, /tidemark renumber --service budget/);
});
