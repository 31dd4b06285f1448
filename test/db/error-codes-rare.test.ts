/**
 * The rarest codes of the catalogue (see test/db/error-codes.test.ts), each from a condition a user can meet:
 * - baseline-replay-failed: a function called only from another function's body (pg_depend does not see it) is
 *   left out of the baseline, and an index on the caller inlines it on the shadow;
 * - migration-unparsable: one expression 30,000 operators deep exhausts the parser's stack;
 * - protect-failed: the database refuses writes (read-only database on the server, a read-only session given
 *   through the API on PGlite, whose single-user backend ignores per-database settings);
 * - baseline-differs: the shadow handed in alters what it creates (a DDL event trigger of its own);
 * - backup-count-mismatch: a driver (a Database handed in) that loses a row of COPY's output;
 * - rebaseline-backup-corrupt: the backup changes on disk between its writing and its check (the onEvent hook);
 * - verify-failed: a manifest.json too big to read (a sparse 3 GiB file);
 * - migration-too-large: a 64 MiB statement, given to the splitter in-process (no file is written);
 * - pgdump-not-found, pgdump-too-old: `--pg-dump PATH` names a missing or an old pg_dump (server only).
 * And what used to be refused and now round-trips: a table without columns (it has rows), and an array whose element
 * type has a delimiter the CSV conversion cannot write (restored through json_populate_record instead).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import { loadWorkspace } from '../../src/config/load.js';
import { backup, verifyBackup } from '../../src/api/backup.js';
import { restore } from '../../src/api/restore.js';
import type { Database, Tx } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { TidemarkError } from '../../src/errors.js';
import { baseline, protect, rebaseline } from '../../src/api/flows.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { MAX_STATEMENT_CHARS, splitStatements } from '../../src/history/sql-statements.js';
import { backends, forEachBackend, type TestBackend } from '../support/backends.js';
import { expectCode } from '../support/error-json.js';
import { fingerprint, fingerprintDiff } from '../support/fingerprint.js';
import { makeWorkspace, sqlMigration } from '../support/workspace.js';

/** A Database that passes everything to `real` except that every COPY … TO STDOUT loses its first line. */
function losingFirstRow(real: Database): Database {
  async function* lose(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const c of chunks) parts.push(c);
    const all = Buffer.concat(parts);
    yield all.subarray(all.indexOf(10) + 1);
  }
  // The transaction handle is the session's too: its COPY loses the row as well.
  const losingTx = (tx: Tx): Tx =>
    new Proxy(tx, {
      get: (target, key) => (key === 'copyOut' ? (sql: string) => lose(target.copyOut(sql)) : Reflect.get(target, key, target)),
    });
  return {
    backend: real.backend,
    displayUrl: real.displayUrl,
    locksExclude: real.locksExclude,
    query: (sql, params) => real.query(sql, params),
    exec: (sql) => real.exec(sql),
    transaction: (fn, options) => real.transaction((tx) => fn(losingTx(tx)), options),
    withAdvisoryLock: (key, fn, options) => real.withAdvisoryLock(key, fn, options),
    copyIn: (sql, data) => real.copyIn(sql, data),
    serverVersionNum: () => real.serverVersionNum(),
    close: () => real.close(),
    copyOut: (sql) => lose(real.copyOut(sql)),
  } as Database;
}

/** A base type whose array delimiter is a space (as CREATE TYPE … DELIMITER allows), and two odd tables. */
const ODD_TABLES = `
CREATE TYPE spaced;
CREATE FUNCTION spaced_in(cstring) RETURNS spaced LANGUAGE internal IMMUTABLE STRICT AS 'textin';
CREATE FUNCTION spaced_out(spaced) RETURNS cstring LANGUAGE internal IMMUTABLE STRICT AS 'textout';
CREATE TYPE spaced (INPUT = spaced_in, OUTPUT = spaced_out, LIKE = text, DELIMITER = ' ');
CREATE TABLE tags (id int PRIMARY KEY, labels spaced[], boxes box[]);
INSERT INTO tags VALUES (1, '{a b "c d"}', '{(1,1),(0,0);(2,2),(1,1)}'), (2, ARRAY['x'::spaced, 'y,z', NULL], NULL), (3, NULL, '{}');
CREATE TABLE ticks ();
INSERT INTO ticks SELECT FROM generate_series(1, 3);`;

/**
 * `helper` is called only from is_ok's body, which pg_depend does not record: the baseline of calc leaves it out.
 * Qualified: PostgreSQL 17 and later build an index with search_path = pg_catalog.
 */
const CALC = `
CREATE FUNCTION helper(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 * 2';
CREATE FUNCTION is_ok(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT public.helper($1) > 0';
CREATE TABLE calc_t (id int PRIMARY KEY, x int);
CREATE INDEX calc_t_ok ON calc_t (is_ok(x));`;

/** One expression 30,000 operators deep: about 350 kB, far below any size limit. */
const DEEP = `CREATE TABLE dt (id int);\nCREATE VIEW dv AS SELECT ${Array.from({ length: 30_000 }, (_, i) => `'p${i}'`).join(' || ')} AS s;\n`;

async function cases(backend: TestBackend): Promise<void> {
  const target = await backend.createDatabase();
  const shadowTarget = await backend.createDatabase();
  const ws = makeWorkspace(
    { app: { owns: ['items'] }, odd: { owns: ['tags', 'ticks'] }, calc: { owns: ['calc_t'] }, deep: { owns: ['dt', 'dv'] } },
    {
      'migrations/app/app_001_items.sql': sqlMigration("CREATE TABLE items (id int PRIMARY KEY, note text);\nINSERT INTO items VALUES (1, 'one'), (2, 'two');", 'DROP TABLE items;'),
      'migrations/deep/deep_001_long_concat.sql': sqlMigration(DEEP),
    },
  );
  const out = (name: string) => path.join(ws.dir, 'bk', name);
  const db = await openDatabase(target.url);
  try {
    await writeSumFile('app', path.join(ws.dir, 'migrations/app'));
    const workspace = await loadWorkspace({ cwd: ws.dir });
    const applied = await up({ workspace, database: db, service: 'app' });
    assert.ifError(applied.error);
    await db.exec(`${ODD_TABLES}\n${CALC}`);

    // A table without columns and a space-delimited array: backed up, verified, restored exactly (ndjson and csv).
    const before = await fingerprint(db);
    for (const format of ['ndjson', 'csv'] as const) {
      const written = await backup({ workspace, database: db, service: 'odd', format, out: out(format) });
      assert.ifError(written.error);
      assert.deepEqual(
        written.tables.map((t) => [t.name, t.rows]),
        [
          ['tags', 3],
          ['ticks', 3],
        ],
        format,
      );
      assert.equal((await verifyBackup(out(format))).ok, true, format);
      const back = await restore({ workspace, database: db, dir: out(format), replace: true });
      assert.ifError(back.error);
      assert.deepEqual(
        back.tables.map((t) => [t.name, t.rows, t.digestMatched]),
        [
          ['tags', 3, true],
          ['ticks', 3, true],
        ],
        format,
      );
      if (format === 'ndjson') assert.equal(back.tables.find((t) => t.name === 'tags')?.loadedAs, 'json-staging', 'the spaced array goes through json_populate_record');
      const changed: string[] = fingerprintDiff(before, await fingerprint(db)).filter((k) => !k.startsWith('rows "tidemark"."events'));
      assert.deepEqual(changed, [], `${format}: restored exactly (the restore's event aside)`);
    }
    // The rows of a table without columns take the defaults of the columns it has gained since.
    await db.exec('ALTER TABLE ticks ADD COLUMN n int DEFAULT 7; DELETE FROM ticks;');
    const regained = await restore({ workspace, database: db, dir: out('ndjson'), service: ['odd'], replace: true });
    assert.ifError(regained.error);
    assert.deepEqual((await db.query<{ n: number; c: string }>('SELECT n, count(*)::text AS c FROM ticks GROUP BY n')).rows, [{ n: 7, c: '3' }]);
    await db.exec('ALTER TABLE ticks DROP COLUMN n;');

    const start = await fingerprint(db);

    // backup-count-mismatch: the rows COPY handed over are not the rows the snapshot counts; no backup is left.
    const lost = await backup({ workspace, database: losingFirstRow(db), service: 'app', out: out('lossy') });
    assert.equal(lost.error?.code, 'backup-count-mismatch', lost.error?.message);
    assert.equal(lost.error.exit, 1);
    assert.match(lost.error.message, /^public\.items: COPY wrote 1 row but the snapshot counts 2; nothing was written\.$/);
    assert.deepEqual(
      fs.readdirSync(path.join(ws.dir, 'bk')).filter((f) => f.startsWith('lossy')),
      [],
      'no backup, no partial one',
    );

    // rebaseline-backup-corrupt: a row appended to the data file after it was written, before it is verified.
    const rb = await rebaseline({
      workspace,
      database: db,
      service: 'app',
      backupDir: out('rebaseline'),
      onEvent: (e) => {
        if (e.step === 'verify-backup' && e.detail) fs.appendFileSync(path.join(e.detail, 'data/public.items.ndjson'), '{"id":3,"note":"three"}\n');
      },
    });
    assert.equal(rb.error?.code, 'rebaseline-backup-corrupt', rb.error?.message);
    assert.equal(rb.error.exit, 1);
    assert.equal(rb.error.service, 'app');
    assert.match(rb.error.message, /^The backup just written to .*\/bk\/rebaseline does not verify \(data\/public\.items\.ndjson: too long: .*\); nothing was changed\.$/);

    // baseline-differs: the shadow comments every table it creates, so the replay is not the live schema.
    const shadow = await openDatabase(shadowTarget.url);
    try {
      await shadow.exec(`CREATE FUNCTION stamp() RETURNS event_trigger LANGUAGE plpgsql AS $$
        DECLARE r record; BEGIN
          FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' LOOP
            EXECUTE format('COMMENT ON TABLE %s IS %L', r.object_identity, 'made on the shadow');
          END LOOP;
        END $$;
        CREATE EVENT TRIGGER stamp ON ddl_command_end EXECUTE FUNCTION stamp();`);
      const differs = await baseline({ workspace, database: db, service: 'app', dryRun: true, shadow });
      assert.equal(differs.error?.code, 'baseline-differs', differs.error?.message);
      assert.equal(differs.error.exit, 1);
      assert.equal(differs.error.service, 'app');
      assert.match(
        differs.error.message,
        /^The baseline of app does not reproduce the live schema \(1 difference\): table items: live comment \(none\), baseline gives "made on the shadow"\. Nothing was written\.$/,
      );
      assert.equal(differs.written, false);

      if (backend.name === 'pglite') {
        // The three below through the API: on PGlite each CLI run costs an embedded open (two for baseline's
        // shadow); the server run below takes them through the CLI, exit class and all.
        const replay = await baseline({ workspace, database: db, service: 'calc', dryRun: true, shadow });
        assert.equal(replay.error?.code, 'baseline-replay-failed', replay.error?.message);
        assert.equal(replay.error.exit, 1);
        assert.equal(replay.error.service, 'calc');
        assert.match(replay.error.message, REPLAY_FAILED);
        const deep = await up({ workspace, database: db, service: 'deep' });
        assert.equal(deep.error?.code, 'migration-unparsable', deep.error?.message);
        assert.equal(deep.error.exit, 2);
        assert.deepEqual([deep.error.line, deep.error.migration], [3, 'deep_001_long_concat']);
        assert.match(deep.error.message, UNPARSABLE);
        // protect-failed: the session handed in is read-only (PGlite's single-user backend ignores ALTER DATABASE … SET).
        await db.exec('SET default_transaction_read_only = on');
        const refused = await protect({ workspace, database: db });
        await db.exec('SET default_transaction_read_only = off');
        assert.equal(refused.error?.code, 'protect-failed', refused.error?.message);
        assert.equal(refused.error.exit, 1);
        assert.match(refused.error.message, /^Cannot mark pglite:.* as protected: cannot execute INSERT in a read-only transaction\.$/);
      }
    } finally {
      await shadow.close();
    }

    if (backend.name === 'postgres') {
      // Through the CLI, at once: the code, its exit class, the object named. The database refuses writes (protect).
      await db.exec(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', current_database()); END $$`);
      const emptyShadow = await backend.createDatabase();
      try {
        const url = ['--database', target.url];
        const [replay, deep, refused] = await Promise.all([
          expectCode('baseline-replay-failed', ['baseline', '--service', 'calc', '--dry-run', '--shadow', emptyShadow.url, ...url], ws.dir),
          expectCode('migration-unparsable', ['up', '--service', 'deep', ...url], ws.dir),
          expectCode('protect-failed', ['protect', ...url], ws.dir),
        ]);
        assert.equal(replay.fields.service, 'calc');
        assert.match(replay.message, REPLAY_FAILED);
        assert.deepEqual([deep.fields.file, deep.fields.line, deep.fields.migration], ['migrations/deep/deep_001_long_concat.sql', 3, 'deep_001_long_concat']);
        assert.match(deep.message, UNPARSABLE);
        assert.match(refused.message, /^Cannot mark postgres:\/\/.*\/tidemark_test_\w+ as protected: cannot execute INSERT in a read-only transaction\.$/);
      } finally {
        await emptyShadow.drop();
      }
    }
    assert.deepEqual(fingerprintDiff(start, await fingerprint(db)), [], 'nothing changed');
  } finally {
    await db.close();
    ws.remove();
    await target.drop();
    await shadowTarget.drop();
  }
}

const REPLAY_FAILED = /^The baseline of calc does not run on the shadow database \(.*\): function public\.helper\(integer\) does not exist\. Nothing was written\.$/;
const UNPARSABLE = /^(.*\/)?migrations\/deep\/deep_001_long_concat\.sql:3: deep_001_long_concat: the SQL parser failed \(Maximum call stack size exceeded\)\.$/;

forEachBackend('rare error codes against a database', (backend) => {
  it('odd tables round-trip; backup-count-mismatch, rebaseline-backup-corrupt, baseline-differs, protect-failed, baseline-replay-failed, migration-unparsable', () => cases(backend));
});

describe('rare error codes before any database', () => {
  it('migration-too-large: a statement of more than 64 MiB is refused before the parser sees it', async () => {
    const text = `SELECT 1;\nSELECT '${'x'.repeat(MAX_STATEMENT_CHARS)}';\n`;
    await assert.rejects(splitStatements({ text, line: 4 }, 'migrations/app/app_002_big.sql', 'app_002_big'), (err: unknown) => {
      assert.ok(err instanceof TidemarkError);
      assert.equal(err.code, 'migration-too-large');
      assert.equal(err.exit, 2);
      assert.deepEqual([err.file, err.line, err.migration], ['migrations/app/app_002_big.sql', 5, 'app_002_big']);
      assert.match(err.message, /^migrations\/app\/app_002_big\.sql:5: app_002_big: a statement of more than 64 MiB cannot be parsed\.$/);
      return true;
    });
  });

  it('verify-failed: a manifest.json of 3 GiB (sparse) cannot be read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-verify-'));
    try {
      const bk = path.join(dir, 'bk');
      fs.mkdirSync(path.join(bk, 'data'), { recursive: true });
      fs.writeFileSync(path.join(bk, 'manifest.json'), '{');
      fs.truncateSync(path.join(bk, 'manifest.json'), 3 * 2 ** 30);
      const err = await expectCode('verify-failed', ['verify-backup', bk], dir);
      assert.match(err.message, new RegExp(`^Cannot verify ${bk}: .*2 GiB`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const server = backends.find((b) => b.name === 'postgres');
describe('backup --pg-dump PATH (server only: pg_dump reads a server)', { skip: server ? false : 'no server' }, () => {
  it('pgdump-not-found, pgdump-too-old: the named pg_dump and no other; bad-usage without --format pgdump; the password never in its argv', async () => {
    const target = await server!.createDatabase();
    const ws = makeWorkspace({ app: { owns: ['items'] } });
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-pgdump-'));
    try {
      const conn = await openDatabase(target.url);
      try {
        await conn.exec('CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items VALUES (1);');
      } finally {
        await conn.close();
      }
      const old = path.join(bin, 'pg_dump96');
      fs.writeFileSync(old, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n', { mode: 0o755 });
      const record = path.join(bin, 'record');
      const good = path.join(bin, 'pg_dump_new');
      // answers --version, records its argv and password environment, writes the -f file
      fs.writeFileSync(
        good,
        `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi\n` +
          `{ for a in "$@"; do echo "$a"; done; echo "PGPASSFILE=$PGPASSFILE"; echo "PGPASSWORD=$PGPASSWORD"; } > "${record}"\n` +
          `out=; prev=; for a in "$@"; do [ "$prev" = "-f" ] && out="$a"; prev="$a"; done\nprintf 'PGDMP' > "$out"\n`,
        { mode: 0o755 },
      );
      const u = new URL(target.url);
      u.password = 'S3cret-pw';
      const db = ['--database', u.toString()];
      const missing = path.join(bin, 'nope', 'pg_dump');
      const [notFound, tooOld, noFormat, ok] = await Promise.all([
        expectCode('pgdump-not-found', ['backup', '--format', 'pgdump', '--pg-dump', missing, '--out', 'a', ...db], ws.dir),
        expectCode('pgdump-too-old', ['backup', '--format', 'pgdump', '--pg-dump', old, '--out', 'b', ...db], ws.dir),
        expectCode('bad-usage', ['backup', '--pg-dump', good, '--out', 'c', ...db], ws.dir),
        backup({ cwd: ws.dir, database: u.toString(), format: 'pgdump', pgDump: good, out: 'd' }),
      ]);
      assert.match(notFound.message, new RegExp(`^--pg-dump ${missing} is not an executable file`));
      assert.match(tooOld.message, new RegExp(`the server is PostgreSQL \\d+ and ${old} is version 9; pg_dump must be version \\d+ or newer\\.$`));
      assert.match(noFormat.message, /--pg-dump names the pg_dump of --format pgdump, and the format is ndjson/);
      assert.deepEqual(
        ['a', 'b', 'c'].filter((d) => fs.existsSync(path.join(ws.dir, d))),
        [],
        'nothing written',
      );
      assert.ifError(ok.error);
      assert.ok(ok.dir && fs.existsSync(path.join(ok.dir, 'dump.pgdump')));
      const argv = fs.readFileSync(record, 'utf8');
      assert.ok(!argv.includes('S3cret-pw'), argv);
      assert.match(argv, /^PGPASSFILE=\/.+$/m);
      assert.match(argv, /^PGPASSWORD=$/m);
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
      ws.remove();
      await target.drop();
    }
  });
});
