/**
 * `tidemark test` as a user runs it, on PGlite and on the server: the CRM example passes (exit 0, one ✓
 * line per migration, the shadow named); a down that leaves a column behind fails (exit 1) with one GitHub
 * annotation naming the file; `--json`; an unknown service is bad usage (exit 2) before any shadow opens.
 * The checks themselves are test/db/test-command.test.ts's; on PGlite, where each run starts a PGlite
 * shadow (~5 s), only the passing run: the rest is the same CLI code whatever the back-end.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openDatabase } from '../../src/db/open.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { forEachBackend } from '../support/backends.js';
import { copyCrmExample, runCli } from '../support/workspace.js';

const LEAVES_A_COLUMN = "-- tidemark:up\nALTER TABLE budgets ADD COLUMN currency text NOT NULL DEFAULT 'BRL';\n\n-- tidemark:down\nSELECT 1;\n";

forEachBackend('tidemark test (CLI)', (backend) => {
  it('passes on the CRM example, fails on a down that leaves a column (github), --json, bad usage', async () => {
    const created = await backend.createDatabase();
    const ws = copyCrmExample();
    try {
      // The target only says where the shadow goes: nothing runs on it.
      const env = { DATABASE_URL: created.url };
      const assertTargetEmpty = async () => {
        const target = await openDatabase(created.url);
        try {
          const { rows } = await target.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
          );
          assert.equal(rows[0].n, '0', 'tidemark test created objects in the target database');
        } finally {
          await target.close();
        }
      };
      const pass = await runCli(['test'], ws.dir, env);
      assert.equal(pass.code, 0, pass.stderr + pass.stdout);
      assert.match(
        pass.stdout,
        /^✓ user_001_initial_schema\n✓ budget_001_initial_schema\n✓ user's files pass the doctor's rules\n✓ budget's files pass the doctor's rules\n✓ user applies with only the services it requires\n✓ the replay of user's history equals its desired schema\n✓ budget applies with only the services it requires\n✓ the replay of budget's history equals its desired schema\n\ntidemark test passed: 0 failed, 0 reported, 8 passed on .+ \(\d+ ms\)\.\n$/,
      );
      // The promise: nothing runs on the target itself (no ledger, no table, no schema left there).
      await assertTargetEmpty();

      // The failing run's output (github, --json, bad usage) is the report layer's, the same on either back-end
      // (the core's failures are tested on both in test-command.test.ts); a CLI process on PGlite costs a start.
      if (backend.name === 'pglite') return;

      ws.write('migrations/budget/budget_002_add_currency.sql', LEAVES_A_COLUMN);
      await writeSumFile('budget', `${ws.dir}/migrations/budget`);
      const fail = await runCli(['test', '--service', 'budget', '--format', 'github'], ws.dir, env);
      assert.equal(fail.code, 1, fail.stderr);
      await assertTargetEmpty();
      assert.equal(
        fail.stdout,
        '::error file=migrations/budget/budget_002_add_currency.sql,title=tidemark test stairway::budget_002_add_currency: its down does not undo its up: column budgets.currency exists in the schema after the down but not in the schema before the up Make the down section drop exactly what the up creates and restore what it drops.\n' +
          "::warning title=tidemark test replay-equals-schema::budget's history was not compared with its desired schema: the stairway stopped before the end\n",
      );

      const json = await runCli(['test', '--service', 'budget', '--json'], ws.dir, env);
      assert.equal(json.code, 1);
      const report = JSON.parse(json.stdout);
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.findings.filter((f: { status: string }) => f.status === 'fail').map((f: { check: string; migration: string }) => `${f.check} ${f.migration}`),
        ['stairway budget_002_add_currency'],
      );

      const bad = await runCli(['test', '--service', 'nope'], ws.dir, env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^error: No service nope in tidemark\.config\.mjs\./);
      assert.equal(bad.stdout, '');
    } finally {
      ws.remove();
      await created.drop();
    }
  });
});
