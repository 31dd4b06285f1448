/**
 * backup and verify-backup on PGlite and the server: every common column type in ndjson and csv,
 * the CRM example by service, each kind of corruption, and a failure mid-backup.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { up } from '../../src/api/migrate.js';
import { backup, type BackupResult, verifyBackup } from '../../src/api/backup.js';
import type { Service, Workspace } from '../../src/config/types.js';
import { backup as backupCore } from '../../src/data/backup/index.js';
import { openDatabase } from '../../src/db/open.js';
import { fakeTarget } from '../support/fake-target.js';
import { DIGEST_SETTINGS_SQL, contentDigestSql } from '../../src/data/digest.js';
import { quoteQualified } from '../../src/sql/ident.js';

/** `public.x` of a manifest table (the tests' tables have no dot in their names). */
const tbl = (t: { schema: string; name: string }): string => `${t.schema}.${t.name}`;
/** Test tables only: `schema.table` (or `table`) with no dot inside a part. */
const quoteTable = (table: string): string => {
  const [schema, name] = table.includes('.') ? table.split('.') : ['public', table];
  return quoteQualified({ schema, name });
};
import type { Manifest } from '../../src/data/manifest.js';
import type { Database } from '../../src/db/database.js';
import { backends, forEachBackend, withDatabase } from '../support/backends.js';
import { ALL_TYPES_SQL, BIG_NUMERIC } from '../support/all-types.js';
import { CRM_EXAMPLE, copyCrmExample, makeWorkspace, runCli } from '../support/workspace.js';

interface CrmData {
  crmDataStatements(opts?: { users?: number }): string[];
  crmCounts(opts?: { users?: number }): { users: number; budgets: number; budget_items: number };
  crmDigestSql(): string;
}
const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as CrmData;

/** Digests and file hashes per backend, compared after both suites ran. */
const seen = new Map<string, { digest: string; ndjsonSha: string; csvSha: string }>();

function tmpOut(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-bk-')), 'backup');
}

function readManifest(dir: string): Manifest {
  return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

async function loadCrm(db: Database, users: number): Promise<string> {
  const ws = copyCrmExample();
  const applied = await up({ cwd: ws.dir, database: db });
  assert.ifError(applied.error);
  for (const sql of crm.crmDataStatements({ users })) await db.exec(sql);
  return ws.dir;
}

/** `tidemark verify-backup DIR`, run as a user would. */
const cliVerify = (dir: string) => runCli(['verify-backup', dir], os.tmpdir());

forEachBackend('backup', (backend) => {
  it('backs up every common column type to ndjson and csv: exact text, modes, counts, hashes, digest', () =>
    withDatabase(backend, async (db) => {
      await db.exec(ALL_TYPES_SQL);
      const ws = makeWorkspace({ app: { owns: ['all_types'] } });
      try {
        const results: Record<string, BackupResult> = {};
        for (const format of ['ndjson', 'csv'] as const) {
          const out = tmpOut();
          const r = await backup({ cwd: ws.dir, database: db, format, out });
          assert.ifError(r.error);
          results[format] = r;
          assert.equal(r.dir, out);
          assert.equal(mode(out), 0o700);
          assert.equal(mode(path.join(out, 'data')), 0o700);
          for (const f of ['manifest.json', 'manifest.sha256', 'schema.sql', `data/public.all_types.${format}`]) assert.equal(mode(path.join(out, f)), 0o600, f);
          assert.deepEqual(fs.readdirSync(path.dirname(out)), ['backup'], 'no temp directory left');

          const m = readManifest(out);
          assert.equal(m.formatVersion, 3);
          assert.equal(m.contentDigestAlgorithm, 'hash64');
          assert.equal(m.format, format);
          assert.deepEqual(m.services, ['app']);
          assert.ok(!/[@:/]/.test(m.database), 'database name only');
          const t = m.tables[0];
          assert.equal(tbl(t), 'public.all_types');
          assert.equal(t.service, 'app');
          assert.equal(t.rowCount, 3);
          assert.deepEqual(t.primaryKey, ['id']);
          assert.deepEqual(
            t.columns.find((c) => c.name === 'id'),
            { name: 'id', type: 'integer', nullable: false, identity: 'always' },
          );
          assert.deepEqual(
            t.columns.find((c) => c.name === 'doubled'),
            { name: 'doubled', type: 'bigint', nullable: true, generated: 'stored' },
          );
          assert.equal(t.columns.find((c) => c.name === 'money')?.type, 'numeric(14,2)');
          assert.equal(t.columns.find((c) => c.name === 'm')?.type, 'mood');
          assert.equal(t.digestColumns.length, 17);
          const bytes = fs.readFileSync(path.join(out, t.file));
          assert.equal(bytes.length, t.bytes);
          assert.equal(t.sha256, (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex'));
          const schemaSql = fs.readFileSync(path.join(out, 'schema.sql'), 'utf8');
          assert.match(schemaSql, /INFORMATIONAL/);
          assert.match(schemaSql, /CREATE TYPE mood AS ENUM \('sad', 'ok', 'happy'\);/);
          assert.match(schemaSql, /"id" integer GENERATED ALWAYS AS IDENTITY NOT NULL/);
          assert.match(schemaSql, /"doubled" bigint GENERATED ALWAYS AS \(\(?\(?i\)?::bigint \* 2\)\)? STORED/);

          const text = bytes.toString('utf8');
          // Numerics never pass through JS numbers: every digit is in the file as the server wrote it.
          assert.ok(text.includes(BIG_NUMERIC), `${format}: ${BIG_NUMERIC} kept`);
          assert.ok(text.includes('9223372036854775807') && text.includes('-9223372036854775808'));
          assert.ok(text.includes('0.000000000000000000001') || text.includes('-0.000000000000000000001'));
          if (format === 'ndjson') {
            const lines = text.split('\n');
            assert.equal(lines.pop(), '', 'ends with a newline');
            assert.equal(lines.length, 3);
            const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
            assert.equal(rows[0].s, 'ünïcødé 美咲 🚚\nline 2\tcol "quoted" back\\slash, comma');
            assert.equal(rows[1].s, '', 'empty string stays empty');
            assert.equal(rows[2].s, null, 'NULL stays null');
            assert.deepEqual(rows[0].j, { path: 'C:\\Clientes\\Ditual', q: 'say "hi"', nested: { a: [1, 2.5, null] } });
            assert.deepEqual(rows[0].tags, ['x', 'y,z', '"q"', null, '']);
            assert.equal(rows[0].raw, '\\xdeadbeef00');
            assert.equal(rows[0].at, '2024-01-01T10:00:00.123456+00:00', 'timestamptz in UTC');
            assert.equal(rows[0].doubled, 2);
            assert.equal(rows[0].m, 'happy');
            assert.match(lines[0], /"n":12345678901234567890\.123456789[,}]/);
          } else {
            assert.ok(text.startsWith('id,i,big,n,money,r,d,s,b,day,at,u,j,tags,raw,m,doubled\n'));
            assert.ok(text.includes('"ünïcødé 美咲 🚚\nline 2\tcol ""quoted"" back\\slash, comma"'));
            assert.ok(text.includes(',"",'), 'empty string quoted; NULL is an empty field');
            assert.ok(text.includes('2024-01-01 10:00:00.123456+00'));
          }
        }
        const nd = readManifest(results.ndjson.dir!).tables[0];
        const cs = readManifest(results.csv.dir!).tables[0];
        assert.equal(nd.contentDigest, cs.contentDigest, 'the digest does not depend on the file format');
        // The digest is the database's: recompute it outside backup, in a transaction with the same settings.
        const again = await db.transaction(async (tx) => {
          await tx.exec(DIGEST_SETTINGS_SQL);
          return (await tx.query<{ rows: string; digest: string }>(contentDigestSql(quoteTable('public.all_types'), nd.digestColumns))).rows[0];
        });
        assert.deepEqual(again, { rows: '3', digest: nd.contentDigest });
        seen.set(backend.name, { digest: nd.contentDigest, ndjsonSha: nd.sha256, csvSha: cs.sha256 });
      } finally {
        ws.remove();
      }
    }));

  it("backs up the CRM example by service, with its ledger rows, and the digest equals the example's own", () =>
    withDatabase(backend, async (db) => {
      const dir = await loadCrm(db, 200);
      const counts = crm.crmCounts({ users: 200 });
      const out = tmpOut();
      const events: string[] = [];
      const r = await backup({ cwd: dir, database: db, service: ['budget'], out, onProgress: (e) => events.push(`${e.type} ${e.table}`) });
      assert.ifError(r.error);
      assert.deepEqual(
        r.tables.map((t) => [t.table, t.service, t.rows]),
        [
          ['public.budget_items', 'budget', counts.budget_items],
          ['public.budgets', 'budget', counts.budgets],
        ],
      );
      assert.deepEqual(
        events.filter((e) => !e.startsWith('table-progress')),
        ['table-start public.budget_items', 'table-done public.budget_items', 'table-start public.budgets', 'table-done public.budgets'],
      );
      const m = readManifest(out);
      assert.deepEqual(m.services, ['budget']);
      assert.deepEqual(
        m.ledger.map((l) => [l.service, l.migration, l.status]),
        [['budget', 'budget_001_initial_schema', 'applied']],
      );
      const budgets = m.tables.find((t) => tbl(t) === 'public.budgets')!;
      assert.deepEqual(
        budgets.foreignKeys.map((f) => [f.columns, f.references, f.referencedColumns]),
        [[['user_id'], { schema: 'public', name: 'users' }, ['id']]],
      );
      const lines = fs.readFileSync(path.join(out, budgets.file), 'utf8').split('\n').filter(Boolean);
      assert.equal(lines.length, counts.budgets);
      for (const l of lines) JSON.parse(l);
      // The example's digest is md5 over t::text, i.e. ROW(every column): format 1's formula (md5), the
      // same value; the manifest's (hash64) is the same query with the other algorithm.
      const example = await db.transaction(async (tx) => {
        await tx.exec(DIGEST_SETTINGS_SQL);
        const ex = (await tx.query<{ table: string; digest: string }>(crm.crmDigestSql())).rows;
        const ours = [];
        for (const t of m.tables) {
          const q = (a: 'md5' | 'hash64') => tx.query<{ digest: string }>(contentDigestSql(quoteTable(tbl(t)), t.digestColumns, a)).then((r) => r.rows[0].digest);
          ours.push({ table: tbl(t), md5: await q('md5'), hash64: await q('hash64') });
        }
        return { ex, ours };
      });
      for (const t of m.tables) {
        const o = example.ours.find((x) => x.table === tbl(t))!;
        assert.equal(o.md5, example.ex.find((e) => `public.${e.table}` === tbl(t))?.digest, tbl(t));
        assert.equal(t.contentDigest, o.hash64, tbl(t));
      }

      // All services: users too; the default directory is ./backups/<database>-<timestamp>.
      const all = await backup({ cwd: dir, database: db });
      assert.ifError(all.error);
      assert.deepEqual(
        all.tables.map((t) => t.table),
        ['public.budget_items', 'public.budgets', 'public.users'],
      );
      assert.equal(path.dirname(all.dir!), path.join(fs.realpathSync(dir), 'backups'));
      assert.match(path.basename(all.dir!), /-\d{8}T\d{6}Z$/);
      assert.equal((await verifyBackup(all.dir!)).ok, true);
    }));

  it('verify-backup: clean, then a truncated file, a flipped byte, an edited manifest, a missing and an extra file', () =>
    withDatabase(backend, async (db) => {
      const dir = await loadCrm(db, 30);
      const good = tmpOut();
      assert.ifError((await backup({ cwd: dir, database: db, format: 'csv', out: good })).error);
      const clean = await verifyBackup(good);
      assert.deepEqual(clean.problems, []);
      assert.equal(clean.ok, true);
      assert.equal(clean.filesChecked, 4);
      const cli = await cliVerify(good);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /3 tables, .* match the manifest/);

      const items = 'data/public.budget_items.csv';
      const cases: [string, (d: string) => void, string, RegExp][] = [
        ['truncated', (d) => fs.truncateSync(path.join(d, items), fs.statSync(path.join(d, items)).size - 40), items, /truncated/],
        [
          'flipped byte',
          (d) => {
            const f = path.join(d, items);
            const b = fs.readFileSync(f);
            b[Math.floor(b.length / 2)] ^= 0x01;
            fs.writeFileSync(f, b);
          },
          items,
          /SHA-256 mismatch/,
        ],
        [
          'edited manifest',
          (d) => {
            const f = path.join(d, 'manifest.json');
            const text = fs.readFileSync(f, 'utf8');
            const edited = text.replace(/"rowCount": (\d+)/, (_, n: string) => `"rowCount": ${Number(n) + 1}`);
            assert.notEqual(edited, text);
            fs.writeFileSync(f, edited);
          },
          'manifest.json',
          /edited after the backup/,
        ],
        ['missing file', (d) => fs.rmSync(path.join(d, 'data/public.users.csv')), 'data/public.users.csv', /missing/],
        ['missing schema.sql', (d) => fs.rmSync(path.join(d, 'schema.sql')), 'schema.sql', /missing/],
        ['extra file', (d) => fs.writeFileSync(path.join(d, 'data/public.evil.csv'), 'id\n1\n'), 'data/public.evil.csv', /not part of the backup/],
        ['missing manifest.sha256', (d) => fs.rmSync(path.join(d, 'manifest.sha256')), 'manifest.sha256', /missing/],
      ];
      for (const [name, corrupt, file, message] of cases) {
        const copy = tmpOut();
        fs.cpSync(good, copy, { recursive: true });
        corrupt(copy);
        const r = await verifyBackup(copy);
        assert.equal(r.ok, false, name);
        const p = r.problems.find((x) => x.file === file);
        assert.ok(p, `${name}: a problem naming ${file}, got ${JSON.stringify(r.problems)}`);
        assert.match(p.message, message, name);
        assert.ok(p.message.startsWith(file), name);
        if (name === 'truncated') {
          // A cut in the middle of the file also shortens the record count, named as such.
          assert.ok(r.problems.some((x) => x.file === items && x.kind === 'sha256'));
          const run = await cliVerify(copy);
          assert.equal(run.code, 1);
          assert.match(run.stdout, new RegExp(`✗ ${items.replace('.', '\\.')}: truncated`));
        }
      }
      const missingDir = await cliVerify(path.join(good, 'nope'));
      assert.equal(missingDir.code, 2);
      assert.match(missingDir.stderr, /does not exist/);
    }));

  it('reads a table in ctid pieces (PGlite: one after another; server: two halves at once) into the same file', () =>
    withDatabase(backend, async (db, url) => {
      const dir = await loadCrm(db, 120);
      // Wide enough rows that budget_items spans many pages.
      await db.exec(`UPDATE budget_items SET description = description || repeat(' x', 200) WHERE id % 3 = 0`);
      const pages = Number((await db.query<{ p: string }>(`SELECT (pg_relation_size('budget_items') / 8192)::text AS p`)).rows[0].p);
      assert.ok(pages >= 8, `budget_items has ${pages} pages`);
      for (const format of ['ndjson', 'csv'] as const) {
        const whole = await backup({ cwd: dir, database: db, format, out: tmpOut(), table: ['budget_items'] });
        assert.ifError(whole.error);
        // On the server a URL (a third connection reads the second half); PGlite: pieces of 2 pages.
        const pieces = await backup({ cwd: dir, database: backend.name === 'postgres' ? url : db, format, out: tmpOut(), table: ['budget_items'], piecePages: 2 });
        assert.ifError(pieces.error);
        assert.deepEqual([whole.tables[0].pieces, whole.tables[0].parallel], [1, false], 'a small table, default pieces: one COPY');
        if (backend.name === 'postgres') assert.deepEqual([pieces.tables[0].pieces, pieces.tables[0].parallel], [2, true]);
        else assert.deepEqual([pieces.tables[0].pieces, pieces.tables[0].parallel], [Math.ceil(pages / 2), false]);
        const [a, b] = [readManifest(whole.dir!).tables[0], readManifest(pieces.dir!).tables[0]];
        assert.equal(b.rowCount, crm.crmCounts({ users: 120 }).budget_items);
        assert.deepEqual([b.rowCount, b.contentDigest, b.bytes], [a.rowCount, a.contentDigest, a.bytes], format);
        // The same rows; a seq scan and the pieces both go page by page, so even in the same order.
        const text = (d: string, m: typeof a) => fs.readFileSync(path.join(d, m.file), 'utf8');
        assert.equal(text(pieces.dir!, b), text(whole.dir!, a), `${format}: same bytes`);
        assert.equal(b.sha256, a.sha256);
        if (format === 'csv') assert.equal(text(pieces.dir!, b).match(/^id,budget_id,/gm)?.length, 1, 'one header');
        assert.deepEqual(fs.readdirSync(path.join(pieces.dir!, 'data')), [path.basename(b.file)], 'no side file left');
        assert.equal((await verifyBackup(pieces.dir!)).ok, true);
      }
    }));

  it('a failure mid-backup leaves no backup directory and no temp directory, and the session usable', () =>
    withDatabase(backend, async (db) => {
      const dir = await loadCrm(db, 10);
      const out = tmpOut();
      let done = 0;
      const r = await backup({
        cwd: dir,
        database: db,
        out,
        onProgress: (e) => {
          if (e.type === 'table-done' && ++done === 2) throw new Error('disk on fire');
        },
      });
      assert.equal(r.ok, false);
      assert.match(r.error!.message, /disk on fire/);
      assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'neither the backup nor its temp directory');
      // The read-only snapshot was rolled back: the session writes again.
      await db.exec('CREATE TABLE after_failure (id int)');
    }));

  it('refuses a non-empty --out, an unknown service or table; backs up named tables without services', () =>
    withDatabase(backend, async (db) => {
      const dir = await loadCrm(db, 5);
      const out = tmpOut();
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
      const busy = await backup({ cwd: dir, database: db, out });
      assert.equal(busy.error?.code, 'backup-target-exists');
      assert.equal(busy.error?.kind, 'usage');
      assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
      assert.equal((await backup({ cwd: dir, database: db, service: ['nope'], out: tmpOut() })).error?.code, 'unknown-service');
      assert.equal((await backup({ cwd: dir, database: db, table: ['nope'], out: tmpOut() })).error?.code, 'unknown-table');
      // An existing but empty directory is fine.
      const empty = tmpOut();
      fs.mkdirSync(empty);
      const named = await backup({ cwd: dir, database: db, table: ['users'], out: empty });
      assert.ifError(named.error);
      assert.deepEqual(
        named.tables.map((t) => [t.table, t.rows]),
        [['public.users', 5]],
      );
      assert.deepEqual(readManifest(empty).services, ['user'], 'the owner is still recorded');
      // Awkward names: quoted in SQL, percent-encoded in the file name, verified like any other.
      await db.exec(`CREATE SCHEMA "Ops x"; CREATE TABLE "Ops x"."a.b" ("Id" int, "select" text); INSERT INTO "Ops x"."a.b" VALUES (1, 'x')`);
      const weird = tmpOut();
      // named as --table names it (the owns grammar): the old split at the first dot is gone
      const w = await backup({ cwd: dir, database: db, table: ['"Ops x"."a.b"'], out: weird });
      assert.ifError(w.error);
      assert.deepEqual(
        w.tables.map((t) => [t.table, t.file, t.rows]),
        [['"Ops x"."a.b"', 'data/Ops%20x.a%2Eb.ndjson', 1]],
      );
      assert.equal(fs.readFileSync(path.join(weird, w.tables[0].file), 'utf8'), '{"Id":1,"select":"x"}\n');
      assert.equal((await verifyBackup(weird)).ok, true);
    }));

  if (backend.name === 'pglite') {
    it('--format pgdump refuses an embedded database (usage, exit 2) and writes nothing', () =>
      withDatabase(backend, async (db) => {
        const dir = await loadCrm(db, 5);
        const out = tmpOut();
        const r = await backup({ cwd: dir, database: db, format: 'pgdump', out });
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'pgdump-embedded');
        assert.equal(r.error?.kind, 'usage');
        assert.match(r.error?.message ?? '', /pg_dump cannot read an embedded/);
        assert.equal(fs.existsSync(out), false);
        assert.deepEqual(fs.readdirSync(path.dirname(out)), []);
      }));
  } else {
    it('by URL: the digests run on a second connection in the same snapshot, equal the one-connection digests, and that connection is closed on success and on failure', () =>
      withDatabase(backend, async (db, url) => {
        const dir = await loadCrm(db, 1000);
        const mine = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        // Watch the database's other tidemark sessions while the backups run.
        const pg = (await import('pg')).default;
        const watcher = new pg.Client({ connectionString: url, application_name: 'watcher' });
        await watcher.connect();
        const others = async () =>
          Number(
            (await watcher.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tidemark' AND pid <> $1`, [mine])).rows[0].n,
          );
        // Polled back to back while the backup runs: the digest connection lives through every COPY.
        const watch = async <T>(run: () => Promise<T>): Promise<{ result: T; peak: number }> => {
          let peak = 0;
          let done = false;
          const pending = run().finally(() => (done = true));
          while (!done) peak = Math.max(peak, await others());
          return { result: await pending, peak };
        };
        try {
          const viaUrl = await watch(() => backup({ cwd: dir, database: url, out: tmpOut() }));
          assert.ifError(viaUrl.result.error);
          assert.equal(viaUrl.peak, 2, 'the COPY connection and the digest connection, at once');
          assert.equal(await others(), 0, 'both closed after the backup');
          const viaDb = await backup({ cwd: dir, database: db, out: tmpOut() });
          assert.ifError(viaDb.error);
          const digests = (r: BackupResult) => readManifest(r.dir!).tables.map((t) => [tbl(t), t.rowCount, t.contentDigest]);
          assert.deepEqual(digests(viaUrl.result), digests(viaDb), 'parallel and sequential digests agree');
          const counts = crm.crmCounts({ users: 1000 });
          assert.deepEqual(
            digests(viaDb).map(([t, n]) => [t, n]),
            [
              ['public.budget_items', counts.budget_items],
              ['public.budgets', counts.budgets],
              ['public.users', counts.users],
            ],
          );

          // A failure after the first table: no backup, and the digest connection is gone too.
          const out = tmpOut();
          const failed = await backup({
            cwd: dir,
            database: url,
            out,
            onProgress: (e) => {
              if (e.type === 'table-done') throw new Error('disk on fire');
            },
          });
          assert.match(failed.error?.message ?? '', /disk on fire/);
          assert.deepEqual(fs.readdirSync(path.dirname(out)), []);
          assert.equal(await others(), 0, 'no session left behind after a failure');
        } finally {
          await watcher.end();
        }
      }));

    it('--format pgdump: pg_dump -Fc of the CRM tables in the same snapshot, listed in the manifest, verified, pg_restore --list names the tables', () =>
      withDatabase(backend, async (db, url) => {
        const dir = await loadCrm(db, 50);
        const counts = crm.crmCounts({ users: 50 });
        const out = tmpOut();
        const r = await backup({ cwd: dir, database: url, service: ['budget'], format: 'pgdump', out });
        if (r.error?.code === 'pgdump-not-found') return; // no pg_dump installed here: nothing to run
        assert.ifError(r.error);
        assert.equal(r.format, 'pgdump');
        const m = readManifest(out);
        assert.equal(m.format, 'ndjson', 'the data files are ndjson: restore and verify read them');
        const dump = m.files.find((f) => f.file === 'dump.pgdump');
        assert.ok(dump, 'dump.pgdump listed in files');
        assert.equal(mode(path.join(out, 'dump.pgdump')), 0o600);
        assert.equal(fs.statSync(path.join(out, 'dump.pgdump')).size, dump.bytes);
        assert.deepEqual(
          m.tables.map((t) => [tbl(t), t.rowCount]),
          [
            ['public.budget_items', counts.budget_items],
            ['public.budgets', counts.budgets],
          ],
        );
        const v = await verifyBackup(out);
        assert.deepEqual(v.problems, []);
        assert.equal(v.ok, true);
        const list = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
          const child = spawn('pg_restore', ['--list', path.join(out, 'dump.pgdump')]);
          let stdout = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stdout }));
        });
        assert.equal(list.code, 0);
        assert.match(list.stdout, /TABLE public budget_items/);
        assert.match(list.stdout, /TABLE public budgets/);
        assert.match(list.stdout, /TABLE DATA public budgets/);
        assert.doesNotMatch(list.stdout, /TABLE public users\b/, 'only the selected tables');
      }));
  }
});

// The core itself, on a Target built with no I/O: no config file anywhere (the workspace is a literal
// whose root does not exist), the caller's Database, a relative --out from the target's cwd.
forEachBackend('backup core on a target', (backend) => {
  it("backs up the target's services from a literal workspace into its cwd; the second session only through openSibling (server); the caller's Database stays open", () =>
    withDatabase(backend, async (db, url) => {
      await db.exec(`CREATE SCHEMA sales;
        CREATE TABLE sales.orders (id int PRIMARY KEY, note text);
        INSERT INTO sales.orders VALUES (1, 'a'), (2, NULL);
        CREATE TABLE notes (id int);
        INSERT INTO notes VALUES (7);`);
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-bk-target-'));
      const root = path.join(cwd, 'no-config-here');
      const service = (name: string, owns: string[]): Service => ({
        name,
        migrationsDir: path.join(root, 'migrations', name),
        owns,
        requires: [],
        format: 'tidemark',
        versionTable: '',
        recursive: false,
      });
      const workspace: Workspace = { root, services: [service('sales', ['sales.orders']), service('notes', ['notes'])], protected: [], softRelations: [] };
      let siblings = 0;
      const fake = fakeTarget(workspace, db, { services: ['sales'], cwd });
      const target =
        backend.name === 'postgres'
          ? {
              ...fake,
              openSibling: async () => {
                siblings++;
                return openDatabase(url);
              },
            }
          : fake;
      try {
        const r = await backupCore(target, { out: 'out' });
        assert.ifError(r.error);
        assert.equal(r.ok, true);
        assert.equal(r.dir, path.join(cwd, 'out'), "a relative --out is the user's: from the target's cwd");
        assert.equal(r.database, db.displayUrl);
        assert.equal(r.databaseSource, 'given');
        assert.deepEqual(
          r.tables.map((t) => [t.table, t.service, t.rows]),
          [['sales.orders', 'sales', 2]],
          "only the target's services",
        );
        const m = readManifest(r.dir!);
        assert.deepEqual(m.services, ['sales']);
        assert.equal((await verifyBackup(r.dir!)).ok, true);
        assert.equal(siblings, backend.name === 'postgres' ? 1 : 0, 'the digests on a sibling session (server), opened by the target');
        assert.deepEqual(fake.shadowCalls, []);
        assert.equal(fs.existsSync(root), false, 'nothing read or written at the workspace root');
        assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows[0].n, 1, "the caller's Database is still open");
      } finally {
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    }));
});

test('the same data gives the same digest and the same bytes on PostgreSQL 15 (server) and 18 (PGlite)', { skip: backends.length < 2 && 'no server' }, () => {
  const a = seen.get('pglite');
  const b = seen.get('postgres');
  assert.ok(a && b, 'both backend suites ran');
  assert.deepEqual(a, b);
});
