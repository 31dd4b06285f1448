import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Database, IsolationLevel, Queryable, Tx } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { type SessionCore, transactionRunner } from '../../src/db/transaction.js';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl } from '../../src/db/url.js';
import { redactUrl } from '../../src/db/redact.js';
import { TidemarkError } from '../../src/errors.js';
import { withServiceLocks } from '../../src/ledger/locks.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';

const OPEN_JS = fileURLToPath(new URL('../../src/db/open.js', import.meta.url));

/** Asserts that p rejects with a TidemarkError of this code, and returns it. */
async function rejectsWith(p: Promise<unknown>, code: string): Promise<TidemarkError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TidemarkError, `expected a TidemarkError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a ${code} error`);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

forEachBackend('Database', (backend) => {
  let created: TestDatabase;
  let db: Database;

  before(async () => {
    created = await backend.createDatabase();
    db = await openDatabase(created.url);
  });
  after(async () => {
    await db?.close();
    await created?.drop();
  });

  it('reports its backend and a printable URL', () => {
    assert.equal(db.backend, backend.name);
    assert.equal(db.displayUrl, redactUrl(created.url));
    assert.equal(db.locksExclude, backend.name === 'postgres');
  });

  it('runs parameterised queries and multi-statement exec', async () => {
    await db.exec('CREATE TABLE q (id int PRIMARY KEY, name text); INSERT INTO q VALUES (1, $$one$$);');
    const ins = await db.query('INSERT INTO q VALUES ($1, $2), ($3, $4)', [2, 'two', 3, null]);
    assert.equal(ins.rowCount, 2);
    const res = await db.query<{ id: number; name: string | null }>('SELECT id, name FROM q WHERE id >= $1 ORDER BY id', [2]);
    assert.deepEqual(res.rows, [
      { id: 2, name: 'two' },
      { id: 3, name: null },
    ]);
    assert.equal(res.rowCount, 2);
  });

  it('query runs exactly one statement', async () => {
    await assert.rejects(db.query('SELECT 1; SELECT 2'), /multiple commands/);
  });

  it('returns int8 as a string on both backends (no precision loss)', async () => {
    const res = await db.query<{ big: string }>('SELECT 9007199254740993::int8 AS big');
    assert.equal(res.rows[0].big, '9007199254740993');
  });

  it('commits a transaction', async () => {
    const out = await db.transaction(async (tx) => {
      await tx.exec('CREATE TABLE t_commit (id int)');
      await tx.query('INSERT INTO t_commit VALUES ($1)', [1]);
      return 'done';
    });
    assert.equal(out, 'done');
    assert.equal((await db.query('SELECT * FROM t_commit')).rowCount, 1);
  });

  it('rolls back a transaction, DDL included, and rethrows', async () => {
    const boom = new Error('boom');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec('CREATE TABLE t_rollback (id int)');
        await tx.query('INSERT INTO t_rollback VALUES (1)');
        throw boom;
      }),
      (err) => err === boom,
    );
    const res = await db.query("SELECT to_regclass('t_rollback') AS t");
    assert.deepEqual(res.rows, [{ t: null }]);
  });

  it('refuses a nested transaction, and the outer one still rolls back', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec('CREATE TABLE t_nested (id int)');
        await rejectsWith(
          db.transaction(async () => 1),
          'nested-transaction',
        );
        throw new Error('outer fails');
      }),
      /outer fails/,
    );
    assert.deepEqual((await db.query("SELECT to_regclass('t_nested') AS t")).rows, [{ t: null }]);
    assert.equal(await db.transaction(async () => 7), 7); // usable again
  });

  it('reports a COMMIT that rolled back because fn swallowed an error', async () => {
    await rejectsWith(
      db.transaction(async (tx) => {
        await tx.exec('CREATE TABLE t_swallowed (id int)');
        await tx.query('SELECT 1/0').catch(() => {});
      }),
      'transaction-rolled-back',
    );
    assert.deepEqual((await db.query("SELECT to_regclass('t_swallowed') AS t")).rows, [{ t: null }]);
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    const tx = await db.transaction(async (t) => t);
    await rejectsWith(tx.query('SELECT 1'), 'transaction-closed');
  });

  it('keeps code and position on SQL errors', async () => {
    const err = await db.query('SELECT 1 FROM nosuch').then(
      () => assert.fail('should fail'),
      (e: { code?: string; position?: string | number; message: string }) => e,
    );
    assert.equal(err.code, '42P01');
    assert.equal(String(err.position), '15');
    assert.match(err.message, /relation "nosuch" does not exist/);
    const viaExec = await db.exec('SELECT 1;\nSELEC 2').then(
      () => assert.fail('should fail'),
      (e: { code?: string; position?: string | number }) => e,
    );
    assert.equal(viaExec.code, '42601');
    assert.equal(String(viaExec.position), '11');
  });

  it('reports serverVersionNum', async () => {
    const v = await db.serverVersionNum();
    if (backend.name === 'pglite') assert.ok(v >= 180000 && v < 190000, String(v));
    else assert.ok(v >= 130000, String(v));
  });

  describe('transaction handle (Tx)', () => {
    const n = async (q: Queryable, sql: string) => (await q.query<{ n: number }>(sql)).rows[0].n;

    before(async () => {
      await db.exec(`CREATE TABLE tx_copy (id int, v text); INSERT INTO tx_copy VALUES (1, 'a'), (2, 'b');
        CREATE TABLE tx_sp (v text); CREATE TABLE tx_closed (id int);`);
    });

    it('copies out and in on a Tx, and the copied rows roll back with it', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.exec("INSERT INTO tx_copy VALUES (3, 'c')");
          // COPY sees the transaction's own uncommitted row: it runs on the same session.
          const csv = await collect(tx.copyOut('COPY (SELECT id, v FROM tx_copy ORDER BY id) TO STDOUT (FORMAT csv)'));
          assert.equal(csv.toString('utf8'), '1,a\n2,b\n3,c\n');
          assert.equal(await tx.copyIn('COPY tx_copy FROM STDIN (FORMAT csv)', csv), 3);
          assert.equal(await n(tx, 'SELECT count(*)::int AS n FROM tx_copy'), 6);
          throw new Error('undo');
        }),
        /undo/,
      );
      assert.equal(await n(db, 'SELECT count(*)::int AS n FROM tx_copy'), 2);
      // In a savepoint that throws, only the savepoint's copy is undone; the commit keeps the rest.
      await db.transaction(async (tx) => {
        assert.equal(await tx.copyIn('COPY tx_copy FROM STDIN (FORMAT csv)', Buffer.from('4,d\n')), 1);
        await assert.rejects(
          tx.transaction(async (sp) => {
            assert.equal(await sp.copyIn('COPY tx_copy FROM STDIN (FORMAT csv)', Buffer.from('5,e\n')), 1);
            assert.equal((await collect(sp.copyOut('COPY (SELECT v FROM tx_copy WHERE id = 5) TO STDOUT'))).toString('utf8'), 'e\n');
            throw new Error('drop 5');
          }),
          /drop 5/,
        );
      });
      assert.deepEqual((await db.query('SELECT id FROM tx_copy ORDER BY id')).rows, [{ id: 1 }, { id: 2 }, { id: 4 }]);
    });

    it('rolls back a savepoint that throws (or whose statement fails) and keeps the outer work', async () => {
      const depths: number[] = [];
      await db.transaction(async (tx) => {
        depths.push(tx.depth);
        await tx.query("INSERT INTO tx_sp VALUES ('outer')");
        await assert.rejects(
          tx.transaction(async (sp) => {
            depths.push(sp.depth);
            await sp.query("INSERT INTO tx_sp VALUES ('inner')");
            await sp.transaction(async (sp2) => {
              depths.push(sp2.depth);
              await sp2.query("INSERT INTO tx_sp VALUES ('released inside the one that fails')");
            });
            throw new Error('inner fails');
          }),
          /inner fails/,
        );
        assert.equal(await tx.transaction(async (sp) => (await sp.query("INSERT INTO tx_sp VALUES ('kept')")).rowCount), 1);
        // An SQL error inside a savepoint aborts only the savepoint: the transaction goes on.
        await assert.rejects(
          tx.transaction((sp) => sp.query('SELECT 1/0')),
          (err: { code?: string }) => err.code === '22012',
        );
        await tx.query("INSERT INTO tx_sp VALUES ('after')");
      });
      assert.deepEqual(depths, [1, 2, 3]);
      assert.deepEqual((await db.query('SELECT v FROM tx_sp ORDER BY v')).rows, [{ v: 'after' }, { v: 'kept' }, { v: 'outer' }]);
      await db.exec('TRUNCATE tx_sp');
    });

    it('rolls back a savepoint whose fn swallowed a failed statement, says so, and the transaction goes on', async () => {
      await db.transaction(async (tx) => {
        await tx.query("INSERT INTO tx_sp VALUES ('outer')");
        await rejectsWith(
          tx.transaction(async (sp) => {
            await sp.query("INSERT INTO tx_sp VALUES ('lost')");
            await sp.query('SELECT 1/0').catch(() => {});
          }),
          'transaction-rolled-back',
        );
        await tx.query("INSERT INTO tx_sp VALUES ('after')");
      });
      assert.deepEqual((await db.query('SELECT v FROM tx_sp ORDER BY v')).rows, [{ v: 'after' }, { v: 'outer' }]);
      await db.exec('TRUNCATE tx_sp');
    });

    it('begins with the isolation level and READ ONLY asked for, seen through SHOW, for that transaction only', async () => {
      const mode = (q: Queryable) =>
        q.query<{ iso: string; ro: string }>("SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro").then((r) => r.rows[0]);
      const show = async (q: Queryable) => [
        (await q.query<{ transaction_isolation: string }>('SHOW transaction_isolation')).rows[0].transaction_isolation,
        (await q.query<{ transaction_read_only: string }>('SHOW transaction_read_only')).rows[0].transaction_read_only,
      ];
      assert.deepEqual(await db.transaction(show, { isolation: 'serializable', readOnly: true }), ['serializable', 'on']);
      assert.deepEqual(await db.transaction(show, { isolation: 'repeatable read' }), ['repeatable read', 'off']);
      assert.deepEqual(await db.transaction(show, { readOnly: true }), ['read committed', 'on']);
      // A savepoint keeps its transaction's mode.
      assert.deepEqual(await db.transaction((tx) => tx.transaction(show), { isolation: 'repeatable read', readOnly: true }), ['repeatable read', 'on']);
      assert.deepEqual(await db.transaction(show), ['read committed', 'off']);
      assert.deepEqual(await mode(db), { iso: 'read committed', ro: 'off' });
      // READ ONLY is enforced, not only shown.
      await assert.rejects(
        db.transaction((tx) => tx.exec('CREATE TABLE tx_ro (id int)'), { readOnly: true }),
        (err: { code?: string }) => err.code === '25006',
      );
    });

    it('refuses isolation or readOnly for a savepoint (bad-usage) and an unknown level, leaving nothing open', async () => {
      await db.transaction(async (tx) => {
        const err = await rejectsWith(
          tx.transaction(async () => 1, { isolation: 'serializable' }),
          'bad-usage',
        );
        assert.equal(err.kind, 'usage');
        await rejectsWith(
          tx.transaction(async () => 1, { readOnly: true }),
          'bad-usage',
        );
        assert.equal(await tx.transaction(async (sp) => sp.depth), 2);
      });
      let ran = false;
      await rejectsWith(
        db.transaction(async () => (ran = true), { isolation: 'read committed; DROP TABLE tx_sp' as IsolationLevel }),
        'bad-usage',
      );
      assert.equal(ran, false);
      assert.equal(await db.transaction(async (tx) => tx.depth), 1);
      assert.equal(await n(db, "SELECT count(*)::int AS n FROM pg_class WHERE relname = 'tx_sp'"), 1);
    });

    it('refuses a second savepoint beside an open one', async () => {
      await db.transaction(async (tx) => {
        await tx.transaction(async () => {
          await rejectsWith(
            tx.transaction(async () => 1),
            'nested-transaction',
          );
        });
        assert.equal(await tx.transaction(async () => 'free again'), 'free again');
      });
    });

    it('refuses everything, COPY included, on a Tx whose transaction or savepoint has ended', async () => {
      let savepoint!: Tx;
      const tx = await db.transaction(async (t) => {
        const released = await t.transaction(async (sp) => sp);
        await rejectsWith(released.query('SELECT 1'), 'transaction-closed'); // its savepoint ended, the transaction goes on
        await t.transaction(async (sp) => {
          savepoint = sp;
        });
        await t.query('SELECT 1');
        return t;
      });
      for (const h of [tx, savepoint]) {
        await rejectsWith(h.query('SELECT 1'), 'transaction-closed');
        await rejectsWith(h.exec('INSERT INTO tx_closed VALUES (1)'), 'transaction-closed');
        await rejectsWith(collect(h.copyOut('COPY tx_copy TO STDOUT')), 'transaction-closed');
        await rejectsWith(h.copyIn('COPY tx_closed FROM STDIN', Buffer.from('1\n')), 'transaction-closed');
        await rejectsWith(h.serverVersionNum(), 'transaction-closed');
        await rejectsWith(
          h.withAdvisoryLock([31, 32], async () => 1),
          'transaction-closed',
        );
        await rejectsWith(
          h.transaction(async () => 1),
          'transaction-closed',
        );
      }
      assert.equal(await n(db, 'SELECT count(*)::int AS n FROM tx_closed'), 0);
    });

    it('re-enters an advisory lock its session holds, also from a Tx, and releases it after the outermost', async () => {
      const key = [21, 22] as const;
      const held = (q: Queryable) => n(q, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 21 AND objid = 22 AND pid = pg_backend_pid()");
      const other = backend.name === 'postgres' ? await openDatabase(created.url) : undefined;
      const othersTry = async () => (await other!.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(21, 22) AS ok')).rows[0].ok;
      try {
        const seen = await db.withAdvisoryLock(
          key,
          async () => {
            const inner = await db.transaction((tx) => tx.withAdvisoryLock(key, () => db.withAdvisoryLock(key, () => held(tx), { timeoutMs: 500 }), { timeoutMs: 500 }));
            // The inner takers have left; the outer still holds it.
            const after = await held(db);
            if (other) assert.equal(await othersTry(), false);
            return [inner, after];
          },
          { timeoutMs: 500 },
        );
        assert.deepEqual(seen, [1, 1]);
        assert.equal(await held(db), 0);
        if (other) {
          assert.equal(await othersTry(), true, 'another session takes it once the outermost released it');
          await other.query('SELECT pg_advisory_unlock(21, 22)');
        }
      } finally {
        await other?.close();
      }
    });

    it('releases a re-entered lock whose inner taker failed inside an aborted transaction', async () => {
      const key = [23, 24] as const;
      await db.withAdvisoryLock(key, async () => {
        await assert.rejects(
          db.transaction((tx) => tx.withAdvisoryLock(key, () => tx.query('SELECT 1/0'))),
          (err: { code?: string }) => err.code === '22012',
        );
      });
      const left = await n(db, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = 23 AND objid = 24");
      assert.equal(left, 0, 'not held any more (an unlock inside the aborted transaction would have failed)');
      if (backend.name === 'postgres') {
        const other = await openDatabase(created.url);
        try {
          let waited = false;
          await other.withAdvisoryLock(key, async () => {}, { timeoutMs: 2000, onWait: () => (waited = true) });
          assert.equal(waited, false);
        } finally {
          await other.close();
        }
      }
    });

    it('lets a step inside a flow take the service locks the flow holds (a restore inside rebaseline)', async () => {
      const advisory = (q: Queryable) => n(q, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
      const seen = await withServiceLocks(db, ['billing', 'app'], { lockTimeoutMs: 500 }, () => db.transaction((tx) => withServiceLocks(tx, ['billing'], { lockTimeoutMs: 500 }, () => advisory(tx))));
      assert.equal(seen, 2);
      assert.equal(await advisory(db), 0);
    });

    if (backend.name === 'pglite') {
      it('still makes a concurrent caller in the process wait while the holder re-enters', async () => {
        const key = [25, 26] as const;
        const entered = deferred();
        const release = deferred();
        const order: string[] = [];
        const holder = db.withAdvisoryLock(key, async () => {
          await db.withAdvisoryLock(key, async () => order.push('holder re-entered'), { timeoutMs: 500 });
          entered.resolve();
          await release.promise;
          order.push('holder leaves');
        });
        await entered.promise;
        let waits = 0;
        const second = db.withAdvisoryLock(key, async () => order.push('second'), {
          timeoutMs: 10_000,
          onWait: () => {
            waits++;
            setTimeout(release.resolve, 50);
          },
        });
        await Promise.all([holder, second]);
        assert.equal(waits, 1);
        assert.deepEqual(order, ['holder re-entered', 'holder leaves', 'second']);
      });

      it('does not count work left running after the holder released as the holder', async () => {
        const key = [27, 28] as const;
        const release = deferred();
        let late!: Promise<unknown>;
        await db.withAdvisoryLock(key, async () => {
          // A timer started inside fn keeps fn's async context after fn has returned.
          late = new Promise((resolve) => setTimeout(() => resolve(db.withAdvisoryLock(key, async () => 'entered', { timeoutMs: 300 }).catch((e: unknown) => e)), 30));
        });
        const holder = db.withAdvisoryLock(key, () => release.promise);
        const err = await late;
        assert.ok(err instanceof TidemarkError && err.code === 'lock-timeout', String(err));
        release.resolve();
        await holder;
      });
    }
  });

  describe('advisory lock', () => {
    // On a server the competitor is a second session; on PGlite it is the same (only) session.
    let other: Database;
    before(async () => {
      other = backend.name === 'postgres' ? await openDatabase(created.url) : db;
    });
    after(async () => {
      if (other !== db) await other.close();
    });

    /** Holds `key` on `other` until the returned release() is called. */
    async function hold(key: readonly [number, number]) {
      const acquired = deferred();
      const released = deferred();
      const done = other.withAdvisoryLock(key, async () => {
        acquired.resolve();
        await released.promise;
      });
      await acquired.promise;
      return { release: released.resolve, done };
    }

    it('is visible in pg_locks while held, and gone after', async () => {
      const count = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")).rows[0].n;
      const inside = await db.withAdvisoryLock([41, 42], count);
      assert.equal(inside, 1);
      assert.equal(await count(), 0);
    });

    it('makes a second taker wait (onWait once), then lets it in', async () => {
      const key = [7, 8] as const;
      const order: string[] = [];
      const holder = await hold(key);
      let waits = 0;
      const second = db.withAdvisoryLock(
        key,
        async () => {
          order.push('second');
          return 'ok';
        },
        {
          timeoutMs: 10_000,
          onWait: () => {
            waits++;
            setTimeout(() => {
              order.push('first releases');
              holder.release();
            }, 100);
          },
        },
      );
      assert.equal(await second, 'ok');
      await holder.done;
      assert.deepEqual(order, ['first releases', 'second']);
      assert.equal(waits, 1);
    });

    it('times out with lock-timeout naming the key, and the session stays usable', async () => {
      const key = [-5, 2147483647] as const;
      const holder = await hold(key);
      let ran = false;
      const err = await rejectsWith(
        db.withAdvisoryLock(key, async () => (ran = true), { timeoutMs: 300 }),
        'lock-timeout',
      );
      assert.equal(ran, false);
      assert.equal(err.kind, 'failure');
      assert.match(err.message, /advisory lock \(-5, 2147483647\)/);
      if (backend.name === 'postgres') {
        assert.match(err.hint ?? '', /held by process \d+ \(tidemark\)/);
        assert.deepEqual((await db.query('SHOW lock_timeout')).rows, [{ lock_timeout: '0' }]);
      }
      holder.release();
      await holder.done;
      assert.equal(await db.withAdvisoryLock(key, async () => 'free again'), 'free again');
    });

    it('is released when fn throws', async () => {
      const key = [9, 9] as const;
      await assert.rejects(
        db.withAdvisoryLock(key, async () => {
          throw new Error('inside');
        }),
        /inside/,
      );
      let waited = false;
      await other.withAdvisoryLock(key, async () => {}, { timeoutMs: 2000, onWait: () => (waited = true) });
      assert.equal(waited, false);
    });

    it('waits by polling (no statement blocked on the lock), then is released when fn throws', async () => {
      const key = [11, 12] as const;
      const holder = await hold(key);
      const waiting = deferred();
      const second = db.withAdvisoryLock(
        key,
        async () => {
          throw new Error('after the wait');
        },
        { timeoutMs: 10_000, onWait: () => waiting.resolve() },
      );
      await waiting.promise;
      if (backend.name === 'postgres') {
        // A blocking pg_advisory_lock would show as a session waiting on an advisory lock; polls don't.
        for (let i = 0; i < 5; i++) {
          const blocked = await other.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
          );
          assert.equal(blocked.rows[0].n, 0);
          await new Promise((r) => setTimeout(r, 30));
        }
      }
      holder.release();
      await holder.done;
      await assert.rejects(second, /after the wait/);
      let waited = false;
      await other.withAdvisoryLock(key, async () => {}, { timeoutMs: 2000, onWait: () => (waited = true) });
      assert.equal(waited, false, 'released after the error');
    });

    it('refuses keys that are not int4', async () => {
      await rejectsWith(
        db.withAdvisoryLock([2 ** 31, 0], async () => {}),
        'bad-lock-key',
      );
    });
  });

  describe('COPY', () => {
    before(async () => {
      await db.exec(`CREATE TABLE copy_src (id int PRIMARY KEY, name text, note text);
        INSERT INTO copy_src VALUES (1, 'a,b', NULL), (2, 'quote "x"', E'line1\\nline2'), (3, 'ünïcode ✓', '');
        CREATE TABLE copy_dst (LIKE copy_src);`);
    });

    it('round-trips a table as CSV (NULL and empty string kept apart)', async () => {
      const csv = await collect(db.copyOut('COPY copy_src TO STDOUT (FORMAT csv)'));
      assert.equal(csv.toString('utf8').split('\n')[0], '1,"a,b",');
      assert.equal(await db.copyIn('COPY copy_dst FROM STDIN (FORMAT csv)', csv), 3);
      const q = 'SELECT id, name, note FROM %s ORDER BY id';
      assert.deepEqual((await db.query(q.replace('%s', 'copy_dst'))).rows, (await db.query(q.replace('%s', 'copy_src'))).rows);
      await db.exec('TRUNCATE copy_dst');
    });

    it('takes the input as chunks split mid-row, and COPY (SELECT …) out', async () => {
      const csv = await collect(db.copyOut('COPY (SELECT id, name, note FROM copy_src WHERE id < 3) TO STDOUT WITH (FORMAT csv)'));
      async function* chunks() {
        for (let i = 0; i < csv.length; i += 5) yield csv.subarray(i, i + 5);
      }
      assert.equal(await db.copyIn('COPY copy_dst FROM STDIN (FORMAT csv)', chunks()), 2);
      assert.equal((await db.query('SELECT * FROM copy_dst')).rowCount, 2);
      await db.exec('TRUNCATE copy_dst');
    });

    it('copies an empty table out as no bytes', async () => {
      const out = await collect(db.copyOut('COPY copy_dst TO STDOUT (FORMAT csv)'));
      assert.equal(out.length, 0);
      assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    });

    it('leaves the session usable when the reader stops early', async () => {
      for await (const chunk of db.copyOut('COPY (SELECT g, repeat($$x$$, 100) FROM generate_series(1, 20000) g) TO STDOUT')) {
        assert.ok(chunk.length > 0);
        break;
      }
      assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    });

    it('surfaces a bad row as an SQL error', async () => {
      await assert.rejects(db.copyIn('COPY copy_dst FROM STDIN (FORMAT csv)', Buffer.from('x,y,z\n')), (err: { code?: string }) => err.code === '22P02');
      assert.deepEqual((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    });

    if (backend.name === 'pglite') {
      it('refuses COPY … FROM STDIN through query/exec (a PGlite trap)', async () => {
        await rejectsWith(db.query('COPY copy_dst FROM STDIN'), 'copy-needs-stream');
        await rejectsWith(db.exec("SELECT 1; COPY copy_dst FROM '/dev/blob'"), 'copy-needs-stream');
      });
    }
  });

  if (backend.name === 'postgres') {
    it('identifies itself as application_name tidemark', async () => {
      assert.deepEqual((await db.query('SHOW application_name')).rows, [{ application_name: 'tidemark' }]);
    });

    it('says why it cannot log in, without the password', async () => {
      const url = new URL(created.url);
      url.username = 'no_such_role';
      url.password = 's3cret-pw';
      const err = await rejectsWith(openDatabase(url.toString()), 'database-unreachable');
      assert.match(err.message, /^cannot connect to postgres:\/\/no_such_role:\*\*\*@.*: .*no_such_role/);
      assert.ok(!err.message.includes('s3cret-pw'));
    });
  }
});

describe('transaction statements (a recording session)', () => {
  function recorder() {
    const sql: string[] = [];
    const session: SessionCore = {
      backend: 'postgres',
      locksExclude: true,
      query: async <R>(text: string) => {
        sql.push(text);
        return { rows: [] as R[], rowCount: 0 };
      },
      exec: async (text) => {
        sql.push(text);
      },
      copyOut: async function* () {},
      copyIn: async () => 0,
      serverVersionNum: async () => 150000,
      withAdvisoryLock: (_key, fn) => fn(),
      commit: async () => {
        sql.push('COMMIT');
        return 'COMMIT';
      },
    };
    return { sql, transaction: transactionRunner(session) };
  }

  it('costs BEGIN and COMMIT only at depth 1 (no SAVEPOINT, no SHOW: up makes one per migration)', async () => {
    const r = recorder();
    await r.transaction(async (tx) => {
      await tx.exec('CREATE TABLE t (id int)');
    });
    assert.deepEqual(r.sql, ['BEGIN', 'CREATE TABLE t (id int)', 'COMMIT']);
  });

  it('spells the options in BEGIN and nests as savepoints named by depth', async () => {
    const r = recorder();
    await r.transaction(
      async (tx) => {
        await tx.transaction((sp) => sp.transaction((sp2) => sp2.exec('X')));
        await tx
          .transaction(async () => {
            throw new Error('no');
          })
          .catch(() => {});
      },
      { isolation: 'repeatable read', readOnly: true },
    );
    assert.deepEqual(r.sql, [
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      'SAVEPOINT s2',
      'SAVEPOINT s3',
      'X',
      'RELEASE SAVEPOINT s3',
      'RELEASE SAVEPOINT s2',
      'SAVEPOINT s2',
      'ROLLBACK TO SAVEPOINT s2; RELEASE SAVEPOINT s2',
      'COMMIT',
    ]);
  });
});

describe('database URLs', () => {
  it('parses the accepted forms', () => {
    assert.equal(DEFAULT_DATABASE_URL, 'pglite:./.tidemark/db');
    assert.deepEqual(parseDatabaseUrl('pglite:memory'), { backend: 'pglite', dataDir: undefined, displayPath: 'memory' });
    assert.deepEqual(parseDatabaseUrl('pglite:./x/db', '/work/app'), { backend: 'pglite', dataDir: '/work/app/x/db', displayPath: './x/db' });
    assert.equal((parseDatabaseUrl('pglite:/abs/db', '/elsewhere') as { dataDir: string }).dataDir, '/abs/db');
    assert.equal(parseDatabaseUrl('postgres://u@h/db').backend, 'postgres');
    assert.equal(parseDatabaseUrl('postgresql://u@h/db').backend, 'postgres');
  });

  it('refuses anything else as a usage error, naming the redacted URL and the accepted forms', async () => {
    for (const bad of ['mysql://bob:hunter2@h/db', 'pglite:', 'pglite://x', '', './db']) {
      const err = await rejectsWith((async () => parseDatabaseUrl(bad))(), 'bad-database-url');
      assert.equal(err.kind, 'usage');
      assert.match(err.message, /postgres:\/\/.*pglite:memory/);
      assert.ok(!err.message.includes('hunter2'));
    }
    const err = await rejectsWith(openDatabase('mysql://bob:hunter2@h/db'), 'bad-database-url');
    assert.match(err.message, /"mysql:\/\/bob:\*\*\*@h\/db"/);
  });

  it('redacts passwords in userinfo and query parameters', () => {
    assert.equal(redactUrl('postgres://bob:s3cret@db.example:5432/app'), 'postgres://bob:***@db.example:5432/app');
    assert.equal(redactUrl('postgresql://bob:p%40ss:w@h/app?sslmode=require'), 'postgresql://bob:***@h/app?sslmode=require');
    // A password value runs to the end: an unencoded `&` may be part of it (issue 11 §5).
    assert.equal(redactUrl('postgres://h/app?user=bob&password=s3cret&sslmode=require'), 'postgres://h/app?user=bob&password=***');
    assert.equal(redactUrl('postgres://bob@h/app'), 'postgres://bob@h/app');
    // `:` … `@` may be a raw password holding `/` or `?`: hidden (more than needed, never less).
    assert.equal(redactUrl('postgres://bob@h/app?application_name=a:b@c'), 'postgres://bob@h/app?application_name=a:***@c');
    // Not valid URLs, but what a user pastes: a raw password with '/', '#' or '@' in it.
    assert.equal(redactUrl('postgres://bob:pa/ss#w@h/app'), 'postgres://bob:***@h/app');
    assert.equal(redactUrl('postgres://bob:p@ss@h/app'), 'postgres://bob:***@h/app');
    assert.equal(redactUrl('pglite:./.tidemark/db'), 'pglite:./.tidemark/db');
  });
});

describe('server connection failure', () => {
  it('is database-unreachable, with the URL redacted', async () => {
    // A port nothing listens on: take a free one and close it again.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const err = await rejectsWith(openDatabase(`postgres://bob:s3cret-pw@127.0.0.1:${port}/app`), 'database-unreachable');
    assert.equal(err.kind, 'failure');
    assert.equal(err.message, `cannot connect to postgres://bob:***@127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port}`);
    assert.ok(!JSON.stringify(err.toJSON()).includes('s3cret'));
  });

  it('is bad-database-url when the URL does not parse (a raw / in the password), still redacted', async () => {
    const err = await rejectsWith(openDatabase('postgres://bob:s3/cret@127.0.0.1:1/app'), 'bad-database-url');
    assert.equal(err.kind, 'usage');
    assert.equal(err.message, 'cannot parse database URL "postgres://bob:***@127.0.0.1:1/app": Invalid URL');
    assert.equal(err.cause, undefined);
  });
});

describe('PGlite data directory', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-lock-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Runs `openDatabase(url)` in another Node process; returns its exit code and stderr. */
  function openInChild(url: string, cwd: string, holdMs = 0): Promise<{ code: number | null; stderr: string }> {
    const script = `
      const { openDatabase } = await import(${JSON.stringify(OPEN_JS)});
      try { const db = await openDatabase(${JSON.stringify(url)}); await new Promise((r) => setTimeout(r, ${holdMs})); await db.close(); }
      catch (e) { process.stderr.write(e.message + '\\n'); process.exit(e.kind === 'failure' ? 1 : 2); }`;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
  }

  it('creates a new database, keeps its data, and reopens it as is', async () => {
    const url = `pglite:${path.join(tmp, 'keep')}`;
    const db = await openDatabase(url);
    await db.exec("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    await db.close();
    assert.ok(!fs.existsSync(path.join(tmp, 'keep.lock')), 'lock released on close');
    const again = await openDatabase(url);
    assert.deepEqual((await again.query('SELECT v FROM kept')).rows, [{ v: 'still here' }]);
    await again.close();
  });

  it('refuses a second opener in the same process, naming the path as given', async () => {
    const db = await openDatabase('pglite:./same', { cwd: tmp });
    try {
      assert.ok(fs.existsSync(path.join(tmp, 'same.lock')));
      const err = await rejectsWith(openDatabase('pglite:./same', { cwd: tmp }), 'database-in-use');
      assert.equal(err.message, `database ./same is in use by process ${process.pid}`);
      assert.equal(err.kind, 'failure');
      assert.ok(err.hint);
    } finally {
      await db.close();
    }
    const reopened = await openDatabase('pglite:./same', { cwd: tmp });
    await reopened.close();
  });

  it('refuses a second opener in another process', async () => {
    const db = await openDatabase('pglite:./shared', { cwd: tmp });
    try {
      const child = await openInChild('pglite:./shared', tmp);
      assert.equal(child.stderr, `database ./shared is in use by process ${process.pid}\n`);
      assert.equal(child.code, 1);
    } finally {
      await db.close();
    }
    const free = await openInChild('pglite:./shared', tmp);
    assert.deepEqual(free, { code: 0, stderr: '' });
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dead = spawn(process.execPath, ['-e', '']);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.on('close', r));
    const lockFile = path.join(tmp, 'stale.lock');
    fs.writeFileSync(lockFile, `${deadPid}\n`);
    const db = await openDatabase(`pglite:${path.join(tmp, 'stale')}`);
    assert.equal(fs.readFileSync(lockFile, 'utf8').trim(), String(process.pid));
    await db.close();
    assert.ok(!fs.existsSync(lockFile));
  });

  it('lets exactly one of several racing processes take over a stale lock', async () => {
    fs.writeFileSync(path.join(tmp, 'race.lock'), '999999999\n'); // no such pid (above pid_max)
    const results = await Promise.all([1, 2, 3].map(() => openInChild('pglite:./race', tmp, 1000)));
    const winners = results.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, JSON.stringify(results));
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /^database \.\/race is in use by process \d+\n$/);
    assert.ok(!fs.existsSync(path.join(tmp, 'race.lock')));
  });

  it('refuses a non-empty directory that is not a data dir', async () => {
    fs.mkdirSync(path.join(tmp, 'notdb'));
    fs.writeFileSync(path.join(tmp, 'notdb', 'readme.txt'), 'hello');
    const err = await rejectsWith(openDatabase('pglite:./notdb', { cwd: tmp }), 'not-a-database-dir');
    assert.equal(err.kind, 'input');
    assert.ok(!fs.existsSync(path.join(tmp, 'notdb.lock')), 'lock released after the refusal');
  });

  it('opens pglite:memory databases independently, without a lock', async () => {
    const [a, b] = [await openDatabase('pglite:memory'), await openDatabase('pglite:memory')];
    await a.exec('CREATE TABLE only_in_a (id int)');
    assert.deepEqual((await b.query("SELECT to_regclass('only_in_a') AS t")).rows, [{ t: null }]);
    await Promise.all([a.close(), b.close()]);
  });
});
