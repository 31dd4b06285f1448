/**
 * More of the error-code contract (see test/db/error-codes.test.ts): codes of the catalogue the rest of the suite
 * did not reach, each from the real condition through the CLI (`--json`: code, exit class, fields, no stack trace)
 * or the public API. test/codes/ checks that the whole suite produces every code of the catalogue.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, exitCodeOfKind, type ErrorCode } from '../../src/error-codes.js';
import { renumber } from '../../src/api/renumber.js';
import { loadWorkspace } from '../../src/config/load.js';
import { backup } from '../../src/api/backup.js';
import { openDatabase } from '../../src/db/open.js';
import { type TidemarkError, isTidemarkError } from '../../src/errors.js';
import { adopt } from '../../src/api/flows.js';
import { createMigrationFile } from '../../src/history/new-migration.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { readLedger } from '../../src/ledger/ledger.js';
import type { Database } from '../../src/db/database.js';
import { backends, forEachBackend, type TestBackend } from '../support/backends.js';
import { expectCode } from '../support/error-json.js';
import { makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

function withWorkspace(ws: TempWorkspace, fn: (ws: TempWorkspace) => Promise<void>): Promise<void> {
  return fn(ws).finally(() => ws.remove());
}

/** Runs SQL on the target and closes the connection (an embedded database takes one process at a time). */
async function sql(url: string, text: string): Promise<void> {
  const conn = await openDatabase(url);
  try {
    await conn.exec(text);
  } finally {
    await conn.close();
  }
}

const SELECT_1 = sqlMigration('SELECT 1;');

/** A TidemarkError as the API hands it back, checked against the catalogue. */
function assertCode(err: unknown, code: ErrorCode): TidemarkError {
  assert.ok(isTidemarkError(err), `expected ${code}, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.exit, exitCodeOfKind(ERROR_CODES[code].kind));
  return err;
}

describe('error codes of the file system, before any database', () => {
  it('new: file-exists only for EEXIST; ENOTDIR, EISDIR, EACCES named; sum-write-failed, adopt-dir-not-empty', async () => {
    const cases: Promise<void>[] = [];
    // Two `new`s at once both find number 001 free: the second exclusive create meets EEXIST, the one case of file-exists.
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        const dir = path.join(ws.dir, 'migrations/app');
        const raced = await Promise.allSettled([createMigrationFile('app', dir, 'add_role'), createMigrationFile('app', dir, 'add_role')]);
        assert.deepEqual(raced.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
        const err = assertCode((raced.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason, 'file-exists');
        assert.equal(err.file, path.join(dir, 'app_001_add_role.sql'));
        assert.match(err.message, /EEXIST/);
      }),
    );
    // ENOTDIR: the migrations path is a file (the config loader says so first; the API is told too), or a file is on the path.
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        const file = ws.write('migrations/app.txt', 'a file, not a directory');
        for (const dir of [file, path.join(file, 'sub')]) {
          const err = assertCode(await createMigrationFile('app', dir, 'add_role').catch((e: unknown) => e), 'missing-migrations-dir');
          assert.equal(err.file, dir);
          assert.match(err.message, new RegExp(`${dir.replace(/[.*+?^${}()|[\]/]/g, '$&')}: ENOTDIR`));
        }
        assert.equal(readFileSync(file, 'utf8'), 'a file, not a directory');
      }),
    );
    // EISDIR: a directory stands where tidemark.sum goes; `new` refuses before writing the migration it could not list.
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        ws.write('migrations/app/tidemark.sum/keep', '');
        const err = await expectCode('sum-write-failed', ['new', 'app', 'add_role'], ws.dir);
        assert.equal(err.fields.file, path.join(ws.dir, 'migrations/app/tidemark.sum'));
        assert.match(err.message, /EISDIR/);
        assert.deepEqual(readdirSync(path.join(ws.dir, 'migrations/app')), ['tidemark.sum'], 'no migration written');
      }),
    );
    // EACCES as root: sysfs refuses to create a file even for root (read-only mounts say EROFS).
    if (existsSync('/sys/kernel')) {
      const err = assertCode(await createMigrationFile('app', '/sys', 'add_role').catch((e: unknown) => e), 'migration-write-failed');
      assert.equal(err.file, '/sys/app_001_add_role.sql');
      assert.match(err.message, /\/sys\/app_001_add_role\.sql: (EACCES|EROFS|EPERM) \(/);
    }
    // sum: a directory stands where tidemark.sum goes
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        ws.write('migrations/app/app_001_a.sql', SELECT_1);
        ws.write('migrations/app/tidemark.sum/keep', '');
        const err = await expectCode('sum-write-failed', ['sum'], ws.dir);
        assert.equal(err.fields.file, path.join(ws.dir, 'migrations/app/tidemark.sum'));
        assert.equal(err.fields.service, 'app');
      }),
    );
    // adopt: the new migrations directory already holds a migration (checked before any database is opened):
    // any kind the history reader takes, and a directory named like one, not only .sql
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify({ services: { legacy: { migrations: 'legacy', format: 'alembic', owns: ['lt'] } } }));
        mkdirSync(path.join(ws.dir, 'legacy'));
        const first = ws.write('migrations/legacy/legacy_001_x.sql', SELECT_1);
        const err = await expectCode('adopt-dir-not-empty', ['adopt', '--service', 'legacy'], ws.dir);
        assert.equal(err.fields.service, 'legacy');
        rmSync(first);
        for (const name of ['legacy_002_backfill.js', 'legacy_002_backfill.mjs', 'legacy_002_backfill.ts', 'notes.sql', 'legacy_002_x.sql/']) {
          const entry = path.join(ws.dir, 'migrations/legacy', name);
          if (name.endsWith('/')) mkdirSync(entry);
          else writeFileSync(entry, 'export async function up() {}\n');
          const result = await adopt({ cwd: ws.dir, service: 'legacy' });
          assertCode(result.error, 'adopt-dir-not-empty');
          assert.ok(result.error!.message.includes(name.replace(/\/$/, '')), result.error!.message);
          rmSync(entry, { recursive: true });
        }
        // what is not a migration does not count
        ws.write('migrations/legacy/README.md', 'notes');
        ws.write('migrations/legacy/types.d.ts', 'export {};');
        // (it goes on to connect: to a port nothing listens on, so it stops there)
        const next = await adopt({ cwd: ws.dir, service: 'legacy', database: 'postgres://postgres@127.0.0.1:1/none' });
        assertCode(next.error, 'database-unreachable');
      }),
    );
    await Promise.all(cases);
  });

  it('migrations-dir-unreadable: renumber through the API with a workspace whose directory became a file', () =>
    withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
      const workspace = await loadWorkspace({ cwd: ws.dir });
      const dir = path.join(ws.dir, 'migrations/app');
      rmSync(dir, { recursive: true });
      writeFileSync(dir, 'not a directory');
      const result = await renumber({ workspace, service: 'app' });
      assert.equal(result.ok, false);
      assert.equal(result.error?.code, 'migrations-dir-unreadable');
      assert.equal(result.error?.exit, 2);
      assert.equal(result.error?.service, 'app');
      assert.match(result.error?.message ?? '', /ENOTDIR/);
    }));
});

const LEGACY = (owns: string[]) => ({ services: { legacy: { migrations: 'legacy', format: 'alembic', owns } } });

/** The ledger rows of a service, read on a connection of their own (an embedded database takes one process at a time). */
async function ledgerOf(url: string, service: string): Promise<string[]> {
  const conn = await openDatabase(url);
  try {
    return (await readLedger(conn, [service])).map((r) => r.migration);
  } finally {
    await conn.close();
  }
}

/**
 * adopt: adopt-baseline-missing (a script appears in the new directory while adopt runs), alembic-retire-empty
 * (no revision to tell its rows), adopt-archive-exists (refused before anything changes), adopt-failed (before
 * the commit: everything removed), adopt-archive-failed (after the commit: the adoption is done and says so).
 */
async function adoptCases(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({});
  try {
    const db = ['--database', target.url];
    writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(LEGACY(['lt'])));
    mkdirSync(path.join(ws.dir, 'legacy'));
    await sql(target.url, 'CREATE TABLE lt (id int PRIMARY KEY, note text);');
    // a script migration written into the new directory while adopt proves its baseline (the check before the
    // start saw an empty directory): afterwards it holds two migrations, not exactly the baseline
    const newDir = path.join(ws.dir, 'migrations/legacy');
    const raced = await adopt({
      cwd: ws.dir,
      database: target.url,
      service: 'legacy',
      onEvent: (e) => {
        if (e.step !== 'baseline') return;
        mkdirSync(newDir, { recursive: true });
        writeFileSync(path.join(newDir, 'legacy_002_backfill.js'), 'export async function up() {}\n');
      },
    });
    assertCode(raced.error, 'adopt-baseline-missing');
    assert.deepEqual(readdirSync(newDir), ['legacy_002_backfill.js'], 'the baseline it wrote is removed');
    rmSync(newDir, { recursive: true });

    const empty = await expectCode('alembic-retire-empty', ['adopt', '--service', 'legacy', ...db], ws.dir);
    assert.equal(empty.fields.service, 'legacy');
    assert.ok(!existsSync(newDir), 'the baseline it wrote is removed');

    ws.write('legacy/a_base.py', 'revision = "a"\ndown_revision = None\n');
    mkdirSync(path.join(ws.dir, 'archive/alembic/legacy'), { recursive: true });
    await expectCode('adopt-archive-exists', ['adopt', '--service', 'legacy', '--archive', ...db], ws.dir);
    assert.ok(existsSync(path.join(ws.dir, 'legacy/a_base.py')), 'the Alembic directory is left where it is');
    assert.ok(!existsSync(newDir), 'refused before anything was written');
    assert.deepEqual(await ledgerOf(target.url, 'legacy'), [], 'and before anything was recorded');

    // before the commit: the new migrations directory cannot be made (a file is on its path), below tidemark
    rmSync(path.join(ws.dir, 'archive'), { recursive: true });
    writeFileSync(path.join(ws.dir, 'archive'), 'a file, not a folder');
    const failed = await expectCode('adopt-failed', ['adopt', '--service', 'legacy', '--dir', 'archive/migrations', ...db], ws.dir);
    assert.match(failed.message, /ENOTDIR|EEXIST/);
    assert.deepEqual(await ledgerOf(target.url, 'legacy'), [], 'nothing recorded');

    // after the commit: the archive folder cannot be made (the same file stands where it goes). The adoption is
    // done and the error says so, with what is left to do by hand. The config (a spread tidemark does not edit)
    // gets the line to paste, which holds an owns entry with a quote and one with a backslash.
    const owns = ['lt', "o'brien", 'a\\b'];
    rmSync(path.join(ws.dir, 'tidemark.config.json'));
    writeFileSync(
      path.join(ws.dir, 'tidemark.config.mjs'),
      `const alembic = { migrations: 'legacy', format: 'alembic' };\nexport default { services: { legacy: { ...alembic, owns: ${JSON.stringify(owns)} } } };\n`,
    );
    const run = await runCli(['adopt', '--service', 'legacy', '--archive', '--json', ...db], ws.dir);
    const body = JSON.parse(run.stdout) as { ok: boolean; migration: string; config: { change: string; problem?: string }; error: { code: string; exit: number; message: string; hint: string } };
    assert.equal(body.error.code, 'adopt-archive-failed', run.stdout);
    assert.equal(run.code, 1);
    assert.equal(body.error.exit, 1);
    assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
    assert.match(body.error.message, /^legacy is adopted \(legacy_001_initial_schema recorded as applied/);
    assert.match(body.error.message, /could not be moved to archive\/alembic\/legacy: (ENOTDIR|EEXIST)\. It is still where it was/);
    assert.match(body.error.hint, /Do not run adopt again\. Finish by hand: mkdir -p archive\/alembic && mv legacy archive\/alembic\/legacy/);
    assert.deepEqual(await ledgerOf(target.url, 'legacy'), ['legacy_001_initial_schema'], 'the adoption committed');
    assert.ok(existsSync(path.join(newDir, 'legacy_001_initial_schema.sql')), 'its baseline stays');
    assert.ok(existsSync(path.join(ws.dir, 'legacy/a_base.py')), 'the Alembic directory is where it was');
    // the printed line, pasted into a config, gives back the same owns entries
    assert.match(body.config.problem ?? '', /spread/);
    const pasted = makeWorkspace({});
    try {
      mkdirSync(path.join(pasted.dir, 'migrations/legacy'), { recursive: true });
      rmSync(path.join(pasted.dir, 'tidemark.config.json'));
      pasted.write('tidemark.config.mjs', `export default { services: { ${body.config.change} } };\n`);
      assert.deepEqual((await loadWorkspace({ cwd: pasted.dir })).services[0].owns, owns);
    } finally {
      pasted.remove();
    }
  } finally {
    ws.remove();
    await target.drop();
  }
}

/** reset-unsupported, rebaseline-unsupported: the service owns extended statistics, which tidemark does not reproduce. */
async function unsupportedCases(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({ app: { owns: ['t'] } });
  try {
    const db = ['--database', target.url];
    ws.write('migrations/app/app_001_t.sql', sqlMigration('CREATE TABLE t (id int PRIMARY KEY, a int, b int);\nCREATE STATISTICS t_ab ON a, b FROM t;', 'DROP TABLE t;'));
    await writeSumFile('app', path.join(ws.dir, 'migrations/app'));
    const up = await runCli(['up', ...db], ws.dir);
    assert.equal(up.code, 0, up.stderr);
    const reset = await expectCode('reset-unsupported', ['reset', '--service', 'app', ...db], ws.dir);
    assert.equal(reset.fields.service, 'app');
    assert.match(reset.message, /statistics/);
    const rebaseline = await expectCode('rebaseline-unsupported', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);
    assert.equal(rebaseline.fields.service, 'app');
    assert.ok(!existsSync(path.join(ws.dir, 'rb')), 'no backup written');
  } finally {
    ws.remove();
    await target.drop();
  }
}

/** reset-failed: an event trigger of the database refuses the drop; reset-reapply-failed: a migration no longer replays. */
async function resetCases(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({ app: { owns: ['t'] }, b: { owns: ['bt'], requires: ['app'] } });
  try {
    const db = ['--database', target.url];
    // t is filled from seed, a table no service owns: the migration replays only while seed exists, so never on
    // a fresh shadow database
    ws.write('migrations/app/app_001_t.sql', sqlMigration('CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t SELECT id FROM seed;', 'DROP TABLE t;'));
    for (const s of ['app', 'b']) await writeSumFile(s, path.join(ws.dir, 'migrations', s));
    await sql(target.url, 'CREATE TABLE seed (id int); INSERT INTO seed VALUES (1), (2);');
    const up = await runCli(['up', ...db], ws.dir);
    assert.equal(up.code, 0, up.stderr);

    // b references app's table: proving b's baseline replays app's migrations first, and they do not replay
    await sql(target.url, 'CREATE TABLE bt (id int PRIMARY KEY, t_id int REFERENCES t (id));');
    const prerequisite = await expectCode('baseline-prerequisite-failed', ['baseline', '--service', 'b', ...db], ws.dir);
    assert.equal(prerequisite.fields.service, 'b');
    assert.match(prerequisite.message, /seed/);
    assert.deepEqual(
      readdirSync(path.join(ws.dir, 'migrations/b')).filter((f) => f.endsWith('.sql')),
      [],
      'nothing written',
    );
    await sql(target.url, 'DROP TABLE bt;');

    const replay = await expectCode('rebaseline-baseline-fails', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);
    assert.equal(replay.fields.service, 'app');
    assert.match(replay.message, /seed/);

    await sql(
      target.url,
      `CREATE FUNCTION refuse_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'drops are refused in this database'; END$$;
      CREATE EVENT TRIGGER refuse_drops ON sql_drop EXECUTE FUNCTION refuse_drops();`,
    );
    const failed = await expectCode('reset-failed', ['reset', '--service', 'app', ...db], ws.dir);
    assert.match(failed.message, /drops are refused in this database/);
    const conn = await openDatabase(target.url);
    try {
      assert.deepEqual(
        (await readLedger(conn, ['app'])).map((r) => r.migration),
        ['app_001_t'],
        'the ledger still holds the migration',
      );
    } finally {
      await conn.close();
    }

    await sql(target.url, 'DROP EVENT TRIGGER refuse_drops; DROP FUNCTION refuse_drops(); DROP TABLE seed;');
    const reapply = await expectCode('reset-reapply-failed', ['reset', '--service', 'app', ...db], ws.dir);
    assert.equal(reapply.fields.service, 'app');
    assert.match(String(reapply.fields.file), /app_001_t\.sql$/);
    assert.match(reapply.message, /seed/);
  } finally {
    ws.remove();
    await target.drop();
  }
}

/**
 * rebaseline-failed (an event trigger refuses the drop), rebaseline-structure: a migration whose result depends on the
 * database it runs in (here: whether seed exists).
 */
async function structureCase(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({ app: { owns: ['t'] } });
  try {
    const db = ['--database', target.url];
    ws.write(
      'migrations/app/app_001_t.sql',
      sqlMigration("CREATE TABLE t (id int PRIMARY KEY);\nDO $$ BEGIN IF to_regclass('public.seed') IS NOT NULL THEN ALTER TABLE t ADD COLUMN x int; END IF; END $$;", 'DROP TABLE t;'),
    );
    await writeSumFile('app', path.join(ws.dir, 'migrations/app'));
    await sql(target.url, 'CREATE TABLE seed (id int);');
    const up = await runCli(['up', ...db], ws.dir);
    assert.equal(up.code, 0, up.stderr);
    await sql(target.url, 'INSERT INTO t VALUES (1, 10), (2, 20);');
    // the live t (with x) differs from the replayed one (without): a full rebaseline, which drops t first, and an
    // event trigger of the database refuses that drop: a failure below tidemark, rolled back
    await sql(
      target.url,
      `CREATE FUNCTION refuse_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'drops are refused in this database'; END$$;
      CREATE EVENT TRIGGER refuse_drops ON sql_drop EXECUTE FUNCTION refuse_drops();`,
    );
    const failed = await expectCode('rebaseline-failed', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb1'), ...db], ws.dir);
    assert.match(failed.message, /drops are refused in this database/);
    await sql(target.url, 'DROP EVENT TRIGGER refuse_drops; DROP FUNCTION refuse_drops();');
    // the shadow replays t without x; applied again on the target, the baseline brings x back: not the baseline
    const err = await expectCode('rebaseline-structure', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);
    assert.match(err.message, /t\.x/);
    const conn = await openDatabase(target.url);
    try {
      const rows = await conn.query<{ id: number; x: number }>('SELECT id, x FROM t ORDER BY id');
      assert.deepEqual(
        rows.rows.map((r) => [r.id, r.x]),
        [
          [1, 10],
          [2, 20],
        ],
        'rolled back: the rows are as they were',
      );
    } finally {
      await conn.close();
    }
  } finally {
    ws.remove();
    await target.drop();
  }
}

/** baseline-failed: a directory stands where the baseline file goes (--force overwrites files, not directories). */
async function baselineFailedCase(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({ app: { owns: ['t'] } });
  try {
    await sql(target.url, 'CREATE TABLE t (id int PRIMARY KEY, note text);');
    mkdirSync(path.join(ws.dir, 'migrations/app/app_001_initial_schema.sql'));
    const err = await expectCode('baseline-failed', ['baseline', '--service', 'app', '--force', '--database', target.url], ws.dir);
    assert.equal(err.fields.service, 'app');
    assert.match(err.message, /EISDIR/);
  } finally {
    ws.remove();
    await target.drop();
  }
}

forEachBackend('error codes against a database (more)', (backend) => {
  // two databases, two workspaces: the two run at once (each is a chain of CLI runs)
  it('adopt: adopt-baseline-missing, alembic-retire-empty, adopt-archive-exists, adopt-failed, adopt-archive-failed; reset-unsupported, rebaseline-unsupported; reset-failed, reset-reapply-failed; baseline-prerequisite-failed, rebaseline-baseline-fails, rebaseline-failed, rebaseline-structure, baseline-failed', () =>
    Promise.all([adoptCases(backend), unsupportedCases(backend), resetCases(backend), structureCase(backend), baselineFailedCase(backend)]).then(() => undefined));
});

const server = backends.find((b) => b.name === 'postgres');
describe('backup --format pgdump on the server', { skip: server ? false : 'no server (pg_dump reads a server only)' }, () => {
  it('pgdump-failed: the pg_dump found exits with an error; pgdump-needs-url: a Database object with no URL behind it', async () => {
    const target = await server!.createDatabase();
    const ws = makeWorkspace({ app: { owns: ['t'] } });
    const bin = mkdtempSync(path.join(os.tmpdir(), 'tidemark-fake-pgdump-'));
    try {
      await sql(target.url, 'CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);');
      // first on PATH: new enough for any server, and it fails as pg_dump does when it cannot dump
      const fake = path.join(bin, 'pg_dump');
      writeFileSync(fake, '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\necho "pg_dump: error: query failed: out of luck" >&2\nexit 1\n');
      chmodSync(fake, 0o755);
      const out = path.join(ws.dir, 'bk');
      const failed = await expectCode('pgdump-failed', ['backup', '--format', 'pgdump', '--out', out, '--database', target.url], ws.dir, {
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
      });
      assert.match(failed.message, /out of luck/);
      assert.ok(!existsSync(out), 'no partial backup is left');

      // A Database the caller made (here: delegating to a real connection) carries no URL pg_dump could use.
      const real = await openDatabase(target.url);
      try {
        const wrapped: Database = Object.create(real) as Database;
        const result = await backup({ cwd: ws.dir, database: wrapped, format: 'pgdump', out: path.join(ws.dir, 'bk2') });
        assert.equal(result.ok, false);
        assert.equal(result.error?.code, 'pgdump-needs-url');
        assert.equal(result.error?.exit, 2);
        assert.ok(!existsSync(path.join(ws.dir, 'bk2')));
      } finally {
        await real.close();
      }
    } finally {
      rmSync(bin, { recursive: true, force: true });
      ws.remove();
      await target.drop();
    }
  });
});
