import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, it } from 'node:test';
import { down, stamp, status, up } from '../../src/api/migrate.js';
import * as core from '../../src/apply/migrate.js';
import type { Service, Workspace } from '../../src/config/types.js';
import { openDatabase } from '../../src/db/open.js';
import { forEachBackend, withDatabase, type TestDatabase } from '../support/backends.js';
import { fakeTarget } from '../support/fake-target.js';
import { copyCrmExample, makeWorkspace, sqlMigration, type TempWorkspace } from '../support/workspace.js';

async function inspect<R = Record<string, unknown>>(url: string, sql: string): Promise<R[]> {
  const db = await openDatabase(url);
  try {
    return (await db.query<R>(sql)).rows;
  } finally {
    await db.close();
  }
}
const tables = async (url: string) => (await inspect<{ t: string }>(url, `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).map((r) => r.t);
const ledger = async (url: string) =>
  (await inspect<{ service: string; migration: string; status: string }>(url, `SELECT service, migration, status FROM tidemark.applied ORDER BY service, migration`)).map(
    (r) => `${r.service}/${r.migration}/${r.status}`,
  );
const hasLedgerSchema = async (url: string) => (await inspect<{ n: number }>(url, `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'tidemark'`))[0].n === 1;

forEachBackend('migrations', (backend) => {
  let db: TestDatabase;
  let ws: TempWorkspace | undefined;
  beforeEach(async () => {
    db = await backend.createDatabase();
  });
  afterEach(async () => {
    ws?.remove();
    ws = undefined;
    await db.drop();
  });

  it('applies the CRM example in requirement order, records ledger and events, then a no-op', async () => {
    ws = copyCrmExample();
    const first = await up({ cwd: ws.dir, database: db.url });
    assert.equal(first.error, undefined);
    assert.deepEqual(
      first.results.map((r) => `${r.migration}:${r.status}`),
      ['user_001_initial_schema:applied', 'budget_001_initial_schema:applied'],
    );
    assert.deepEqual(await tables(db.url), ['budget_items', 'budgets', 'users']);
    assert.deepEqual(await ledger(db.url), ['budget/budget_001_initial_schema/applied', 'user/user_001_initial_schema/applied']);
    const rows = await inspect<{ checksum: string; applied_by: string; tool_version: string; duration_ms: number }>(
      db.url,
      `SELECT checksum, applied_by, tool_version, duration_ms FROM tidemark.applied WHERE service = 'user'`,
    );
    assert.match(rows[0].checksum, /^[0-9a-f]{64}$/);
    assert.match(rows[0].applied_by, /@/);
    assert.ok(rows[0].tool_version);
    const events = await inspect<{ n: number }>(db.url, `SELECT count(*)::int AS n FROM tidemark.events WHERE action = 'up' AND outcome = 'ok'`);
    assert.equal(events[0].n, 2);

    const again = await up({ cwd: ws.dir, database: db.url });
    assert.equal(again.ok, true);
    assert.deepEqual(again.results, []);

    const st = await status({ cwd: ws.dir, database: db.url });
    assert.deepEqual(
      st.services.map((s) => [s.service, s.applied, s.pending, s.problems]),
      [
        ['user', 1, 0, 0],
        ['budget', 1, 0, 0],
      ],
    );
  });

  it('an SQL error in migration 3 of 5 keeps 1–2, rolls 3 back, names file and line, runs nothing after', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
    ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);'));
    ws.write('migrations/app/app_003_c.sql', sqlMigration('CREATE TABLE c (id int);\n\nINSERT INTO c\n  SELECT id FROM missing_table;'));
    ws.write('migrations/app/app_004_d.sql', sqlMigration('CREATE TABLE d (id int);'));
    ws.write('migrations/app/app_005_e.sql', sqlMigration('CREATE TABLE e (id int);'));
    const result = await up({ cwd: ws.dir, database: db.url });
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.results.map((r) => r.status),
      ['applied', 'applied', 'failed', 'not-run', 'not-run'],
    );
    assert.equal(result.error?.code, 'migration-failed');
    assert.equal(result.error?.kind, 'failure');
    // the INSERT starts on line 4 of the file; the error is on line 5, where missing_table is
    assert.match(result.error!.message, /app_003_c\.sql:5: app_003_c failed: relation "missing_table" does not exist/);
    assert.equal(result.error?.line, 5);
    assert.deepEqual(await tables(db.url), ['a', 'b']);
    assert.deepEqual(await ledger(db.url), ['app/app_001_a/applied', 'app/app_002_b/applied']);
  });

  it('refuses a file without an up section or with an unknown directive before touching the database', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
    ws.write('migrations/app/app_002_b.sql', 'CREATE TABLE b (id int);\n');
    let result = await up({ cwd: ws.dir, database: db.url });
    assert.equal(result.error?.kind, 'input');
    assert.match(result.error!.message, /app_002_b\.sql:1: app_002_b has no `-- tidemark:up` section\./);
    ws.write('migrations/app/app_002_b.sql', '-- tidemark:up\nCREATE TABLE b (id int);\n-- tidemark:rollback\nDROP TABLE b;\n');
    result = await up({ cwd: ws.dir, database: db.url });
    assert.match(result.error!.message, /app_002_b\.sql:3: app_002_b: unknown directive `tidemark:rollback`/);
    assert.deepEqual(await tables(db.url), []);
    assert.equal(await hasLedgerSchema(db.url), false);
  });

  it('a syntax error in a later migration applies nothing, naming file and line', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
    ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);\nCREATE TABEL c (id int);'));
    const result = await up({ cwd: ws.dir, database: db.url });
    assert.equal(result.error?.code, 'migration-syntax');
    assert.equal(result.error?.kind, 'input');
    assert.match(result.error!.message, /app_002_b\.sql:3: app_002_b: syntax error at or near "TABEL"/);
    assert.deepEqual(await tables(db.url), []);
  });

  it('refuses to go on when an applied file was edited, naming it', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
    assert.equal((await up({ cwd: ws.dir, database: db.url })).ok, true);
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id bigint);'));
    ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);'));
    const result = await up({ cwd: ws.dir, database: db.url });
    assert.equal(result.error?.code, 'checksum-drift');
    assert.match(result.error!.message, /app_001_a\.sql was edited after it was applied/);
    assert.deepEqual(await tables(db.url), ['a']);
    const st = await status({ cwd: ws.dir, database: db.url });
    assert.equal(st.services[0].migrations[0].state, 'drift');
  });

  it('down by steps and to base; dry runs print SQL and change nothing', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);', 'DROP TABLE a;'));
    ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);', 'DROP TABLE b;'));
    const dry = await up({ cwd: ws.dir, database: db.url, dryRun: true });
    assert.equal(dry.ok, true);
    assert.deepEqual(
      dry.plan.map((p) => p.sql),
      ['CREATE TABLE a (id int);', 'CREATE TABLE b (id int);'],
    );
    assert.equal(await hasLedgerSchema(db.url), false, 'a dry run creates no ledger');
    await up({ cwd: ws.dir, database: db.url });
    const dryDown = await down({ cwd: ws.dir, database: db.url, service: 'app', to: 'base', dryRun: true });
    assert.deepEqual(
      dryDown.plan.map((p) => p.sql),
      ['DROP TABLE b;', 'DROP TABLE a;'],
    );
    assert.deepEqual(await tables(db.url), ['a', 'b']);
    const one = await down({ cwd: ws.dir, database: db.url, service: 'app', steps: 1 });
    assert.deepEqual(
      one.results.map((r) => `${r.migration}:${r.status}`),
      ['app_002_b:reverted'],
    );
    assert.deepEqual(await tables(db.url), ['a']);
    await down({ cwd: ws.dir, database: db.url, service: 'app', to: 'base' });
    assert.deepEqual(await tables(db.url), []);
    assert.deepEqual(await ledger(db.url), []);
  });

  it('records a failed no-transaction migration, explains it in status, and stamp resolves it', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
    ws.write('migrations/app/app_002_idx.sql', sqlMigration('CREATE INDEX CONCURRENTLY a_id ON a (id);\nCREATE INDEX CONCURRENTLY b_id ON b (id);', undefined, '-- tidemark:no-transaction\n'));
    const result = await up({ cwd: ws.dir, database: db.url });
    assert.equal(result.error?.code, 'migration-failed');
    assert.match(result.error!.hint!, /outside a transaction/);
    assert.deepEqual(await ledger(db.url), ['app/app_001_a/applied', 'app/app_002_idx/failed']);
    const st = await status({ cwd: ws.dir, database: db.url });
    assert.equal(st.services[0].migrations[1].state, 'failed');
    assert.match(st.services[0].hints[0], /tidemark stamp --service app --to app_002_idx/);
    const blocked = await up({ cwd: ws.dir, database: db.url });
    assert.equal(blocked.error?.code, 'failed-migration');
    // retry path: the half-done index is dropped by hand, the row un-stamped, the file fixed
    await inspect(db.url, 'DROP INDEX IF EXISTS a_id');
    const unstamped = await stamp({ cwd: ws.dir, database: db.url, service: 'app', to: 'app_001' });
    assert.deepEqual(unstamped.removed, ['app_002_idx']);
    ws.write('migrations/app/app_002_idx.sql', sqlMigration('CREATE INDEX CONCURRENTLY a_id ON a (id);', undefined, '-- tidemark:no-transaction\n'));
    const retried = await up({ cwd: ws.dir, database: db.url });
    assert.equal(retried.error, undefined);
    assert.deepEqual(await ledger(db.url), ['app/app_001_a/applied', 'app/app_002_idx/applied']);
  });

  it('stamps an existing database without running SQL', async () => {
    ws = copyCrmExample();
    const result = await stamp({ cwd: ws.dir, database: db.url, service: 'user', to: 'user_001' });
    assert.deepEqual(result.added, ['user_001_initial_schema']);
    assert.deepEqual(await tables(db.url), []);
    assert.deepEqual(await ledger(db.url), ['user/user_001_initial_schema/applied']);
  });

  it('runs .js and .ts data migrations inside the transaction with ctx.db', async () => {
    ws = makeWorkspace({ app: {} });
    ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int, label text);'));
    ws.write(
      'migrations/app/app_002_fill.mjs',
      `export async function up(ctx) { for (let i = 1; i <= 3; i++) await ctx.db.query('INSERT INTO a VALUES ($1, $2)', [i, ctx.migration]); }\n` +
        `export async function down(ctx) { await ctx.db.exec('DELETE FROM a'); }\n`,
    );
    ws.write(
      'migrations/app/app_003_fail.ts',
      `import type { MigrationContext } from 'tidemark';\n` +
        `export async function up(ctx: MigrationContext): Promise<void> { await ctx.db.exec("UPDATE a SET label = 'changed'"); throw new Error('boom'); }\n`,
    );
    const result = await up({ cwd: ws.dir, database: db.url });
    assert.deepEqual(
      result.results.map((r) => r.status),
      ['applied', 'applied', 'failed'],
    );
    assert.match(result.error!.message, /app_003_fail\.ts: app_003_fail failed: boom/);
    const rows = await inspect<{ label: string }>(db.url, 'SELECT DISTINCT label FROM a');
    assert.deepEqual(rows, [{ label: 'app_002_fill' }], 'the failing .ts migration was rolled back');
  });

  it('refuses one service whose cross-service requirement is not applied', async () => {
    ws = copyCrmExample();
    const result = await up({ cwd: ws.dir, database: db.url, service: 'budget' });
    assert.equal(result.error?.code, 'requirement-not-applied');
    assert.match(result.error!.message, /budget_001_initial_schema requires user_001_initial_schema, which is not applied/);
    assert.match(result.error!.hint!, /tidemark up --service user/);
    assert.deepEqual(await tables(db.url), []);
  });

  it('takes a config as a value for service start-up', async () => {
    ws = makeWorkspace({});
    ws.write('db/user_001_init.sql', sqlMigration('CREATE TABLE users (id int);'));
    const result = await up({
      config: { services: { user: { migrations: `${ws.dir}/db`, owns: ['users'] } } },
      database: db.url,
      service: 'user',
    });
    assert.equal(result.error, undefined);
    assert.deepEqual(await tables(db.url), ['users']);
  });
});

forEachBackend('the migrate cores on a target', (backend) => {
  it('up, status, stamp, down on a fake target: a literal workspace (no config file), the database the test opened, left open', () =>
    withDatabase(backend, async (db) => {
      const ws = makeWorkspace(
        {},
        {
          'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int);', 'DROP TABLE items;'),
          'migrations/app/app_002_tags.sql': sqlMigration('CREATE TABLE tags (id int);', 'DROP TABLE tags;'),
        },
      );
      fs.rmSync(path.join(ws.dir, 'tidemark.config.json'));
      try {
        const app: Service = {
          name: 'app',
          migrationsDir: path.join(ws.dir, 'migrations/app'),
          owns: ['items', 'tags'],
          requires: [],
          format: 'tidemark',
          versionTable: 'alembic_version',
          recursive: false,
        };
        const workspace: Workspace = { root: ws.dir, services: [app], protected: [], softRelations: [] };
        const target = fakeTarget(workspace, db);

        const applied = await core.up(target);
        assert.equal(applied.error, undefined);
        assert.deepEqual(
          applied.results.map((r) => `${r.migration}:${r.status}`),
          ['app_001_items:applied', 'app_002_tags:applied'],
        );
        assert.deepEqual([applied.database, applied.databaseSource], [db.displayUrl, 'given'], 'named from target.name');

        const seen = await core.status(target);
        assert.equal(seen.error, undefined);
        assert.deepEqual([seen.database, seen.databaseSource, seen.hasLedger, seen.protection?.protected], [db.displayUrl, 'given', true, false]);
        assert.deepEqual(
          seen.services.map((s) => [s.service, s.applied, s.pending, s.problems]),
          [['app', 2, 0, 0]],
        );

        const reverted = await core.down(target, { steps: 1 });
        assert.equal(reverted.error, undefined);
        assert.deepEqual(
          reverted.results.map((r) => `${r.migration}:${r.status}`),
          ['app_002_tags:reverted'],
        );

        const stamped = await core.stamp(target, { to: 'app_002_tags' });
        assert.equal(stamped.error, undefined);
        assert.deepEqual([stamped.service, stamped.added, stamped.removed], ['app', ['app_002_tags'], []]);

        const after = await core.status(target);
        assert.deepEqual(
          after.services.map((s) => s.migrations.map((m) => `${m.migration}:${m.state}`)),
          [['app_001_items:applied', 'app_002_tags:applied']],
        );
        // down needs exactly one service: a target of two is refused before anything is read.
        const two = fakeTarget({ ...workspace, services: [app, { ...app, name: 'other' }] }, db);
        assert.equal((await core.down(two, { steps: 1 })).error?.code, 'bad-usage');

        // The cores closed nothing and asked for no shadow.
        assert.deepEqual((await db.query<{ one: number }>('SELECT 1 AS one')).rows, [{ one: 1 }]);
        assert.deepEqual(target.shadowCalls, []);
        assert.deepEqual(
          (await db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => r.t),
          ['items'],
        );
      } finally {
        ws.remove();
      }
    }));
});
