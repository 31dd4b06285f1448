/**
 * The guard suite (issue 11 §1): reset, rebaseline and restore --replace on a protected database,
 * reached through every spelling of its URL and PG* variables, on PGlite and the server → 0 bypasses,
 * and nothing changed (fingerprint) by a refusal. The in-database mark (`tidemark protect`) is reached
 * through differently spelled URLs. Only loopback addresses are contacted: a "remote" host is
 * 127.0.0.2 (the test server listens on 127.0.0.1 only) or a `.invalid` name refused before any lookup.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';

import path from 'node:path';
import { it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import { backup } from '../../src/api/backup.js';
import { restore } from '../../src/api/restore.js';
import { openDatabase } from '../../src/db/open.js';
import { protect } from '../../src/api/protect.js';
import { guardConnected } from '../../src/ledger/guard.js';
import { rebaseline } from '../../src/api/rebaseline.js';
import { reset } from '../../src/api/reset.js';
import { ensureLedger, LEDGER_VERSION, markProtected, readLedger, readProtection } from '../../src/ledger/ledger.js';
import { forEachBackend, withDatabase, type TestBackend } from '../support/backends.js';
import { fingerprint } from '../support/fingerprint.js';
import { makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

async function fp(url: string): Promise<string> {
  const db = await openDatabase(url);
  try {
    return await fingerprint(db);
  } finally {
    await db.close();
  }
}

/** A workspace with one service `app` owning `items` (3 rows), migrated into a fresh database. */
async function setup(backend: TestBackend): Promise<{ url: string; ws: TempWorkspace; backupDir: string; drop(): Promise<void> }> {
  const created = await backend.createDatabase();
  const ws = makeWorkspace({ app: { owns: ['items'] } }, { 'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int PRIMARY KEY, name text);', 'DROP TABLE items;') });
  // One open for the whole set-up (a PGlite start is the expensive part).
  const db = await openDatabase(created.url);
  const backupDir = path.join(ws.dir, 'bk');
  try {
    const applied = await up({ cwd: ws.dir, database: db });
    assert.ifError(applied.error);
    await db.exec(`INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    const b = await backup({ cwd: ws.dir, database: db, service: 'app', out: backupDir });
    assert.ifError(b.error);
  } finally {
    await db.close();
  }
  return {
    url: created.url,
    ws,
    backupDir,
    drop: async () => {
      ws.remove();
      await created.drop();
    },
  };
}

/** Runs fn with PG* variables set, restoring them after. */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Other spellings of the same database: each must reach the same data (and the same mark). */
function spellings(backend: TestBackend, url: string, cwd: string): Array<{ label: string; url: string; env?: Record<string, string> }> {
  if (backend.name === 'pglite') {
    const dir = url.slice('pglite:'.length);
    return [
      { label: 'as created', url },
      { label: 'trailing slash', url: `pglite:${dir}/` },
      { label: 'relative path, dot segments', url: `pglite:${path.relative(cwd, path.dirname(dir))}/./../${path.basename(path.dirname(dir))}/${path.basename(dir)}` },
    ];
  }
  const u = new URL(url);
  const name = u.pathname.slice(1);
  const port = u.port || '5432';
  const encoded = `%${name.charCodeAt(0).toString(16)}${name.slice(1)}`;
  return [
    { label: 'as created', url },
    { label: 'localhost', url: `postgres://postgres@localhost:${port}/${name}` },
    { label: 'postgresql:// and an encoded name', url: `postgresql://postgres@127.0.0.1:${port}/${encoded}` },
    { label: 'no path, PGDATABASE', url: `postgres://postgres@127.0.0.1:${port}`, env: { PGDATABASE: name } },
    { label: 'several host=, the last wins', url: `postgres://postgres@127.0.0.2:${port}/${name}?host=127.0.0.2&host=127.0.0.1` },
    { label: 'postgres:/// with PGHOST and PGPORT', url: `postgres:///${name}?user=postgres`, env: { PGHOST: '127.0.0.1', PGPORT: port } },
    { label: 'a dbname= decoy', url: `postgres://postgres@127.0.0.1:${port}/${name}?dbname=postgres` },
    { label: 'upper-case host', url: `postgres://postgres@LOCALHOST:${port}/${name}` },
    // The server's Unix socket, when this test server is the local one and has it.
    ...(fs.existsSync(`/var/run/postgresql/.s.PGSQL.${port}`) && ['127.0.0.1', 'localhost'].includes(u.hostname)
      ? [{ label: 'socket directory', url: `postgres://postgres@remote.invalid:${port}/${name}?host=%2Fvar%2Frun%2Fpostgresql` }]
      : []),
  ];
}

forEachBackend('guard', (backend) => {
  it('the in-database mark refuses reset, rebaseline and restore --replace through every spelling; nothing changes; the override and --off take both acts', async () => {
    const t = await setup(backend);
    try {
      const marked = await protect({ cwd: t.ws.dir, database: t.url });
      assert.ifError(marked.error);
      assert.equal(marked.protected, true);
      assert.equal(marked.changed, true);
      assert.equal((await protect({ cwd: t.ws.dir, database: t.url })).changed, false, 'marking twice is a no-op');
      const before = await fp(t.url);
      let refusals = 0;
      for (const [i, s] of spellings(backend, t.url, t.ws.dir).entries()) {
        await withEnv(s.env ?? {}, async () => {
          const r1 = await reset({ cwd: t.ws.dir, database: s.url, service: 'app' });
          assert.equal(r1.error?.code, 'protected-target', `reset via ${s.label}: ${r1.error?.message}`);
          assert.match(r1.error!.message, /marked protected inside the database/);
          if (backend.name === 'pglite' && i > 0) return; // each PGlite start costs seconds: the other flows once
          const r2 = await rebaseline({ cwd: t.ws.dir, database: s.url, service: 'app', force: true });
          assert.equal(r2.error?.code, 'protected-target', `rebaseline via ${s.label}: ${r2.error?.message}`);
          const r3 = await restore({ cwd: t.ws.dir, database: s.url, dir: t.backupDir, replace: true });
          assert.equal(r3.error?.code, 'protected-target', `restore --replace via ${s.label}: ${r3.error?.message}`);
          refusals += 3;
        });
        assert.equal(await fp(t.url), before, `nothing changed after the refusals via ${s.label}`);
      }
      assert.ok(refusals >= 3);
      const wrong = await reset({ cwd: t.ws.dir, database: t.url, service: 'app', forceProtected: true, yesIMean: 'not-it' });
      assert.equal(wrong.error?.code, 'protected-target', 'a wrong name typed back');

      // --off: both acts, like an override.
      const off1 = await protect({ cwd: t.ws.dir, database: t.url, off: true });
      assert.equal(off1.error?.code, 'protected-target');
      const off2 = await protect({ cwd: t.ws.dir, database: t.url, off: true, forceProtected: true, yesIMean: 'wrong' });
      assert.equal(off2.error?.code, 'protected-target');
      assert.equal(await fp(t.url), before, 'the mark is still there');
      const name = marked.name;
      // The override works: forced and named, reset runs (through another spelling).
      const other = spellings(backend, t.url, t.ws.dir)[1];
      // (PGlite's name is the path as written in the URL used.)
      const forced = await reset({ cwd: t.ws.dir, database: other.url, service: 'app', forceProtected: true, yesIMean: backend.name === 'pglite' ? other.url.slice('pglite:'.length) : name });
      assert.ifError(forced.error);
      const off3 = await protect({ cwd: t.ws.dir, database: t.url, off: true, forceProtected: true, yesIMean: name });
      assert.ifError(off3.error);
      assert.equal(off3.changed, true);
      const free = await reset({ cwd: t.ws.dir, database: t.url, service: 'app' });
      assert.ifError(free.error);
    } finally {
      await t.drop();
    }
  });

  it("the config's protected list is checked on the resolved target and on the server's answers", async () => {
    const t = await setup(backend);
    try {
      const db = await openDatabase(t.url);
      let name: string;
      try {
        const facts = (await db.query<{ d: string }>('SELECT current_database() AS d')).rows[0].d;
        name = backend.name === 'pglite' ? t.url.slice('pglite:'.length) : facts;
        if (backend.name === 'postgres') {
          const g = await guardConnected(db, [facts]);
          assert.match(g.reasons.join(), /the server says it is/);
          const byAddress = await guardConnected(db, ['127.0.0.1']);
          assert.match(byAddress.reasons.join(), /127\.0\.0\.1/);
        }
      } finally {
        await db.close();
      }
      const config = path.join(t.ws.dir, 'tidemark.config.json');
      const json = JSON.parse(fs.readFileSync(config, 'utf8'));
      json.protected = [backend.name === 'pglite' ? `pglite:${name}` : name];
      fs.writeFileSync(config, JSON.stringify(json));
      const before = await fp(t.url);
      for (const s of spellings(backend, t.url, t.ws.dir)) {
        await withEnv(s.env ?? {}, async () => {
          const r = await reset({ cwd: t.ws.dir, database: s.url, service: 'app' });
          assert.equal(r.error?.code, 'protected-target', `reset via ${s.label}: ${r.error?.message}`);
          const rr = await restore({ cwd: t.ws.dir, database: s.url, dir: t.backupDir, replace: true });
          assert.equal(rr.error?.code, 'protected-target', `restore --replace via ${s.label}`);
        });
      }
      assert.equal(await fp(t.url), before);
    } finally {
      await t.drop();
    }
  });

  it('a remote host is refused before connecting: a made-up name, 127.0.0.2, PGHOST, a last host=', {
    skip: backend.name === 'pglite' ? 'refused before any database is opened: once is enough' : false,
  }, async () => {
    const t = await setup(backend);
    try {
      const before = await fp(t.url);
      const cases: Array<{ url: string; env?: Record<string, string> }> = [
        { url: 'postgres://postgres@db.prod.invalid:5432/prod' },
        { url: 'postgres://postgres@localhost:5432/prod?host=localhost&host=db.prod.invalid' },
        { url: 'postgres:///prod?user=postgres', env: { PGHOST: 'db.prod.invalid' } },
        { url: 'postgres://postgres@127.0.0.2:5432/prod' },
        { url: 'postgres://postgres@DB.PROD.INVALID./prod' },
      ];
      for (const c of cases) {
        await withEnv(c.env ?? {}, async () => {
          const started = performance.now();
          const r = await reset({ cwd: t.ws.dir, database: c.url, service: 'app' });
          assert.equal(r.error?.code, 'protected-target', `${c.url}: ${r.error?.message}`);
          assert.match(r.error!.message, /is not this machine/);
          assert.ok(performance.now() - started < 5000, 'no connection attempt');
        });
      }
      assert.equal(await fp(t.url), before);
    } finally {
      await t.drop();
    }
  });
});

forEachBackend('guard ledger', (backend) => {
  it('a version-1 ledger upgrades to carry the mark; the mark is read whatever the version', () =>
    withDatabase(backend, async (db) => {
      // A ledger as the previous release left it: version 1, no protection table.
      await db.exec(`CREATE SCHEMA tidemark; CREATE TABLE tidemark.meta (key text PRIMARY KEY, value text NOT NULL);
        INSERT INTO tidemark.meta VALUES ('ledger_version', '1');
        CREATE TABLE tidemark.applied (service text NOT NULL, migration text NOT NULL, checksum text NOT NULL, status text NOT NULL DEFAULT 'applied',
          applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL DEFAULT 0, applied_by text NOT NULL, tool_version text NOT NULL, error text,
          PRIMARY KEY (service, migration));
        CREATE TABLE tidemark.events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), actor text NOT NULL,
          tool_version text NOT NULL, action text NOT NULL, service text, migration text, outcome text NOT NULL, detail jsonb);
        INSERT INTO tidemark.applied (service, migration, checksum, applied_by, tool_version) VALUES ('app', 'app_001_x', 'c', 't', '0');`);
      assert.equal(await readProtection(db), undefined, 'no table yet: not marked, no error');
      await ensureLedger(db);
      assert.equal((await db.query<{ value: string }>(`SELECT value FROM tidemark.meta WHERE key = 'ledger_version'`)).rows[0].value, String(LEDGER_VERSION));
      assert.equal(LEDGER_VERSION, 2);
      assert.equal((await readLedger(db)).length, 1, 'rows kept');
      assert.equal(await db.transaction((tx) => markProtected(tx, 'x')), true);
      assert.equal((await readProtection(db))?.database, 'x');
      await assert.rejects(db.exec(`INSERT INTO tidemark.protection (singleton, database, protected_by, tool_version) VALUES (false, 'y', 'a', 'b')`), 'one row at most');
      const ev = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM tidemark.events WHERE action = 'protect'`);
      assert.equal(ev.rows[0].n, 1);
    }));
});

forEachBackend('guard CLI', (backend) => {
  it('tidemark protect, then reset through another spelling refuses (exit 2); protect --off needs both flags', {
    skip: backend.name === 'pglite' ? 'the flows are covered on PGlite above; a CLI run there costs a process and a PGlite start' : false,
  }, async () => {
    const t = await setup(backend);
    try {
      const name = backend.name === 'pglite' ? t.url.slice('pglite:'.length) : new URL(t.url).pathname.slice(1);
      const p = await runCli(['protect', '--database', t.url], t.ws.dir);
      assert.equal(p.code, 0, p.stderr);
      assert.match(p.stdout, /protected/);
      const other = spellings(backend, t.url, t.ws.dir)[1].url;
      const before = await fp(t.url);
      const r = await runCli(['reset', '--service', 'app', '--database', other], t.ws.dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /marked protected inside the database/);
      if (backend.name === 'postgres') {
        // (PGlite: the same flows are covered above; each CLI run there costs a process and a PGlite start.)
        const rb = await runCli(['rebaseline', '--service', 'app', '--force', '--database', other], t.ws.dir);
        assert.equal(rb.code, 2, rb.stderr);
        const rs = await runCli(['restore', t.backupDir, '--replace', '--database', other], t.ws.dir);
        assert.equal(rs.code, 2, rs.stderr);
      }
      const off = await runCli(['protect', '--off', '--database', t.url], t.ws.dir);
      assert.equal(off.code, 2, off.stderr);
      assert.equal(await fp(t.url), before);
      const offForced = await runCli(['protect', '--off', '--force-protected', '--yes-i-mean', name, '--database', t.url, '--json'], t.ws.dir);
      assert.equal(offForced.code, 0, offForced.stderr);
      assert.equal(JSON.parse(offForced.stdout).protected, false);
    } finally {
      await t.drop();
    }
  });
});

it('the test server listens on loopback only (the 127.0.0.2 cases rely on it)', async () => {
  const server = (await import('../support/backends.js')).backends.find((b) => b.name === 'postgres');
  if (!server) return;
  const created = await server.createDatabase();
  try {
    const db = await openDatabase(created.url);
    try {
      const v = (await db.query<{ v: string }>(`SELECT current_setting('listen_addresses') AS v`)).rows[0].v;
      assert.ok(['127.0.0.1', 'localhost', ''].includes(v.trim()), `listen_addresses is ${v}`);
    } finally {
      await db.close();
    }
  } finally {
    await created.drop();
  }
});
