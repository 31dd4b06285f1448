/** report/test-report.ts: text, json and github output of `tidemark test` over a literal report, exact lines. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TestReport } from '../../src/flows/test/index.js';
import { renderTestGithub, renderTestJson, renderTestText } from '../../src/report/test-report.js';

const report: TestReport = {
  ok: false,
  shadow: 'temporary database tidemark_shadow_1 on the target server (PostgreSQL 15)',
  ms: 1234,
  findings: [
    { check: 'history-rules', service: 'user', status: 'pass', message: "user's files pass the doctor's rules" },
    { check: 'stairway', service: 'user', migration: 'user_001_users', file: '/nowhere/user_001_users.sql', status: 'pass', message: 'user_001_users: up, down, up give the same schemas' },
    {
      check: 'no-down',
      service: 'budget',
      migration: 'budget_001_budgets',
      file: '/nowhere/budget_001_budgets.sql',
      status: 'reported',
      message: 'budget_001_budgets has no down section, so it cannot be reverted',
      hint: 'Add a `-- tidemark:down` section that undoes the up.',
    },
    {
      check: 'stairway',
      service: 'budget',
      migration: 'budget_002_currency',
      file: '/nowhere/budget_002_currency.sql',
      status: 'fail',
      message: 'budget_002_currency: its down does not undo its up: column budgets.currency exists in the schema after the down but not in the schema before the up',
    },
    { check: 'isolation', service: 'budget', migration: 'budget_002_currency', file: '/nowhere/budget_002_currency.sql', line: 3, status: 'fail', message: 'a, b: 50%' },
  ],
};

it('text: one line per migration with its worst status, one per whole-service check passed, then what failed or is reported, then the verdict', () => {
  assert.equal(
    renderTestText(report),
    [
      '✓ user_001_users',
      '• budget_001_budgets',
      '✗ budget_002_currency',
      "✓ user's files pass the doctor's rules",
      '',
      '• no-down budget: budget_001_budgets has no down section, so it cannot be reverted  /nowhere/budget_001_budgets.sql',
      '    → Add a `-- tidemark:down` section that undoes the up.',
      '✗ stairway budget: budget_002_currency: its down does not undo its up: column budgets.currency exists in the schema after the down but not in the schema before the up  /nowhere/budget_002_currency.sql',
      '✗ isolation budget: a, b: 50%  /nowhere/budget_002_currency.sql:3',
      '',
      'tidemark test failed: 2 failed, 1 reported, 2 passed on temporary database tidemark_shadow_1 on the target server (PostgreSQL 15) (1234 ms).',
      '',
    ].join('\n'),
  );
  assert.equal(renderTestText({ ok: true, findings: [], shadow: '', ms: 5 }), '\ntidemark test passed: 0 failed, 0 reported, 0 passed (5 ms).\n');
});

it('json: the report as it is', () => {
  assert.deepEqual(JSON.parse(renderTestJson(report)), report);
  assert.ok(renderTestJson(report).endsWith('}\n'));
});

it('github: an error per failure, a warning per reported finding, nothing for a pass; escaped as check escapes', () => {
  assert.equal(
    renderTestGithub(report),
    [
      '::warning file=/nowhere/budget_001_budgets.sql,title=tidemark test no-down::budget_001_budgets has no down section, so it cannot be reverted Add a `-- tidemark:down` section that undoes the up.',
      '::error file=/nowhere/budget_002_currency.sql,title=tidemark test stairway::budget_002_currency: its down does not undo its up: column budgets.currency exists in the schema after the down but not in the schema before the up',
      '::error file=/nowhere/budget_002_currency.sql,line=3,title=tidemark test isolation::a, b: 50%25',
      '',
    ].join('\n'),
  );
});
