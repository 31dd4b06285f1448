import assert from 'node:assert/strict';
import { it } from 'node:test';
import { idFormatOf, rule } from '../../../src/check/rules/mixed-id-format.js';
import { alembicService, context, rev } from './fixtures.js';

it('mixed-id-format: classifies ids', () => {
  assert.equal(idFormatOf('001'), 'sequential');
  assert.equal(idFormatOf('001_initial_schema'), 'sequential');
  assert.equal(idFormatOf('1f4f4176aeb7'), 'hex hash');
  assert.equal(idFormatOf('c0eefe7ade9c'), 'hex hash');
  assert.equal(idFormatOf('20250915_124515'), 'timestamp');
  assert.equal(idFormatOf('20250915124515'), 'timestamp');
  assert.equal(idFormatOf('liberty'), 'name');
  assert.equal(idFormatOf('mitaka01'), 'name');
});

it('mixed-id-format: ok for one format, even with several ids', () => {
  assert.deepEqual(rule.check(context([alembicService('s', [rev('s', '1f4f4176aeb7'), rev('s', 'c0eefe7ade9c', ['1f4f4176aeb7'])])])), []);
});

it('mixed-id-format: reports a mix once per service, at a file of a minority format', () => {
  const revisions = [rev('budget', '001'), rev('budget', '002', ['001']), rev('budget', '1f4f4176aeb7', ['002']), rev('budget', '20250915_124515', ['1f4f4176aeb7'])];
  const found = rule.check(context([alembicService('budget', revisions)]));
  assert.equal(found.length, 1);
  assert.equal(found[0].severity, 'warning');
  assert.equal(found[0].file, '/p/budget/versions/1f4f4176aeb7.py');
  assert.equal(found[0].message, 'budget mixes 3 revision id formats: sequential (001, 002), hex hash (1f4f4176aeb7), timestamp (20250915_124515).');
});
