/**
 * Names with a dot, quotes or case reach exactly the object they name (issue 11 §3), on PGlite and the
 * server: `reset` drops only what the service owns as (schema, name) pairs — never a table whose name
 * merely reads like `schema.table` — and reports what it dropped per object and kind; a quoted
 * `schema:"My"*` entry owns the tables of "My Schema" for backup and the doctor. Generated hostile names
 * (dots, quotes, spaces, unicode, reserved words, 63 bytes, case) through up → reset → check --db.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { up } from '../../src/api/migrate.js';
import { check } from '../../src/api/check.js';
import { ownsEntryFor } from '../../src/config/owns.js';
import { backup } from '../../src/api/backup.js';
import type { Database } from '../../src/db/database.js';
import { reset } from '../../src/api/flows.js';
import { describeCounts, describeObject } from '../../src/report/reset-report.js';
import { displayName, literal, nameKey, quoteIdent, quoteQualified, type QualifiedName } from '../../src/sql/ident.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { hostileQualifiedName } from '../support/hostile-names.js';
import { makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

/** One table's state: its columns and every row, as one string (equal = untouched). */
async function tablePrint(db: Database, q: QualifiedName): Promise<string> {
  const cols = await db.query<{ c: string }>(
    `SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum) AS c
       FROM pg_attribute a WHERE a.attrelid = ${literal(quoteQualified(q))}::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  const rows = await db.query<{ r: string | null; n: string }>(`SELECT string_agg(t::text, '|' ORDER BY t::text) AS r, count(*) AS n FROM ONLY ${quoteQualified(q)} AS t`);
  return `${cols.rows[0].c}\n${rows.rows[0].n}\n${rows.rows[0].r ?? ''}`;
}

async function rowCount(db: Database, q: QualifiedName): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualified(q)}`)).rows[0].n);
}

function createSql(tables: readonly QualifiedName[]): string {
  const schemas = [...new Set(tables.map((t) => t.schema))].filter((s) => s !== 'public');
  return [...schemas.map((s) => `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)};`), ...tables.map((t) => `CREATE TABLE ${quoteQualified(t)} (id int PRIMARY KEY, note text);`)].join('\n');
}

/** Everything a run created: user schemas and tables, the ledger rows. */
async function cleanDatabase(db: Database): Promise<void> {
  const rels = await db.query<QualifiedName>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  for (const r of rels.rows) await db.exec(`DROP TABLE IF EXISTS ${quoteQualified(r)} CASCADE`);
  const schemas = await db.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark', 'public') AND nspname NOT LIKE 'pg\\_%'`);
  for (const s of schemas.rows) await db.exec(`DROP SCHEMA ${quoteIdent(s.n)} CASCADE`);
  await db.exec(`DELETE FROM tidemark.applied`);
}

forEachBackend('owns: names with dots, quotes and case', (backend) => {
  it('reset of the owner of sales.orders leaves the table public."sales.orders" (and its 50 rows) alone', () =>
    withDatabase(backend, async (db, url) => {
      const ws = makeWorkspace(
        { user: { owns: ['sales.orders', 'users'] }, budget: { owns: ['budgets'] }, other: { owns: ['"sales.orders"'] } },
        {
          'migrations/user/user_001_init.sql': sqlMigration('CREATE SCHEMA IF NOT EXISTS sales;\nCREATE TABLE sales.orders (id int);\nCREATE TABLE users (id int);'),
          'migrations/budget/budget_001_init.sql': sqlMigration('CREATE TABLE budgets (id int);'),
          'migrations/other/other_001_init.sql': sqlMigration('CREATE TABLE "sales.orders" (id int PRIMARY KEY, note text);'),
        },
      );
      try {
        assert.ifError((await up({ cwd: ws.dir, database: db })).error);
        const lookalike = { schema: 'public', name: 'sales.orders' };
        const owned = { schema: 'sales', name: 'orders' };
        await db.exec(`INSERT INTO "sales.orders" SELECT g, 'row ' || g FROM generate_series(1, 50) g; INSERT INTO sales.orders SELECT generate_series(1, 7)`);
        const before = await tablePrint(db, lookalike);
        const r = await reset({ cwd: ws.dir, database: db, service: ['user', 'budget'] });
        assert.ifError(r.error);
        assert.equal(await tablePrint(db, lookalike), before, 'public."sales.orders" untouched');
        assert.equal(await rowCount(db, lookalike), 50);
        assert.equal(await rowCount(db, owned), 0, 'the owned sales.orders was dropped and re-created');
        const user = r.services.find((s) => s.service === 'user')!;
        assert.deepEqual(user.dropped.map((d) => displayName(d.name)).sort(), ['sales.orders', 'users']);
        assert.doesNotMatch(user.dropSql, /"sales\.orders"/);
        if (backend.name === 'postgres') {
          // backup --table takes the same grammar: the quoted name is the one table with a dot.
          const out = `${ws.dir}/b-lookalike`;
          const cli = await runCli(['backup', '--table', '"sales.orders"', '--out', out, '--database', url, '--json'], ws.dir);
          assert.equal(cli.code, 0, cli.stderr);
          const result = JSON.parse(cli.stdout) as { rows: number; tables: { table: string; rows: number }[] };
          assert.equal(result.rows, 50);
          const bad = await runCli(['backup', '--table', 'Sales.Orders', '--out', `${ws.dir}/b-bad`, '--database', url], ws.dir);
          assert.equal(bad.code, 2);
          assert.match(bad.stderr, /--table `Sales\.Orders` has capital letters outside quotes/);
          assert.match(bad.stderr, /"Sales"\."Orders"/);
        }
      } finally {
        ws.remove();
      }
    }));

  it('schema:"My"* owns the tables of "My Schema" (a dotted one too): backed up, and not unowned for the doctor', () =>
    withDatabase(backend, async (db, url) => {
      const mine = [
        { schema: 'My Schema', name: 'budgets' },
        { schema: 'My Schema', name: 'a.b' },
      ];
      const ws = makeWorkspace(
        { user: { owns: ['users'] }, budget: { owns: ['schema:"My"*'] } },
        {
          'migrations/user/user_001_init.sql': sqlMigration('CREATE TABLE users (id int PRIMARY KEY);'),
          'migrations/budget/budget_001_init.sql': sqlMigration(createSql(mine)),
        },
      );
      try {
        assert.ifError((await up({ cwd: ws.dir, database: db })).error);
        for (const t of mine) await db.exec(`INSERT INTO ${quoteQualified(t)} VALUES (1, 'x'), (2, 'y')`);
        const report = await check({ cwd: ws.dir, database: db, db: true });
        assert.ifError(report.error);
        assert.deepEqual(
          report.diagnostics.filter((d) => d.rule === 'unowned-object'),
          [],
        );
        const out = `${ws.dir}/backup-budget`;
        const b = await backup({ cwd: ws.dir, database: backend.name === 'postgres' ? url : db, service: ['budget'], out });
        assert.ifError(b.error);
        assert.equal(b.tables.length, 2, JSON.stringify(b.tables.map((t) => t.table)));
        assert.equal(b.rows, 4);
        assert.ok(b.tables.every((t) => t.service === 'budget'));
      } finally {
        ws.remove();
      }
    }));

  it('reset reports every table it dropped (9 tables → 9), by kind', () =>
    withDatabase(backend, async (db, url) => {
      const tables = Array.from({ length: 9 }, (_, i) => `t${i + 1}`);
      const ws = makeWorkspace(
        { app: { owns: ['t*', 'v_all', 'counter', 'mood'] } },
        {
          'migrations/app/app_001_init.sql': sqlMigration(
            [...tables.map((t) => `CREATE TABLE ${t} (id serial PRIMARY KEY);`), 'CREATE VIEW v_all AS SELECT id FROM t1;', 'CREATE SEQUENCE counter;', "CREATE TYPE mood AS ENUM ('ok');"].join('\n'),
          ),
        },
      );
      try {
        assert.ifError((await up({ cwd: ws.dir, database: db })).error);
        const r = await reset({ cwd: ws.dir, database: db, service: 'app' });
        assert.ifError(r.error);
        assert.equal(describeCounts(r.services[0].dropped), '9 tables, 1 view, 1 sequence, 1 type');
        if (backend.name === 'postgres') {
          const cli = await runCli(['reset', '--service', 'app', '--database', url], ws.dir);
          assert.equal(cli.code, 0, cli.stderr);
          assert.match(cli.stdout, /reset app: dropped 9 tables, 1 view, 1 sequence, 1 type, forgot 1 ledger row/);
        }
        const dry = await reset({ cwd: ws.dir, database: db, service: 'app', dryRun: true });
        assert.deepEqual(
          dry.services[0].dropped.map(describeObject).filter((d) => d.startsWith('table')),
          tables.map((t) => `table ${t}`),
        );
      } finally {
        ws.remove();
      }
    }));

  it('generated hostile names: reset of one service drops and re-creates only its own tables; check --db finds none unowned', () =>
    withDatabase(backend, async (db) => {
      await up({ cwd: makeWorkspace({ init: {} }).dir, database: db }); // creates the ledger once
      const tables = fc.uniqueArray(hostileQualifiedName(), { minLength: 2, maxLength: 4, selector: (q) => nameKey(q) }).filter((qs) => qs.every((q) => !q.name.startsWith('alembic_version')));
      await fc.assert(
        fc.asyncProperty(tables, fc.integer({ min: 1, max: 3 }), fc.constantFrom('needed' as const, 'always' as const), async (all, split, quote) => {
          const cut = Math.min(split, all.length - 1);
          const mine = all.slice(0, cut);
          const theirs = all.slice(cut);
          const ws = makeWorkspace(
            { mine: { owns: mine.map((q) => ownsEntryFor(q, quote)) }, theirs: { owns: theirs.map((q) => ownsEntryFor(q, quote)) } },
            {
              'migrations/mine/mine_001_init.sql': sqlMigration(createSql(mine)),
              'migrations/theirs/theirs_001_init.sql': sqlMigration(createSql(theirs)),
            },
          );
          try {
            const applied = await up({ cwd: ws.dir, database: db });
            assert.ifError(applied.error);
            for (const t of all) await db.exec(`INSERT INTO ${quoteQualified(t)} SELECT g, ${literal(displayName(t))} FROM generate_series(1, 3) g`);
            const before = await Promise.all(theirs.map((t) => tablePrint(db, t)));
            const r = await reset({ cwd: ws.dir, database: db, service: 'mine' });
            assert.ifError(r.error);
            assert.deepEqual(r.services[0].dropped.map((d) => nameKey(d.name)).sort(), mine.map((q) => nameKey(q)).sort(), 'dropped exactly its own tables');
            for (const t of mine) assert.equal(await rowCount(db, t), 0, `${displayName(t)} re-created empty`);
            assert.deepEqual(await Promise.all(theirs.map((t) => tablePrint(db, t))), before, "the other service's tables untouched");
            // drift: false: this loop is about unowned-object; the first case already checks drift with these names.
            const report = await check({ cwd: ws.dir, database: db, db: true, drift: false });
            assert.ifError(report.error);
            assert.deepEqual(
              report.diagnostics.filter((d) => d.rule === 'unowned-object').map((d) => d.message),
              [],
            );
          } finally {
            ws.remove();
            await cleanDatabase(db);
          }
        }),
        { numRuns: backend.name === 'pglite' ? 8 : 12 },
      );
    }));
});
