import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/branch-label-conflict.js';
import { alembicService, context, rev } from './fixtures.js';

const labelled = (service: string, id: string, parents: string[], labels: string[], line = 12) =>
  rev(service, id, parents, { branchLabels: labels, labelLines: Object.fromEntries(labels.map((l) => [l, line])) });

it('branch-label-conflict: ok for distinct labels on independent branches, and a depends_on naming a label', () => {
  const revs = [labelled('a', 'e1', [], ['expand']), labelled('a', 'c1', [], ['contract']), rev('a', 'e2', ['e1'], { dependsOn: ['contract'] })];
  assert.deepEqual(rule.check(context([alembicService('a', revs)])), []);
});

it('branch-label-conflict: a label that is another revision id', () => {
  const found = rule.check(context([alembicService('a', [rev('a', 'r1'), labelled('a', 'r2', ['r1'], ['r1'], 5)])]));
  assert.equal(found.length, 1);
  assert.equal(found[0].file, '/p/a/versions/r2.py');
  assert.equal(found[0].line, 5);
  assert.match(found[0].message, /^a revision r2 declares branch label "r1", which is the id of revision r1 \(\/p\/a\/versions\/r1\.py:10\)/);
});

it('branch-label-conflict: a label that is the revision own id', () => {
  const found = rule.check(context([alembicService('a', [labelled('a', 'r1', [], ['r1'])])]));
  assert.equal(found.length, 1);
  assert.match(found[0].message, /uses its own revision id as a branch label/);
});

it('branch-label-conflict: two bases with the same label', () => {
  const found = rule.check(context([alembicService('a', [labelled('a', 'b1', [], ['core'], 4), labelled('a', 'b2', [], ['core'], 6)])]));
  assert.equal(found.length, 1);
  assert.equal(found[0].file, '/p/a/versions/b2.py');
  assert.equal(found[0].line, 6);
  assert.match(found[0].message, /revisions b1 \(\/p\/a\/versions\/b1\.py:4\) and b2 both declare branch label "core"/);
});

it('branch-label-conflict: one label listed twice by one revision', () => {
  const found = rule.check(context([alembicService('a', [labelled('a', 'b1', [], ['core', 'core'])])]));
  assert.equal(found.length, 1);
  assert.match(found[0].message, /lists branch label "core" twice/);
});

it('branch-label-conflict: services are separate Alembic environments', () => {
  const found = rule.check(context([alembicService('a', [labelled('a', 'a1', [], ['main'])]), alembicService('b', [labelled('b', 'b1', [], ['main']), rev('b', 'x')])]));
  assert.deepEqual(found, []);
});
