import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { rule } from '../../../src/check/rules/illegal-revision-id.js';
import { alembicService, context, rev, tidemarkMigration, tidemarkService } from './fixtures.js';

it('illegal-revision-id: ok for hex, sequential, timestamp and named ids', () => {
  const revs = [rev('a', 'ae1027a6acf'), rev('a', '002', ['ae1027a6acf']), rev('a', '20250915_124515', ['002']), rev('a', 'liberty.expand', ['20250915_124515'])];
  assert.deepEqual(rule.check(context([alembicService('a', revs)])), []);
});

it('illegal-revision-id: each of @ - + : is an error at the revision line', () => {
  for (const id of ['feat@1', 'add-users', 'v1+1', 'a:b']) {
    const found = rule.check(context([alembicService('a', [rev('a', id, [], { line: 7 })])]));
    assert.equal(found.length, 1, id);
    assert.equal(found[0].severity, 'error');
    assert.equal(found[0].file, `/p/a/versions/${id}.py`);
    assert.equal(found[0].line, 7);
    assert.match(found[0].message, /which Alembic does not allow in revision identifiers/);
  }
  const many = rule.check(context([alembicService('a', [rev('a', 'x-y:z@w+v')])]));
  assert.match(many[0].message, /contains '@', '-', '\+', ':'/);
  assert.match(many[0].hint!, /"x_y_z_w_v"/);
});

it('illegal-revision-id: matches Alembic _revision_illegal_chars on any id', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', '0', '_', '.', ' ', '@', '-', '+', ':', '/', 'é'), maxLength: 8 }), (id) => {
      const found = rule.check(context([alembicService('a', [rev('a', id)])]));
      assert.equal(found.length, /[@+:-]/.test(id) ? 1 : 0);
    }),
    { numRuns: 500 },
  );
});

it('illegal-revision-id: tidemark services are not Alembic histories', () => {
  assert.deepEqual(rule.check(context([tidemarkService('a', [tidemarkMigration('a', 1, 'add-users')])])), []);
});
