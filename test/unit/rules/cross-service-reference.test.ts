import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/cross-service-reference.js';
import { alembicService, context, rev, tableRef, tidemarkMigration, tidemarkService } from './fixtures.js';

const owners = { users: 'user', budgets: 'budget' };
const user = alembicService('user', [rev('user', '001'), rev('user', '1f4f4176aeb7', ['001'])]);

it('cross-service-reference: ok when each history stands alone and reads are declared', () => {
  const budget = alembicService('budget', [rev('budget', 'b1')], { requires: ['user'], tableReferences: [tableRef('users', 'REFERENCES'), tableRef('budgets', 'op.add_column')] });
  assert.deepEqual(rule.check(context([user, budget], owners)), []);
});

it('cross-service-reference: a down_revision or depends_on that only exists in another service', () => {
  const budget = alembicService('budget', [rev('budget', 'b1', ['1f4f4176aeb7']), rev('budget', 'b2', ['b1'], { dependsOn: ['001'] })]);
  const found = rule.check(context([user, budget], owners));
  assert.deepEqual(
    found.map((d) => [d.line, d.message]),
    [
      [11, 'budget revision b1 names 1f4f4176aeb7 as its down_revision, but 1f4f4176aeb7 is a revision of user.'],
      [11, 'budget revision b2 names 001 as its depends_on, but 001 is a revision of user.'],
    ],
  );
});

it("cross-service-reference: reading an undeclared service's table, and changing another service's table at all", () => {
  const budget = alembicService('budget', [rev('budget', 'b1')], {
    tableReferences: [tableRef('users', 'REFERENCES', 7), tableRef('users', 'op.add_column', 9), tableRef('public.users', 'UPDATE', 12)],
  });
  const found = rule.check(context([user, budget], owners));
  assert.deepEqual(
    found.map((d) => [d.line, d.message]),
    [
      [7, 'A migration of budget reads table users (REFERENCES), which user owns, and budget does not list user in `requires`.'],
      [9, 'A migration of budget changes table users (op.add_column), which user owns.'],
      [12, 'A migration of budget changes table users (UPDATE), which user owns.'],
    ],
  );
  const declared = rule.check(context([user, { ...budget, requires: ['user'] }], owners));
  assert.equal(declared.length, 2, 'requires allows reading, never changing');
});

it('cross-service-reference: tidemark requires on a service not in `requires`', () => {
  const u = tidemarkService('user', [tidemarkMigration('user', 1, 'init')]);
  const b = tidemarkService('budget', [tidemarkMigration('budget', 1, 'init', ['user_001_init'])]);
  assert.equal(rule.check(context([u, { ...b, requires: ['user'] }], owners)).length, 0);
  const found = rule.check(context([u, b], owners));
  assert.equal(found[0].message, 'budget_001_init requires user_001_init of user, which budget does not list in `requires`.');
});

it('cross-service-reference: a table named with a dot is not the schema-qualified table of another service', async () => {
  const { findTableReferences } = await import('../../../src/history/sql-tables.js');
  const sql = 'CREATE TABLE "sales.orders" (id int);\nINSERT INTO "sales.orders" VALUES (1);\nUPDATE sales.orders SET id = 2;\nSELECT * FROM "Sales"."Orders";';
  const refs = await findTableReferences(sql, '/w/migrations/budget/budget_001_x.sql', 1);
  assert.deepEqual(
    refs.map((r) => r.name),
    [
      { schema: 'public', name: 'sales.orders' },
      { schema: 'public', name: 'sales.orders' },
      { schema: 'sales', name: 'orders' },
      { schema: 'Sales', name: 'Orders' },
    ],
  );
  const u = tidemarkService('user', [tidemarkMigration('user', 1, 'init')], { owns: ['sales.orders', '"Sales"."Orders"'] });
  const b = tidemarkService('budget', [tidemarkMigration('budget', 1, 'x')], { tableReferences: refs });
  const found = rule.check(context([u, b], { 'sales.orders': 'user', '"Sales"."Orders"': 'user' }));
  assert.deepEqual(
    found.map((d) => [d.line, d.message]),
    [
      [3, 'A migration of budget changes table sales.orders (UPDATE), which user owns.'],
      [4, 'A migration of budget reads table "Sales"."Orders" (SELECT), which user owns, and budget does not list user in `requires`.'],
    ],
  );
});
