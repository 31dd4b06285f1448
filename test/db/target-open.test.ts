/**
 * src/target/open.ts, the boundary's opener, on both back-ends: where the database came from, a given
 * Database wrapped and never closed, the guard refusing before anything is changed, the shadow opened
 * only when asked (its kind per request) and disposed by close() if the caller forgot.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import type { ConnectionReport } from '../../src/target/resolve.js';
import { openDatabase } from '../../src/db/open.js';
import { SHADOW_DB_PREFIX } from '../../src/db/shadow.js';
import { ensureLedger, markProtected } from '../../src/ledger/ledger.js';
import { openScope, openTarget } from '../../src/target/open.js';
import { fakeTarget } from '../support/fake-target.js';
import { forEachBackend, withDatabase, type TestBackend } from '../support/backends.js';
import { makeWorkspace, type TempWorkspace } from '../support/workspace.js';

function workspaceWith(extra: Record<string, unknown>): TempWorkspace {
  const ws = makeWorkspace({ users: {}, billing: { requires: ['users'] }, reports: {} });
  const file = path.join(ws.dir, 'tidemark.config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...extra }, null, 2));
  return ws;
}

/** A fresh database that nothing has opened yet (a PGlite directory can be open once per process). */
async function withUrl<T>(backend: TestBackend, fn: (url: string) => Promise<T>): Promise<T> {
  const created = await backend.createDatabase();
  try {
    return await fn(created.url);
  } finally {
    await created.drop();
  }
}

async function isOpen(db: { query: (sql: string) => Promise<unknown> }): Promise<boolean> {
  return db.query('SELECT 1').then(
    () => true,
    () => false,
  );
}

it('openScope: the workspace loaded once, services selected in config order, required ones added on request', async () => {
  const ws = workspaceWith({});
  try {
    const all = await openScope({ cwd: ws.dir });
    assert.deepEqual(
      all.services.map((s) => s.name),
      ['users', 'billing', 'reports'],
    );
    assert.equal(all.paths.root, all.workspace.root);
    const billing = await openScope({ cwd: ws.dir, service: 'billing', withRequired: true });
    assert.deepEqual(
      billing.services.map((s) => s.name),
      ['users', 'billing'],
      'config order, not visit order',
    );
    assert.deepEqual(
      (await openScope({ cwd: ws.dir, service: 'billing' })).services.map((s) => s.name),
      ['billing'],
    );
    await assert.rejects(openScope({ cwd: ws.dir, service: 'nope' }), (e: Error & { code?: string }) => e.code === 'unknown-service');
    // A workspace given as a value is used as is: nothing is loaded.
    const given = await openScope({ workspace: all.workspace, cwd: path.join(ws.dir, 'sub') });
    assert.equal(given.workspace, all.workspace);
    assert.equal(given.paths.cwd, path.join(ws.dir, 'sub'));
    assert.equal(given.paths.fromConfig('x'), path.join(all.workspace.root, 'x'));
  } finally {
    ws.remove();
  }
});

it('openTarget: a relative pglite: URL from the config resolves from the root, one from --database from cwd', async () => {
  const ws = workspaceWith({ database: 'pglite:./data/db' });
  const sub = path.join(ws.dir, 'sub');
  fs.mkdirSync(sub);
  try {
    const fromConfig = await openTarget({ cwd: sub });
    try {
      assert.equal(fromConfig.name.source, 'config');
      assert.equal(fromConfig.name.pglitePath, path.join(fromConfig.workspace.root, 'data/db'));
      assert.equal(fromConfig.server, undefined);
      assert.equal(fromConfig.openSibling, undefined, 'PGlite has no second session');
      await fromConfig.db.query('SELECT 1');
    } finally {
      await fromConfig.close();
    }
    const fromFlag = await openTarget({ cwd: sub, database: 'pglite:./data/db' });
    try {
      assert.equal(fromFlag.name.source, 'option');
      assert.equal(fromFlag.name.pglitePath, path.join(sub, 'data/db'));
      await fromFlag.db.query('SELECT 1');
    } finally {
      await fromFlag.close();
    }
    assert.ok(fs.existsSync(path.join(ws.dir, 'data/db')) && fs.existsSync(path.join(sub, 'data/db')));
  } finally {
    ws.remove();
  }
});

it("openTarget connects on first use: an unreachable or unusable URL is that use's error, naming who gave it; close() before any use opens nothing", async () => {
  const ws = workspaceWith({ database: 'postgres://tidemark:s3cret@127.0.0.1:1/nowhere' });
  try {
    const report: Partial<ConnectionReport> = {};
    const unreachable = await openTarget({ cwd: ws.dir }, { report });
    assert.equal(unreachable.name.source, 'config');
    assert.equal(unreachable.name.backend, 'postgres');
    assert.ok(!unreachable.name.display.includes('s3cret'), unreachable.name.display);
    assert.deepEqual(report, { database: unreachable.name.display, databaseSource: 'config' });
    await assert.rejects(unreachable.db.query('SELECT 1'), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'database-unreachable');
      assert.match(e.hint ?? '', /named by the config's database/);
      return true;
    });
    // The same refusal again, not a second attempt behind the user's back.
    await assert.rejects(unreachable.db.exec('SELECT 1'), (e: Error & { code?: string }) => e.code === 'database-unreachable');
    await unreachable.close();

    const unusable = await openTarget({ cwd: ws.dir, database: 'postgres://h:notaport/db' });
    assert.equal(unusable.name.source, 'option');
    await assert.rejects(unusable.db.query('SELECT 1'), (e: Error & { code?: string; hint?: string }) => e.code === 'bad-database-url' && /--database/.test(e.hint ?? ''));
    await unusable.close();

    const dir = path.join(ws.dir, 'never');
    const untouched = await openTarget({ cwd: ws.dir, database: `pglite:${dir}` });
    await untouched.close();
    assert.equal(fs.existsSync(dir), false, 'a target closed before its first use opened nothing');
  } finally {
    ws.remove();
  }
});

forEachBackend('openTarget', (backend) => {
  it('opened from a URL: its source, redacted name, backend; close() closes it', () =>
    withUrl(backend, async (url) => {
      const ws = workspaceWith({});
      const report: Partial<ConnectionReport> = {};
      try {
        const seen: string[] = [];
        const target = await openTarget({ cwd: ws.dir, database: url, onConnect: (d, s) => seen.push(`${s} ${d}`) }, { report });
        assert.equal(target.name.source, 'option');
        assert.equal(target.name.backend, backend.name);
        assert.equal(target.name.display, target.db.displayUrl);
        assert.deepEqual(seen, [], 'nothing is opened before the first use');
        assert.ok(await isOpen(target.db));
        assert.deepEqual(seen, [`option ${target.db.displayUrl}`]);
        assert.equal(report.databaseSource, 'option');
        if (backend.name === 'postgres') {
          assert.ok(target.server && target.server.database === new URL(url).pathname.slice(1));
          assert.ok(target.openSibling, 'a server target opened here has a second session to offer');
          const sibling = await target.openSibling();
          const pid = async (db: typeof sibling) => (await db.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0].p;
          assert.notEqual(await pid(sibling), await pid(target.db), 'another session on the same database');
          assert.equal((await sibling.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d, target.server.database);
          await sibling.close();
        } else {
          assert.equal(target.server, undefined);
          assert.equal(target.name.pglitePath, url.replace(/^pglite:/, ''));
        }
        assert.ok(await isOpen(target.db));
        await target.close();
        assert.equal(await isOpen(target.db), false, 'whoever opened closes');
      } finally {
        ws.remove();
      }
    }));

  it('a given Database is wrapped, not reopened and not closed', () =>
    withDatabase(backend, async (db) => {
      const ws = workspaceWith({});
      try {
        const target = await openTarget({ cwd: ws.dir, database: db });
        assert.equal(target.db, db);
        assert.equal(target.name.source, 'given');
        assert.equal(target.openSibling, undefined);
        assert.equal(target.server, undefined);
        await target.close();
        assert.ok(await isOpen(db), 'the caller opened it: the caller closes it');
      } finally {
        ws.remove();
      }
    }));

  it('the guard refuses a protected database on its first use, before anything runs, from a URL and for a given Database', () =>
    withUrl(backend, async (url) => {
      const name = backend.name === 'postgres' ? new URL(url).pathname.slice(1) : url.replace(/^pglite:/, '');
      const ws = workspaceWith({ protected: [backend.name === 'postgres' ? name : url] });
      const firstUse = async (how: Parameters<typeof openTarget>[1], expected?: RegExp) => {
        const target = await openTarget({ cwd: ws.dir, database: url }, how);
        try {
          if (expected) await assert.rejects(target.db.exec('CREATE TABLE must_not_exist (x int)'), expected);
          else await target.db.query('SELECT 1');
          // Refused once, refused again: no statement ever reaches a database the guard did not pass.
          if (expected) await assert.rejects(target.db.query('SELECT 1'), expected);
        } finally {
          await target.close();
        }
      };
      try {
        const report: Partial<ConnectionReport> = {};
        await firstUse({ guard: 'reset', report }, /Refusing to reset .*matches .* in the config's protected list/);
        assert.equal(report.databaseSource, 'option', 'the refusal still names the database');
        if (backend.name === 'pglite') assert.equal(fs.existsSync(name), false, 'refused before opening: the directory was not even created');
        // Without the guard (a reading command) it opens; with both acts it opens too.
        await firstUse({});
        await firstUse({ guard: 'reset', forceProtected: true, yesIMean: name });
        await firstUse({ guard: 'reset', forceProtected: true, yesIMean: 'other' }, /is not/);
        const check = await openDatabase(url);
        try {
          assert.equal((await check.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'must_not_exist'")).rows[0].n, 0);
        } finally {
          await check.close();
        }
      } finally {
        ws.remove();
      }
      // A given Database: only the mark and the server's answers can be checked.
      const plain = workspaceWith({});
      const db = await openDatabase(url);
      try {
        const unmarked = await openTarget({ cwd: plain.dir, database: db }, { guard: 'reset' });
        await unmarked.db.query('SELECT 1');
        await unmarked.close();
        assert.ok(await isOpen(db), 'closing the target does not close a given Database');
        await ensureLedger(db);
        await markProtected(db, name);
        const marked = await openTarget({ cwd: plain.dir, database: db }, { guard: 'reset' });
        await assert.rejects(marked.db.exec('CREATE TABLE must_not_exist (x int)'), /marked protected inside the database/);
        await marked.close();
        assert.ok(await isOpen(db), 'a refusal does not close a given Database');
        assert.equal((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relname = 'must_not_exist'")).rows[0].n, 0);
      } finally {
        await db.close();
        plain.remove();
      }
    }));

  it('openShadow opens only when asked, its kind per request; close() disposes one left open', () =>
    withUrl(backend, async (url) => {
      const ws = workspaceWith({});
      try {
        const target = await openTarget({ cwd: ws.dir, database: url });
        // This process's temporary databases on the server (named after its pid): none until asked.
        const mine = async () => {
          const { rows } = await target.db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname LIKE $1', [`${SHADOW_DB_PREFIX}${process.pid}\\_%`]);
          return rows[0].n;
        };
        if (backend.name === 'postgres') assert.equal(await mine(), 0, 'opening the target opens no shadow');
        const first = await target.openShadow();
        if (backend.name === 'postgres') assert.equal(await mine(), 1);
        assert.equal(first.kind, backend.name === 'postgres' ? 'same-server' : 'pglite');
        await first.dispose();
        const pglite = await target.openShadow({ prefer: 'pglite' });
        assert.equal(pglite.kind, 'pglite');
        assert.equal(pglite.description.includes('because pglite was asked for'), backend.name === 'postgres');
        await pglite.dispose();
        await assert.rejects(target.openShadow({ url }), (e: Error & { code?: string }) => e.code === 'shadow-is-target');
        const left = await target.openShadow();
        await target.close();
        assert.equal(await isOpen(left.database), false, 'close() disposed the shadow the caller forgot');
        if (backend.name === 'postgres') {
          const admin = await openDatabase(url);
          try {
            const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [left.name]);
            assert.equal(rows[0].n, 0, 'and dropped it');
          } finally {
            await admin.close();
          }
        }
      } finally {
        ws.remove();
      }
    }));

  it('fakeTarget: a Target from a literal workspace and an open Database, no I/O, openShadow counted', () =>
    withDatabase(backend, async (db) => {
      const ws = workspaceWith({});
      try {
        const { workspace } = await openScope({ cwd: ws.dir });
        const target = fakeTarget(workspace, db, { services: ['billing'] });
        assert.equal(target.db, db);
        assert.deepEqual(
          target.services.map((s) => s.name),
          ['billing'],
        );
        assert.equal(target.name.source, 'given');
        await assert.rejects(target.openShadow({ prefer: 'pglite' }), /the test gave no shadow/);
        assert.deepEqual(target.shadowCalls, [{ prefer: 'pglite' }]);
      } finally {
        ws.remove();
      }
    }));
});
