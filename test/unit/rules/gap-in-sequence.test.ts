import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/gap-in-sequence.js';
import { context, tidemarkMigration as m, tidemarkService } from './fixtures.js';

it('gap-in-sequence: ok for 1, 2, 3', () => {
  assert.deepEqual(rule.check(context([tidemarkService('user', [m('user', 1), m('user', 2), m('user', 3)])])), []);
});

it('gap-in-sequence: one warning per gap, naming the missing numbers', () => {
  const found = rule.check(context([tidemarkService('user', [m('user', 1), m('user', 3), m('user', 7)])]));
  assert.deepEqual(
    found.map((d) => d.message),
    ['user has no migration numbered 002 (between user_001_m1 and user_003_m3).', 'user has no migration numbered 004–006 (between user_003_m3 and user_007_m7).'],
  );
  assert.equal(found[0].severity, 'warning');
  assert.equal(found[0].file, '/w/migrations/user/user_003_m3.sql');
});
