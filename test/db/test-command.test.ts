/**
 * flows/test (the core of `tidemark test`) on PGlite and the server: four broken workspaces each fail with
 * their exact finding — a down that leaves a column behind, a down that drops too much, a migration using
 * another service's table without `requires`, two files with one number — and the CRM example passes.
 * One database per back-end, handed to the core as its shadow as `--shadow URL` would give it (the core never
 * reads the target itself): each run asks for a shadow once and the database is emptied again when the core
 * disposes of it (db/shadow-empty.ts, as for `--shadow URL`). A second PGlite instance would cost seconds.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { backup } from '../../src/api/backup.js';
import { up } from '../../src/api/migrate.js';
import { loadWorkspace } from '../../src/config/load.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import type { Shadow } from '../../src/db/shadow.js';
import { baseline, emptyAgain } from '../../src/db/shadow-empty.js';
import { type TestFinding, type TestReport, testMigrations } from '../../src/flows/test/index.js';
import { allowedOrders } from '../../src/flows/test/order.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { fakeTarget } from '../support/fake-target.js';
import { copyCrmExample, makeWorkspace, sqlMigration, type TempWorkspace } from '../support/workspace.js';

/** A one-service workspace `budget` (owns budgets) with the given migration files and their tidemark.sum. */
async function budgetWorkspace(files: Record<string, string>): Promise<TempWorkspace> {
  const ws = makeWorkspace({ budget: { owns: ['budgets'] } }, files);
  await writeSumFile('budget', path.join(ws.dir, 'migrations/budget'));
  return ws;
}

/** Adds `services.S.schema` to a makeWorkspace config (its helper writes none). */
function withSchema(ws: TempWorkspace, schemas: Record<string, string>): TempWorkspace {
  const file = path.join(ws.dir, 'tidemark.config.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  for (const [service, schema] of Object.entries(schemas)) config.services[service].schema = schema;
  writeFileSync(file, JSON.stringify(config, null, 2));
  return ws;
}

const failed = (r: TestReport) => r.findings.filter((f) => f.status === 'fail').map((f) => `${f.check} ${f.service} ${f.migration ?? '-'}: ${f.message}`);
const lineOf = (r: TestReport, migration: string) => r.findings.filter((f: TestFinding) => f.migration === migration).map((f) => `${f.check}:${f.status}`);

it('allowedOrders: every order `requires` allows, a required service first, config order first, at most 6', () => {
  const graph = (services: Record<string, string[]>) => ({ services: Object.entries(services).map(([name, requires]) => ({ name, requires, format: 'tidemark' as const })) });
  assert.deepEqual(allowedOrders(graph({ user: [], budget: ['user'], mail: [] }), ['user', 'budget', 'mail']), [
    ['user', 'budget', 'mail'],
    ['user', 'mail', 'budget'],
    ['mail', 'user', 'budget'],
  ]);
  assert.equal(allowedOrders(graph({ a: [], b: [], c: [], d: [] }), ['a', 'b', 'c', 'd']).length, 6);
  assert.deepEqual(allowedOrders(graph({ a: [], b: ['a'] }), ['b']), [['b']]);
});

forEachBackend('tidemark test core', (backend) => {
  let created: TestDatabase;
  let db: Database;
  const run = async (ws: TempWorkspace, options: { service?: string[]; requireDown?: boolean; fixtures?: string } = {}) => {
    try {
      const workspace = await loadWorkspace({ cwd: ws.dir });
      const empty = await baseline(db);
      const shadow: Shadow = { database: db, description: `the test database ${db.displayUrl}`, kind: 'url', dispose: () => emptyAgain(db, empty) };
      const target = fakeTarget(workspace, db, { openShadow: async () => shadow });
      const report = await testMigrations(target, options);
      assert.ok(target.shadowCalls.length <= 1, 'one shadow per run');
      return report;
    } finally {
      ws.remove();
    }
  };
  before(async () => {
    created = await backend.createDatabase();
    db = await openDatabase(created.url);
  });
  after(async () => {
    await db.close();
    await created.drop();
  });

  it('fails a down that leaves a column behind, naming the migration and the column; reports a migration without down', async () => {
    const r = await run(
      await budgetWorkspace({
        'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, name text NOT NULL);'),
        'migrations/budget/budget_002_currency.sql': sqlMigration("ALTER TABLE budgets ADD COLUMN currency text NOT NULL DEFAULT 'BRL';", 'SELECT 1;'),
        'migrations/budget/budget_003_notes.sql': sqlMigration('ALTER TABLE budgets ADD COLUMN notes text;', 'ALTER TABLE budgets DROP COLUMN notes;'),
      }),
    );
    assert.equal(r.ok, false);
    assert.deepEqual(failed(r), [
      'stairway budget budget_002_currency: budget_002_currency: its down does not undo its up: column budgets.currency exists in the schema after the down but not in the schema before the up',
    ]);
    assert.deepEqual(lineOf(r, 'budget_001_budgets'), ['no-down:reported']);
    assert.deepEqual(lineOf(r, 'budget_003_notes'), ['stairway:reported']);
    assert.match(r.shadow, /./);
  });

  it('fails a down that drops more than its up created; with requireDown a migration without down fails', async () => {
    const r = await run(
      await budgetWorkspace({
        'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, name text NOT NULL);'),
        'migrations/budget/budget_002_currency.sql': sqlMigration('ALTER TABLE budgets ADD COLUMN currency text;', 'ALTER TABLE budgets DROP COLUMN currency;\nALTER TABLE budgets DROP COLUMN name;'),
        'migrations/budget/budget_003_notes.sql': sqlMigration('ALTER TABLE budgets ADD COLUMN notes text;', 'ALTER TABLE budgets DROP COLUMN notes;'),
      }),
      { requireDown: true },
    );
    assert.deepEqual(failed(r), [
      'no-down budget budget_001_budgets: budget_001_budgets has no down section, so it cannot be reverted',
      'stairway budget budget_002_currency: budget_002_currency: its down does not undo its up: column budgets.name exists in the schema before the up but not in the schema after the down',
    ]);
    // No walk past the failure: budget_003 is untested, not passed.
    assert.deepEqual(lineOf(r, 'budget_003_notes'), ['stairway:reported']);
  });

  it('fails a migration that uses another service’s table without requiring that service', async () => {
    const ws = makeWorkspace(
      { user: { owns: ['users'] }, budget: { owns: ['budgets'] } },
      {
        'migrations/user/user_001_users.sql': sqlMigration('CREATE TABLE users (id int PRIMARY KEY, email text);', 'DROP TABLE users;'),
        // Runs outside a transaction through the executor, as `up` and `down` run it.
        'migrations/user/user_002_email_idx.sql': sqlMigration(
          'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);',
          'DROP INDEX CONCURRENTLY users_email_idx;',
          '-- tidemark:no-transaction\n',
        ),
        'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, user_id int REFERENCES users (id));', 'DROP TABLE budgets;'),
      },
    );
    for (const s of ['user', 'budget']) await writeSumFile(s, path.join(ws.dir, 'migrations', s));
    const r = await run(ws);
    // The doctor sees the REFERENCES in the file; the shadow proves it breaks a database where budget runs alone.
    assert.deepEqual(failed(r), [
      'history-rules budget budget_001_budgets: cross-service-reference: A migration of budget reads table users (REFERENCES), which user owns, and budget does not list user in `requires`.',
      'isolation budget budget_001_budgets: budget_001_budgets uses table users of service user; budget does not require user',
    ]);
    assert.deepEqual(lineOf(r, 'user_001_users'), ['stairway:pass']);
    assert.deepEqual(lineOf(r, 'user_002_email_idx'), ['stairway:pass']);
  });

  it('fails two files with one number through the history rules, without a shadow', async () => {
    const r = await run(
      await budgetWorkspace({
        'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY);'),
        'migrations/budget/budget_002_a.sql': sqlMigration('ALTER TABLE budgets ADD COLUMN a int;', 'ALTER TABLE budgets DROP COLUMN a;'),
        'migrations/budget/budget_002_b.sql': sqlMigration('ALTER TABLE budgets ADD COLUMN b int;', 'ALTER TABLE budgets DROP COLUMN b;'),
      }),
    );
    assert.equal(r.ok, false);
    const rules = r.findings.filter((f) => f.status === 'fail');
    assert.deepEqual(
      rules.map((f) => [f.check, f.service, f.migration, path.basename(f.file ?? '')]),
      [['history-rules', 'budget', 'budget_002_a', 'budget_002_a.sql']],
    );
    assert.match(rules[0].message, /^duplicate-id: .*number 002/);
    assert.equal(r.shadow, '');
  });

  it('fails services whose schema depends on the order `requires` leaves open', async () => {
    // b adds a column only when a's table is already there: fine alone, fine after a, different before a.
    const ws = makeWorkspace(
      { a: { owns: ['a_t'] }, b: { owns: ['b_t'] } },
      {
        'migrations/a/a_001_t.sql': sqlMigration('CREATE TABLE a_t (id int);', 'DROP TABLE a_t;'),
        'migrations/b/b_001_t.sql': sqlMigration(
          "CREATE TABLE b_t (id int);\nDO $$ BEGIN IF to_regclass('public.a_t') IS NOT NULL THEN EXECUTE 'ALTER TABLE b_t ADD COLUMN x int'; END IF; END $$;",
          'DROP TABLE b_t;',
        ),
      },
    );
    for (const s of ['a', 'b']) await writeSumFile(s, path.join(ws.dir, 'migrations', s));
    const r = await run(ws);
    assert.deepEqual(failed(r), ['order b -: b ends with another schema in the order b, a than in the order a, b: column b_t.x exists in the order a, b but not in the order b, a']);
  });

  it('data: fixtures load after their migration; a down that drops and re-adds a column fails naming it, lossy-down reports; the desired schema is compared', async () => {
    const ws = await budgetWorkspace({
      'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, name text, note text);', 'DROP TABLE budgets;'),
      // up, down, up keeps every row: passes.
      'migrations/budget/budget_002_currency.sql': sqlMigration("ALTER TABLE budgets ADD COLUMN currency text DEFAULT 'BRL';", 'ALTER TABLE budgets DROP COLUMN currency;'),
      // The schema comes back, the names do not.
      'migrations/budget/budget_003_name.sql': sqlMigration(
        'ALTER TABLE budgets ALTER COLUMN name TYPE varchar(100);',
        'ALTER TABLE budgets DROP COLUMN name;\nALTER TABLE budgets ADD COLUMN name text;',
      ),
      'migrations/budget/budget_004_note.sql': sqlMigration(
        'ALTER TABLE budgets ALTER COLUMN note TYPE varchar(200);',
        'ALTER TABLE budgets DROP COLUMN note;\nALTER TABLE budgets ADD COLUMN note text;',
        '-- tidemark:lossy-down\n',
      ),
      'tests/budget/budget_001_rows.sql': "INSERT INTO budgets (id, name, note) VALUES (1, 'rent', 'monthly'), (2, 'food', NULL), (3, 'car', 'loan');",
      'tests/budget/budget_009_typo.sql': 'SELECT 1;',
      // One column more than the history creates.
      'schema/budget.sql': "CREATE TABLE budgets (id int PRIMARY KEY, name varchar(100), note varchar(200), currency text DEFAULT 'BRL', owner text);",
    });
    const r = await run(withSchema(ws, { budget: 'schema/budget.sql' }));
    assert.deepEqual(failed(r), [
      'data budget -: the fixture budget_009_typo.sql names no migration of budget',
      'data budget budget_003_name: budget_003_name: its down loses data: column budgets.name holds other values after the down than before the up',
      "replay-equals-schema budget -: the replay of budget's history differs from its desired schema (schema/budget.sql): column budgets.owner exists in the desired schema but not in the replay of budget's history",
    ]);
    assert.deepEqual(lineOf(r, 'budget_002_currency'), ['data:pass', 'stairway:pass']);
    assert.deepEqual(lineOf(r, 'budget_004_note'), ['data:reported', 'stairway:pass']);
    assert.match(r.findings.find((f) => f.migration === 'budget_004_note' && f.check === 'data')!.message, /lossy-down.*column budgets\.note holds other values/);
    // No data line before a fixture put rows there.
    assert.deepEqual(lineOf(r, 'budget_001_budgets'), ['stairway:pass']);
  });

  it('data: two tables that print alike ("x.y" and x.y) are compared apart, and a migration’s SET TimeZone does not read as lost values', async () => {
    const ws = makeWorkspace(
      { app: { owns: ['"x.y"', 'x.y'] } },
      {
        'migrations/app/app_001_tables.sql': sqlMigration(
          'CREATE SCHEMA x;\nCREATE TABLE "x.y" (id int PRIMARY KEY, v text);\nCREATE TABLE x.y (id int PRIMARY KEY, at timestamptz);',
          'DROP TABLE x.y;\nDROP TABLE "x.y";\nDROP SCHEMA x;',
        ),
        // The session's time zone changes; no value does.
        'migrations/app/app_002_tz.sql': sqlMigration("SET TimeZone = 'Asia/Tokyo';\nALTER TABLE x.y ADD COLUMN n int;", 'ALTER TABLE x.y DROP COLUMN n;'),
        // The values of "x.y" (not of x.y) are lost by the down.
        'migrations/app/app_003_v.sql': sqlMigration('ALTER TABLE "x.y" ALTER COLUMN v TYPE varchar(10);', 'ALTER TABLE "x.y" DROP COLUMN v;\nALTER TABLE "x.y" ADD COLUMN v text;'),
        'tests/app/app_001_rows.sql': "INSERT INTO \"x.y\" VALUES (1, 'a'), (2, 'b');\nINSERT INTO x.y VALUES (1, '2026-01-01 10:00+00');",
      },
    );
    await writeSumFile('app', path.join(ws.dir, 'migrations/app'));
    const r = await run(ws);
    assert.deepEqual(failed(r), ['data app app_003_v: app_003_v: its down loses data: column "x.y".v holds other values after the down than before the up']);
    assert.deepEqual(lineOf(r, 'app_002_tz'), ['data:pass', 'stairway:pass']);
  });

  it('passes a desired schema equal to the replay; a fixture that does not load fails naming its file', async () => {
    const ws = await budgetWorkspace({
      'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, name text);', 'DROP TABLE budgets;'),
      'tests/budget/budget_001.sql': "INSERT INTO budgets (id, nme) VALUES (1, 'rent');",
      'schema/budget.sql': 'CREATE TABLE budgets (id int PRIMARY KEY, name text);',
    });
    const r = await run(withSchema(ws, { budget: 'schema/budget.sql' }));
    assert.deepEqual(failed(r), ['data budget budget_001_budgets: the fixture budget_001.sql does not load after budget_001_budgets: column "nme" of relation "budgets" does not exist']);
    assert.deepEqual(
      r.findings.filter((f) => f.check === 'replay-equals-schema').map((f) => `${f.status}: ${f.message}`),
      ["pass: the replay of budget's history equals its desired schema"],
    );
  });

  it('--fixtures: a backup’s rows are restored after the last migration its ledger names, and a later lossy down fails on them', async () => {
    const ws = await budgetWorkspace({
      'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY, name text);', 'DROP TABLE budgets;'),
      'migrations/budget/budget_002_name.sql': sqlMigration(
        'ALTER TABLE budgets ALTER COLUMN name TYPE varchar(100);',
        'ALTER TABLE budgets DROP COLUMN name;\nALTER TABLE budgets ADD COLUMN name text;',
      ),
    });
    // The backup of a database at budget_001 holding two rows, taken on this same database, then emptied again.
    const empty = await baseline(db);
    try {
      assert.ifError((await up({ cwd: ws.dir, database: db, to: 'budget_001' })).error);
      await db.exec("INSERT INTO budgets VALUES (1, 'rent'), (2, 'food')");
      assert.ifError((await backup({ cwd: ws.dir, database: db, service: ['budget'], out: 'backups/at-001' })).error);
    } finally {
      await emptyAgain(db, empty);
    }
    const r = await run(ws, { fixtures: 'backups/at-001' });
    assert.deepEqual(failed(r), ['data budget budget_002_name: budget_002_name: its down loses data: column budgets.name holds other values after the down than before the up']);
    // Restored after budget_001's up: no data line for it.
    assert.deepEqual(lineOf(r, 'budget_001_budgets'), ['stairway:pass']);
  });

  it('passes the CRM example', async () => {
    const r = await run(copyCrmExample());
    assert.deepEqual(failed(r), []);
    assert.equal(r.ok, true);
    assert.deepEqual(
      r.findings.filter((f) => f.check === 'stairway').map((f) => `${f.migration}:${f.status}`),
      ['user_001_initial_schema:pass', 'budget_001_initial_schema:pass'],
    );
    assert.deepEqual(
      r.findings.filter((f) => f.check === 'isolation').map((f) => `${f.service}:${f.status}`),
      ['user:pass', 'budget:pass'],
    );
    // Its schema/*.sql files (the `schema:` keys) are what its history builds.
    assert.deepEqual(
      r.findings.filter((f) => f.check === 'replay-equals-schema').map((f) => `${f.service}:${f.status}`),
      ['user:pass', 'budget:pass'],
    );
  });
});
