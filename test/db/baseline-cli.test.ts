/**
 * `tidemark baseline` as a user runs it, on PGlite and on the server: the file and its tidemark.sum
 * line written, no overwrite without --force, --dry-run writing nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { checksumOf } from '../../src/history/tidemark-source.js';
import { forEachBackend, type TestBackend } from '../support/backends.js';
import { copyCrmExample, runCli } from '../support/workspace.js';

/** A fresh database nobody has open (the CLI opens it: a PGlite directory takes one opener). */
async function withCreated(backend: TestBackend, fn: (url: string) => Promise<void>): Promise<void> {
  const created = await backend.createDatabase();
  try {
    await fn(created.url);
  } finally {
    await created.drop();
  }
}

forEachBackend('tidemark baseline (CLI)', (backend) => {
  it('CLI: baseline writes the file and its sum line, refuses to overwrite without --force, --dry-run writes nothing', () =>
    withCreated(backend, async (url) => {
      const ws = copyCrmExample();
      try {
        const env = { DATABASE_URL: url };
        assert.equal((await runCli(['up'], ws.dir, env)).code, 0);

        const out = path.join(ws.dir, 'baselines');
        const dry = await runCli(['baseline', '--service', 'budget', '--dir', out, '--dry-run'], ws.dir, env);
        assert.equal(dry.code, 0, dry.stderr);
        assert.match(dry.stdout, /^-- tidemark:requires user_001_initial_schema\n-- tidemark:up\n/);
        assert.match(dry.stdout, /dry run: would write baselines\/budget_001_initial_schema\.sql: 2 tables, 15 columns/);
        assert.match(dry.stderr, /Proved on pglite:memory/);
        assert.equal(fs.existsSync(out), false);

        const target = path.join(ws.dir, 'migrations/user/user_001_initial_schema.sql');
        const original = fs.readFileSync(target, 'utf8');
        const refused = await runCli(['baseline', '--service', 'user'], ws.dir, env);
        assert.equal(refused.code, 2);
        assert.match(refused.stderr, /user_001_initial_schema\.sql already exists; baseline does not overwrite it without --force/);
        assert.equal(fs.readFileSync(target, 'utf8'), original);

        const forced = await runCli(['baseline', '--service', 'user', '--force'], ws.dir, env);
        assert.equal(forced.code, 0, forced.stderr);
        assert.match(forced.stdout, /wrote migrations\/user\/user_001_initial_schema\.sql: 1 table, 7 columns, 5 constraints, 3 indexes/);
        const written = fs.readFileSync(target, 'utf8');
        assert.match(written, /CREATE TABLE users \(/);
        assert.notEqual(written, original);
        const sum = fs.readFileSync(path.join(ws.dir, 'migrations/user/tidemark.sum'), 'utf8');
        assert.ok(sum.includes(`user_001_initial_schema.sql h1:${checksumOf(written)}`), sum);

        // The written baseline is a migration like any other: it replays, and the doctor's sum check is clean.
        const check = await runCli(['check', '--no-db', '--service', 'user'], ws.dir, env);
        assert.doesNotMatch(check.stdout + check.stderr, /sum-mismatch/);
      } finally {
        ws.remove();
      }
    }));
});
