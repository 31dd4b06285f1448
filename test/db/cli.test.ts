import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { openDatabase } from '../../src/db/open.js';
import { serviceLockKey } from '../../src/ledger/ledger.js';
import { backends, forEachBackend, type TestDatabase } from '../support/backends.js';
import { fingerprint, fingerprintDiff } from '../support/fingerprint.js';
import { malformed } from '../support/malformed-migrations.js';
import { CLI, makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

/** Runs the CLI with its stdout closed at once, as `tidemark … | head -0` would. */
function runWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '' } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

async function dbFingerprint(url: string): Promise<string> {
  const db = await openDatabase(url);
  try {
    return await fingerprint(db);
  } finally {
    await db.close();
  }
}

const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, 'no stack trace');

describe('the CLI as a new user runs it (embedded default database)', () => {
  it('init, new, up, status, no-op up', async () => {
    const ws = makeWorkspace({});
    try {
      // makeWorkspace wrote a JSON config; a new user starts from nothing
      const dir = path.join(ws.dir, 'project');
      const init = await runCli(['init', '--service', 'user', '--service', 'budget'], ws.dir);
      assert.equal(init.code, 2, 'init refuses an existing config');
      assert.match(init.stderr, /tidemark\.config\.json already exists/);
      ws.write('project/.keep', '');
      const fresh = await runCli(['init', '--service', 'user', '--service', 'budget'], dir);
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.ok(existsSync(path.join(dir, 'tidemark.config.ts')));
      const created = await runCli(['new', 'user', 'Create users!'], dir);
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /migrations\/user\/user_001_create_users\.sql/);
      const file = path.join(dir, 'migrations/user/user_001_create_users.sql');
      writeFileSync(file, readFileSync(file, 'utf8').replace('-- tidemark:up\n', '-- tidemark:up\nCREATE TABLE users (id int);').replace('-- tidemark:down\n', '-- tidemark:down\nDROP TABLE users;'));
      const second = await runCli(['new', 'user', 'add_email'], dir);
      assert.match(second.stdout, /user_002_add_email\.sql/);
      writeFileSync(path.join(dir, 'migrations/user/user_002_add_email.sql'), sqlMigration('ALTER TABLE users ADD email text;', 'ALTER TABLE users DROP email;'));

      const upRun = await runCli(['up'], dir);
      assert.equal(upRun.code, 0, upRun.stderr);
      assert.match(upRun.stderr, /Using the embedded database pglite:\.\/\.tidemark\/db/);
      assert.match(upRun.stdout, /applied +user_001_create_users/);
      assert.match(upRun.stdout, /Applied 2 migrations \(user 2\)/);
      const st = await runCli(['status', '--json'], dir);
      assert.equal(st.code, 0, st.stderr);
      const json = JSON.parse(st.stdout);
      assert.deepEqual(
        json.services.map((s: { service: string; applied: number }) => [s.service, s.applied]),
        [
          ['user', 2],
          ['budget', 0],
        ],
      );
      const noop = await runCli(['up'], dir);
      assert.match(noop.stdout, /Nothing to apply/);
      const downRun = await runCli(['down', '--service', 'user', '--steps', '1', '--dry-run'], dir);
      assert.equal(downRun.code, 0, downRun.stderr);
      assert.match(downRun.stdout, /ALTER TABLE users DROP email;/);
    } finally {
      ws.remove();
    }
  });
});

describe('CLI errors: one sentence, exit code, no stack trace, no password', () => {
  it('bad usage exits 2', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      for (const args of [['up', '--bogus'], ['down', '--service', 'app'], ['frobnicate'], ['up', '--service', 'nope']]) {
        const r = await runCli(args, ws.dir);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        noStack(r.stderr);
      }
    } finally {
      ws.remove();
    }
  });
  it('an unknown command is one line with a suggestion, not the whole help', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      const r = await runCli(['stauts'], ws.dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command 'stauts'/);
      assert.match(r.stderr, /Did you mean status\?/);
      assert.ok(r.stderr.trim().split('\n').length <= 3, r.stderr);
      assert.equal(r.stdout, '');
    } finally {
      ws.remove();
    }
  });
  it('a single-value flag given twice is refused, never silently the last', async () => {
    const ws = makeWorkspace({ a: {}, b: {} });
    try {
      for (const args of [
        ['rebaseline', '--service', 'a', '--service', 'b', '--dry-run'],
        ['down', '--service', 'a', '--service', 'b', '--steps', '1'],
        ['stamp', '-s', 'a', '-s', 'b', '--to', 'base'],
        ['up', '--to', 'a_001', '--to', 'a_002'],
        ['status', '--database', 'pglite:memory', '--database', 'pglite:./x'],
        ['check', '--format', 'json', '--format', 'text'],
      ]) {
        const r = await runCli(args, ws.dir);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /is given more than once; this flag takes one value/, args.join(' '));
        noStack(r.stderr);
      }
    } finally {
      ws.remove();
    }
  });
  it('a closed stdout (tidemark … | head -1) ends quietly, without a stack trace', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      for (let i = 1; i <= 300; i++) ws.write(`migrations/app/app_${String(i).padStart(3, '0')}_m.sql`, sqlMigration(`CREATE TABLE m${i} (id int);`));
      for (const args of [['--help'], ['graph']]) {
        const r = await runWithClosedStdout(args, ws.dir);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /EPIPE|Error:/, args.join(' '));
        noStack(r.stderr);
      }
    } finally {
      ws.remove();
    }
  });
  it('a 50 MB migration is split to its end: the COMMIT on its last line is refused by line, exit 2', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      const comment = `-- ${'c'.repeat(97)}\n`.repeat(50);
      const body = Array.from({ length: 10_000 }, (_, i) => `INSERT INTO t VALUES (${i});\n${comment}`).join('');
      ws.write('migrations/app/app_001_big.sql', `-- tidemark:up\nCREATE TABLE t (id int);\n${body}COMMIT;\n`);
      const started = Date.now();
      const r = await runCli(['up'], ws.dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /app_001_big\.sql:510003: app_001_big: `COMMIT` would end or escape the migration's transaction/);
      noStack(r.stderr);
      assert.ok(Date.now() - started < 120_000, `took ${Date.now() - started} ms`);
    } finally {
      ws.remove();
    }
  });
  it('config errors exit 2 and name the config file and service', async () => {
    const ws = makeWorkspace({ app: { requires: ['ghost'] } });
    try {
      const r = await runCli(['up'], ws.dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /tidemark\.config\.json/);
      assert.match(r.stderr, /app/);
      assert.match(r.stderr, /ghost/);
      noStack(r.stderr);
    } finally {
      ws.remove();
    }
  });
  it('an unreachable server exits 1 and never prints the password', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      const r = await runCli(['up', '--database', 'postgres://alice:s3cr3t-pw@127.0.0.1:1/x'], ws.dir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot connect to postgres:\/\/alice:\*\*\*@127\.0\.0\.1:1\/x/);
      assert.doesNotMatch(r.stdout + r.stderr, /s3cr3t-pw/);
      noStack(r.stderr);
      const viaEnv = await runCli(['status', '--json'], ws.dir, { DATABASE_URL: 'postgres://alice:s3cr3t-pw@127.0.0.1:1/x' });
      assert.equal(viaEnv.code, 1);
      assert.doesNotMatch(viaEnv.stdout + viaEnv.stderr, /s3cr3t-pw/);
      assert.equal(JSON.parse(viaEnv.stdout).error.code, 'database-unreachable');
    } finally {
      ws.remove();
    }
  });
  it('a second process on the same PGlite directory is refused with the holder named', async () => {
    const ws = makeWorkspace({ app: {} }, { 'migrations/app/app_001_a.sql': sqlMigration('CREATE TABLE a (id int);') });
    const url = `pglite:${path.join(ws.dir, 'db')}`;
    const holder = await openDatabase(url);
    try {
      const r = await runCli(['up', '--database', url], ws.dir);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`database .*db is in use by process ${process.pid}`));
      noStack(r.stderr);
    } finally {
      await holder.close();
      ws.remove();
    }
  });
});

forEachBackend('CLI exit codes against a database', (backend) => {
  let db: TestDatabase;
  before(async () => {
    db = await backend.createDatabase();
  });
  after(async () => {
    await db.drop();
  });
  it('an SQL error exits 1 naming file and line; a bad file exits 2', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      ws.write('migrations/app/app_002_b.sql', sqlMigration("INSERT INTO a VALUES (1);\nINSERT INTO a VALUES ('x');"));
      const failed = await runCli(['up', '--database', db.url], ws.dir);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /migrations\/app\/app_002_b\.sql:3: app_002_b failed: invalid input syntax for type integer: "x"/);
      noStack(failed.stderr);
      ws.write('migrations/app/app_002_b.sql', '-- tidemark:up\n-- tidemark:frobnicate\n');
      const bad = await runCli(['up', '--database', db.url], ws.dir);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /app_002_b\.sql:2: app_002_b: unknown directive `tidemark:frobnicate`/);
    } finally {
      ws.remove();
    }
  });
  it('control characters in a name from the server are escaped, never sent to the terminal raw', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      ws.write('migrations/app/app_002_b.sql', sqlMigration('SELECT * FROM "evil\u001b[2Jname\u0007";'));
      const r = await runCli(['up', '--database', db.url], ws.dir);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /relation "evil\\x1b\[2Jname\\x07" does not exist/);
      assert.doesNotMatch(r.stderr + r.stdout, /[\u001b\u0007]/);
    } finally {
      ws.remove();
    }
  });
  it('down with nothing to revert exits 2; generated malformed files exit 2 and change nothing', async () => {
    const ws = makeWorkspace({ dn: {} });
    try {
      ws.write('migrations/dn/dn_001_base.sql', sqlMigration('CREATE TABLE base (id int);', 'DROP TABLE base;'));
      // This suite's database is shared: a service of its own, nothing applied yet.
      const nothing = await runCli(['down', '--service', 'dn', '--steps', '1', '--database', db.url], ws.dir);
      assert.equal(nothing.code, 2, nothing.stderr);
      assert.match(nothing.stderr, /Nothing to revert: no migration of dn is applied/);
      assert.equal((await runCli(['up', '--database', db.url], ws.dir)).code, 0);
      const before = await dbFingerprint(db.url);
      for (const g of fc.sample(malformed, { numRuns: 4, seed: 11 })) {
        rmSync(path.join(ws.dir, `migrations/dn/dn_002_fz.${g.ext === 'sql' ? 'mjs' : 'sql'}`), { force: true });
        writeFileSync(path.join(ws.dir, `migrations/dn/dn_002_fz.${g.ext}`), g.bytes);
        const r = await runCli(['up', '--database', db.url], ws.dir);
        assert.equal(r.code, 2, `${g.what}: ${r.stderr}`);
        assert.match(r.stderr, /^error: /);
        assert.ok(r.stderr.trim().split('\n').length <= 3, r.stderr);
        noStack(r.stderr);
        assert.deepEqual(fingerprintDiff(before, await dbFingerprint(db.url)), [], g.what);
      }
    } finally {
      ws.remove();
    }
  });
});

// Advisory locks exclude only on a server: PGlite is one process (its directory lock is tested above).
const server = backends.find((b) => b.name === 'postgres');
describe('concurrency on the server', { skip: server ? false : 'no server (see the harness line above)' }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await server!.createDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it('8 concurrent up runs on one service apply every migration exactly once and all exit 0', async () => {
    const ws = makeWorkspace({ app: {} });
    try {
      for (let i = 1; i <= 6; i++) {
        ws.write(`migrations/app/app_00${i}_m${i}.sql`, sqlMigration(`CREATE TABLE m${i} (id int);\nSELECT pg_sleep(0.05);`));
      }
      const runs = await Promise.all(Array.from({ length: 8 }, () => runCli(['up', '--database', db.url], ws.dir)));
      for (const r of runs) assert.equal(r.code, 0, r.stderr);
      const applied = runs.map((r) => (r.stdout.match(/^applied/gm) ?? []).length);
      assert.equal(
        applied.reduce((a, b) => a + b, 0),
        6,
        `applied per run: ${applied}`,
      );
      const check = await openDatabase(db.url);
      try {
        const rows = await check.query<{ n: number; e: number }>(
          `SELECT (SELECT count(*)::int FROM tidemark.applied WHERE service = 'app') AS n,
                  (SELECT count(*)::int FROM tidemark.events WHERE service = 'app' AND action = 'up') AS e`,
        );
        assert.deepEqual(rows.rows[0], { n: 6, e: 6 });
      } finally {
        await check.close();
      }
    } finally {
      ws.remove();
    }
  });

  it('two services migrate at once without waiting on each other; one service waits, then times out', async () => {
    const ws = makeWorkspace({ slow: {}, fast: {} });
    try {
      // slow's migration waits on a lock this test holds, so slow is certainly still inside its migration
      // (holding its service lock) while fast runs: no wall-clock race with a loaded machine.
      ws.write('migrations/slow/slow_001_a.sql', sqlMigration('CREATE TABLE slow_a (id int);\nSELECT pg_advisory_xact_lock(7340001);'));
      ws.write('migrations/fast/fast_001_a.sql', sqlMigration('CREATE TABLE fast_a (id int);'));
      const gate = new pg.Client({ connectionString: db.url });
      await gate.connect();
      let slowSettled = false;
      let slow: Promise<Awaited<ReturnType<typeof runCli>>>;
      try {
        await gate.query('SELECT pg_advisory_lock(7340001)');
        slow = runCli(['up', '--service', 'slow', '--database', db.url], ws.dir);
        void slow.finally(() => (slowSettled = true));
        // Until slow is seen waiting on the gate inside its migration.
        for (let i = 0; ; i++) {
          const w = await gate.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%7340001%' AND pid <> pg_backend_pid()`);
          if (w.rows[0].n > 0) break;
          assert.ok(i < 600 && !slowSettled, 'slow never reached its migration');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const fast = await runCli(['up', '--service', 'fast', '--database', db.url], ws.dir);
        assert.equal(fast.code, 0, fast.stderr);
        assert.equal(slowSettled, false, 'fast finished while slow held its service lock');
      } finally {
        await gate.end();
      }
      const slowDone = await slow!;
      assert.equal(slowDone.code, 0, slowDone.stderr);

      // Hold slow's lock from another session: slow waits and times out, fast is unaffected.
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      try {
        const [a, b] = serviceLockKey('slow');
        await holder.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
        ws.write('migrations/slow/slow_002_b.sql', sqlMigration('CREATE TABLE slow_b (id int);'));
        ws.write('migrations/fast/fast_002_b.sql', sqlMigration('CREATE TABLE fast_b (id int);'));
        const waited = await runCli(['up', '--service', 'slow', '--lock-timeout', '1', '--database', db.url], ws.dir);
        assert.equal(waited.code, 1);
        assert.match(waited.stderr, /Waiting for another tidemark run on slow/);
        assert.match(waited.stderr, /Another tidemark run on service slow held its lock/);
        const other = await runCli(['up', '--service', 'fast', '--lock-timeout', '1', '--database', db.url], ws.dir);
        assert.equal(other.code, 0, other.stderr);
      } finally {
        await holder.end();
      }
    } finally {
      ws.remove();
    }
  });
});
