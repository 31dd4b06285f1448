import assert from 'node:assert/strict';
import { it } from 'node:test';
import { rule } from '../../../src/check/rules/sum-mismatch.js';
import type { SumVerification } from '../../../src/history/revision.js';
import { alembicService, context, tidemarkMigration as m, tidemarkService } from './fixtures.js';

const SUM = '/w/migrations/budget/tidemark.sum';

function sum(extra: Partial<SumVerification> = {}): SumVerification {
  return {
    file: SUM,
    present: true,
    totalValid: true,
    missing: [],
    extra: [],
    changed: [],
    lines: { 'budget_001_m1.sql': 2, 'budget_002_m2.sql': 3 },
    malformed: [],
    ...extra,
  };
}

const check = (v: SumVerification | undefined) => rule.check(context([tidemarkService('budget', [m('budget', 1), m('budget', 2)], { sum: v })]));

it('sum-mismatch: descriptor', () => {
  assert.equal(rule.id, 'sum-mismatch');
  assert.equal(rule.severity, 'error');
  assert.equal(rule.scope, 'files');
  assert.match(rule.doc, /tidemark\.sum/);
});

it('sum-mismatch: ok for a clean sum, a service with no view of it, and Alembic services', () => {
  assert.deepEqual(check(sum()), []);
  assert.deepEqual(check(undefined), []);
  assert.deepEqual(rule.check(context([alembicService('crm', [])])), []);
});

it('sum-mismatch: ok for a service with no migrations and no sum file yet', () => {
  const v = sum({ present: false, totalValid: false, lines: {} });
  assert.deepEqual(rule.check(context([tidemarkService('budget', [], { sum: v })])), []);
});

it('sum-mismatch: no tidemark.sum', () => {
  const found = check(sum({ present: false, totalValid: false, missing: ['budget_001_m1.sql', 'budget_002_m2.sql'], lines: {} }));
  assert.deepEqual(found, [
    {
      rule: 'sum-mismatch',
      severity: 'error',
      service: 'budget',
      file: SUM,
      line: undefined,
      message: 'budget has no tidemark.sum.',
      hint: 'Run `tidemark sum` and commit tidemark.sum with the migrations.',
    },
  ]);
});

it('sum-mismatch: a total line that does not match', () => {
  const found = check(sum({ totalValid: false }));
  assert.equal(found.length, 1);
  assert.equal(found[0].file, SUM);
  assert.equal(found[0].line, 1);
  assert.equal(found[0].message, 'The total on line 1 of tidemark.sum does not match the lines below it: it was edited or badly merged.');
  assert.equal(found[0].hint, 'If the migrations are as they should be, run `tidemark sum`; after a merge, check for a duplicate number first (`tidemark renumber --service budget`).');
});

it('sum-mismatch: one diagnostic per merge conflict block, not per marker or per broken total', () => {
  const found = check(
    sum({
      totalValid: false,
      malformed: [
        { line: 1, text: '<<<<<<< HEAD' },
        { line: 2, text: 'h1:aaaa' },
        { line: 3, text: '=======' },
        { line: 4, text: 'h1:bbbb' },
        { line: 5, text: '>>>>>>> remove-quantity' },
        { line: 8, text: '<<<<<<< HEAD' },
        { line: 10, text: '=======' },
        { line: 12, text: '>>>>>>> remove-quantity' },
      ],
    }),
  );
  assert.deepEqual(
    found.map((d) => [d.line, d.message]),
    [
      [1, 'tidemark.sum has a merge conflict at line 1.'],
      [8, 'tidemark.sum has a merge conflict at line 8.'],
    ],
  );
  assert.equal(found[0].hint, 'Keep both migrations, run `tidemark renumber --service budget` to give the later one the next number, then `tidemark sum`.');
});

it('sum-mismatch: a garbage line', () => {
  const found = check(sum({ malformed: [{ line: 4, text: 'hello world' }] }));
  assert.deepEqual(
    found.map((d) => [d.file, d.line, d.message, d.hint]),
    [[SUM, 4, 'tidemark.sum line 4 is not `<file> h1:<sha256>`: "hello world".', 'Run `tidemark sum` to rewrite it from the files.']],
  );
});

it('sum-mismatch: missing, extra and changed files, one diagnostic each', () => {
  const found = check(
    sum({
      missing: ['budget_003_m3.sql'],
      extra: ['budget_004_gone.sql'],
      changed: ['budget_002_m2.sql'],
      lines: { 'budget_001_m1.sql': 2, 'budget_002_m2.sql': 3, 'budget_004_gone.sql': 4 },
    }),
  );
  assert.deepEqual(
    found.map((d) => [d.file, d.line, d.message]),
    [
      ['/w/migrations/budget/budget_003_m3.sql', undefined, 'budget_003_m3.sql has no line in tidemark.sum.'],
      [SUM, 4, 'tidemark.sum line 4 names budget_004_gone.sql, which does not exist.'],
      ['/w/migrations/budget/budget_002_m2.sql', undefined, 'budget_002_m2.sql does not match its hash in tidemark.sum (line 3): the file was edited after it was written down.'],
    ],
  );
  assert.ok(found.every((d) => d.rule === 'sum-mismatch' && d.severity === 'error' && d.service === 'budget' && d.hint));
});
