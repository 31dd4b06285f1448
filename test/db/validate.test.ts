/**
 * validate on PGlite and the server: the CRM example clean (its live schema equals its migrations,
 * which on the server proves the PostgreSQL 15 vs 18 normalization), orphans through a soft relation
 * and through a NOT VALID foreign key, counts against a manifest, and structure drift.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { up } from '../../src/api/migrate.js';
import { runValidate } from '../../src/cli/validate-command.js';
import { compareStructures, normalizeSql, type TableStructure } from '../../src/data/structure.js';
import { backup } from '../../src/api/backup.js';
import type { Manifest } from '../../src/data/manifest.js';
import type { ValidateResult } from '../../src/data/validate.js';
import { validate } from '../../src/api/validate.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { openShadow } from '../../src/db/shadow.js';
import { validate as validateTarget } from '../../src/flows/validate.js';
import type { Workspace } from '../../src/config/types.js';
import { withTx } from '../../src/target/target.js';
import { fakeTarget } from '../support/fake-target.js';
import { backends, forEachBackend, withDatabase } from '../support/backends.js';
import { CRM_EXAMPLE, copyCrmExample, makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

interface CrmData {
  crmDataStatements(opts?: { users?: number }): string[];
}
const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as CrmData;

const SOFT = `  softRelations: [{ from: 'budgets.user_id', to: 'users.id' }],\n};`;

/** The CRM example with a softRelations entry, migrated, with 50 users of data. */
async function loadCrm(db: Database): Promise<TempWorkspace> {
  const ws = copyCrmExample();
  const configFile = path.join(ws.dir, 'tidemark.config.mjs');
  const text = fs.readFileSync(configFile, 'utf8');
  fs.writeFileSync(configFile, text.replace(/};\s*$/, `${SOFT}\n`));
  const applied = await up({ cwd: ws.dir, database: db });
  assert.ifError(applied.error);
  for (const sql of crm.crmDataStatements({ users: 50 })) await db.exec(sql);
  return ws;
}

function findings(result: ValidateResult, check?: string): string[] {
  return result.findings.filter((f) => !check || f.check === check).map((f) => f.message);
}

/** runValidate in process: its stdout and exit code, with process.exitCode restored afterwards. */
async function cli(flags: Parameters<typeof runValidate>[0]): Promise<{ code: number; stdout: string }> {
  const write = process.stdout.write.bind(process.stdout);
  const saved = process.exitCode;
  let stdout = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  try {
    await runValidate(flags);
    return { code: Number(process.exitCode ?? 0), stdout };
  } finally {
    process.stdout.write = write;
    process.exitCode = saved;
  }
}

forEachBackend('validate', (backend) => {
  it('the CRM example, migrated with data and a soft relation, is clean (exit 0)', () =>
    withDatabase(backend, async (db, url) => {
      const ws = await loadCrm(db);
      try {
        const result = await validate({ cwd: ws.dir, database: db });
        assert.ifError(result.error);
        assert.deepEqual(result.findings, [], JSON.stringify(result.findings, null, 2));
        assert.equal(result.ok, true);
        assert.deepEqual(result.tables, ['public.budget_items', 'public.budgets', 'public.users']);
        // two foreign keys and the soft relation, all without orphans
        assert.deepEqual(result.relationships.map((r) => `${r.kind} ${r.from} -> ${r.to} ${r.orphans}`).sort(), [
          'foreign-key budget_items(budget_id) -> budgets(id) 0',
          'foreign-key budgets(user_id) -> users(id) 0',
          'soft budgets(user_id) -> users(id) 0',
        ]);
        if (backend.name === 'postgres') {
          // A temporary database on the target server (PostgreSQL 15 itself), one per service, dropped afterwards.
          assert.equal(result.shadowKind, 'same-server');
          const major = Math.floor((await db.serverVersionNum()) / 10000);
          const m = /^temporary database (tidemark_shadow_\d+_[0-9a-f]{6}_[0-9a-f]{8}) on the target server \(PostgreSQL (\d+)\), a fresh one for each of the 2 services$/.exec(result.shadow ?? '');
          assert.ok(m, result.shadow);
          assert.equal(Number(m[2]), major);
          const left = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_database WHERE datname = $1`, [m[1]]);
          assert.equal(left.rows[0].n, '0');
        } else {
          assert.equal(result.shadowKind, 'pglite');
          assert.equal(result.shadow, 'in-process PGlite (PostgreSQL 18)');
        }

        // The CLI opens the URL itself: PGlite's data directory is locked by this process's open db.
        if (backend.name === 'postgres') {
          const run = await cli({ config: path.join(ws.dir, 'tidemark.config.mjs'), database: url });
          assert.equal(run.code, 0, run.stdout);
          assert.match(run.stdout, /✓ 3 tables of user, budget/);
        }
      } finally {
        ws.remove();
      }
    }));

  it('an orphan through a soft relation (no foreign key) is a finding with its count and sample keys', () =>
    withDatabase(backend, async (db, url) => {
      const ws = makeWorkspace(
        { user: { owns: ['users'] }, budget: { owns: ['budgets'], requires: ['user'] } },
        {
          'migrations/user/user_001_users.sql': sqlMigration('CREATE TABLE users (id bigint PRIMARY KEY, email text);', 'DROP TABLE users;'),
          'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id bigint PRIMARY KEY, user_id bigint, title text NOT NULL);', 'DROP TABLE budgets;'),
        },
      );
      try {
        const config = JSON.parse(fs.readFileSync(path.join(ws.dir, 'tidemark.config.json'), 'utf8'));
        config.softRelations = [{ from: 'budgets.user_id', to: 'users.id' }];
        fs.writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(config));
        assert.ifError((await up({ cwd: ws.dir, database: db })).error);
        await db.exec(`INSERT INTO users VALUES (1, 'a@x'), (2, 'b@x');
          INSERT INTO budgets VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 7, 'c'), (4, 9, 'd'), (5, NULL, 'e'), (6, 9, 'f'), (7, 12, 'g')`);

        const result = await validate({ cwd: ws.dir, database: db });
        assert.ifError(result.error);
        assert.equal(result.ok, false);
        assert.deepEqual(findings(result, 'structure'), []);
        const [f, ...rest] = result.findings;
        assert.deepEqual(rest, []);
        assert.equal(f.check, 'relationships');
        assert.equal(f.service, 'budget');
        assert.equal(f.table, 'public.budgets');
        assert.match(f.message, /soft relation budgets\.user_id → users\.id: 4 rows of budgets\(user_id\) point at no row of users\(id\)/);
        assert.deepEqual(f.samples, ['12', '7', '9']);
        const soft = result.relationships.find((r) => r.kind === 'soft');
        assert.equal(soft?.orphans, 4);

        // Only the user service selected: the relation still concerns it (its table is the parent).
        const userOnly = await validate({ cwd: ws.dir, database: db, service: 'user', structure: false });
        assert.equal(userOnly.findings.length, 1);

        // A soft relation between columns of different types (text → bigint) compares their text.
        await db.exec(`CREATE TABLE budget_notes (id int PRIMARY KEY, user_ref text); INSERT INTO budget_notes VALUES (1, '1'), (2, 'x'), (3, NULL)`);
        config.softRelations.push({ from: 'budget_notes.user_ref', to: 'users.id' }, { from: 'budgets.owner_id', to: 'users.id' });
        fs.writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(config));
        const mixed = await validate({ cwd: ws.dir, database: db, structure: false });
        assert.ifError(mixed.error);
        assert.deepEqual(findings(mixed).slice(1), [
          'soft relation budget_notes.user_ref → users.id: 1 row of budget_notes(user_ref) points at no row of users(id)',
          'soft relation budgets.owner_id → users.id: no column budgets.owner_id in the database',
        ]);
        assert.deepEqual(mixed.findings[1].samples, ['x']);
        config.softRelations = config.softRelations.slice(0, 1);
        fs.writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(config));

        if (backend.name === 'postgres') {
          const run = await cli({ config: path.join(ws.dir, 'tidemark.config.json'), database: url, structure: false, json: true });
          assert.equal(run.code, 1);
          const parsed = JSON.parse(run.stdout) as ValidateResult;
          assert.deepEqual(parsed.findings[0].samples, ['12', '7', '9']);
        }
      } finally {
        ws.remove();
      }
    }));

  it('an orphan under a NOT VALID foreign key is found by the anti-join', () =>
    withDatabase(backend, async (db) => {
      const ws = await loadCrm(db);
      try {
        await db.exec(`ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;
          INSERT INTO budgets (user_id, title) VALUES (100001, 'orphan'), (100002, 'orphan 2');
          ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID`);
        const result = await validate({ cwd: ws.dir, database: db, structure: false });
        assert.ifError(result.error);
        const rel = result.findings.filter((f) => f.check === 'relationships');
        assert.equal(rel.length, 2, JSON.stringify(rel));
        assert.match(rel[0].message, /foreign key budgets_user_id_fkey: 2 rows of budgets\(user_id\) point at no row of users\(id\) \(the constraint is NOT VALID\)/);
        assert.deepEqual(rel[0].samples, ['100001', '100002']);
        assert.match(rel[1].message, /^soft relation/);
        // With structure on, the NOT VALID constraint differs from what the migrations give.
        const withStructure = await validate({ cwd: ws.dir, database: db, service: 'budget' });
        assert.ok(
          findings(withStructure, 'structure').some((m) => /budgets_user_id_fkey.*NOT VALID/.test(m)),
          findings(withStructure).join('\n'),
        );
      } finally {
        ws.remove();
      }
    }));

  it('counts against a manifest: a wrong rowCount and a table gone from the database are findings', () =>
    withDatabase(backend, async (db) => {
      const ws = await loadCrm(db);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-validate-'));
      try {
        const counts = Object.fromEntries(
          (
            await db.query<{ t: string; n: string }>(
              `SELECT 'users' AS t, count(*)::text AS n FROM users UNION ALL SELECT 'budgets', count(*)::text FROM budgets UNION ALL SELECT 'budget_items', count(*)::text FROM budget_items`,
            )
          ).rows.map((r) => [r.t, Number(r.n)]),
        );
        assert.equal(counts.users, 50);
        // A real backup's manifest, edited (users one row short, a table gone since) and re-hashed.
        const written = await backup({ cwd: ws.dir, database: db, out: path.join(dir, 'b') });
        assert.ifError(written.error);
        const manifest = JSON.parse(fs.readFileSync(path.join(written.dir!, 'manifest.json'), 'utf8')) as Manifest;
        fs.rmSync(written.dir!, { recursive: true, force: true });
        manifest.tables.find((t) => t.name === 'users')!.rowCount = 49;
        const budgets = manifest.tables.find((t) => t.name === 'budgets')!;
        manifest.tables.push({ ...budgets, name: 'budget_notes', rowCount: 3, file: 'data/public.budget_notes.ndjson' });
        const text = JSON.stringify(manifest);
        fs.writeFileSync(path.join(dir, 'manifest.json'), text);
        fs.writeFileSync(path.join(dir, 'manifest.sha256'), `${createHash('sha256').update(text).digest('hex')}  manifest.json\n`);
        assert.equal(counts.budgets, budgets.rowCount);
        const result = await validate({ cwd: ws.dir, database: db, against: dir, structure: false });
        assert.ifError(result.error);
        assert.deepEqual(findings(result), ['users: 50 rows live, 49 in the backup (+1)', 'budget_notes is in the backup (3 rows) but not in the database']);
        assert.equal(result.counts.length, 4);
        assert.equal(result.counts.find((c) => c.table === 'public.budgets')?.live, counts.budgets);

        // --service budget: the users count is not its business.
        const budget = await validate({ cwd: ws.dir, database: db, against: dir, structure: false, service: ['budget'] });
        assert.deepEqual(findings(budget, 'counts'), ['budget_notes is in the backup (3 rows) but not in the database']);

        // A directory with no manifest is bad input (exit 2), not a finding.
        const none = await validate({ cwd: ws.dir, database: db, against: ws.dir, structure: false });
        assert.equal(none.error?.code, 'no-manifest');
        assert.equal(none.error?.kind, 'input');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        ws.remove();
      }
    }));

  it('counts against a real backup: a row deleted after the backup is a finding', () =>
    withDatabase(backend, async (db) => {
      const ws = await loadCrm(db);
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-validate-')), 'backup');
      try {
        const made = await backup({ cwd: ws.dir, database: db, out });
        assert.ifError(made.error);
        const clean = await validate({ cwd: ws.dir, database: db, against: out, structure: false });
        assert.deepEqual(clean.findings, []);
        assert.equal(clean.counts.length, 3);
        await db.exec(`DELETE FROM budget_items WHERE id = (SELECT min(id) FROM budget_items)`);
        const result = await validate({ cwd: ws.dir, database: db, against: out, structure: false });
        assert.equal(result.ok, false);
        assert.equal(result.findings.length, 1);
        assert.match(result.findings[0].message, /^budget_items: [\d,]+ rows live, [\d,]+ in the backup \(-1\)$/);
      } finally {
        fs.rmSync(path.dirname(out), { recursive: true, force: true });
        ws.remove();
      }
    }));

  it('the CLI: exit 0 clean, 1 with findings (text and --json), 2 for bad usage or input', async () => {
    const created = await backend.createDatabase();
    let ws: TempWorkspace | undefined;
    try {
      const db = await openDatabase(created.url);
      try {
        ws = await loadCrm(db);
      } finally {
        await db.close();
      }
      const config = path.join(ws.dir, 'tidemark.config.mjs');
      const clean = await cli({ config, database: created.url });
      assert.equal(clean.code, 0, clean.stdout);
      assert.match(clean.stdout, /✓ 3 tables of user, budget: structure, 3 relationships valid/);
      assert.equal((await cli({ config, database: created.url, service: ['nope'] })).code, 2);
      assert.equal((await cli({ config, database: created.url, against: ws.dir })).code, 2);

      const db2 = await openDatabase(created.url);
      try {
        await db2.exec(`ALTER TABLE users ADD COLUMN extra int`);
      } finally {
        await db2.close();
      }
      const drift = await cli({ config, database: created.url, service: ['user'] });
      assert.equal(drift.code, 1);
      assert.match(drift.stdout, /Structure \(live tables against their migrations\)\n  ✗ \[user\] column users\.extra \(integer\) exists live but not in the migrations/);
      assert.match(drift.stdout, /1 finding in 1 table of user/);
      const json = await cli({ config, database: created.url, json: true, structure: true });
      assert.equal(json.code, 1);
      const parsed = JSON.parse(json.stdout) as ValidateResult;
      assert.deepEqual(
        parsed.findings.map((f) => [f.check, f.service, f.table]),
        [['structure', 'user', 'public.users']],
      );
      assert.equal((await cli({ config, database: created.url, structure: false })).code, 0);
    } finally {
      ws?.remove();
      await created.drop();
    }
  });

  it('structure drift: a column added and an index dropped live are named', () =>
    withDatabase(backend, async (db, url) => {
      const ws = await loadCrm(db);
      try {
        await db.exec(`ALTER TABLE users ADD COLUMN extra int; DROP INDEX users_created_at_idx; ALTER TABLE budget_items ALTER COLUMN description TYPE varchar(200);
          ALTER TABLE users ALTER COLUMN name DROP NOT NULL, ALTER COLUMN role SET DEFAULT 'viewer', DROP CONSTRAINT users_role_check`);
        const result = await validate({ cwd: ws.dir, database: db });
        assert.ifError(result.error);
        assert.equal(result.ok, false);
        assert.deepEqual(findings(result, 'relationships'), []);
        const structure = findings(result, 'structure');
        assert.deepEqual(
          structure.sort(),
          [
            'budget_items.description: live type character varying(200), migrations give text',
            "check constraint users_role_check on users missing live (CHECK ((role = ANY (ARRAY['admin', 'manager', 'sales', 'viewer']))))",
            'column users.extra (integer) exists live but not in the migrations',
            'index users_created_at_idx on users missing live (CREATE INDEX ON users USING btree (created_at))',
            'users.name: live nullable, migrations give NOT NULL',
            "users.role: live default 'viewer', migrations give 'sales'",
          ],
          structure.join('\n'),
        );
        assert.deepEqual(
          result.findings
            .filter((f) => f.check === 'structure')
            .map((f) => f.service)
            .sort(),
          ['budget', 'user', 'user', 'user', 'user', 'user'],
        );
        const noStructure = await validate({ cwd: ws.dir, database: db, structure: false });
        assert.equal(noStructure.ok, true);

        if (backend.name === 'postgres') {
          const run = await cli({ config: path.join(ws.dir, 'tidemark.config.mjs'), database: url, service: ['user'] });
          assert.equal(run.code, 1);
          assert.match(run.stdout, /Structure/);
          assert.match(run.stdout, /users\.extra/);
          assert.match(run.stdout, /users_created_at_idx/);
          assert.doesNotMatch(run.stdout, /budget_items\.description/);
        }
      } finally {
        ws.remove();
      }
    }));
});

forEachBackend('validate(target)', (backend) => {
  it("runs from a fake target: a literal workspace (no config file), the test's Database, each shadow through target.openShadow, inside a transaction too", () =>
    withDatabase(backend, async (db) => {
      // Only the migration files are on disk: the workspace is a value, as a boundary would hand it down.
      const ws = makeWorkspace(
        {},
        {
          'migrations/user/user_001_users.sql': sqlMigration('CREATE TABLE users (id bigint PRIMARY KEY, email text);', 'DROP TABLE users;'),
          'migrations/budget/budget_001_budgets.sql': sqlMigration('CREATE TABLE budgets (id bigint PRIMARY KEY, user_id bigint);', 'DROP TABLE budgets;'),
        },
      );
      fs.rmSync(path.join(ws.dir, 'tidemark.config.json'));
      const service = (name: string, owns: string[], requires: string[]) => ({
        name,
        migrationsDir: path.join(ws.dir, 'migrations', name),
        owns,
        requires,
        format: 'tidemark' as const,
        versionTable: 'alembic_version',
        recursive: false,
      });
      const workspace: Workspace = {
        root: ws.dir,
        services: [service('user', ['users'], []), service('budget', ['budgets'], ['user'])],
        protected: [],
        softRelations: [
          {
            from: 'budgets.user_id',
            to: 'users.id',
            fromColumn: { table: { schema: 'public', name: 'budgets' }, column: 'user_id' },
            toColumn: { table: { schema: 'public', name: 'users' }, column: 'id' },
          },
        ],
      };
      try {
        // The live database as the migrations leave it, then changed by hand: a column and an orphan.
        await db.exec(`CREATE TABLE users (id bigint PRIMARY KEY, email text); CREATE TABLE budgets (id bigint PRIMARY KEY, user_id bigint);
          ALTER TABLE budgets ADD COLUMN note text; INSERT INTO users VALUES (1, 'a@x'); INSERT INTO budgets VALUES (1, 1, NULL), (2, 7, NULL)`);
        const target = fakeTarget(workspace, db, { openShadow: (request) => openShadow({ shadowUrl: request.url, prefer: 'pglite' }) });
        const result = await validateTarget(target, {});
        assert.ifError(result.error);
        assert.equal(result.database, db.displayUrl);
        assert.equal(result.databaseSource, 'given');
        assert.deepEqual(result.services, ['user', 'budget']);
        assert.deepEqual(result.tables, ['public.budgets', 'public.users']);
        // A fresh shadow per service, each asked of the target (no --shadow: the target's policy chooses).
        assert.deepEqual(target.shadowCalls, [{}, {}]);
        assert.equal(result.shadowKind, 'pglite');
        assert.deepEqual(findings(result), [
          'column budgets.note (text) exists live but not in the migrations',
          'soft relation budgets.user_id → users.id: 1 row of budgets(user_id) points at no row of users(id)',
        ]);
        assert.equal((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0].n, 1, 'the Database handed in is left open');

        // Bad input is refused before the database is used: a database that fails on any use is never reached.
        const kept = new Set<PropertyKey>(['displayUrl', 'backend', 'locksExclude']);
        const unusable = new Proxy(db, {
          get: (t, k) => (kept.has(k) ? Reflect.get(t, k) : k === 'then' ? undefined : () => Promise.reject(new Error(`the database was used (${String(k)})`))),
        });
        const refused = await validateTarget(fakeTarget(workspace, unusable, { cwd: os.tmpdir() }), { against: 'no-such-backup' });
        assert.equal(refused.error?.code, 'no-manifest');
        assert.equal(refused.error?.file, path.join(os.tmpdir(), 'no-such-backup', 'manifest.json'), "relative to the target's cwd");
        assert.equal(refused.database, '');

        // Inside a caller's transaction (Target<Tx>): it sees the transaction's rows.
        await db.transaction(async (tx) => {
          await tx.exec('INSERT INTO budgets VALUES (3, 9, NULL)');
          const inTx = await validateTarget(withTx(target, tx), { structure: false, against: undefined });
          assert.ifError(inTx.error);
          assert.deepEqual(findings(inTx, 'relationships'), ['soft relation budgets.user_id → users.id: 2 rows of budgets(user_id) point at no row of users(id)']);
          await tx.exec('DELETE FROM budgets WHERE id = 3');
        });
        assert.equal(target.shadowCalls.length, 2, 'structure: false opens no shadow');
      } finally {
        ws.remove();
      }
    }));
});

forEachBackend('validate --shadow', (backend) => {
  it('--shadow URL: the replay runs there and leaves it empty; the target itself is refused (exit 2)', () =>
    withDatabase(backend, async (db, url) => {
      const ws = await loadCrm(db);
      const other = await backend.createDatabase();
      try {
        const result = await validate({ cwd: ws.dir, database: db, shadow: other.url });
        assert.ifError(result.error);
        assert.deepEqual(result.findings, [], JSON.stringify(result.findings, null, 2));
        assert.equal(result.shadowKind, 'url');
        assert.match(result.shadow ?? '', /^the shadow database .* \(PostgreSQL 1[58]\)$/);
        const shadowDb = await openDatabase(other.url);
        try {
          const { rows } = await shadowDb.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
          );
          assert.equal(rows[0].n, '0');
        } finally {
          await shadowDb.close();
        }
        // Drift is still found through an explicit shadow.
        await db.exec('ALTER TABLE users ADD COLUMN extra int');
        const drift = await validate({ cwd: ws.dir, database: db, shadow: other.url, service: 'user' });
        assert.deepEqual(findings(drift), ['column users.extra (integer) exists live but not in the migrations']);

        const same = await validate({ cwd: ws.dir, database: db, shadow: url });
        assert.equal(same.error?.code, 'shadow-is-target');
        assert.equal(same.error?.kind, 'usage');
        if (backend.name === 'postgres') {
          const config = path.join(ws.dir, 'tidemark.config.mjs');
          assert.equal((await cli({ config, database: url, shadow: url.replace('127.0.0.1', 'localhost') })).code, 2);
          const run = await cli({ config, database: url, shadow: other.url, service: ['budget'] });
          assert.equal(run.code, 0, run.stdout);
          // The real CLI, flags parsed by commander: the shadow is named on stderr.
          const real = await runCli(['validate', '--database', url, '--shadow', other.url, '--service', 'budget'], ws.dir);
          assert.equal(real.code, 0, real.stdout + real.stderr);
          assert.match(real.stderr, /Migrations replayed on a shadow database: the shadow database postgres:\/\/.*\/tidemark_test_[0-9a-f]+ \(PostgreSQL \d+\)\./);
          const refused = await runCli(['validate', '--database', url, '--shadow', url], ws.dir);
          assert.equal(refused.code, 2);
          assert.match(refused.stderr, /is the target database itself/);
        }
      } finally {
        await other.drop();
        ws.remove();
      }
    }));
});

describe('validate [postgres] as a role without CREATEDB', { skip: backends.some((b) => b.name === 'postgres') ? false : 'no server' }, () => {
  it('falls back to a PGlite shadow, says why, and still validates', () =>
    withDatabase(backends.find((b) => b.name === 'postgres')!, async (admin, url) => {
      const ws = await loadCrm(admin);
      const role = `tidemark_nocreatedb_${randomBytes(4).toString('hex')}`;
      await admin.exec(`CREATE ROLE ${role} LOGIN NOCREATEDB; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      try {
        const asRole = new URL(url);
        asRole.username = role;
        const result = await validate({ cwd: ws.dir, database: asRole.toString() });
        assert.ifError(result.error);
        assert.deepEqual(result.findings, [], JSON.stringify(result.findings, null, 2));
        assert.equal(result.shadowKind, 'pglite');
        assert.equal(
          result.shadow,
          `in-process PGlite (PostgreSQL 18), because the role ${role} may not create databases on the target server (no CREATEDB); grant it CREATEDB, or pass --shadow URL, to replay the migrations on the target's PostgreSQL version`,
        );
        const owned = await admin.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)`, [role]);
        assert.equal(owned.rows[0].n, '0');
      } finally {
        await admin.exec(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
        ws.remove();
      }
    }));
});

it('compareStructures and normalizeSql: PostgreSQL 15 vs 18 formatting is not a difference', () => {
  assert.equal(normalizeSql(`CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))`), `CHECK ((status = ANY (ARRAY['a', 'b'])))`);
  assert.equal(normalizeSql(`FOREIGN KEY (user_id) REFERENCES public.users(id)`), 'FOREIGN KEY (user_id) REFERENCES users(id)');
  const table = (over: Partial<TableStructure> = {}): Map<string, TableStructure> =>
    new Map([
      [
        'public.t',
        {
          table: 'public.t',
          columns: [{ name: 'a', type: 'text', notNull: true, default: normalizeSql(`'x'::text`) }],
          constraints: [],
          indexes: [],
          ...over,
        },
      ],
    ]);
  assert.deepEqual(compareStructures(table(), table({ columns: [{ name: 'a', type: 'text', notNull: true, default: normalizeSql(`'x'`) }] })), []);
  assert.deepEqual(
    compareStructures(table(), table({ columns: [{ name: 'a', type: 'text', notNull: false, default: `'x'` }] })).map((d) => d.message),
    ['t.a: live NOT NULL, migrations give nullable'],
  );
  assert.deepEqual(
    compareStructures(new Map(), table()).map((d) => d.message),
    ['table t missing live (the migrations create it)'],
  );
});

describe('validate: what a failure names, before and after the database', () => {
  it('--against is refused before an unreachable database is tried; the database is named once it is', async () => {
    const ws = makeWorkspace({ app: { owns: ['items'] } });
    const url = 'postgres://nobody@127.0.0.1:1/none';
    try {
      const early = await validate({ cwd: ws.dir, database: url, against: 'no-such-backup' });
      assert.equal(early.error?.code, 'no-manifest');
      assert.deepEqual([early.database, early.databaseSource, early.services], ['', 'default', ['app']]);
      const unknown = await validate({ cwd: ws.dir, database: url, service: 'nope' });
      assert.equal(unknown.error?.kind, 'usage', unknown.error?.message);
      assert.deepEqual([unknown.database, unknown.databaseSource, unknown.services], ['', 'default', []]);
      const late = await validate({ cwd: ws.dir, database: url, structure: false });
      assert.equal(late.error?.code, 'database-unreachable');
      assert.deepEqual([late.database, late.databaseSource], [url, 'option']);
      assert.match(late.error?.hint ?? '', /named by --database/);
    } finally {
      ws.remove();
    }
  });

  it('a relative --shadow pglite: path is relative to cwd (the one rule for what the user typed), even when the config names the database', async () => {
    // Before the target (issue 12), validate resolved it from the workspace root when the config or the
    // default named the database, so this --shadow, typed in sub/, was refused as the target itself.
    const ws = makeWorkspace({ app: { owns: ['t'] } }, { 'migrations/app/app_001_t.sql': sqlMigration('CREATE TABLE t (id int);') });
    try {
      const config = path.join(ws.dir, 'tidemark.config.json');
      fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), database: 'pglite:./db' }));
      fs.mkdirSync(path.join(ws.dir, 'sub'));
      const inSub = await validate({ configFile: config, cwd: path.join(ws.dir, 'sub'), shadow: 'pglite:./db' });
      assert.ifError(inSub.error);
      assert.deepEqual([inSub.database, inSub.databaseSource, inSub.shadowKind], ['pglite:./db', 'config', 'url']);
      assert.ok(fs.existsSync(path.join(ws.dir, 'sub', 'db')), 'the shadow is sub/db');
      const atRoot = await validate({ configFile: config, cwd: ws.dir, shadow: 'pglite:./db' });
      assert.equal(atRoot.error?.code, 'shadow-is-target');
    } finally {
      ws.remove();
    }
  });
});
