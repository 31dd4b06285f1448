/**
 * reset and adopt on PGlite and the server: reset drops only the service's objects and re-applies
 * its migrations, refuses dependents and guarded targets with nothing changed; adopt moves the
 * legacy CRM's Alembic services to tidemark (baseline proven, stamped, alembic_version rows retired,
 * config switched) and refuses the wrong order with nothing written.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { status, up } from '../../src/api/migrate.js';
import { check } from '../../src/api/check.js';
import { loadWorkspace } from '../../src/config/load.js';
import { validate } from '../../src/api/validate.js';
import type { Workspace } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { openShadow } from '../../src/db/shadow.js';
import { adopt, reset } from '../../src/api/flows.js';
import { adopt as adoptCore } from '../../src/flows/adopt.js';
import { reset as resetCore } from '../../src/flows/reset.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { fakeTarget } from '../support/fake-target.js';
import { CRM_EXAMPLE, copyCrmExample, makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

interface CrmData {
  crmDataStatements(opts?: { users?: number; budgetsPerUser?: number; itemsPerBudget?: number }): string[];
  crmDigestSql(): string;
}
const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as CrmData;

async function migratedCrm(db: Database): Promise<TempWorkspace> {
  const ws = copyCrmExample();
  const applied = await up({ cwd: ws.dir, database: db });
  assert.ifError(applied.error);
  for (const sql of crm.crmDataStatements({ users: 30, budgetsPerUser: 2, itemsPerBudget: 2 })) await db.exec(sql);
  return ws;
}

async function count(db: Database, table: string): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
}

function legacyProject(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-legacy-'));
  cpSync(path.join(CRM_EXAMPLE, 'legacy'), dir, { recursive: true });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

async function versionRows(db: Database): Promise<string[] | undefined> {
  const exists = (await db.query<{ t: string | null }>(`SELECT to_regclass('alembic_version')::text AS t`)).rows[0].t;
  if (!exists) return undefined;
  return (await db.query<{ v: string }>(`SELECT version_num AS v FROM alembic_version ORDER BY 1`)).rows.map((r) => r.v);
}

forEachBackend('reset', (backend) => {
  it("drops only the service's objects and re-applies its migrations", () =>
    withDatabase(backend, async (db) => {
      const ws = await migratedCrm(db);
      try {
        await db.exec(`ALTER TABLE budgets ADD COLUMN scratch int`);
        const usersBefore = (await db.query(crm.crmDigestSql())).rows[0];
        const r = await reset({ cwd: ws.dir, database: db, service: 'budget' });
        assert.ifError(r.error);
        assert.equal(r.services[0].forgotten, 1);
        assert.match(r.services[0].dropSql, /DROP TABLE/);
        assert.equal(await count(db, 'budgets'), 0);
        assert.equal(await count(db, 'budget_items'), 0);
        assert.deepEqual((await db.query(crm.crmDigestSql())).rows[0], usersBefore, 'users untouched');
        const cols = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'budgets' AND column_name = 'scratch'`);
        assert.equal(cols.rows.length, 0, 'the hand-made column is gone');
        assert.deepEqual(
          (await readLedger(db, ['budget'])).map((x) => x.migration),
          ['budget_001_initial_schema'],
        );
        const ev = await db.query(`SELECT 1 FROM tidemark.events WHERE action = 'reset' AND service = 'budget'`);
        assert.equal(ev.rows.length, 1);
      } finally {
        ws.remove();
      }
    }));

  it('refuses a service others depend on, alone, with nothing changed; resets both together', () =>
    withDatabase(backend, async (db) => {
      const ws = await migratedCrm(db);
      try {
        const before = (await db.query(crm.crmDigestSql())).rows;
        const r = await reset({ cwd: ws.dir, database: db, service: 'user' });
        assert.equal(r.ok, false);
        assert.equal(r.error?.code, 'reset-dependents');
        assert.match(r.error!.message, /budgets/);
        assert.deepEqual((await db.query(crm.crmDigestSql())).rows, before);
        assert.equal((await readLedger(db)).length, 2);
        const both = await reset({ cwd: ws.dir, database: db, service: ['user', 'budget'] });
        assert.ifError(both.error);
        assert.deepEqual(
          both.services.map((s) => s.service),
          ['user', 'budget'],
        );
        assert.equal(await count(db, 'users'), 0);
        assert.equal(both.migrate?.results.filter((x) => x.status === 'applied').length, 2);
      } finally {
        ws.remove();
      }
    }));

  it("the core runs on a target built with no I/O: a literal workspace (no config file on disk), the caller's Database, no shadow, left open", () =>
    withDatabase(backend, async (db) => {
      const ws = makeWorkspace({ app: { owns: ['items'] } }, { 'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int PRIMARY KEY, name text);', 'DROP TABLE items;') });
      try {
        fs.rmSync(path.join(ws.dir, 'tidemark.config.json'));
        const workspace: Workspace = {
          root: ws.dir,
          services: [{ name: 'app', migrationsDir: path.join(ws.dir, 'migrations', 'app'), owns: ['items'], requires: [], format: 'tidemark', versionTable: 'alembic_version', recursive: false }],
          protected: [],
          softRelations: [],
        };
        assert.ifError((await up({ workspace, database: db })).error);
        await db.exec(`INSERT INTO items VALUES (1, 'kept?'); CREATE TABLE scratch (id int)`);
        const target = fakeTarget(workspace, db, { services: ['app'] });
        const r = await resetCore(target, {});
        assert.ifError(r.error);
        assert.equal(r.database, db.displayUrl);
        assert.equal(r.databaseSource, 'given');
        assert.deepEqual(
          r.services.map((s) => [s.service, s.forgotten]),
          [['app', 1]],
        );
        assert.equal(r.migrate?.results.filter((x) => x.status === 'applied').length, 1);
        assert.equal(await count(db, 'items'), 0, 'the owned table was dropped and re-created');
        assert.equal(await count(db, 'scratch'), 0, 'what no service owns is left alone (and the Database is still open)');
        assert.deepEqual(target.shadowCalls, []);
      } finally {
        ws.remove();
      }
    }));

  it('refuses a protected target unless forced and named; a dry run changes nothing', () =>
    withDatabase(backend, async (db, url) => {
      const ws = await migratedCrm(db);
      try {
        const configFile = path.join(ws.dir, 'tidemark.config.mjs');
        const name = backend.name === 'pglite' ? url.slice('pglite:'.length) : new URL(url).pathname.slice(1);
        fs.writeFileSync(configFile, fs.readFileSync(configFile, 'utf8').replace(/};\s*$/, `  protected: [${JSON.stringify(backend.name === 'pglite' ? `pglite:${name}` : name)}],\n};\n`));
        const before = (await db.query(crm.crmDigestSql())).rows;
        const refused = await reset({ cwd: ws.dir, database: url, service: 'budget' });
        assert.equal(refused.error?.code, 'protected-target');
        const wrong = await reset({ cwd: ws.dir, database: url, service: 'budget', forceProtected: true, yesIMean: 'nope' });
        assert.equal(wrong.error?.code, 'protected-target');
        assert.deepEqual((await db.query(crm.crmDigestSql())).rows, before);
        if (backend.name === 'postgres') {
          // The CLI: exit 2, one sentence, nothing changed.
          const cli = await runCli(['reset', '--service', 'budget', '--database', url], ws.dir);
          assert.equal(cli.code, 2, cli.stderr);
          assert.match(cli.stderr, /Refusing to reset .* protected list/);
          const dry = await runCli(['reset', '--service', 'budget', '--database', url, '--force-protected', '--yes-i-mean', name, '--dry-run'], ws.dir);
          assert.equal(dry.code, 0, dry.stderr);
          assert.match(dry.stdout, /would drop/);
          assert.deepEqual((await db.query(crm.crmDigestSql())).rows, before);
        }
      } finally {
        ws.remove();
      }
    }));
});

it('reset checks its input before connecting: an unknown service next to an unreachable server is unknown-service, with nothing named yet', async () => {
  const ws = makeWorkspace({ app: { owns: ['items'] } });
  try {
    const r = await reset({ cwd: ws.dir, database: 'postgres://app:s3cret@127.0.0.1:1/none', service: 'nope' });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'unknown-service');
    assert.deepEqual([r.database, r.databaseSource, r.services], ['', 'default', []]);
    const unreachable = await reset({ cwd: ws.dir, database: 'postgres://app:s3cret@127.0.0.1:1/none', service: 'app' });
    assert.equal(unreachable.error?.code, 'database-unreachable');
    assert.deepEqual([unreachable.database, unreachable.databaseSource], ['postgres://app:***@127.0.0.1:1/none', 'option']);
  } finally {
    ws.remove();
  }
});

forEachBackend('adopt', (backend) => {
  it('moves the legacy CRM from Alembic to tidemark, one service at a time, in the right order', () =>
    withDatabase(backend, async (db) => {
      const project = legacyProject();
      try {
        await db.exec(fs.readFileSync(path.join(project.dir, 'legacy-database.sql'), 'utf8'));
        const digests = (await db.query(crm.crmDigestSql())).rows;

        // budget first: its foreign key points into user_service, still Alembic → refused, nothing written.
        const early = await adopt({ cwd: project.dir, database: db, service: 'budget_service', as: 'budget', write: true });
        assert.equal(early.error?.code, 'adopt-order');
        assert.equal(fs.existsSync(path.join(project.dir, 'migrations', 'budget')), false);
        assert.deepEqual(await versionRows(db), ['20250915_124515', 'd7e1c4a9b320', 'fix_2025_contamination']);

        const user = await adopt({ cwd: project.dir, database: db, service: 'user_service', as: 'user', write: true });
        assert.ifError(user.error);
        assert.equal(user.migration, 'user_001_initial_schema');
        assert.ok(fs.existsSync(path.join(project.dir, 'migrations', 'user', 'tidemark.sum')));
        assert.deepEqual(user.retired?.deleted, ['d7e1c4a9b320']);
        assert.ok(user.config?.written);

        const budget = await adopt({ cwd: project.dir, database: db, service: 'budget_service', as: 'budget', write: true });
        assert.ifError(budget.error);
        assert.deepEqual(budget.requiresAdded, ['user']);
        assert.deepEqual(budget.retired?.deleted, ['20250915_124515']);
        assert.deepEqual(await versionRows(db), ['fix_2025_contamination']);

        // The config now says tidemark; the data never moved; up has nothing to do; validate is clean.
        const ws = await loadWorkspace({ cwd: project.dir });
        assert.deepEqual(
          ws.services.map((s) => [s.name, s.format, s.requires]),
          [
            ['user', 'tidemark', []],
            ['budget', 'tidemark', ['user']],
          ],
        );
        assert.deepEqual((await db.query(crm.crmDigestSql())).rows, digests);
        const st = await status({ workspace: ws, database: db });
        assert.ifError(st.error);
        const noop = await up({ workspace: ws, database: db });
        assert.ifError(noop.error);
        assert.equal(noop.results.length, 0);
        const v = await validate({ workspace: ws, database: db });
        assert.deepEqual(v.findings, []);
        const doctor = await check({ workspace: ws });
        assert.equal(doctor.errors, 0, doctor.diagnostics.map((d) => d.message).join('\n'));
        // The old Alembic directories are untouched.
        assert.ok(fs.existsSync(path.join(project.dir, 'services/budget_service/alembic/versions/005_remove_quantity_column.py')));
      } finally {
        project.remove();
      }
    }));
});

// The core from a target: a literal workspace (no config file anywhere, so the config change is returned to
// make by hand), the test's own database, the shadow the test hands out for the baseline adopt writes.
forEachBackend('adopt from a target', (backend) => {
  it('the core adopts from a fake target: baseline proven on the one shadow asked for, recorded, the Alembic row retired', () =>
    withDatabase(backend, async (db) => {
      const root = mkdtempSync(path.join(os.tmpdir(), 'tidemark-literal-'));
      try {
        const alembicDir = path.join(root, 'legacy', 'versions');
        fs.mkdirSync(alembicDir, { recursive: true });
        fs.writeFileSync(path.join(alembicDir, 'a_base.py'), 'revision = "a1"\ndown_revision = None\n');
        const workspace: Workspace = {
          root,
          services: [{ name: 'legacy', migrationsDir: alembicDir, owns: ['lt_*'], requires: [], format: 'alembic', versionTable: 'alembic_version', recursive: false }],
          protected: [],
          softRelations: [],
        };
        await db.exec(`CREATE TABLE lt_items (id int PRIMARY KEY, note text);
                       CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
                       INSERT INTO alembic_version VALUES ('a1');`);
        const target = fakeTarget(workspace, db, { openShadow: (request) => openShadow({ shadowUrl: request.url, prefer: request.prefer }) });
        const result = await adoptCore(target, { service: 'legacy', as: 'app' });
        assert.ifError(result.error);
        assert.deepEqual(target.shadowCalls, [{ prefer: 'pglite' }]);
        assert.deepEqual([result.database, result.databaseSource], [db.displayUrl, 'given']);
        assert.equal(result.migration, 'app_001_initial_schema');
        assert.equal(result.file, path.join(root, 'migrations', 'app', 'app_001_initial_schema.sql'));
        assert.deepEqual(result.retired?.deleted, ['a1']);
        assert.deepEqual([result.config?.written, result.config?.problem], [false, 'the config was given as a value, not a file']);
        assert.deepEqual(
          (await readLedger(db, ['app'])).map((x) => x.migration),
          ['app_001_initial_schema'],
        );
        assert.equal(await versionRows(db), undefined, 'the emptied version table is dropped');
        assert.equal(await count(db, 'lt_items'), 0, 'the live table is untouched (still there, still empty)');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }));
});
