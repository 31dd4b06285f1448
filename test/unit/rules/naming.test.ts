import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/naming.js';
import { context, tidemarkMigration, tidemarkService } from './fixtures.js';

it('naming: ok for <service>_<NNN>_<slug> files and non-migration files', () => {
  const s = tidemarkService('user', [tidemarkMigration('user', 1)], {
    files: ['/w/migrations/user/user_001_m1.sql', '/w/migrations/user/tidemark.sum', '/w/migrations/user/README.md', '/w/migrations/user/types.d.ts'],
  });
  assert.deepEqual(rule.check(context([s])), []);
});

it('naming: reports each misnamed migration-like file with a suggestion', () => {
  const s = tidemarkService('user', [], { files: ['/w/migrations/user/005_add_role.sql', '/w/migrations/user/budget_001_x.sql', '/w/migrations/user/user_2_X.ts'] });
  const found = rule.check(context([s]));
  assert.deepEqual(
    found.map((d) => d.message),
    [
      '005_add_role.sql is not named <service>_<NNN>_<slug> for service user.',
      'budget_001_x.sql is not named <service>_<NNN>_<slug> for service user.',
      'user_2_X.ts is not named <service>_<NNN>_<slug> for service user.',
    ],
  );
  assert.match(found[0].hint!, /user_NNN_add_role\.sql/);
});

it('naming: Alembic services are not held to tidemark names', () => {
  assert.deepEqual(rule.check(context([{ ...tidemarkService('a', []), format: 'alembic', files: ['/x/1f4f4176aeb7_x.py'] }])), []);
});
