/**
 * Promises issue 11 left half-kept, on PGlite and the server (one database per back-end, three cases):
 * - migration numbers are compared exactly: `app_9007199254740992_…` and `app_9007199254740993_…` are two
 *   migrations, applied, listed and reverted in that order (as JavaScript numbers they were one number: a
 *   duplicate), and `new` writes `…994`;
 * - reset drops a schema the service owns as a whole (`schema:crm`) once its objects are gone, so a
 *   migration that says `CREATE SCHEMA crm` replays as on a fresh database, and counts it by kind;
 * - softRelations ends and `restore --fill` keys are column references in the owns grammar: `"a.b".c.ref`
 *   and `a."b.c".ref` are columns of two different tables, each checked and filled on its own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { down, status, up } from '../../src/api/migrate.js';
import { renumber } from '../../src/api/renumber.js';
import { backup } from '../../src/api/backup.js';
import { restore } from '../../src/api/restore.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { reset } from '../../src/api/flows.js';
import { validate } from '../../src/api/validate.js';
import { createMigrationFile } from '../../src/history/new-migration.js';
import { describeCounts } from '../../src/report/reset-report.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { makeWorkspace, sqlMigration } from '../support/workspace.js';

const LOW = 'app_9007199254740992_create';
const HIGH = 'app_9007199254740993_alter';

forEachBackend('exact numbers, owned schemas, dotted column names', (backend) => {
  let target: TestDatabase;
  let db: Database;
  before(async () => {
    target = await backend.createDatabase();
    db = await openDatabase(target.url);
  });
  after(async () => {
    await db?.close();
    await target?.drop();
  });

  it('numbers past 2^53 are two migrations: up --to, status, the rest, down --steps 1, new, renumber', async () => {
    const ws = makeWorkspace(
      { app: { owns: ['n1'] } },
      {
        [`migrations/app/${LOW}.sql`]: sqlMigration('CREATE TABLE n1 (id int);', 'DROP TABLE n1;'),
        // runs only after LOW: in the wrong order it fails (no table n1)
        [`migrations/app/${HIGH}.sql`]: sqlMigration('ALTER TABLE n1 ADD note text;', 'ALTER TABLE n1 DROP note;'),
      },
    );
    try {
      const first = await up({ cwd: ws.dir, database: db, to: 'app_9007199254740992' });
      assert.ifError(first.error);
      assert.deepEqual(
        first.results.map((r) => [r.migration, r.status]),
        [[LOW, 'applied']],
      );
      const between = await status({ cwd: ws.dir, database: db });
      assert.ifError(between.error);
      assert.deepEqual(
        between.services[0].migrations.map((m) => [m.migration, m.state]),
        [
          [LOW, 'applied'],
          [HIGH, 'pending'],
        ],
      );
      const rest = await up({ cwd: ws.dir, database: db });
      assert.ifError(rest.error);
      assert.deepEqual(
        rest.results.map((r) => [r.migration, r.status]),
        [[HIGH, 'applied']],
      );
      const back = await down({ cwd: ws.dir, database: db, service: 'app', steps: 1 });
      assert.ifError(back.error);
      assert.deepEqual(
        back.results.map((r) => r.migration),
        [HIGH],
        'the higher number is the newest',
      );

      const dir = path.join(ws.dir, 'migrations/app');
      const made = await createMigrationFile('app', dir, 'next');
      assert.equal(made.id, 'app_9007199254740994_next');
      const moves = await renumber({ cwd: ws.dir, service: 'app', dryRun: true });
      assert.ifError(moves.error);
      assert.deepEqual(moves.moves, [], 'no duplicate numbers');
      assert.equal(readdirSync(dir).filter((f) => f.endsWith('.sql')).length, 3);
    } finally {
      ws.remove();
    }
  });

  it('reset drops the schema the service owns as a whole, then CREATE SCHEMA replays', async () => {
    const ws = makeWorkspace(
      { crm: { owns: ['schema:crm'] } },
      {
        'migrations/crm/crm_001_init.sql': sqlMigration(
          'CREATE SCHEMA crm;\nCREATE TABLE crm.accounts (id int PRIMARY KEY);\nCREATE FUNCTION crm.one() RETURNS int LANGUAGE sql AS $$SELECT 1$$;',
          'DROP FUNCTION crm.one();\nDROP TABLE crm.accounts;\nDROP SCHEMA crm;',
        ),
      },
    );
    try {
      assert.ifError((await up({ cwd: ws.dir, database: db })).error);
      await db.exec('INSERT INTO crm.accounts VALUES (1), (2)');
      const done = await reset({ cwd: ws.dir, database: db, service: 'crm' });
      assert.ifError(done.error);
      assert.equal(describeCounts(done.services[0].dropped), '1 table, 1 function, 1 schema');
      assert.deepEqual(done.services[0].keptSchemas, []);
      assert.deepEqual(
        done.migrate?.results.map((r) => [r.migration, r.status]),
        [['crm_001_init', 'applied']],
      );
      assert.equal(Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM crm.accounts')).rows[0].n), 0, 'recreated empty');
      const events = await db.query<{ detail: { dropped: { kind: string; count: number }[] } }>(`SELECT detail FROM tidemark.events WHERE action = 'reset'`);
      assert.deepEqual(events.rows.at(-1)?.detail.dropped, [
        { kind: 'table', count: 1 },
        { kind: 'function', count: 1 },
        { kind: 'schema', count: 1 },
      ]);
      const dry = await reset({ cwd: ws.dir, database: db, service: 'crm', dryRun: true });
      assert.ifError(dry.error);
      assert.ok(
        dry.services[0].dropped.some((d) => d.kind === 'schema' && d.name.schema === 'crm'),
        'the dry run lists the schema',
      );

      // A schema that still holds something after the drop is kept, with PostgreSQL's reason. What reset
      // neither drops nor refuses: an extension installed into it (a contrib one: the server only).
      const contrib = await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pgcrypto'`);
      if (backend.name === 'postgres' && contrib.rows.length) {
        await db.exec('CREATE EXTENSION pgcrypto SCHEMA crm');
        const kept = await reset({ cwd: ws.dir, database: db, service: 'crm' });
        assert.equal(describeCounts(kept.services[0].dropped), '1 table, 1 function');
        assert.deepEqual(
          kept.services[0].keptSchemas.map((k) => k.schema),
          ['crm'],
        );
        assert.match(kept.services[0].keptSchemas[0].reason, /extension pgcrypto/);
        // …so `CREATE SCHEMA crm` cannot replay, and the error says why
        assert.equal(kept.error?.code, 'reset-reapply-failed');
        assert.match(kept.error?.hint ?? '', /schema crm was kept: .*extension pgcrypto/);
      }
    } finally {
      ws.remove();
    }
  });

  it('softRelations and --fill: "a.b".c.ref and a."b.c".ref are two tables, each checked and filled on its own', async () => {
    const ws = makeWorkspace({ s: {} });
    const out = mkdtempSync(path.join(os.tmpdir(), 'tidemark-exact-'));
    try {
      writeFileSync(
        path.join(ws.dir, 'tidemark.config.json'),
        JSON.stringify({
          services: { s: { migrations: 'migrations/s', owns: ['p', '"a.b".c', 'a."b.c"'] } },
          softRelations: [
            { from: '"a.b".c.ref', to: 'p.id' },
            { from: 'a."b.c".ref', to: 'public.p.id' },
          ],
        }),
      );
      await db.exec(`CREATE SCHEMA "a.b"; CREATE SCHEMA a;
        CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1), (2);
        CREATE TABLE "a.b".c (id int PRIMARY KEY, ref int); INSERT INTO "a.b".c VALUES (1, 1), (2, 99);
        CREATE TABLE a."b.c" (id int PRIMARY KEY, ref int); INSERT INTO a."b.c" VALUES (1, 2);`);
      const checked = await validate({ cwd: ws.dir, database: db, service: 's', structure: false });
      assert.ifError(checked.error);
      assert.deepEqual(
        checked.relationships.map((r) => [r.from, r.to, r.orphans]),
        [
          ['"a.b".c(ref)', 'p(id)', 1],
          ['a."b.c"(ref)', 'p(id)', 0],
        ],
      );
      assert.deepEqual(
        checked.findings.map((f) => f.table),
        ['"a.b".c'],
        'only the dotted schema has an orphan',
      );

      const dir = path.join(out, 'bk');
      assert.ifError((await backup({ cwd: ws.dir, database: db, service: 's', out: dir })).error);
      // Both tables gain a NOT NULL column without a default: restore needs a --fill for each.
      for (const t of ['"a.b".c', 'a."b.c"']) await db.exec(`ALTER TABLE ${t} ADD note text NOT NULL DEFAULT 'old'; ALTER TABLE ${t} ALTER note DROP DEFAULT;`);
      const refused = await restore({ cwd: ws.dir, database: db, dir, replace: true });
      assert.equal(refused.error?.code, 'restore-missing-column');
      assert.match(refused.error?.hint ?? '', /--fill '"a\.b"\.c\.note=value'/);
      assert.match(refused.error?.hint ?? '', /--fill 'a\."b\.c"\.note=value'/);
      const filled = await restore({ cwd: ws.dir, database: db, dir, replace: true, fill: { '"a.b".c.note': 'in schema a.b', 'a."b.c".note': 'table b.c' } });
      assert.ifError(filled.error);
      const notes = async (t: string) => (await db.query<{ note: string }>(`SELECT DISTINCT note FROM ${t}`)).rows.map((r) => r.note);
      assert.deepEqual(await notes('"a.b".c'), ['in schema a.b']);
      assert.deepEqual(await notes('a."b.c"'), ['table b.c']);
    } finally {
      ws.remove();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
