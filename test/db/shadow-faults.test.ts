/**
 * What goes wrong with shadow databases, each from a real condition:
 * - shadow-not-dropped [server only: a PGlite shadow is in memory, nothing to drop]: a superuser's session is
 *   connected to the temporary database of a role that is not one, so `DROP DATABASE … WITH (FORCE)` may not end it;
 * - shadow-not-emptied: a `--shadow` database whose session the server ended during the run [server], and one whose
 *   replayed migration left the session read-only [both back-ends, through `tidemark validate --shadow`];
 * - a temporary database a SIGKILLed run left behind is dropped by the next run that creates one, unless a session
 *   is connected to it, its process is alive, or another machine made it [server];
 * - an event trigger that refuses drops, replayed on a `--shadow` database, no longer keeps it from being emptied.
 * Each checks that the target database is unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { HOST_TAG, shadowName } from '../../src/db/shadow-names.js';
import { openShadow, withDatabaseName } from '../../src/db/shadow.js';
import { TidemarkError } from '../../src/errors.js';
import { backends, forEachBackend, withDatabase, type TestBackend } from '../support/backends.js';
import { expectCode } from '../support/error-json.js';
import { fingerprint } from '../support/fingerprint.js';
import { makeWorkspace, sqlMigration } from '../support/workspace.js';

const server = backends.find((b) => b.name === 'postgres');

async function databaseExists(admin: Database, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_database WHERE datname = $1', [name]);
  return rows[0].n === '1';
}

/** A pid no process can have: above the kernel's pid_max. */
function impossiblePid(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) + 1;
  } catch {
    return 2 ** 22 + 1;
  }
}

function isShadowError(code: string, check: (err: TidemarkError) => void): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.exit, 1);
    check(err);
    return true;
  };
}

describe('shadow databases on the server', { skip: server ? false : 'no server' }, () => {
  it('shadow-not-dropped: a superuser session on the temporary database of a role that is not one; the database stays, the target is unchanged', () =>
    withDatabase(server as TestBackend, async (admin, url) => {
      const role = `tidemark_shadow_owner_${randomBytes(4).toString('hex')}`;
      await admin.exec(`CREATE ROLE ${role} LOGIN CREATEDB`);
      const asRole = new URL(url);
      asRole.username = role;
      let name: string | undefined;
      try {
        await admin.exec('CREATE TABLE live (id int); INSERT INTO live VALUES (1)');
        const before = await fingerprint(admin);
        const shadow = await openShadow({ targetUrl: asRole.toString() });
        name = shadow.name!;
        assert.equal(shadow.kind, 'same-server');
        await shadow.database.exec('CREATE TABLE replayed (id int)');
        // a DBA looks at it with psql, as a superuser: FORCE may end only sessions of roles that are not superusers
        const dba = await openDatabase(withDatabaseName(url, name));
        try {
          await assert.rejects(
            shadow.dispose(),
            isShadowError('shadow-not-dropped', (err) => {
              assert.match(err.message, new RegExp(`^the temporary shadow database ${name} could not be dropped: .*superuser`));
              assert.match(err.hint ?? '', new RegExp(`DROP DATABASE ${name} WITH \\(FORCE\\)`));
              assert.match(err.hint ?? '', /next tidemark run on this machine/);
            }),
          );
          assert.equal(await databaseExists(admin, name), true, 'left for a person to drop');
          assert.deepEqual((await dba.query<{ n: string }>('SELECT count(*)::text AS n FROM replayed')).rows, [{ n: '0' }], 'the session is still there');
        } finally {
          await dba.close();
        }
        assert.equal(await fingerprint(admin), before);
      } finally {
        if (name) await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.exec(`DROP ROLE IF EXISTS ${role}`);
      }
    }));

  it('shadow-not-emptied: the server ended the --shadow session during the run', () =>
    withDatabase(server as TestBackend, async (admin, url) => {
      const given = await (server as TestBackend).createDatabase();
      try {
        const before = await fingerprint(admin);
        const shadow = await openShadow({ targetUrl: url, shadowUrl: given.url });
        await shadow.database.exec('CREATE TABLE replayed (id int)');
        const { rows } = await shadow.database.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        await assert.rejects(
          shadow.dispose(),
          isShadowError('shadow-not-emptied', (err) => {
            assert.match(err.message, /^the shadow database postgres:\/\/.*\/tidemark_test_\w+ could not be emptied after the replay: /);
            assert.match(err.hint ?? '', /drop and recreate it/);
          }),
        );
        assert.equal(await fingerprint(admin), before);
      } finally {
        await given.drop();
      }
    }));

  it('a temporary database left by a SIGKILLed run is dropped by the next run that creates one; one with a session, a live process or another machine stays', () =>
    withDatabase(server as TestBackend, async (admin, url) => {
      // A run killed outright: its temporary database is left behind.
      const shadowModule = new URL('../../src/db/shadow.js', import.meta.url).href;
      const script = `const { openShadow } = await import(${JSON.stringify(shadowModule)});
        const shadow = await openShadow({ targetUrl: process.argv[1] });
        await shadow.database.exec('CREATE TABLE replayed (id int)');
        console.log(shadow.name);
        setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, url], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const killed = await new Promise<string>((resolve, reject) => {
        child.stdout.once('data', (d) => resolve(String(d).trim()));
        child.once('exit', () => reject(new Error(`the child exited early: ${stderr}`)));
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      assert.match(killed, new RegExp(`^tidemark_shadow_${child.pid}_${HOST_TAG}_[0-9a-f]{8}$`));
      // the server notices the dead client on its own; wait for its session to end
      for (let i = 0; i < 100; i++) {
        const { rows } = await admin.query<{ n: string }>('SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1', [killed]);
        if (rows[0].n === '0') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await databaseExists(admin, killed), true, 'SIGKILL leaves it behind');

      const dead = impossiblePid();
      const connected = shadowName(dead);
      const otherMachine = shadowName(dead, HOST_TAG === 'ffffff' ? 'eeeeee' : 'ffffff');
      const alive = shadowName(process.pid);
      const notOurs = `tidemark_shadow_${randomBytes(4).toString('hex')}`;
      const kept = [connected, otherMachine, alive, notOurs];
      for (const name of kept) await admin.exec(`CREATE DATABASE ${name}`);
      const session = await openDatabase(withDatabaseName(url, connected));
      try {
        await admin.exec('CREATE TABLE live (id int)');
        const before = await fingerprint(admin);
        const shadow = await openShadow({ targetUrl: url });
        try {
          assert.match(shadow.name ?? '', new RegExp(`^tidemark_shadow_${process.pid}_${HOST_TAG}_[0-9a-f]{8}$`));
          // (another test process creating a shadow at the same time may be the one that dropped it)
          assert.equal(await databaseExists(admin, killed), false, "the killed run's database is gone");
          for (const name of kept) assert.equal(await databaseExists(admin, name), true, `${name} stays`);
          assert.ok(!shadow.staleDropped?.some((n) => kept.includes(n)));
        } finally {
          await shadow.dispose();
        }
        assert.equal(await fingerprint(admin), before);
      } finally {
        await session.close();
        for (const name of [killed, ...kept]) await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }
    }));
});

forEachBackend('shadow databases given with --shadow', (backend) => {
  it('an event trigger that refuses drops is emptied away; shadow-not-emptied when a migration left the session read-only (CLI, exit 1)', async () => {
    const target = await backend.createDatabase();
    const given = await backend.createDatabase();
    const ws = makeWorkspace(
      { app: { owns: ['t'] } },
      {
        'migrations/app/app_001_init.sql': sqlMigration('CREATE TABLE t (id int);'),
        // its SET outlives its transaction: every later transaction of the session is read-only
        'migrations/app/app_002_read_only.sql': sqlMigration('SET default_transaction_read_only = on;'),
      },
    );
    try {
      // 1. Replayed: a table and an event trigger that refuses every drop. Emptying drops the trigger first.
      const shadow = await openShadow({ targetUrl: target.url, shadowUrl: given.url });
      await shadow.database.exec(`
        CREATE TABLE replayed (id int);
        CREATE FUNCTION refuse_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'drops are forbidden here'; END $$;
        CREATE EVENT TRIGGER no_drops ON sql_drop EXECUTE FUNCTION refuse_drops();`);
      await assert.rejects(shadow.database.exec('DROP TABLE replayed'), /drops are forbidden here/);
      await shadow.dispose(); // would throw shadow-not-emptied if a drop were refused

      // 2. The migrations are applied on the target, then validate replays them on the shadow (which it refuses
      //    with shadow-not-empty if anything were left from 1): the last one leaves its session read-only, so the
      //    shadow cannot be emptied afterwards.
      const db = await openDatabase(target.url);
      let before: string;
      try {
        const applied = await up({ cwd: ws.dir, database: db });
        assert.equal(applied.ok, true, applied.error?.message);
        before = await fingerprint(db);
      } finally {
        await db.close();
      }
      const err = await expectCode('shadow-not-emptied', ['validate', '--database', target.url, '--shadow', given.url], ws.dir);
      assert.match(err.message, /^the shadow database .* could not be emptied after the replay: cannot execute DROP \w+ in a read-only transaction$/);
      assert.match(err.hint ?? '', /drop and recreate it before the next run/);
      assert.equal(await fingerprintOf(target.url), before);
    } finally {
      ws.remove();
      await given.drop();
      await target.drop();
    }
  });
});

/** The fingerprint of a database, opened and closed again (an embedded one takes one process at a time). */
async function fingerprintOf(url: string): Promise<string> {
  const db = await openDatabase(url);
  try {
    return await fingerprint(db);
  } finally {
    await db.close();
  }
}
