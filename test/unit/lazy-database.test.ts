/**
 * src/db/lazy.ts, the Database the boundary hands out: it connects once, on the first call, however many
 * calls race for it; a refused connection stays refused (no second attempt behind the user's back);
 * closing before any use opens nothing, closing while it opens closes what opened.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { lazyDatabase } from '../../src/db/lazy.js';

function fakeDatabase(log: string[]): Database {
  return {
    displayUrl: 'postgres://u@h/db',
    backend: 'postgres',
    locksExclude: true,
    query: async (sql: string) => (log.push(`query ${sql}`), { rows: [], rowCount: 0 }),
    exec: async (sql: string) => void log.push(`exec ${sql}`),
    async *copyOut() {
      yield new Uint8Array([1]);
    },
    copyIn: async () => 0,
    serverVersionNum: async () => 150000,
    withAdvisoryLock: async (_key, fn) => fn(),
    transaction: async () => {
      throw new Error('not used');
    },
    close: async () => void log.push('close'),
  } as Database;
}

it('connects once, on the first call, however many calls race for it', async () => {
  const log: string[] = [];
  let opens = 0;
  const db = lazyDatabase('postgres://u@h/db', 'postgres', async () => {
    opens++;
    await new Promise((r) => setTimeout(r, 10));
    return fakeDatabase(log);
  });
  assert.equal(db.attempted, false);
  assert.equal(db.locksExclude, true);
  await Promise.all([db.query('SELECT 1'), db.exec('SELECT 2'), db.serverVersionNum()]);
  const chunks: Uint8Array[] = [];
  for await (const c of db.copyOut('COPY t TO STDOUT')) chunks.push(c);
  assert.equal(opens, 1);
  assert.equal(chunks.length, 1);
  assert.deepEqual(log.sort(), ['exec SELECT 2', 'query SELECT 1']);
  await db.close();
  assert.ok(log.includes('close'));
});

it('a refused connection is the error of every call, never retried; closing it closes nothing', async () => {
  let opens = 0;
  const db = lazyDatabase('postgres://u@h/db', 'postgres', async () => {
    opens++;
    throw Object.assign(new Error('unreachable'), { code: 'database-unreachable' });
  });
  await assert.rejects(db.query('SELECT 1'), /unreachable/);
  await assert.rejects(db.exec('SELECT 1'), /unreachable/);
  await assert.rejects(
    db.transaction(async () => {}),
    /unreachable/,
  );
  assert.equal(opens, 1);
  assert.equal(db.attempted, true);
  await db.close();
});

it('closed before any use: nothing opened; closed while opening: what opened is closed', async () => {
  let opens = 0;
  const unused = lazyDatabase('pglite:memory', 'pglite', async () => {
    opens++;
    return fakeDatabase([]);
  });
  assert.equal(unused.locksExclude, false);
  await unused.close();
  assert.equal(opens, 0);

  const log: string[] = [];
  const racing = lazyDatabase('postgres://u@h/db', 'postgres', async () => {
    await new Promise((r) => setTimeout(r, 10));
    return fakeDatabase(log);
  });
  const first = racing.query('SELECT 1');
  await racing.close();
  await first.catch(() => {});
  assert.ok(log.includes('close'), 'the connection opened during close() is closed');
});
