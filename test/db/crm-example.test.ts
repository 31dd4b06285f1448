/**
 * The CRM Ditual example (examples/crm-ditual): its two baseline migrations apply and revert on the
 * PostgreSQL server and on PGlite, and its data generator gives the same rows on both and on every run.
 *
 * Talks to the databases directly (pg and PGlite), not through src/db, so it proves the example
 * itself; the shared harness (test/support/backends.ts) did not exist when it was written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';

// ---------------------------------------------------------------------------------------------
// The example, found from the repository root (this file runs from dist/test/db after tsc).

function findExampleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'examples', 'crm-ditual');
    if (existsSync(path.join(candidate, 'data.mjs'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`examples/crm-ditual not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const EXAMPLE = findExampleDir();

interface CrmOptions {
  users?: number;
  budgetsPerUser?: number;
  itemsPerBudget?: number;
  batchSize?: number;
}
interface CrmCounts {
  users: number;
  budgets: number;
  budget_items: number;
}
interface CrmData {
  CRM_TABLES: readonly string[];
  crmDataStatements(opts?: CrmOptions): string[];
  crmCounts(opts?: CrmOptions): CrmCounts;
  crmDigestSql(): string;
}

const data = (await import(pathToFileURL(path.join(EXAMPLE, 'data.mjs')).href)) as CrmData;

interface Sections {
  header: string;
  up: string;
  down: string;
}

/** Split a tidemark SQL migration into its header, up and down sections. */
function readSections(relative: string): Sections {
  const text = readFileSync(path.join(EXAMPLE, relative), 'utf8');
  const lines = text.split('\n');
  const upAt = lines.findIndex((l) => /^--\s*tidemark:up\s*$/.test(l));
  const downAt = lines.findIndex((l) => /^--\s*tidemark:down\s*$/.test(l));
  assert.ok(upAt >= 0 && downAt > upAt, `${relative}: needs '-- tidemark:up' then '-- tidemark:down'`);
  return {
    header: lines.slice(0, upAt).join('\n'),
    up: lines.slice(upAt + 1, downAt).join('\n'),
    down: lines.slice(downAt + 1).join('\n'),
  };
}

const USER_001 = readSections('migrations/user/user_001_initial_schema.sql');
const BUDGET_001 = readSections('migrations/budget/budget_001_initial_schema.sql');

// 200 users -> 1,000 budgets -> 4,000 items.
const OPTS = { users: 200, budgetsPerUser: 5, itemsPerBudget: 4 } as const;
// crmDigestSql() of each table, with TimeZone UTC and DateStyle ISO. Pinned so that a change
// of the generator's output is a visible decision: the demo and the benchmarks rely on it.
const EXPECTED_DIGESTS: Record<string, string> = {
  users: 'aa32cb0c25badd2c4ac8ccaaec90fa7e',
  budgets: 'a9e486d0bf92514aaedce0961979e521',
  budget_items: '452007d9bcbf9b82ee9c6a297ae7ab96',
};

// ---------------------------------------------------------------------------------------------
// Two back-ends behind the few calls this test needs.

interface Session {
  name: string;
  /** Several statements, no parameters. */
  exec(sql: string): Promise<void>;
  rows<R>(sql: string): Promise<R[]>;
  close(): Promise<void>;
}

const SESSION_SETUP = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'";

const SERVER_URL = process.env.TIDEMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function serverAnswers(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    return `no PostgreSQL server at ${redact(SERVER_URL)} (${(err as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparsable url>';
  }
}

const serverMissing = await serverAnswers();
if (serverMissing && process.env.CI === 'true') throw new Error(`CI=true: ${serverMissing}`);
if (serverMissing) console.error(`!!! SKIPPING the server half of crm-example: ${serverMissing}`);

/** A fresh database on the server, dropped (WITH (FORCE)) when the session closes. */
async function openServer(): Promise<Session> {
  const name = `tidemark_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  try {
    await client.connect();
    await client.query(SESSION_SETUP);
  } catch (err) {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    throw err;
  }
  return {
    name: 'postgres',
    exec: async (sql) => {
      await client.query(sql);
    },
    rows: async <R>(sql: string) => (await client.query(sql)).rows as R[],
    close: async () => {
      await client.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function openPglite(): Promise<Session> {
  const db = await PGlite.create();
  await db.exec(SESSION_SETUP);
  return {
    name: 'pglite',
    exec: async (sql) => {
      await db.exec(sql);
    },
    rows: async <R>(sql: string) => (await db.query<R>(sql)).rows,
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// The scenario, identical on both back-ends.

async function one<R>(s: Session, sql: string): Promise<R> {
  const rows = await s.rows<R>(sql);
  assert.equal(rows.length, 1, `expected one row from: ${sql}`);
  return rows[0];
}

async function count(s: Session, sql: string): Promise<number> {
  return (await one<{ n: number }>(s, `SELECT (${sql})::int AS n`)).n;
}

async function load(s: Session, opts: CrmOptions): Promise<void> {
  for (const statement of data.crmDataStatements(opts)) await s.exec(statement);
}

async function digests(s: Session): Promise<Record<string, string>> {
  const rows = await s.rows<{ table: string; rows: unknown; digest: string }>(data.crmDigestSql());
  return Object.fromEntries(rows.map((r) => [r.table, r.digest]));
}

/** Runs the whole scenario on one back-end and returns the digests of the generated data. */
async function runScenario(s: Session): Promise<Record<string, string>> {
  const version = await count(s, "current_setting('server_version_num')");
  assert.ok(version >= 150000, `${s.name}: PostgreSQL ${version} is older than 15`);

  await s.exec(USER_001.up);
  await s.exec(BUDGET_001.up);

  await load(s, OPTS);
  const expected = data.crmCounts(OPTS);
  for (const table of data.CRM_TABLES) {
    assert.equal(await count(s, `SELECT count(*) FROM ${table}`), expected[table as keyof CrmCounts], `${s.name}: rows in ${table}`);
  }

  // Relationships: no orphans, K budgets per user, M items per budget, totals equal their items.
  assert.equal(await count(s, 'SELECT count(*) FROM budgets b WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = b.user_id)'), 0);
  assert.equal(await count(s, 'SELECT count(*) FROM budget_items i WHERE NOT EXISTS (SELECT 1 FROM budgets b WHERE b.id = i.budget_id)'), 0);
  assert.equal(await count(s, `SELECT count(*) FROM users u WHERE (SELECT count(*) FROM budgets b WHERE b.user_id = u.id) <> ${OPTS.budgetsPerUser}`), 0);
  assert.equal(
    await count(
      s,
      `SELECT count(*) FROM budgets b
         LEFT JOIN (SELECT budget_id, count(*) AS n, sum(unit_price) AS total FROM budget_items GROUP BY budget_id) i
           ON i.budget_id = b.id
        WHERE i.n IS DISTINCT FROM ${OPTS.itemsPerBudget} OR i.total IS DISTINCT FROM b.total_amount`,
    ),
    0,
    `${s.name}: every budget has its items and total_amount is their sum`,
  );
  assert.equal(await count(s, 'SELECT count(*) FROM budgets b JOIN users u ON u.id = b.user_id WHERE b.created_at <= u.created_at'), 0, `${s.name}: budgets are created after their owner`);

  // Variety the backups and restores must carry: NULLs, non-ASCII, every status and role, odd characters.
  const variety = await one<Record<string, number>>(
    s,
    `SELECT
       (SELECT count(*) FROM budgets WHERE commission_percentage_actual IS NULL)::int AS null_commissions,
       (SELECT count(DISTINCT status) FROM budgets)::int AS statuses,
       (SELECT count(DISTINCT role) FROM users)::int AS roles,
       (SELECT count(*) FROM users WHERE NOT is_active)::int AS inactive,
       (SELECT count(*) FROM users WHERE octet_length(name) > char_length(name))::int AS non_ascii_names,
       (SELECT count(DISTINCT lower(email)) FROM users)::int AS distinct_emails,
       (SELECT count(*) FROM budget_items WHERE description LIKE '%' || chr(10) || '%')::int AS newlines,
       (SELECT count(*) FROM budget_items WHERE position('\\' in description) > 0)::int AS backslashes`,
  );
  assert.equal(variety.null_commissions, Math.floor(expected.budgets / 6));
  assert.equal(variety.statuses, 5);
  assert.equal(variety.roles, 4);
  assert.equal(variety.distinct_emails, OPTS.users);
  for (const key of ['inactive', 'non_ascii_names', 'newlines', 'backslashes']) {
    assert.ok(variety[key] > 0, `${s.name}: generated data has ${key}`);
  }

  const first = await digests(s);
  // The digest sees a one-cent change.
  await s.exec('UPDATE budget_items SET unit_price = unit_price + 0.01 WHERE id = 1');
  const touched = await digests(s);
  assert.notEqual(touched.budget_items, first.budget_items, `${s.name}: the digest changes with the data`);
  assert.equal(touched.budgets, first.budgets);

  // A second run, in other batch sizes, gives the same bytes.
  await s.exec('TRUNCATE budget_items, budgets, users RESTART IDENTITY');
  await load(s, { ...OPTS, batchSize: 37 });
  assert.deepEqual(await digests(s), first, `${s.name}: a second run gives the same data`);

  // The identity sequences were moved past the explicit ids, and the constraints hold.
  const next = await one<{ id: unknown }>(s, "INSERT INTO users (email, name) VALUES ('novo@ditual.com.br', 'Novo Usuário') RETURNING id");
  assert.equal(Number(next.id), OPTS.users + 1);
  await assert.rejects(s.exec("INSERT INTO users (email, name) VALUES ('NOVO@ditual.com.br', 'Outro')"), /users_email_lower_key/);
  await assert.rejects(s.exec("INSERT INTO budgets (user_id, title) VALUES (999999, 'Órfão')"), /budgets_user_id_fkey/);
  await assert.rejects(s.exec("INSERT INTO budgets (user_id, title, status) VALUES (1, 'X', 'lost')"), /budgets_status_check/);
  await s.exec('DELETE FROM budgets WHERE id = 1');
  assert.equal(await count(s, 'SELECT count(*) FROM budget_items WHERE budget_id = 1'), 0, 'items cascade with their budget');

  // Down, in reverse order, leaves nothing behind.
  await s.exec(BUDGET_001.down);
  await s.exec(USER_001.down);
  assert.equal(await count(s, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"), 0, `${s.name}: the down sections drop every table, index and sequence`);
  return first;
}

// ---------------------------------------------------------------------------------------------

test('the generator validates its options and counts rows', () => {
  assert.deepEqual(data.crmCounts(), { users: 10000, budgets: 50000, budget_items: 200000 });
  assert.deepEqual(data.crmCounts({ users: 3, budgetsPerUser: 2, itemsPerBudget: 0 }), { users: 3, budgets: 6, budget_items: 0 });
  assert.throws(() => data.crmCounts({ users: -1 }), RangeError);
  assert.throws(() => data.crmCounts({ users: 1.5 }), RangeError);
  assert.throws(() => data.crmDataStatements({ batchSize: 0 }), RangeError);
  assert.throws(() => data.crmCounts({ user: 3 } as CrmOptions), TypeError);
  // Batches: 200 users in batches of 64 -> 4 INSERTs + 1 setval.
  const statements = data.crmDataStatements({ ...OPTS, batchSize: 64 });
  assert.equal(statements.filter((s) => s.startsWith('INSERT INTO users ')).length, 4);
  assert.deepEqual(data.crmDataStatements(OPTS), data.crmDataStatements(OPTS));
  for (const s of data.crmDataStatements(OPTS)) assert.doesNotMatch(s, /\b(random|now|clock_timestamp)\s*\(/i);
});

test('the budget baseline requires the user baseline', () => {
  assert.match(BUDGET_001.header, /^-- tidemark:requires user_001_initial_schema$/m);
  assert.ok(existsSync(path.join(EXAMPLE, 'migrations/user/user_001_initial_schema.sql')));
});

const results: Record<string, Record<string, string>> = {};

test('CRM example on PGlite (PostgreSQL 18)', async () => {
  const s = await openPglite();
  try {
    results.pglite = await runScenario(s);
  } finally {
    await s.close();
  }
});

test('CRM example on the PostgreSQL server', { skip: serverMissing }, async () => {
  const s = await openServer();
  try {
    results.postgres = await runScenario(s);
  } finally {
    await s.close();
  }
});

test('same data on every back-end, and the pinned digests', () => {
  assert.ok(results.pglite, 'the PGlite run produced digests');
  if (results.postgres) assert.deepEqual(results.postgres, results.pglite, 'PostgreSQL server and PGlite hold the same bytes');
  assert.deepEqual(results.pglite, EXPECTED_DIGESTS);
});
