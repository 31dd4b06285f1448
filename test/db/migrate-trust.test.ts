/**
 * Issue 11 §2, §6, §7, §11: a migration is atomic and bad migration files change nothing.
 * Every test runs on PGlite and on the PostgreSQL server.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { down, status, up } from '../../src/api/migrate.js';
import type { Database } from '../../src/db/database.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { fingerprint, fingerprintDiff } from '../support/fingerprint.js';
import { malformed } from '../support/malformed-migrations.js';
import { makeWorkspace, sqlMigration, type TempWorkspace } from '../support/workspace.js';

const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, 'no stack trace');

async function exists(db: Database, relation: string): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [relation]);
  return rows[0].present;
}
async function ledger(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ r: string }>(`SELECT migration || '/' || status AS r FROM tidemark.applied ORDER BY 1`);
  return rows.map((r) => r.r);
}

async function withWorkspace(services: Record<string, object>, fn: (ws: TempWorkspace) => Promise<void>): Promise<void> {
  const ws = makeWorkspace(services);
  try {
    await fn(ws);
  } finally {
    ws.remove();
  }
}

forEachBackend('a migration is one transaction', (backend) => {
  it('refuses transaction control before anything runs: BEGIN … COMMIT, a mid-file ROLLBACK, CONCURRENTLY, BEGIN in no-transaction', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_base.sql', sqlMigration('CREATE TABLE base (id int);'));
        assert.equal((await up({ cwd: ws.dir, database: db })).ok, true);
        const before = await fingerprint(db);
        const cases: [string, string, string, RegExp][] = [
          [sqlMigration('BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;\nSELECT 1/0;'), 'transaction-control', 'app_002_x.sql:2', /`BEGIN` would end or escape the migration's transaction/],
          [sqlMigration('CREATE TABLE a2 (id int);\nINSERT INTO a2 VALUES (1);\nROLLBACK;\nCREATE TABLE b2 (id int);'), 'transaction-control', 'app_002_x.sql:4', /`ROLLBACK`/],
          [sqlMigration('CREATE TABLE c2 (id int);\nCOMMIT AND CHAIN;'), 'transaction-control', 'app_002_x.sql:3', /`COMMIT AND CHAIN`/],
          [sqlMigration('CREATE TABLE c3 (id int);\n\nCREATE INDEX CONCURRENTLY c3_id ON c3 (id);'), 'not-in-transaction', 'app_002_x.sql:4', /cannot run inside a transaction block/],
          [sqlMigration('CREATE TABLE c4 (id int);\nVACUUM base;'), 'not-in-transaction', 'app_002_x.sql:3', /VACUUM/],
          [sqlMigration('BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;', undefined, '-- tidemark:no-transaction\n'), 'transaction-control', 'app_002_x.sql:3', /no-transaction migration/],
        ];
        for (const [text, code, where, message] of cases) {
          ws.write('migrations/app/app_002_x.sql', text);
          const result = await up({ cwd: ws.dir, database: db });
          assert.equal(result.ok, false, text);
          assert.equal(result.error?.code, code, text);
          assert.equal(result.error?.kind, 'input');
          assert.ok(result.error!.message.includes(where), `${result.error!.message} names ${where}`);
          assert.match(result.error!.message, message);
          if (code === 'not-in-transaction') assert.match(result.error!.hint!, /-- tidemark:no-transaction/);
          assert.deepEqual(result.results, [], 'nothing ran');
          const after = await fingerprint(db);
          assert.deepEqual(fingerprintDiff(before, after), [], `unchanged after ${JSON.stringify(text)}`);
        }
        assert.equal(await exists(db, 't'), false);
        assert.equal(await exists(db, 'a2'), false);
        assert.deepEqual(await ledger(db), ['app_001_base/applied']);
        const st = await status({ cwd: ws.dir, database: db });
        assert.equal(st.services[0].migrations[1].state, 'pending', 'the refused migration is not reported applied');
      }),
    ));

  it('savepoints the migration sets itself stay inside its transaction', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_s.sql', sqlMigration('CREATE TABLE s (id int);\nSAVEPOINT a;\nINSERT INTO s VALUES (1);\nROLLBACK TO a;\nINSERT INTO s VALUES (2);\nRELEASE a;'));
        const result = await up({ cwd: ws.dir, database: db });
        assert.equal(result.error, undefined);
        assert.deepEqual((await db.query('SELECT id FROM s')).rows, [{ id: 2 }]);
      }),
    ));

  it('a CALL of a procedure that commits fails inside the transaction; the failure is in tidemark.events', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_p.sql', sqlMigration('CREATE TABLE p_log (id int);\nCREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO p_log VALUES (1); COMMIT; END $$;'));
        ws.write('migrations/app/app_002_call.sql', sqlMigration('INSERT INTO p_log VALUES (0);\nCALL p();'));
        const result = await up({ cwd: ws.dir, database: db });
        assert.equal(result.error?.code, 'migration-failed');
        assert.match(result.error!.message, /app_002_call\.sql:3: .*invalid transaction termination/);
        assert.deepEqual((await db.query('SELECT id FROM p_log')).rows, [], 'rolled back');
        assert.deepEqual(await ledger(db), ['app_001_p/applied']);
        const events = await db.query<{ migration: string; outcome: string; action: string; error: string }>(
          `SELECT migration, outcome, action, detail->>'error' AS error FROM tidemark.events ORDER BY id`,
        );
        assert.deepEqual(
          events.rows.map((e) => `${e.migration}:${e.action}:${e.outcome}`),
          ['app_001_p:up:ok', 'app_002_call:up:failed'],
        );
        assert.match(events.rows[1].error, /invalid transaction termination/);
      }),
    ));

  it('a data migration that commits or leaves a transaction open fails, recorded as failed', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ a: {}, b: {}, c: {}, d: {} }, async (ws) => {
        ws.write('migrations/a/a_001_s.sql', sqlMigration('CREATE TABLE s (id int);'));
        ws.write(
          'migrations/a/a_002_escape.mjs',
          `export async function up(ctx) {\n  await ctx.db.exec('INSERT INTO s VALUES (1)');\n  await ctx.db.exec('COMMIT');\n  await ctx.db.exec('BEGIN');\n  await ctx.db.exec('INSERT INTO s VALUES (2)');\n}\n`,
        );
        const result = await up({ cwd: ws.dir, database: db, service: 'a' });
        assert.equal(result.error?.code, 'migration-escaped-transaction');
        assert.match(result.error!.message, /a_002_escape\.mjs: a_002_escape ended the migration's transaction/);
        assert.match(result.error!.hint!, /recorded as failed/);
        assert.deepEqual((await db.query('SELECT id FROM s ORDER BY id')).rows, [{ id: 1 }], 'what ran after the escape was rolled back');
        assert.deepEqual(await ledger(db), ['a_001_s/applied', 'a_002_escape/failed']);
        assert.equal((await up({ cwd: ws.dir, database: db, service: 'a' })).error?.code, 'failed-migration');

        ws.write(
          'migrations/b/b_001_open.mjs',
          `// tidemark:no-transaction\nexport async function up(ctx) {\n  await ctx.db.exec('BEGIN');\n  await ctx.db.exec('CREATE TABLE left_open (id int)');\n}\n`,
        );
        const open = await up({ cwd: ws.dir, database: db, service: 'b' });
        assert.equal(open.error?.code, 'migration-escaped-transaction');
        assert.match(open.error!.message, /left a transaction open/);
        assert.equal(await exists(db, 'left_open'), false, 'the open transaction was rolled back');
        assert.deepEqual(await ledger(db), ['a_001_s/applied', 'a_002_escape/failed', 'b_001_open/failed']);

        // Failing inside a BEGIN of its own leaves the session aborted: the failure is still recorded.
        ws.write('migrations/c/c_001_fail.mjs', `// tidemark:no-transaction\nexport async function up(ctx) {\n  await ctx.db.exec('BEGIN');\n  await ctx.db.exec('SELECT 1/0');\n}\n`);
        const failed = await up({ cwd: ws.dir, database: db, service: 'c' });
        assert.equal(failed.error?.code, 'migration-failed');
        assert.doesNotMatch(failed.error!.hint!, /could not be recorded/);
        assert.deepEqual(await ledger(db), ['a_001_s/applied', 'a_002_escape/failed', 'b_001_open/failed', 'c_001_fail/failed']);
        // … and so is one that throws inside a BEGIN of its own that is still open (its work rolled back).
        ws.write(
          'migrations/d/d_001_throw.mjs',
          `// tidemark:no-transaction\nexport async function up(ctx) {\n  await ctx.db.exec('BEGIN');\n  await ctx.db.exec('CREATE TABLE half (id int)');\n  throw new Error('boom');\n}\n`,
        );
        const thrown = await up({ cwd: ws.dir, database: db, service: 'd' });
        assert.match(thrown.error!.message, /d_001_throw failed: boom/);
        assert.doesNotMatch(thrown.error!.hint!, /could not be recorded/);
        assert.equal(await exists(db, 'half'), false);
        assert.deepEqual(await ledger(db), ['a_001_s/applied', 'a_002_escape/failed', 'b_001_open/failed', 'c_001_fail/failed', 'd_001_throw/failed']);
      }),
    ));

  it('a dry run lists data migrations without importing them (their top level does not run)', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
        ws.write(
          'migrations/app/app_002_fill.mjs',
          `import { writeFileSync } from 'node:fs';\nwriteFileSync(new URL('./ran.txt', import.meta.url), 'top level ran');\nexport async function up(ctx) { await ctx.db.exec('INSERT INTO a VALUES (1)'); }\n`,
        );
        const before = await fingerprint(db);
        const dry = await up({ cwd: ws.dir, database: db, dryRun: true });
        assert.equal(dry.error, undefined);
        assert.deepEqual(
          dry.plan.map((p) => p.migration),
          ['app_001_a', 'app_002_fill'],
        );
        assert.match(dry.plan[1].sql, /runs up\(ctx\) exported by app_002_fill\.mjs \(not loaded in a dry run\)/);
        assert.equal(existsSync(path.join(ws.dir, 'migrations/app/ran.txt')), false, 'nothing of the script ran');
        assert.deepEqual(fingerprintDiff(before, await fingerprint(db)), []);
        assert.equal((await up({ cwd: ws.dir, database: db })).ok, true);
        assert.equal(existsSync(path.join(ws.dir, 'migrations/app/ran.txt')), true, 'a real run imports it');
      }),
    ));

  it('down with nothing to revert, or fewer than --steps, is refused (exit 2)', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);', 'DROP TABLE a;'));
        for (const opts of [{ steps: 1 }, { to: 'base' }]) {
          const r = await down({ cwd: ws.dir, database: db, service: 'app', ...opts });
          assert.equal(r.error?.code, 'nothing-to-revert', JSON.stringify(opts));
          assert.equal(r.error?.kind, 'usage');
          assert.match(r.error!.message, /no migration of app is applied/);
        }
        await up({ cwd: ws.dir, database: db });
        const before = await fingerprint(db);
        const many = await down({ cwd: ws.dir, database: db, service: 'app', steps: 2 });
        assert.equal(many.error?.code, 'too-few-applied');
        assert.match(many.error!.message, /--steps 2 asks for 2 migrations of app, but only 1 is applied; nothing was reverted/);
        const at = await down({ cwd: ws.dir, database: db, service: 'app', to: 'app_001' });
        assert.equal(at.error?.code, 'nothing-to-revert');
        assert.deepEqual(fingerprintDiff(before, await fingerprint(db)), []);
      }),
    ));

  it('a directory named like a migration file is an error naming it, not skipped', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
        mkdirSync(path.join(ws.dir, 'migrations/app/app_002_x.sql'));
        const r = await up({ cwd: ws.dir, database: db });
        assert.equal(r.error?.kind, 'input');
        assert.match(r.error!.message, /app_002_x\.sql is a directory, but it is named like a migration file/);
        assert.equal(await exists(db, 'a'), false);
        rmSync(path.join(ws.dir, 'migrations/app/app_002_x.sql'), { recursive: true });
        assert.equal((await up({ cwd: ws.dir, database: db })).ok, true);
      }),
    ));
});

forEachBackend('generated malformed migration files change nothing', (backend) => {
  it('up refuses each with exit 2 and a code, no stack trace, the database fingerprint unchanged (30 runs)', () =>
    withDatabase(backend, (db) =>
      withWorkspace({ app: {} }, async (ws) => {
        ws.write('migrations/app/app_001_base.sql', sqlMigration('CREATE TABLE base (id int);'));
        assert.equal((await up({ cwd: ws.dir, database: db })).ok, true);
        const before = await fingerprint(db);
        const dir = path.join(ws.dir, 'migrations/app');
        let runs = 0;
        await fc.assert(
          fc.asyncProperty(malformed, async (g) => {
            runs++;
            rmSync(path.join(dir, 'app_002_fz.sql'), { force: true });
            rmSync(path.join(dir, 'app_002_fz.mjs'), { force: true });
            ws.write(`migrations/app/app_002_fz.${g.ext}`, '');
            const { writeFileSync } = await import('node:fs');
            writeFileSync(path.join(dir, `app_002_fz.${g.ext}`), g.bytes);
            const result = await up({ cwd: ws.dir, database: db });
            assert.equal(result.ok, false, `${g.what}: refused`);
            assert.equal(result.error?.kind, 'input', `${g.what}: ${result.error?.code} ${result.error?.message}`);
            assert.match(result.error!.code, /^[a-z-]+$/);
            assert.ok(result.error!.message.length < 600, `${g.what}: a short message`);
            noStack(result.error!.message);
            assert.deepEqual(result.results, []);
            assert.deepEqual(fingerprintDiff(before, await fingerprint(db)), [], `${g.what}: fingerprint unchanged`);
          }),
          { numRuns: 30 },
        );
        assert.equal(runs >= 30, true);
      }),
    ));
});
