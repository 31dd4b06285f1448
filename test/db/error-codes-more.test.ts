/**
 * More of the error-code contract (see test/db/error-codes.test.ts): codes of the catalogue the rest of the suite
 * did not reach, each from the real condition through the CLI (`--json`: code, exit class, fields, no stack trace)
 * or the public API. test/codes/ checks that the whole suite produces every code of the catalogue.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, exitCodeOfKind, type ErrorCode } from '../../src/error-codes.js';
import { renumber } from '../../src/apply/renumber.js';
import { loadWorkspace } from '../../src/config/load.js';
import { backup } from '../../src/data/backup.js';
import { openDatabase } from '../../src/db/open.js';
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
/** 10^20: past 2^53, so highest + 1 === highest in a JavaScript number. */
const HUGE = '100000000000000000000';

describe('error codes of the file system, before any database', () => {
  it('file-exists (new, renumber), sum-write-failed, adopt-dir-not-empty', async () => {
    const cases: Promise<void>[] = [];
    // new: the next number after 10^20 is 10^20 again, so the file to create is the one already there
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        const existing = ws.write(`migrations/app/app_${HUGE}_add_role.sql`, SELECT_1);
        const err = await expectCode('file-exists', ['new', 'app', 'add_role'], ws.dir);
        assert.equal(err.fields.file, existing);
        assert.deepEqual(readdirSync(path.join(ws.dir, 'migrations/app')), [path.basename(existing)], 'nothing written');
      }),
    );
    // renumber: the duplicate would move to the number after the highest, and that file already exists
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        ws.write('migrations/app/app_005_a.sql', SELECT_1);
        ws.write('migrations/app/app_005_add_role.sql', SELECT_1);
        const target = ws.write(`migrations/app/app_${HUGE}_add_role.sql`, SELECT_1);
        const err = await expectCode('file-exists', ['renumber', '--service', 'app'], ws.dir);
        assert.equal(err.fields.file, target);
        assert.equal(err.fields.service, 'app');
        assert.ok(existsSync(path.join(ws.dir, 'migrations/app/app_005_add_role.sql')), 'nothing renamed');
      }),
    );
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
    // adopt: the new migrations directory already holds a migration (checked before any database is opened)
    cases.push(
      withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
        writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify({ services: { legacy: { migrations: 'legacy', format: 'alembic', owns: ['lt'] } } }));
        mkdirSync(path.join(ws.dir, 'legacy'));
        ws.write('migrations/legacy/legacy_001_x.sql', SELECT_1);
        const err = await expectCode('adopt-dir-not-empty', ['adopt', '--service', 'legacy'], ws.dir);
        assert.equal(err.fields.service, 'legacy');
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

/** adopt: adopt-baseline-missing (a script already in the new directory), alembic-retire-empty (no revision to tell its rows), adopt-archive-exists, adopt-failed (the archive cannot be made). */
async function adoptCases(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const ws = makeWorkspace({});
  try {
    const db = ['--database', target.url];
    writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(LEGACY(['lt'])));
    mkdirSync(path.join(ws.dir, 'legacy'));
    await sql(target.url, 'CREATE TABLE lt (id int PRIMARY KEY, note text);');
    // a script migration already in the new directory (adopt looks for .sql files before it starts): after the
    // baseline is written the directory holds two migrations, not exactly the baseline
    const script = ws.write('migrations/legacy/legacy_002_backfill.js', 'export async function up() {}\n');
    await expectCode('adopt-baseline-missing', ['adopt', '--service', 'legacy', ...db], ws.dir);
    assert.deepEqual(readdirSync(path.join(ws.dir, 'migrations/legacy')), ['legacy_002_backfill.js'], 'the baseline it wrote is removed');
    rmSync(path.dirname(script), { recursive: true });

    const empty = await expectCode('alembic-retire-empty', ['adopt', '--service', 'legacy', ...db], ws.dir);
    assert.equal(empty.fields.service, 'legacy');
    assert.ok(!existsSync(path.join(ws.dir, 'migrations/legacy')), 'the baseline it wrote is removed');

    ws.write('legacy/a_base.py', 'revision = "a"\ndown_revision = None\n');
    mkdirSync(path.join(ws.dir, 'archive/alembic/legacy'), { recursive: true });
    await expectCode('adopt-archive-exists', ['adopt', '--service', 'legacy', '--archive', ...db], ws.dir);
    assert.ok(existsSync(path.join(ws.dir, 'legacy/a_base.py')), 'the Alembic directory is left where it is');

    // a file stands where the archive folder goes: the file system refuses the move, below tidemark
    rmSync(path.join(ws.dir, 'archive'), { recursive: true });
    writeFileSync(path.join(ws.dir, 'archive'), 'a file, not a folder');
    const failed = await expectCode('adopt-failed', ['adopt', '--service', 'legacy', '--dir', 'migrations/legacy_again', '--archive', ...db], ws.dir);
    assert.match(failed.message, /ENOTDIR|EEXIST/);
    assert.ok(existsSync(path.join(ws.dir, 'legacy/a_base.py')), 'the Alembic directory is left where it is');
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
    assert.deepEqual(readdirSync(path.join(ws.dir, 'migrations/b')).filter((f) => f.endsWith('.sql')), [], 'nothing written');
    await sql(target.url, 'DROP TABLE bt;');

    const replay = await expectCode('rebaseline-baseline-fails', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);
    assert.equal(replay.fields.service, 'app');
    assert.match(replay.message, /seed/);

    await sql(target.url, `CREATE FUNCTION refuse_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'drops are refused in this database'; END$$;
      CREATE EVENT TRIGGER refuse_drops ON sql_drop EXECUTE FUNCTION refuse_drops();`);
    const failed = await expectCode('reset-failed', ['reset', '--service', 'app', ...db], ws.dir);
    assert.match(failed.message, /drops are refused in this database/);
    const conn = await openDatabase(target.url);
    try {
      assert.deepEqual((await readLedger(conn, ['app'])).map((r) => r.migration), ['app_001_t'], 'the ledger still holds the migration');
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
    await sql(target.url, `CREATE FUNCTION refuse_drops() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'drops are refused in this database'; END$$;
      CREATE EVENT TRIGGER refuse_drops ON sql_drop EXECUTE FUNCTION refuse_drops();`);
    const failed = await expectCode('rebaseline-failed', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb1'), ...db], ws.dir);
    assert.match(failed.message, /drops are refused in this database/);
    await sql(target.url, 'DROP EVENT TRIGGER refuse_drops; DROP FUNCTION refuse_drops();');
    // the shadow replays t without x; applied again on the target, the baseline brings x back: not the baseline
    const err = await expectCode('rebaseline-structure', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);
    assert.match(err.message, /t\.x/);
    const conn = await openDatabase(target.url);
    try {
      const rows = await conn.query<{ id: number; x: number }>('SELECT id, x FROM t ORDER BY id');
      assert.deepEqual(rows.rows.map((r) => [r.id, r.x]), [[1, 10], [2, 20]], 'rolled back: the rows are as they were');
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
  it('adopt: adopt-baseline-missing, alembic-retire-empty, adopt-archive-exists, adopt-failed; reset-unsupported, rebaseline-unsupported; reset-failed, reset-reapply-failed; baseline-prerequisite-failed, rebaseline-baseline-fails, rebaseline-failed, rebaseline-structure, baseline-failed', () =>
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
