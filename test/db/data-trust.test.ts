/**
 * Issue 11 trust suites for backup, verify-backup, restore and validate, on PGlite and the server:
 * - a backup of `"a.b".c` restored with --replace touches `a."b.c"` not at all (§3);
 * - tables and columns named like every alias and keyword generated SQL uses round-trip exactly,
 *   in ndjson and csv, through the direct COPY, csv staging and json staging paths (§6);
 * - generated hostile identifiers: backup → verify-backup → restore --replace → validate round-trips
 *   exactly and touches no other object (fast-check);
 * - generated malformed manifests (mutated fields, types, paths, duplicates, symlinks, ledger, system
 *   and other services' tables, a view): exit 2, no stack trace, database fingerprint unchanged (§4);
 * - row-level security: backup refuses loudly, restore works for a role allowed to or refuses before
 *   writing (§9); a JSON `null` makes its table csv (§11); partial folders, umask, --out symlink,
 *   control characters, node-postgres' "already executing a query" warning (§11).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { backup, verifyBackup } from '../../src/api/backup.js';
import type { Manifest } from '../../src/data/manifest.js';
import { restore } from '../../src/api/restore.js';
import { validate } from '../../src/api/validate.js';
import type { Database } from '../../src/db/database.js';
import { exitCodeFor } from '../../src/errors.js';
import { ensureLedger } from '../../src/ledger/ledger.js';
import { quoteIdent, quoteQualified, type QualifiedName } from '../../src/sql/ident.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { fingerprint, fingerprintDiff, fingerprintParts } from '../support/fingerprint.js';
import { GENERATED_SQL_WORDS, dotConfusablePair, hostileIdentifier, hostileQualifiedName } from '../support/hostile-names.js';
import { makeWorkspace, runCli } from '../support/workspace.js';

const SYSTEM_COLUMNS = ['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid'];
const tmpOut = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-trust-')), 'backup');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** Edits manifest.json and writes its manifest.sha256 again, as someone editing a backup would. */
function editManifest(dir: string, edit: (m: Manifest & Record<string, unknown>) => void): void {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest & Record<string, unknown>;
  edit(m);
  const text = `${JSON.stringify(m, null, 2)}\n`;
  fs.writeFileSync(path.join(dir, 'manifest.json'), text);
  fs.writeFileSync(path.join(dir, 'manifest.sha256'), `${sha(text)}  manifest.json\n`);
}

/** Keeps only `keep` in a backup (its other data files removed): a valid backup of that table alone. */
function onlyTable(dir: string, keep: QualifiedName): void {
  editManifest(dir, (m) => {
    for (const t of m.tables) if (t.schema !== keep.schema || t.name !== keep.name) fs.rmSync(path.join(dir, t.file));
    m.tables = m.tables.filter((t) => t.schema === keep.schema && t.name === keep.name);
  });
}

/** Every row of a table as its record text, sorted (order-free equality). */
async function rows(db: Database, q: QualifiedName): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL extra_float_digits = 3; SET LOCAL TimeZone = 'UTC'`);
    const r = await tx.query<{ v: string }>(`SELECT ROW(x.*)::text AS v FROM ONLY ${quoteQualified(q)} AS x`);
    return r.rows.map((row) => row.v).sort();
  });
}

async function createSchema(db: Database, schema: string): Promise<void> {
  if (schema !== 'public') await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
}

/** The fingerprint key of a table's rows (as test/support/fingerprint.ts spells it). */
const rowsKey = (q: QualifiedName) => `rows "${q.schema.replaceAll('"', '""')}"."${q.name.replaceAll('"', '""')}"`;

forEachBackend('data trust', (backend) => {
  it('a backup of "a.b".c restored with --replace never touches a."b.c" (and their data files differ)', () =>
    withDatabase(backend, async (db) => {
      const dotted = { schema: 'a.b', name: 'c' };
      const twin = { schema: 'a', name: 'b.c' };
      await db.exec(`CREATE SCHEMA "a.b"; CREATE SCHEMA a;
        CREATE TABLE "a.b".c (id int PRIMARY KEY, v text); CREATE TABLE a."b.c" (id int PRIMARY KEY, v text);
        INSERT INTO "a.b".c VALUES (1, 'mine'), (2, 'mine too');
        INSERT INTO a."b.c" SELECT g, 'twin ' || g FROM generate_series(1, 50) g;`);
      await ensureLedger(db);
      const ws = makeWorkspace({ app: { owns: ['*.*'] } });
      try {
        const written = await backup({ cwd: ws.dir, database: db, out: tmpOut() });
        assert.ifError(written.error);
        assert.deepEqual(
          written.tables.map((t) => [t.table, t.file]),
          [
            ['a."b.c"', 'data/a.b%2Ec.ndjson'],
            ['"a.b".c', 'data/a%2Eb.c.ndjson'],
          ],
        );
        onlyTable(written.dir!, dotted);
        assert.equal((await verifyBackup(written.dir!)).ok, true);
        const mine = await rows(db, dotted);
        const twinRows = await rows(db, twin);
        await db.exec(`UPDATE "a.b".c SET v = 'changed'`);
        const before = await fingerprintParts(db);
        const r = await restore({ cwd: ws.dir, database: db, dir: written.dir!, replace: true });
        assert.ifError(r.error);
        assert.deepEqual(
          r.tables.map((t) => [t.table, t.rows, t.digestMatched]),
          [['"a.b".c', 2, true]],
        );
        assert.deepEqual(await rows(db, dotted), mine);
        assert.deepEqual(await rows(db, twin), twinRows, 'the twin keeps its 50 rows');
        const after = await fingerprintParts(db);
        assert.equal(after[rowsKey(twin)], before[rowsKey(twin)]);
      } finally {
        ws.remove();
      }
    }));

  it('tables and columns named like every alias and keyword generated SQL uses round-trip exactly (ndjson, csv; direct, csv staging, json staging); validate agrees', () =>
    withDatabase(backend, async (db) => {
      const words = [...new Set(GENERATED_SQL_WORDS)];
      const types = ['text', 'int4', 'jsonb', 'numeric', 'text[]'];
      const value = (type: string, i: number) =>
        type === 'text' ? `'v${i}, "q" ''x'''` : type === 'int4' ? `${i}` : type === 'jsonb' ? `'{"k": ${i}}'` : type === 'numeric' ? `${i}.50` : `ARRAY['a${i}', NULL]`;
      // The main table, "t", has every word as a column ("p" of a composite type: the json staging path).
      const main = { schema: 'public', name: 't' };
      // System column names cannot be user columns (they stay table names below).
      const cols = words.filter((w) => !['p', 'ctid', 'tableoid', 'xmin'].includes(w)).map((w, i) => ({ name: w, type: types[i % types.length] }));
      await db.exec(`CREATE TYPE public.pair_type AS ("t" int, "x" text);
        CREATE TABLE public."t" (${[...cols.map((c) => `${quoteIdent(c.name)} ${c.type}`), `"p" public.pair_type`].join(', ')});
        INSERT INTO public."t" SELECT ${[...cols.map((c, i) => value(c.type, i)), `ROW(1, 'p')::public.pair_type`].join(', ')};
        INSERT INTO public."t" (${quoteIdent(cols[0].name)}) VALUES (NULL);
        CREATE SCHEMA "order";`);
      // A table named like each word, in public, and one in a schema named like a keyword.
      const tables: QualifiedName[] = [main, { schema: 'order', name: 'select' }, ...words.filter((w) => w !== 't').map((w) => ({ schema: 'public', name: w }))];
      for (const q of tables.slice(1)) {
        await db.exec(`CREATE TABLE ${quoteQualified(q)} ("t" int, "r" text, "s" jsonb, "j" int[], "row_to_json" text);
          INSERT INTO ${quoteQualified(q)} VALUES (1, 'r', '[1, "two"]', '{1,2}', 'x'), (NULL, NULL, NULL, NULL, NULL);`);
      }
      await ensureLedger(db);
      const ws = makeWorkspace({ app: { owns: ['*.*'] } });
      try {
        const original = new Map<string, string[]>();
        for (const q of tables) original.set(`${q.schema}.${q.name}`, await rows(db, q));
        for (const format of ['ndjson', 'csv'] as const) {
          const written = await backup({ cwd: ws.dir, database: db, format, out: tmpOut() });
          assert.ifError(written.error);
          assert.equal(written.tables.length, tables.length);
          assert.equal((await verifyBackup(written.dir!)).ok, true);
          if (format === 'ndjson') {
            const checked = await validate({ cwd: ws.dir, database: db, against: written.dir!, structure: false });
            assert.ifError(checked.error);
            assert.deepEqual(checked.findings, []);
          }
          // Direct paths (and json staging for "t" in ndjson: its composite column).
          const r = await restore({ cwd: ws.dir, database: db, dir: written.dir!, replace: true });
          assert.ifError(r.error);
          assert.ok(r.tables.every((t) => t.digestMatched));
          const mainLoad = r.tables.find((t) => t.name === 't')!.loadedAs;
          assert.equal(mainLoad, format === 'csv' ? 'csv' : 'json-staging');
          assert.equal(r.tables.find((t) => t.name === 'select')!.loadedAs, format === 'csv' ? 'csv' : 'ndjson-as-csv');
          for (const q of tables) assert.deepEqual(await rows(db, q), original.get(`${q.schema}.${q.name}`), `${format} ${q.schema}.${q.name}`);
          // csv staging (a column gone from the target): skipped and compared over the rest (that table alone).
          await db.exec(`ALTER TABLE "order"."select" DROP COLUMN "row_to_json"`);
          onlyTable(written.dir!, { schema: 'order', name: 'select' });
          const staged = await restore({ cwd: ws.dir, database: db, dir: written.dir!, replace: true });
          assert.ifError(staged.error);
          const sel = staged.tables.find((t) => t.name === 'select')!;
          assert.deepEqual([sel.skippedColumns, sel.digestMatched, sel.loadedAs], [['row_to_json'], true, format === 'csv' ? 'csv' : 'ndjson-as-csv']);
          await db.exec(`ALTER TABLE "order"."select" ADD COLUMN "row_to_json" text; UPDATE "order"."select" SET "row_to_json" = 'x' WHERE "t" = 1`);
        }
      } finally {
        ws.remove();
      }
    }));

  it('generated hostile identifiers: backup → verify-backup → restore --replace → validate round-trip exactly, touching no other table', () =>
    withDatabase(backend, async (db) => {
      await ensureLedger(db);
      const ws = makeWorkspace({ app: { owns: ['*.*'] } });
      let runs = 0;
      try {
        await fc.assert(
          fc.asyncProperty(
            // `*` and `?` inside a name: config/load.ts globMatch compares a literal `*` in the text
            // with the pattern's `*` as a plain character, so `*.*` does not own `*x` (reported, not ours).
            fc
              .oneof(
                hostileQualifiedName(),
                dotConfusablePair().map(([a]) => a),
              )
              .filter((q) => !/[*?]/.test(q.schema + q.name)),
            dotConfusablePair(),
            // System column names (xmin, ctid, …) cannot be user columns.
            fc.uniqueArray(
              hostileIdentifier().filter((c) => !SYSTEM_COLUMNS.includes(c)),
              { minLength: 2, maxLength: 2 },
            ),
            fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 4 }),
            fc.boolean(),
            async (target, [twinA, twinB], [c1, c2], texts, jsonNull) => {
              runs++;
              const others = [twinA, twinB].filter((q) => q.schema !== target.schema || q.name !== target.name);
              const all = [target, ...others];
              const created = [...new Set(all.map((q) => q.schema))];
              try {
                for (const s of created) await createSchema(db, s);
                for (const q of all) {
                  await db.exec(`CREATE TABLE ${quoteQualified(q)} (${quoteIdent(c1)} text, ${quoteIdent(c2)} jsonb)`);
                  for (const [i, t] of texts.entries()) {
                    await db.query(`INSERT INTO ${quoteQualified(q)} VALUES ($1, $2::jsonb)`, [
                      t.replaceAll('\0', ''),
                      jsonNull && i === 0 ? 'null' : JSON.stringify({ i, t: t.replaceAll('\0', '') }),
                    ]);
                  }
                }
                const written = await backup({ cwd: ws.dir, database: db, out: tmpOut() });
                assert.ifError(written.error);
                onlyTable(written.dir!, target);
                const verified = await verifyBackup(written.dir!);
                assert.equal(verified.ok, true, verified.problems.map((p) => p.message).join('\n'));
                const original = await rows(db, target);
                await db.exec(`DELETE FROM ${quoteQualified(target)} WHERE ${quoteIdent(c1)} = (SELECT min(${quoteIdent(c1)}) FROM ${quoteQualified(target)})`);
                const before = await fingerprintParts(db);
                const r = await restore({ cwd: ws.dir, database: db, dir: written.dir!, replace: true });
                assert.ifError(r.error);
                assert.equal(r.tables.length, 1);
                assert.equal(r.tables[0].digestMatched, true);
                assert.deepEqual(await rows(db, target), original);
                const checked = await validate({ cwd: ws.dir, database: db, against: written.dir!, structure: false });
                assert.ifError(checked.error);
                assert.deepEqual(checked.findings, []);
                const changed = fingerprintDiff(JSON.stringify(before), JSON.stringify(await fingerprintParts(db)));
                assert.deepEqual(
                  changed.filter((k) => k !== rowsKey(target) && !k.startsWith('rows "tidemark"."events')),
                  [],
                  'nothing else changed',
                );
              } finally {
                for (const q of all) await db.exec(`DROP TABLE IF EXISTS ${quoteQualified(q)}`);
                for (const s of created) if (s !== 'public') await db.exec(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
              }
            },
          ),
          // No shrinking: each run is a few database round trips; the first counterexample is enough.
          { numRuns: 15, endOnFailure: true, markInterruptAsFailure: true, interruptAfterTimeLimit: 120_000 },
        );
        assert.equal(runs >= 1, true);
      } finally {
        ws.remove();
      }
    }));

  it('generated malformed manifests: exit 2, no stack trace, database unchanged (ledger, system, other service, view, unowned, duplicates, paths, types, symlinks)', () =>
    withDatabase(backend, async (db) => {
      await db.exec(`CREATE TABLE users (id int PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'a'), (2, 'b');
        CREATE TABLE secrets (id int PRIMARY KEY, s text); INSERT INTO secrets VALUES (1, 'other service');
        CREATE TABLE loose (id int PRIMARY KEY); INSERT INTO loose VALUES (7);
        CREATE VIEW users_view AS SELECT * FROM users; COMMENT ON TABLE users IS 'kept';`);
      await ensureLedger(db);
      const ws = makeWorkspace({ app: { owns: ['users', 'users_view'] }, other: { owns: ['secrets'] } });
      try {
        const written = await backup({ cwd: ws.dir, database: db, service: 'app', out: tmpOut() });
        assert.ifError(written.error);
        await db.exec('DELETE FROM users'); // a restore that went through would change the rows
        const start = await fingerprint(db);
        type Mutation = [string, (dir: string) => void];
        const t0 = (f: (t: Record<string, unknown>, m: Record<string, unknown>) => void) => (dir: string) => editManifest(dir, (m) => f(m.tables[0] as unknown as Record<string, unknown>, m));
        const mutations: Mutation[] = [
          ['ledger table', t0((t) => Object.assign(t, { schema: 'tidemark', name: 'applied' }))],
          ['catalog table', t0((t) => Object.assign(t, { schema: 'pg_catalog', name: 'pg_description' }))],
          ['toast', t0((t) => Object.assign(t, { schema: 'pg_toast', name: 'x' }))],
          ['another service', t0((t) => Object.assign(t, { name: 'secrets' }))],
          ['a view', t0((t) => Object.assign(t, { name: 'users_view' }))],
          ['unowned', t0((t) => Object.assign(t, { name: 'loose' }))],
          ['duplicate', (dir) => editManifest(dir, (m) => m.tables.push({ ...m.tables[0] }))],
          ['no columns', t0((t) => Object.assign(t, { columns: [] }))],
          ['columns missing', t0((t) => void delete t.columns)],
          ['negative rows', t0((t) => Object.assign(t, { rowCount: -2 }))],
          ['string bytes', t0((t) => Object.assign(t, { bytes: '12' }))],
          ['float rows', t0((t) => Object.assign(t, { rowCount: 1.5 }))],
          ['escaping path', t0((t) => Object.assign(t, { file: '../../../etc/passwd' }))],
          ['dotdot in data', t0((t) => Object.assign(t, { file: 'data/../manifest.json' }))],
          ['absolute path', t0((t) => Object.assign(t, { file: '/etc/hostname' }))],
          ['unknown key', t0((t) => Object.assign(t, { sql: 'DROP TABLE users' }))],
          ['schema null', t0((t) => Object.assign(t, { schema: null }))],
          ['format', (dir) => editManifest(dir, (m) => Object.assign(m, { format: 'xml' }))],
          ['version', (dir) => editManifest(dir, (m) => Object.assign(m, { formatVersion: '3' }))],
          ['service not listed', t0((t) => Object.assign(t, { service: 'nobody' }))],
          ['digest column', t0((t) => Object.assign(t, { digestColumns: ['id', 'ghost'] }))],
          [
            'ambiguous legacy name',
            (dir) =>
              editManifest(dir, (m) => {
                const legacy = m as unknown as Record<string, unknown> & { tables: Record<string, unknown>[] };
                legacy.formatVersion = 2;
                legacy.tables = m.tables.map(({ schema: _s, name: _n, format: _f, ...rest }) => ({ ...rest, table: 'public.users.x', foreignKeys: [] }));
              }),
          ],
          [
            'symlinked data file',
            (dir) => {
              const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
              const file = path.join(dir, m.tables[0].file);
              fs.renameSync(file, `${dir}.data`);
              fs.symlinkSync(`${dir}.data`, file);
            },
          ],
          [
            'symlinked manifest',
            (dir) => {
              fs.renameSync(path.join(dir, 'manifest.json'), `${dir}.manifest`);
              fs.symlinkSync(`${dir}.manifest`, path.join(dir, 'manifest.json'));
            },
          ],
          [
            'symlinked data dir',
            (dir) => {
              fs.renameSync(path.join(dir, 'data'), `${dir}.datadir`);
              fs.symlinkSync(`${dir}.datadir`, path.join(dir, 'data'));
            },
          ],
        ];
        const seen = new Set<string>();
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...mutations), fc.boolean(), async ([label, mutate], replace) => {
            seen.add(label);
            const copy = tmpOut();
            fs.cpSync(written.dir!, copy, { recursive: true });
            mutate(copy);
            const r = await restore({ cwd: ws.dir, database: db, dir: copy, replace });
            assert.equal(r.ok, false, label);
            assert.equal(exitCodeFor(r.error), 2, `${label}: ${r.error?.code} ${r.error?.message}`);
            assert.ok(!/\n\s+at /.test(r.error!.message), `${label}: no stack trace`);
            assert.equal(await fingerprint(db), start, `${label}: the database is unchanged`);
            const v = await verifyBackup(copy);
            // What the manifest alone shows is bad input; another service's table, a view or an
            // unowned table is only known against the config and the database (restore refused it).
            if (!['another service', 'a view', 'unowned'].includes(label)) assert.equal(v.error?.kind, 'input', `${label}: verify-backup exit 2`);
          }),
          { numRuns: 40 },
        );
        assert.ok(seen.size >= 15, `${seen.size} kinds of mutation tried`);
      } finally {
        ws.remove();
      }
    }));

  it('a json/jsonb column holding the JSON literal null: the table is written as csv, verifies and restores exactly', () =>
    withDatabase(backend, async (db) => {
      const q = { schema: 'public', name: 'docs' };
      await db.exec(`CREATE TABLE docs (id int PRIMARY KEY, jb jsonb, js json);
        INSERT INTO docs VALUES (1, 'null', 'null'), (2, NULL, NULL), (3, '{"a": null}', '[null]');
        CREATE TABLE plain (id int PRIMARY KEY, jb jsonb); INSERT INTO plain VALUES (1, '{"a": 1}'), (2, NULL);`);
      const ws = makeWorkspace({ app: { owns: ['docs', 'plain'] } });
      try {
        const original = await rows(db, q);
        const written = await backup({ cwd: ws.dir, database: db, out: tmpOut() });
        assert.ifError(written.error);
        assert.deepEqual(
          written.tables.map((t) => [t.name, t.format, t.file]),
          [
            ['docs', 'csv', 'data/public.docs.csv'],
            ['plain', 'ndjson', 'data/public.plain.ndjson'],
          ],
        );
        assert.match(written.notes.join('\n'), /public\.docs holds the JSON literal null in jb, js: written as csv/);
        assert.equal((await verifyBackup(written.dir!)).ok, true);
        await db.exec('DELETE FROM docs; DELETE FROM plain');
        const r = await restore({ cwd: ws.dir, database: db, dir: written.dir! });
        assert.ifError(r.error);
        assert.deepEqual(await rows(db, q), original);
        assert.equal((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM docs WHERE jb = 'null'::jsonb`)).rows[0].n, '1');
      } finally {
        ws.remove();
      }
    }));

  it('row-level security: backup refuses a role the policy filters (naming table and what it needs); restore works for the owner without FORCE and refuses before writing with FORCE', () =>
    withDatabase(backend, async (db, url) => {
      const role = `tidemark_rls_${randomBytes(5).toString('hex')}`;
      await db.exec(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
      const ws = makeWorkspace({ app: { owns: ['secret'] } });
      let asRole: Database | undefined;
      try {
        await ensureLedger(db);
        await db.exec(`CREATE TABLE secret (id int PRIMARY KEY, owner_only boolean);
          INSERT INTO secret SELECT g, g > 10 FROM generate_series(1, 30) g;
          ALTER TABLE secret OWNER TO ${role};
          ALTER TABLE secret ENABLE ROW LEVEL SECURITY; ALTER TABLE secret FORCE ROW LEVEL SECURITY;
          CREATE POLICY few ON secret USING (NOT owner_only);
          GRANT USAGE ON SCHEMA tidemark TO ${role}; GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA tidemark TO ${role};
          GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA tidemark TO ${role};`);
        if (backend.name === 'postgres') {
          const u = new URL(url);
          u.username = role;
          const { openDatabase } = await import('../../src/db/open.js');
          asRole = await openDatabase(u.toString());
        } else {
          // PGlite's COPY goes through a file (/dev/blob): a role needs the server-file roles for it.
          await db.exec(`GRANT pg_read_server_files, pg_write_server_files TO ${role}`);
          await db.exec(`SET ROLE ${role}`); // one session: the handle itself becomes the role
          asRole = db;
        }
        const before = await fingerprint(db);
        const out = tmpOut();
        const refused = await backup({ cwd: ws.dir, database: asRole, out });
        assert.equal(refused.error?.code, 'backup-row-security');
        assert.match(refused.error!.message, /Row-level security would hide rows of public\.secret/);
        assert.match(refused.error!.message, new RegExp(`from role ${role}`));
        assert.match(refused.error!.hint!, /BYPASSRLS/);
        assert.equal(fs.existsSync(out), false);
        assert.deepEqual(fs.readdirSync(path.dirname(out)), [], 'no partial folder left');

        // The owner without FORCE: a complete backup, and a restore that works.
        await asRole.exec('ALTER TABLE secret NO FORCE ROW LEVEL SECURITY');
        const written = await backup({ cwd: ws.dir, database: asRole, out: tmpOut() });
        assert.ifError(written.error);
        assert.equal(written.tables[0].rows, 30);
        await asRole.exec('DELETE FROM secret WHERE id > 25');
        const restored = await restore({ cwd: ws.dir, database: asRole, dir: written.dir!, replace: true });
        assert.ifError(restored.error);
        assert.equal(restored.tables[0].rows, 30);

        // With FORCE: refused before anything is written, saying what the role needs.
        await asRole.exec('ALTER TABLE secret FORCE ROW LEVEL SECURITY; DELETE FROM secret WHERE id > 25');
        const mid = await fingerprint(asRole === db ? db : asRole);
        const forced = await restore({ cwd: ws.dir, database: asRole, dir: written.dir!, replace: true });
        assert.equal(forced.error?.code, 'restore-row-security');
        assert.match(forced.error!.message, /secret \(owned by it, with FORCE ROW LEVEL SECURITY\)/);
        assert.equal(await fingerprint(asRole), mid, 'nothing written');
        assert.ok(before.length > 0);
      } finally {
        if (backend.name === 'pglite') await db.exec('RESET ROLE').catch(() => {});
        else await asRole?.close().catch(() => {});
        await db.exec(`DROP TABLE IF EXISTS secret; DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
        ws.remove();
      }
    }));

  it('backup folders: private parents under umask 000, --out through a symlink refused before any work, partial folders of dead processes removed', () =>
    withDatabase(backend, async (db) => {
      await db.exec(`CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (1)`);
      const ws = makeWorkspace({ app: { owns: ['users'] } });
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-folders-'));
      try {
        const old = process.umask(0);
        let written;
        try {
          written = await backup({ cwd: ws.dir, database: db, out: path.join(root, 'new', 'deeper', 'b') });
        } finally {
          process.umask(old);
        }
        assert.ifError(written.error);
        for (const d of ['new', 'new/deeper']) assert.equal(fs.statSync(path.join(root, d)).mode & 0o077, 0, `${d} is private`);

        const target = path.join(root, 'real');
        fs.mkdirSync(target);
        fs.symlinkSync(target, path.join(root, 'link'));
        const linked = await backup({ cwd: ws.dir, database: db, out: path.join(root, 'link') });
        assert.equal(linked.error?.code, 'backup-target-symlink');
        assert.equal(exitCodeFor(linked.error), 2);
        assert.deepEqual(fs.readdirSync(target), []);
        assert.ok(!fs.readdirSync(root).some((n) => n.includes('.tmp-')), 'no partial folder');

        // A partial folder of a process that is gone (and one without tidemark's marker, kept).
        const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
        const stale = path.join(root, `old.tmp-${dead.stdout}-deadbeef`);
        fs.mkdirSync(path.join(stale, 'data'), { recursive: true });
        fs.writeFileSync(path.join(stale, '.tidemark-partial'), JSON.stringify({ pid: Number(dead.stdout), host: os.hostname() }));
        const foreign = path.join(root, 'mine.tmp-1-cafebabe');
        fs.mkdirSync(foreign);
        const next = await backup({ cwd: ws.dir, database: db, out: path.join(root, 'next') });
        assert.ifError(next.error);
        assert.equal(fs.existsSync(stale), false, "the dead process's partial folder is gone");
        assert.equal(fs.existsSync(foreign), true, 'a folder without the marker is not ours');
        assert.match(next.notes.join('\n'), new RegExp(`a partial backup left by process ${dead.stdout}, which is gone`));
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
        ws.remove();
      }
    }));

  it('CLI: control characters in table names never reach the terminal raw; a multi-table server backup prints no node-postgres warning', async () => {
    if (backend.name !== 'postgres') return; // a child process cannot share a PGlite database
    await withDatabase(backend, async (db, url) => {
      await db.exec(`CREATE TABLE "evil\u001b[31mred" (id int PRIMARY KEY); INSERT INTO "evil\u001b[31mred" VALUES (1);
        CREATE TABLE other1 (id int); CREATE TABLE other2 (id int); INSERT INTO other1 VALUES (1);`);
      const ws = makeWorkspace({ app: { owns: ['*'] } });
      try {
        const out = tmpOut();
        const cli = await runCli(['backup', '--database', url, '--out', out], ws.dir);
        assert.equal(cli.code, 0, cli.stderr);
        assert.ok(!cli.stdout.includes('\u001b') && !cli.stderr.includes('\u001b'), JSON.stringify(cli.stdout + cli.stderr));
        assert.match(cli.stdout, /evil\\x1b\[31mred/);
        assert.ok(!/already executing a query/.test(cli.stderr), cli.stderr);
        const verify = await runCli(['verify-backup', out], ws.dir);
        assert.equal(verify.code, 0, verify.stderr);
        editManifest(out, (m) => Object.assign(m.tables[0], { schema: 'tidemark', name: 'applied' }));
        const bad = await runCli(['verify-backup', out], ws.dir);
        assert.equal(bad.code, 2, bad.stdout + bad.stderr);
        assert.match(bad.stderr, /tidemark's own ledger/);
        assert.ok(!/\n\s+at /.test(bad.stderr));
      } finally {
        ws.remove();
      }
    });
  });
});
