import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/missing-parent.js';
import { alembicService, context, rev } from './fixtures.js';

it('missing-parent: ok when every parent is a revision id and depends_on names an id or a label', () => {
  const revs = [rev('a', 'r1', [], { branchLabels: ['core'] }), rev('a', 'r2', ['r1']), rev('a', 'r3', ['r2'], { dependsOn: ['core'] })];
  assert.deepEqual(rule.check(context([alembicService('a', revs)])), []);
});

it('missing-parent: a down_revision or depends_on that nothing declares', () => {
  const found = rule.check(context([alembicService('a', [rev('a', 'r1'), rev('a', 'r2', ['gone']), rev('a', 'r3', ['r1'], { dependsOn: ['nolabel'] })])]));
  assert.deepEqual(
    found.map((d) => [d.file, d.line, d.message]),
    [
      ['/p/a/versions/r2.py', 11, 'a revision r2 names as its down_revision gone, which no file declares.'],
      ['/p/a/versions/r3.py', 11, 'a revision r3 names in depends_on nolabel, which no file declares.'],
    ],
  );
});

it('missing-parent: a down_revision naming a branch label (Alembic resolves labels only in depends_on)', () => {
  const found = rule.check(context([alembicService('a', [rev('a', 'r1', [], { branchLabels: ['core'] }), rev('a', 'r2', ['core'])])]));
  assert.equal(found.length, 1);
  assert.equal(found[0].file, '/p/a/versions/r2.py');
  assert.equal(found[0].line, 11);
  assert.match(found[0].message, /names branch label "core" as its down_revision; a down_revision must be a revision id/);
});
