/**
 * Issue 11 §10: a runner waiting for a service lock must not hold anything that CREATE INDEX
 * CONCURRENTLY waits for. A blocking pg_advisory_lock did (its statement's snapshot): a replica of
 * the same service deadlocked (40P01) with the holder's index build, and a runner of another service
 * stalled it until its own lock timeout. Waiters now poll pg_try_advisory_lock outside any transaction.
 */
import assert from 'node:assert/strict';
import { afterEach, it } from 'node:test';
import pg from 'pg';
import { up, type MigrateResult } from '../../src/api/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { ensureLedger, LEDGER_VERSION, serviceLockKey } from '../../src/ledger/ledger.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { makeWorkspace, sqlMigration, type TempWorkspace } from '../support/workspace.js';

/** The advisory lock the test holds to pause runner A just before its index build. */
const GATE = 424242;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function session(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

forEachBackend('waiting for a service lock next to CREATE INDEX CONCURRENTLY', (backend) => {
  let ws: TempWorkspace | undefined;
  afterEach(() => ws?.remove());

  if (backend.name === 'pglite') {
    // One session: a second taker queues in-process; the index build still completes and is valid.
    it('queues a second taker behind a CONCURRENTLY build, the index valid', () =>
      withDatabase(backend, async (db) => {
        await db.exec('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000);');
        const key = serviceLockKey('app');
        const order: string[] = [];
        let waited = 0;
        const first = db.withAdvisoryLock(key, async () => {
          await new Promise((r) => setTimeout(r, 50));
          await db.exec('CREATE INDEX CONCURRENTLY t_id ON t (id)');
          order.push('index');
        });
        const second = db.withAdvisoryLock(key, async () => order.push('replica'), { timeoutMs: 10_000, onWait: () => waited++ });
        await Promise.all([first, second]);
        assert.deepEqual(order, ['index', 'replica']);
        assert.equal(waited, 1);
        const valid = await db.query<{ v: boolean }>("SELECT indisvalid AS v FROM pg_index WHERE indexrelid = 't_id'::regclass");
        assert.deepEqual(valid.rows, [{ v: true }]);
      }));
    return;
  }

  /** Runner A builds an index CONCURRENTLY while replica B (and, with `other`, runner C of another service) wait. */
  async function scenario(url: string, other: boolean): Promise<number> {
    ws = makeWorkspace({ app: {}, other: {} });
    ws.write('migrations/app/app_001_t.sql', sqlMigration('CREATE TABLE t (id int);\nINSERT INTO t SELECT generate_series(1, 20000);'));
    // Waits on the test's gate first, so the build starts only once the waiters are waiting.
    ws.write(
      'migrations/app/app_002_idx.sql',
      sqlMigration(`SELECT pg_advisory_lock(${GATE});\nSELECT pg_advisory_unlock(${GATE});\nCREATE INDEX CONCURRENTLY t_id ON t (id);`, undefined, '-- tidemark:no-transaction\n'),
    );
    ws.write('migrations/other/other_001_o.sql', sqlMigration('CREATE TABLE o (id int);'));

    const gate = await session(url);
    const third = await session(url); // holds the other service's lock
    const watcher = await session(url);
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [GATE]);
      const [k1, k2] = serviceLockKey('other');
      await third.query('SELECT pg_advisory_lock($1, $2)', [k1, k2]);
      const heldKey = async (key: readonly [number, number]) =>
        (
          await watcher.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
               AND classid::int8 = ($1::int8 & 4294967295) AND objid::int8 = ($2::int8 & 4294967295)`,
            [key[0], key[1]],
          )
        ).rows[0].n > 0;

      // Runner C of service `other`: waits on its own lock, held by the third session.
      let runnerC: Promise<MigrateResult> | undefined;
      if (other) {
        const otherWaits = deferred();
        runnerC = up({ cwd: ws.dir, database: url, service: 'other', lockTimeoutMs: 30_000, onWait: () => otherWaits.resolve() });
        await otherWaits.promise;
      }

      // Runner A of service `app`: takes the app lock, applies 001, then stops at the gate inside 002.
      const runnerA = up({ cwd: ws.dir, database: url, service: 'app', lockTimeoutMs: 30_000 });
      await until('runner A holds the app lock', () => heldKey(serviceLockKey('app')));
      await until(
        'runner A waits at the gate',
        async () => (await watcher.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = ${GATE}`)).rows[0].n > 0,
      );

      // Replica B of service `app`: waits for the lock A holds.
      const replicaWaits = deferred();
      const replicaB = up({ cwd: ws.dir, database: url, service: 'app', lockTimeoutMs: 30_000, onWait: () => replicaWaits.resolve() });
      await replicaWaits.promise;

      // Open the gate: A builds the index while the others wait.
      const started = Date.now();
      await gate.query('SELECT pg_advisory_unlock($1)', [GATE]);
      const a = await runnerA;
      const buildMs = Date.now() - started;
      assert.equal(a.error, undefined, a.error?.message);
      assert.deepEqual(
        a.results.map((r) => [r.migration, r.status]),
        [
          ['app_001_t', 'applied'],
          ['app_002_idx', 'applied'],
        ],
      );

      const b = await replicaB;
      assert.equal(b.error, undefined, b.error?.message);
      assert.deepEqual(b.results, [], 'the replica finds everything applied');

      await third.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]);
      if (runnerC) {
        const c = await runnerC;
        assert.equal(c.error, undefined, c.error?.message);
        assert.deepEqual(
          c.results.map((r) => [r.migration, r.status]),
          [['other_001_o', 'applied']],
        );
      }

      const check = await openDatabase(url);
      try {
        const valid = await check.query<{ v: boolean }>("SELECT indisvalid AS v FROM pg_index WHERE indexrelid = 't_id'::regclass");
        assert.deepEqual(valid.rows, [{ v: true }]);
      } finally {
        await check.close();
      }
      return buildMs;
    } finally {
      await Promise.all([gate.end(), third.end(), watcher.end()]);
    }
  }

  it("a replica waiting for the lock does not deadlock with the holder's index build", { timeout: 60_000 }, (t) =>
    withDatabase(backend, async (_db, url) => {
      const buildMs = await scenario(url, false);
      t.diagnostic(`index build with a waiting replica: ${buildMs} ms`);
      assert.ok(buildMs < 5_000, `the index build took ${buildMs} ms`);
    }),
  );

  it('a replica and a runner of another service wait without deadlock or stalling the build', { timeout: 60_000 }, (t) =>
    withDatabase(backend, async (_db, url) => {
      const buildMs = await scenario(url, true);
      t.diagnostic(`index build with both waiters: ${buildMs} ms`);
      // Not stalled by C (whose timeout is 30 s) nor deadlocked with B: a few hundred ms of work.
      assert.ok(buildMs < 5_000, `the index build took ${buildMs} ms`);
    }),
  );

  it('creating the ledger from several sessions at once: one creates it, the others wait by polling', { timeout: 60_000 }, () =>
    withDatabase(backend, async (_db, url) => {
      const dbs = await Promise.all([1, 2, 3, 4].map(() => openDatabase(url)));
      try {
        await Promise.all(dbs.map((d) => ensureLedger(d)));
        const version = await dbs[0].query<{ value: string }>("SELECT value FROM tidemark.meta WHERE key = 'ledger_version'");
        assert.deepEqual(version.rows, [{ value: String(LEDGER_VERSION) }]);
        const held = await dbs[0].query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        );
        assert.equal(held.rows[0].n, 0, 'no advisory lock left behind');
      } finally {
        await Promise.all(dbs.map((d) => d.close()));
      }
    }),
  );
});
