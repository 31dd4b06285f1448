/**
 * Shadow databases: a temporary database on the target server (dropped afterwards), the PGlite
 * fallback for a role without CREATEDB, an explicit --shadow URL (refused when it is the target or
 * not empty, emptied again after use), and PGlite for a PGlite target.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { openShadow, sameDatabase, shadowPlan, withDatabaseName } from '../../src/db/shadow.js';
import { backends, forEachBackend, withDatabase, type TestBackend } from '../support/backends.js';

const server = backends.find((b) => b.name === 'postgres');

async function exists(adminUrl: string, name: string): Promise<boolean> {
  const db = await openDatabase(adminUrl);
  try {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_database WHERE datname = $1`, [name]);
    return rows[0].n === '1';
  } finally {
    await db.close();
  }
}

async function tables(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ t: string }>(
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
  );
  return rows.map((r) => r.t);
}

/** A bit of everything a replay leaves behind: schemas, an extension-free set of object kinds, the ledger-like schema. */
const REPLAY = `
  CREATE TYPE mood AS ENUM ('ok', 'sad');
  CREATE DOMAIN positive AS int CHECK (VALUE > 0);
  CREATE TYPE pair AS (a int, b text);
  CREATE TYPE span AS RANGE (subtype = int4);
  CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text UNIQUE, m mood, p positive);
  CREATE TABLE budgets (id serial PRIMARY KEY, user_id bigint REFERENCES users (id));
  CREATE SEQUENCE free_seq;
  CREATE VIEW v AS SELECT id FROM users;
  CREATE MATERIALIZED VIEW mv AS SELECT id FROM budgets;
  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TRIGGER t BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION touch();
  CREATE PROCEDURE noop() LANGUAGE sql AS $$ SELECT 1 $$;
  CREATE AGGREGATE total (int) (sfunc = int4pl, stype = int);
  CREATE SCHEMA tidemark; CREATE TABLE tidemark.applied (service text, migration text);
  CREATE SCHEMA billing; CREATE TABLE billing.invoices (id int);
`;

describe('shadowPlan: the one shadow policy, pure', () => {
  const url = 'postgres://u:pw@localhost/app';
  it('a given URL wins over everything, whatever the target', () => {
    assert.deepEqual(shadowPlan({ backend: 'postgres', url }, { url: 'postgres://localhost/s', prefer: 'pglite' }), { kind: 'url', url: 'postgres://localhost/s' });
    assert.deepEqual(shadowPlan({ backend: 'pglite' }, { url: 'pglite:./s' }), { kind: 'url', url: 'pglite:./s' });
    assert.deepEqual(shadowPlan({}, { url: 'pglite:./s' }), { kind: 'url', url: 'pglite:./s' });
  });
  it('a PGlite target, or none: PGlite, with no reason to give', () => {
    assert.deepEqual(shadowPlan({ backend: 'pglite', url: 'pglite:./db' }), { kind: 'pglite' });
    assert.deepEqual(shadowPlan({ backend: 'pglite' }, { prefer: 'same-server' }), { kind: 'pglite' });
    assert.deepEqual(shadowPlan({}), { kind: 'pglite' });
  });
  it('a server: the same server, unless PGlite is asked for or no URL with credentials is known (then the reason)', () => {
    assert.deepEqual(shadowPlan({ backend: 'postgres', url }), { kind: 'same-server', url });
    assert.deepEqual(shadowPlan({ backend: 'postgres', url }, { prefer: 'same-server' }), { kind: 'same-server', url });
    assert.deepEqual(shadowPlan({ backend: 'postgres', url }, { prefer: 'pglite' }), { kind: 'pglite', reason: 'pglite was asked for' });
    assert.deepEqual(shadowPlan({ backend: 'postgres' }), {
      kind: 'pglite',
      reason: 'no URL with credentials for the target server was given to open a temporary database there',
    });
    assert.deepEqual(shadowPlan({ backend: 'postgres' }, { prefer: 'pglite' }), { kind: 'pglite', reason: 'pglite was asked for' }, 'the asked-for reason comes first');
  });
});

forEachBackend('openShadow', (backend) => {
  it(backend.name === 'postgres' ? 'against a server: a temporary database on that server, dropped afterwards' : 'against PGlite: an in-process PGlite', () =>
    withDatabase(backend, async (target, url) => {
      await target.exec('CREATE TABLE live (id int)');
      const shadow = await openShadow({ target, targetUrl: url });
      try {
        await shadow.database.exec('CREATE TABLE replayed (id int)');
        assert.deepEqual(await tables(shadow.database), ['public.replayed']);
        assert.deepEqual(await tables(target), ['public.live']);
        if (backend.name === 'postgres') {
          assert.equal(shadow.kind, 'same-server');
          assert.match(shadow.name ?? '', new RegExp(`^tidemark_shadow_${process.pid}_[0-9a-f]{6}_[0-9a-f]{8}$`));
          assert.equal(shadow.description, `temporary database ${shadow.name} on the target server (PostgreSQL ${Math.floor((await target.serverVersionNum()) / 10000)})`);
          assert.equal(await exists(url, shadow.name!), true);
        } else {
          assert.equal(shadow.kind, 'pglite');
          assert.equal(shadow.description, 'in-process PGlite (PostgreSQL 18)');
        }
      } finally {
        await shadow.dispose();
        await shadow.dispose(); // idempotent
      }
      if (backend.name === 'postgres') assert.equal(await exists(url, shadow.name!), false);
      await assert.rejects(shadow.database.query('SELECT 1'));
    }),
  );

  it('prefer: pglite goes straight to an in-process PGlite', () =>
    withDatabase(backend, async (target, url) => {
      const shadow = await openShadow({ target, targetUrl: url, prefer: 'pglite' });
      try {
        assert.equal(shadow.kind, 'pglite');
        assert.equal(shadow.database.backend, 'pglite');
      } finally {
        await shadow.dispose();
      }
    }));

  it('--shadow URL: used when empty, emptied again after use, refused when not empty', () =>
    withDatabase(backend, async (target, url) => {
      const other = await backend.createDatabase();
      try {
        for (let round = 0; round < 2; round++) {
          const shadow = await openShadow({ target, targetUrl: url, shadowUrl: other.url });
          try {
            assert.equal(shadow.kind, 'url');
            assert.match(shadow.description, /^the shadow database .* \(PostgreSQL 1[58]\)$/);
            await shadow.database.exec(REPLAY);
            assert.deepEqual(await tables(shadow.database), ['billing.invoices', 'public.budgets', 'public.users', 'tidemark.applied']);
          } finally {
            await shadow.dispose();
          }
        }
        // dispose left it empty: every kind of object above is gone
        const check = await openDatabase(other.url);
        try {
          assert.deepEqual(await tables(check), []);
          const left = await check.query<{ n: string }>(
            `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
                  + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public')
                  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')
                  + (SELECT count(*) FROM pg_namespace WHERE nspname IN ('tidemark', 'billing')) AS n`,
          );
          assert.equal(left.rows[0].n, '0');
          await check.exec("CREATE TABLE leftover (id int); CREATE TYPE feeling AS ENUM ('x')");
        } finally {
          await check.close();
        }
        await assert.rejects(openShadow({ target, targetUrl: url, shadowUrl: other.url }), (err: Error & { code?: string; kind?: string }) => {
          assert.equal(err.code, 'shadow-not-empty');
          assert.equal(err.kind, 'input');
          assert.match(err.message, /^the shadow database .* is not empty \(it holds table public\.leftover, type public\.feeling\); replaying migrations into it would mix them with what is there$/);
          return true;
        });
      } finally {
        await other.drop();
      }
    }));

  it('--shadow equal to the target is refused, before anything is opened', () =>
    withDatabase(backend, async (target, url) => {
      const variants = [url];
      if (backend.name === 'postgres') variants.push(url.replace('127.0.0.1', 'localhost'), url.replace(/(\/[^/?]+)(\?|$)/, '$1?sslmode=disable$2'));
      for (const shadowUrl of variants) {
        await assert.rejects(openShadow({ target, targetUrl: url, shadowUrl }), (err: Error & { code?: string; kind?: string }) => {
          assert.equal(err.code, 'shadow-is-target', shadowUrl);
          assert.equal(err.kind, 'usage');
          assert.match(err.message, /is the target database itself; replaying migrations there would change it$/);
          return true;
        });
      }
      // Without targetUrl, the target's own (redacted) URL still identifies it.
      await assert.rejects(openShadow({ target, shadowUrl: url }), /is the target database itself/);
      if (backend.name === 'postgres') {
        // An address of this host the URLs cannot equate (an IPv4-mapped IPv6 address, like a DNS
        // alias or a proxy): only the server can say it is the target. The target is empty, so the
        // emptiness check would have let it through as a shadow; it is left untouched.
        const u = new URL(url);
        const alias = `postgres://postgres@[::ffff:127.0.0.1]:${u.port || '5432'}${u.pathname}`;
        assert.equal(sameDatabase(alias, url), false, 'the URLs alone cannot tell');
        assert.deepEqual(await tables(target), []);
        await assert.rejects(openShadow({ target, targetUrl: url, shadowUrl: alias }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'shadow-is-target');
          assert.match(err.message, /is the target database itself \(the server says so: it lists the target's own session there\)/);
          return true;
        });
        assert.deepEqual(await tables(target), []);
      } else {
        // A symlink to the target's directory.
        const dir = url.slice('pglite:'.length);
        const link = path.join(path.dirname(path.dirname(dir)), `link-${randomBytes(4).toString('hex')}`);
        fs.symlinkSync(path.dirname(dir), link);
        try {
          await assert.rejects(openShadow({ target, targetUrl: url, shadowUrl: `pglite:${path.join(link, path.basename(dir))}/` }), /is the target database itself/);
        } finally {
          fs.rmSync(link);
        }
      }
    }));
});

describe('openShadow [postgres] with a role that may not create databases', { skip: server ? false : 'no server' }, () => {
  it('falls back to PGlite and says why', () =>
    withDatabase(server as TestBackend, async (admin, url) => {
      const role = `tidemark_nocreatedb_${randomBytes(4).toString('hex')}`;
      await admin.exec(`CREATE ROLE ${role} LOGIN NOCREATEDB`);
      try {
        const asRole = new URL(url);
        asRole.username = role;
        asRole.password = '';
        const target = await openDatabase(asRole.toString());
        try {
          assert.equal((await target.query<{ u: string }>('SELECT current_user::text AS u')).rows[0].u, role);
          const before = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [role]);
          const shadow = await openShadow({ target, targetUrl: asRole.toString() });
          try {
            assert.equal(shadow.kind, 'pglite');
            assert.equal(shadow.database.backend, 'pglite');
            assert.equal(
              shadow.description,
              `in-process PGlite (PostgreSQL 18), because the role ${role} may not create databases on the target server (no CREATEDB); grant it CREATEDB, or pass --shadow URL, to replay the migrations on the target's PostgreSQL version`,
            );
          } finally {
            await shadow.dispose();
          }
          const after = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [role]);
          assert.deepEqual(after.rows, before.rows);
        } finally {
          await target.close();
        }
      } finally {
        await admin.exec(`DROP ROLE IF EXISTS ${role}`);
      }
    }));

  it('Ctrl-C while a temporary database exists drops it, then the process dies of the signal', () =>
    withDatabase(server as TestBackend, async (_db, url) => {
      const shadowModule = new URL('../../src/db/shadow.js', import.meta.url).href;
      const script = `const { openShadow } = await import(${JSON.stringify(shadowModule)});
        const shadow = await openShadow({ targetUrl: process.argv[1] });
        await shadow.database.exec('CREATE TABLE replayed (id int)');
        console.log(shadow.name);
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const name = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(String(d).trim()));
        child.once('exit', () => reject(new Error(`the child exited early: ${stderr}`)));
      });
      assert.match(name, new RegExp(`^tidemark_shadow_${child.pid}_[0-9a-f]{6}_[0-9a-f]{8}$`));
      assert.equal(await exists(url, name), true);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGINT');
      assert.equal(await exited, 'SIGINT', stderr);
      assert.equal(await exists(url, name), false);
    }));

  it('a target given without a usable URL falls back to PGlite and says why', async () => {
    const fake = { backend: 'postgres', displayUrl: 'postgres://app:***@db.example/app' } as unknown as Database;
    const shadow = await openShadow({ target: fake });
    try {
      assert.equal(shadow.kind, 'pglite');
      assert.match(shadow.description, /because no URL with credentials for the target server was given/);
    } finally {
      await shadow.dispose();
    }
  });
});

describe('shadow URL helpers', () => {
  it('sameDatabase resolves both URLs as node-postgres does: a table of spellings', () => {
    const T = 'postgres://u@127.0.0.1:5432/app';
    // [target, shadow, PG* environment, same?]
    const table: Array<[string, string, Record<string, string>, boolean]> = [
      [T, 'postgres://127.0.0.1/app', {}, true],
      [T, 'postgresql://localhost:5432/app', {}, true],
      [T, 'postgresql://u:pw@localhost/app', {}, true],
      [T, 'postgres://u@[::1]/app', {}, true],
      [T, 'postgres://u@LOCALHOST./app', {}, true],
      [T, 'postgres://u@127.0.0.1/%61pp', {}, true],
      [T, 'postgres:///app?host=127.0.0.1', {}, true],
      [T, 'postgres://db.example/app?host=db.example&host=127.0.0.1', {}, true], // the last host= wins
      [T, 'postgres://u@127.0.0.1/app?port=5432&sslmode=disable', {}, true],
      [T, 'postgres://app@/?host=127.0.0.1&dbname=other', {}, true], // node-postgres ignores dbname=: database = user
      [T, 'postgres://u@/app?host=%2Fvar%2Frun%2Fpostgresql', {}, true], // this machine's socket, same port
      [T, 'postgres:///', { PGHOST: 'localhost', PGPORT: '5432', PGDATABASE: 'app' }, true],
      [T, 'postgres://u@127.0.0.1', { PGDATABASE: 'app' }, true],
      ['postgres://u@db.example/app', 'postgres:///app', { PGHOST: 'db.example' }, true],
      ['postgres://u@db.example/app', 'postgres://u@DB.Example:5432/app', {}, true],
      ['postgres://u@127.0.0.1/app', 'postgres://u@127.0.0.1:5433/app', { PGPORT: '5433' }, true],
      [T, 'postgres://u@127.0.0.1:5433/app', {}, false],
      [T, 'postgres://u@127.0.0.1/app_shadow', {}, false],
      [T, 'postgres://u@127.0.0.1/app?dbname=app_shadow', { PGDATABASE: 'x' }, true], // the path names it; dbname= is ignored
      [T, 'postgres://u@127.0.0.1', { PGDATABASE: 'other' }, false],
      [T, 'postgres://bob@127.0.0.1/', {}, false], // database bob
      [T, 'postgres:///app', { PGHOST: 'db.example' }, false],
      ['postgres://u@db1.example/app', 'postgres://u@db2.example/app', {}, false],
      [T, 'pglite:./app', {}, false],
      [T, 'postgres://u@127.0.0.1:99999/app', {}, false], // does not resolve: opening it fails on its own
    ];
    // The environment is exactly these (and USER, pg's last default for the user name).
    const wrong = table.filter(([a, b, pgEnv, same]) => {
      const env = { USER: 'nobody', ...pgEnv };
      return sameDatabase(a, b, '/w', env) !== same || sameDatabase(b, a, '/w', env) !== same;
    });
    assert.deepEqual(wrong, [], 'spellings judged wrongly');

    // PGlite: the same real directory however it is spelled, symlinks included; memory is never the same.
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-same-')));
    try {
      fs.mkdirSync(path.join(root, 'real'));
      fs.symlinkSync(path.join(root, 'real'), path.join(root, 'link'));
      const pglite: Array<[string, string, boolean]> = [
        ['pglite:./real/db', 'pglite:real/db', true],
        ['pglite:real/db', 'pglite:real/db/', true],
        ['pglite:real/db', `pglite:${root}/link/./x/../db`, true],
        ['pglite:real/db', 'pglite:link/db', true],
        ['pglite:real/db', 'pglite:real/db2', false],
        ['pglite:memory', 'pglite:memory', false],
        ['pglite:real/db', 'postgres://u@h/db', false],
      ];
      const wrongDirs = pglite.filter(([a, b, same]) => sameDatabase(a, b, root) !== same || sameDatabase(b, a, root) !== same);
      assert.deepEqual(wrongDirs, [], 'PGlite spellings judged wrongly');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('withDatabaseName swaps the database and keeps everything else', () => {
    assert.equal(withDatabaseName('postgres://u:p%40w@h:5433/app?sslmode=disable', 'tidemark_shadow_ab'), 'postgres://u:p%40w@h:5433/tidemark_shadow_ab?sslmode=disable');
    assert.equal(withDatabaseName('postgres://u@h/app?dbname=app', 'x'), 'postgres://u@h/x');
  });
});
