/**
 * `tidemark demo` as a new user runs it (issue 5, item 6): the real CLI, a small size, and the story
 * checked in its output and in the project it leaves with --dir.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import { runCli } from '../support/workspace.js';

it('demo: legacy database, doctor, backup, adopt, validate, new migrations, autogenerate — green, and the project kept with --dir', async () => {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-demo-test-'));
  const dir = path.join(parent, 'crm');
  try {
    const run = await runCli(['demo', '--dir', dir, '--users', '40'], parent);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const out = run.stdout;
    // Every step, in order, each marked done except the doctor on the legacy histories.
    const titles = [...out.matchAll(/^([✓✗]) (\d)\. (.*)$/gm)].map((m) => [m[1], m[2], m[3]]);
    assert.deepEqual(
      titles.map((t) => t[1]),
      ['1', '2', '3', '4', '5', '6', '7', '8'],
    );
    assert.deepEqual(
      titles.map((t) => t[0]),
      ['✓', '✗', '✓', '✓', '✓', '✓', '✓', '✓'],
    );
    assert.match(out, /40 users · 200 budgets · 800 budget items/);
    // The seed's four problems and the contaminated version table, named by the doctor.
    for (const rule of ['duplicate-id', 'cross-service-reference', 'mixed-id-format', 'multiple-heads', 'alembic-version-contamination']) {
      assert.match(out, new RegExp(`[✗⚠] ${rule}\\b`), rule);
    }
    assert.match(out, /005_add_commission_percentage_actual\.py:\d+, 005_remove_quantity_column\.py:\d+/);
    assert.match(out, /user_service → user: migrations\/user\/user_001_initial_schema\.sql written/);
    assert.match(out, /budget_service → budget: .*requires user/);
    assert.match(out, /user_002_add_phone, budget_002_add_valid_until → applied/);
    // Autogenerate: the desired schema edited, the migration generated (the index CONCURRENTLY in a file of its own),
    // applied, and tidemark test green over both services' whole histories.
    assert.match(out, /schema\/budget\.sql: written by `tidemark baseline --service budget --schema`, then edited/);
    assert.match(out, /`tidemark diff --service budget --to schema\/budget\.sql --name add_currency`: add column budgets\.currency; add index budgets_currency_idx on budgets, proven on /);
    assert.match(out, /^ {7}up {4}ALTER TABLE budgets ADD COLUMN currency text DEFAULT 'BRL'::text NOT NULL;$/m);
    assert.match(out, /^ {7}up {4}CREATE INDEX CONCURRENTLY budgets_currency_idx ON public\.budgets USING btree \(currency\);$/m);
    assert.match(out, /budget_003_add_currency, budget_004_add_currency_idx_budgets_currency_idx → applied/);
    assert.match(
      out,
      /`tidemark test`: ✓ user_001_initial_schema {2}✓ user_002_add_phone {2}✓ budget_001_initial_schema {2}✓ budget_002_add_valid_until {2}✓ budget_003_add_currency {2}✓ budget_004_/,
    );
    assert.match(out, /passed: 0 failed, 0 reported, \d+ passed \(history rules, up, down, up of each migration, each service with only what it requires\)/);
    assert.match(out, /The doctor again: clean/);
    assert.match(out, /tidemark adopt --service user_service --as user --write/);

    // The project left behind is a tidemark workspace now.
    const ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(
      ws.services.map((s) => [s.name, s.format, s.requires]),
      [
        ['user', 'tidemark', []],
        ['budget', 'tidemark', ['user']],
      ],
    );
    for (const f of [
      'migrations/user/user_001_initial_schema.sql',
      'migrations/user/user_002_add_phone.sql',
      'migrations/budget/budget_003_add_currency.sql',
      'migrations/budget/tidemark.sum',
      'backups/before-adopt/manifest.json',
    ]) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    }
    // And a user can go on from there with the same CLI.
    const status = await runCli(['status'], dir);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /budget_002_add_valid_until/);
    assert.match(status.stdout, /budget_004_add_currency_idx_budgets_currency_idx/);
    // The desired schema, as the demo edited it (its proof and the last doctor's drift rule say the database matches).
    const schema = fs.readFileSync(path.join(dir, 'schema', 'budget.sql'), 'utf8');
    assert.match(schema, /^ {2}valid_until date,\n {2}currency text DEFAULT 'BRL' NOT NULL,\n {2}CONSTRAINT budgets_pkey PRIMARY KEY \(id\),$/m);
    assert.match(schema, /^CREATE INDEX budgets_currency_idx ON budgets \(currency\);$/m);
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
