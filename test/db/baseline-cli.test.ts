/**
 * `tidemark baseline` as a user runs it, on PGlite and on the server: the file and its tidemark.sum
 * line written, no overwrite without --force, --dry-run writing nothing; and `baseline --schema`, the
 * desired schema, which loaded on an empty database gives the live snapshot (the example's schema/ files too).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/open.js';
import { checksumOf } from '../../src/history/tidemark-source.js';
import { compareSnapshots } from '../../src/schema/diff/compare.js';
import { introspect } from '../../src/schema/introspect/index.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { forEachBackend, type TestBackend, withDatabase } from '../support/backends.js';
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

        await desiredSchema(backend, ws.dir, url);
      } finally {
        ws.remove();
      }
    }));
});

/** `baseline --schema` on the example's live database `url` (migrated up), then its files loaded on an empty one. */
async function desiredSchema(backend: TestBackend, dir: string, url: string): Promise<void> {
  const env = { DATABASE_URL: url };
  const userFile = path.join(dir, 'schema/user.sql');
  const committed = fs.readFileSync(userFile, 'utf8');
  // The example ships schema/user.sql (its config's `schema`): not overwritten without --force.
  const refused = await runCli(['baseline', '--service', 'user', '--schema'], dir, env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /schema\/user\.sql already exists; baseline --schema does not overwrite it without --force/);
  assert.equal(fs.readFileSync(userFile, 'utf8'), committed);

  // One proven write (each costs a shadow; the --schema dry run was dropped for CI time: its print and its
  // write guard are the migration's, whose dry run the case above proves). It goes to --out over an existing
  // file, so --out, --force and the file's content are proven at once; the configured file is left alone.
  const outFile = path.join(dir, 'desired/user.sql');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, '-- an older desired schema\n');
  const forced = await runCli(['baseline', '--service', 'user', '--schema', '--out', 'desired/user.sql', '--force'], dir, env);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /wrote desired\/user\.sql: 1 table, 7 columns/);
  const written = fs.readFileSync(outFile, 'utf8');
  // The baseline's up section, no directive.
  assert.doesNotMatch(written, /-- tidemark:/);
  assert.match(written, /^CREATE TABLE users \(/m);
  assert.equal(fs.readFileSync(userFile, 'utf8'), committed, '--out: the configured schema/user.sql is not touched');

  // Both desired schemas (user's just written, budget's as the example ships it) loaded on an empty
  // database give what `up` built.
  const workspace = await loadWorkspace({ cwd: dir });
  const services = ['user', 'budget'];
  const live = await openDatabase(url);
  const liveSnapshots: Snapshot[] = [];
  try {
    for (const service of services) liveSnapshots.push(await introspect(live, { workspace, service }));
  } finally {
    await live.close();
  }
  await withDatabase(backend, async (db) => {
    for (const file of [outFile, path.join(dir, 'schema/budget.sql')]) await db.transaction((tx) => tx.exec(fs.readFileSync(file, 'utf8')));
    for (const [i, service] of services.entries()) assert.deepEqual(compareSnapshots(liveSnapshots[i], await introspect(db, { workspace, service })), [], service);
  });
}
