import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import { check } from '../../src/api/check.js';
import { check as checkCore } from '../../src/check/run.js';
import { graphView } from '../../src/check/graph-view.js';
import type { Workspace } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { openShadow, type Shadow } from '../../src/db/shadow.js';
import { loadWorkspace } from '../../src/config/load.js';
import { readDrift } from '../../src/flows/drift.js';
import { protect } from '../../src/flows/guard.js';
import { fakeTarget } from '../support/fake-target.js';
import { forEachBackend, withDatabase, type TestDatabase } from '../support/backends.js';
import { CRM_EXAMPLE, copyCrmExample, makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

const LEGACY = path.join(CRM_EXAMPLE, 'legacy');
const byRule = (diagnostics: { rule: string }[]) => {
  const counts: Record<string, number> = {};
  for (const d of diagnostics) counts[d.rule] = (counts[d.rule] ?? 0) + 1;
  return counts;
};

describe("check on the CRM legacy Alembic history (the seed's four problems)", () => {
  it('reports each problem with file and line, and exits 1', async () => {
    const r = await runCli(['check', '--format', 'json'], LEGACY);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    const budget = report.services.find((s: { service: string }) => s.service === 'budget_service');
    const rules = byRule(budget.diagnostics);
    assert.equal(rules['duplicate-id'], 1, 'the two 005 files: one finding naming both');
    assert.equal(rules['multiple-heads'], 1);
    assert.equal(rules['mixed-id-format'], 1);
    assert.ok(rules['cross-service-reference'] >= 2, JSON.stringify(rules));
    for (const d of budget.diagnostics) {
      assert.ok(d.file && d.line, `${d.rule} has file and line`);
    }
    const dup = budget.diagnostics.find((d: { rule: string }) => d.rule === 'duplicate-id');
    assert.match(dup.message, /005_add_commission_percentage_actual\.py:\d+, .*005_remove_quantity_column\.py:\d+/);
    const cross = budget.diagnostics.filter((d: { rule: string }) => d.rule === 'cross-service-reference').map((d: { message: string }) => d.message);
    assert.ok(
      cross.some((m: string) => /is a revision of user_service/.test(m)),
      'a revision reference into user_service',
    );
    assert.ok(
      cross.some((m: string) => /changes table users/.test(m)),
      'a budget migration changing users',
    );
    assert.deepEqual(budget.graph.effectiveHeads.length, 2);
    assert.deepEqual(budget.graph.mergePoints, ['c0eefe7ade9c']);
    const user = report.services.find((s: { service: string }) => s.service === 'user_service');
    assert.deepEqual(user.diagnostics, []);
  });

  it('works with no config from alembic.ini paths, and prints GitHub annotations', async () => {
    const args = ['check', '--alembic', 'services/user_service/alembic.ini', 'services/budget_service/alembic.ini'];
    const text = await runCli(args, LEGACY);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /budget_service +alembic · 10 revisions · 2 heads/);
    assert.match(text.stdout, /duplicate-id/);
    const gh = await runCli([...args, '--format', 'github'], LEGACY);
    const lines = gh.stdout.trim().split('\n');
    assert.ok(lines.length >= 4);
    for (const line of lines) assert.match(line, /^::(error|warning) file=services\/budget_service\/alembic\/versions\/[^,]+\.py,line=\d+,title=tidemark [a-z-]+::.+/);
  });

  it('takes an environment directory and a versions directory too', async () => {
    const report = await check({ alembic: [path.join(LEGACY, 'services/budget_service/alembic'), path.join(LEGACY, 'services/user_service/alembic/versions')] });
    assert.equal(report.error, undefined);
    assert.deepEqual(
      report.services.map((s) => s.service),
      ['budget_service', 'user_service'],
    );
  });
});

describe('check on bad Alembic input: a diagnostic each, never a crash', () => {
  it('binary garbage, an unterminated string, a 1 MB file, two revision lines, a symlink loop', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bad-alembic-'));
    try {
      const versions = path.join(dir, 'versions');
      mkdirSync(versions);
      writeFileSync(path.join(versions, 'a_base.py'), 'revision = "a"\ndown_revision = None\n');
      writeFileSync(path.join(versions, 'garbage.py'), Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x00, 0x80]));
      writeFileSync(path.join(versions, 'unterminated.py'), 'revision = "b\ndown_revision = "a"\n');
      writeFileSync(path.join(versions, 'big.py'), `revision = "c"\ndown_revision = "a"\n${'# filler line\n'.repeat(80_000)}`);
      writeFileSync(path.join(versions, 'twice.py'), 'revision = "d"\ndown_revision = "c"\nrevision = "e"\n');
      writeFileSync(path.join(versions, '__init__.py'), '');
      writeFileSync(path.join(versions, 'README.md'), 'revision = "nope"');
      mkdirSync(path.join(versions, 'sub'));
      symlinkSync(versions, path.join(versions, 'sub', 'loop'));
      const started = performance.now();
      const r = await runCli(['check', '--format', 'json', '--alembic', versions], dir);
      assert.ok(performance.now() - started < 10_000);
      assert.equal(r.code, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      const report = JSON.parse(r.stdout);
      const files = report.diagnostics.map((d: { file?: string }) => path.basename(d.file ?? ''));
      for (const f of ['garbage.py', 'unterminated.py', 'twice.py']) assert.ok(files.includes(f), `${f} reported: ${JSON.stringify(report.diagnostics)}`);
      assert.ok(!files.includes('README.md') && !files.includes('__init__.py'));
      assert.ok(report.services[0].graph.revisionCount >= 2);
      const recursive = await check({ alembic: [versions] });
      assert.equal(recursive.error, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('check on a tidemark workspace', () => {
  it('the CRM example is clean; an edited sum file and a misnamed file are found', async () => {
    const ws = copyCrmExample();
    try {
      const clean = await runCli(['check'], ws.dir);
      assert.equal(clean.code, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /No findings in 2 services/);
      ws.write('migrations/user/005_add_role.sql', sqlMigration('ALTER TABLE users ADD nickname text;'));
      ws.write('migrations/budget/budget_003_touch_users.sql', sqlMigration('ALTER TABLE users ADD budget_count int;'));
      const r = await runCli(['check', '--json'], ws.dir);
      assert.equal(r.code, 1);
      const rules = byRule(JSON.parse(r.stdout).diagnostics);
      assert.equal(rules.naming, 1);
      assert.equal(rules['gap-in-sequence'], 1);
      assert.equal(rules['cross-service-reference'], 1, 'budget changes users even though it requires user');
      assert.ok(rules['sum-mismatch'] >= 1, 'the new budget file is not in tidemark.sum');
    } finally {
      ws.remove();
    }
  });
});

forEachBackend('check --db', (backend) => {
  let db: TestDatabase;
  before(async () => {
    db = await backend.createDatabase();
  });
  after(async () => {
    await db.drop();
  });

  it("finds the shared alembic_version's contamination, and split-version-table fixes it in one transaction", async () => {
    const legacy = mkdtempSync(path.join(os.tmpdir(), 'tidemark-legacy-'));
    cpSync(LEGACY, legacy, { recursive: true });
    try {
      const conn = await openDatabase(db.url);
      await conn.exec(readFileSync(path.join(legacy, 'legacy-database.sql'), 'utf8'));
      await conn.close();
      const before = await check({ cwd: legacy, database: db.url, db: true });
      const contamination = before.diagnostics.filter((d) => d.rule === 'alembic-version-contamination');
      assert.equal(contamination.length, 3, JSON.stringify(contamination));
      assert.ok(contamination.some((d) => /belongs to no|which no service's directory defines/.test(d.message)));
      assert.ok(contamination.some((d) => /is shared by user_service, budget_service/.test(d.message)));

      const dry = await runCli(['alembic', 'split-version-table', '--dry-run', '--database', db.url], legacy);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stdout, /would move .* \(user_service\): alembic_version → alembic_version_user_service/);
      const split = await runCli(['alembic', 'split-version-table', '--database', db.url], legacy);
      assert.equal(split.code, 0, split.stderr);
      assert.match(split.stdout, /version_table='alembic_version_budget_service'/);
      const afterSplit = await check({ cwd: legacy, database: db.url, db: true });
      const left = afterSplit.diagnostics.filter((d) => d.rule === 'alembic-version-contamination');
      assert.equal(left.length, 1, 'only the row of no service stays');
    } finally {
      rmSync(legacy, { recursive: true, force: true });
    }
  });

  it('checks a database the config names without --db, and skips it with db: false', async () => {
    const ws = makeWorkspace({ app: { owns: ['a'] } });
    try {
      const config = { database: db.url, services: { app: { migrations: path.join(ws.dir, 'migrations/app'), owns: ['a'] } } };
      const withDb = await check({ config });
      assert.equal(withDb.error, undefined);
      assert.equal(withDb.database, db.url.replace(/:[^:@/]*@/, ':***@'));
      const without = await check({ config, db: false });
      assert.equal(without.database, undefined);
    } finally {
      ws.remove();
    }
  });

  it('finds drift, a late lower number, foreign ledger rows and unowned tables', async () => {
    const ws = makeWorkspace({ app: { owns: ['a', 'b'] } });
    try {
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      ws.write('migrations/app/app_003_c.sql', sqlMigration('CREATE TABLE c (id int);'));
      assert.equal((await up({ cwd: ws.dir, database: db.url })).error, undefined);
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id bigint);'));
      ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);'));
      const conn = await openDatabase(db.url);
      await conn.exec(`INSERT INTO tidemark.applied (service, migration, checksum, applied_by, tool_version) VALUES ('billing', 'billing_001_x', 'x', 't', '0')`);
      await conn.close();
      await runCli(['sum'], ws.dir);
      // drift: false (--no-drift): the edited app_001 would replay as bigint against the live int column.
      const report = await check({ cwd: ws.dir, database: db.url, db: true, drift: false });
      assert.equal(report.error, undefined);
      const rules = byRule(report.diagnostics);
      assert.equal(rules['checksum-drift'], 1);
      assert.equal(rules['pending-before-applied'], 1);
      assert.equal(rules['foreign-ledger-rows'], 1);
      assert.ok(rules['unowned-object'] >= 1, 'table c is owned by no one');
      assert.equal(rules['schema-drift'], undefined, 'drift skipped');
      assert.equal(report.ok, false);
    } finally {
      ws.remove();
    }
  });
});

// A minimal workspace (one service, two migrations), not the CRM example: drift's cost is a replay on a
// shadow and two introspections, smaller here (side by side on a loaded machine: 4.8 s for both back-ends
// against the CRM case's 8.0 s, while asserting more).
forEachBackend('check --db: schema drift', (backend) => {
  it('each hand-made difference is one finding naming the object, live against history; none before; --no-drift skips it', async () => {
    const ws = makeWorkspace(
      { shop: { owns: ['customers', 'orders'] } },
      {
        'migrations/shop/shop_001_customers.sql': sqlMigration('CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);', 'DROP TABLE customers;'),
        'migrations/shop/shop_002_orders.sql': sqlMigration(
          "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), status text NOT NULL DEFAULT 'new');",
          'DROP TABLE orders;',
        ),
      },
    );
    const created = await backend.createDatabase();
    let conn: Database | undefined;
    let shadow: Shadow | undefined;
    try {
      assert.equal((await up({ cwd: ws.dir, database: created.url })).error, undefined);
      conn = await openDatabase(created.url);
      const workspace = await loadWorkspace({ cwd: ws.dir });
      // One shadow for both checks (each costs a PGlite start otherwise): the second replay finds every
      // applied migration already in the shadow's ledger and replays nothing.
      const target = fakeTarget(workspace, conn, {
        openShadow: async () => {
          shadow ??= await openShadow({ target: conn, targetUrl: created.url });
          return { ...shadow, dispose: async () => {} };
        },
      });
      const checkDrift = () => checkCore(target, { readDrift: (services) => readDrift(target, services) });
      const drift = (report: { diagnostics: { rule: string; service?: string; message: string }[] }) =>
        report.diagnostics
          .filter((d) => d.rule === 'schema-drift')
          .map((d) => [d.service, d.message])
          .sort();
      const clean = await checkDrift();
      assert.equal(clean.error, undefined);
      assert.deepEqual(drift(clean), []);

      // Two hand-made changes, one per table: an added column, a changed default.
      await conn.exec("ALTER TABLE customers ADD COLUMN hotfix text; ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'open';");
      const drifted = await checkDrift();
      assert.equal(drifted.error, undefined);
      assert.deepEqual(drift(drifted), [
        ['shop', 'column customers.hotfix exists live but not in the history'],
        ['shop', "column orders.status: live default 'open'::text, history gives 'new'::text"],
      ]);
      assert.equal(drifted.ok, false);
      assert.equal(target.shadowCalls.length, 2);
      await conn.close();
      conn = undefined;

      // --no-drift (drift: false): the same drifted database, no schema-drift finding.
      const skipped = await check({ cwd: ws.dir, database: created.url, db: true, drift: false });
      assert.equal(skipped.error, undefined);
      assert.deepEqual(drift(skipped), []);
    } finally {
      await shadow?.dispose();
      await conn?.close();
      await created.drop();
      ws.remove();
    }
  });
});

forEachBackend('check, graph and protect on a target (no config file, no connection of their own)', (backend) => {
  it('check --db reads the given database and its guard verdict; protect marks it and check sees the mark; graph draws the scope', () =>
    withDatabase(backend, async (db, url) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-check-target-'));
      try {
        mkdirSync(path.join(dir, 'migrations/app'), { recursive: true });
        writeFileSync(path.join(dir, 'migrations/app/app_001_a.sql'), sqlMigration('CREATE TABLE a (id int);'));
        // A literal workspace: nothing on disk but the migrations it names.
        const workspace: Workspace = {
          root: dir,
          services: [{ name: 'app', migrationsDir: path.join(dir, 'migrations/app'), owns: ['a'], requires: [], format: 'tidemark', versionTable: 'alembic_version', recursive: false }],
          protected: [],
          softRelations: [],
        };
        await db.exec('CREATE TABLE a (id int); CREATE TABLE stray (id int);');
        const target = fakeTarget(workspace, db);

        const files = await checkCore({ workspace, services: target.services, paths: target.paths });
        assert.equal(files.error, undefined);
        assert.equal(files.database, undefined, 'a Scope alone: no database rules');
        assert.deepEqual(
          files.services.map((s) => s.service),
          ['app'],
        );

        const report = await checkCore(target);
        assert.equal(report.error, undefined);
        assert.equal(report.database, db.displayUrl);
        assert.equal(report.databaseSource, 'given');
        const unowned = report.diagnostics.filter((d) => d.rule === 'unowned-object');
        assert.deepEqual(
          unowned.map((d) => d.message),
          [`Table stray in ${db.displayUrl} is owned by no service.`],
        );
        assert.deepEqual(report.protection, { protected: false, marked: false, reasons: [] });

        const marked = await protect(target);
        assert.equal(marked.error, undefined);
        assert.deepEqual(
          { ok: marked.ok, database: marked.database, databaseSource: marked.databaseSource, protected: marked.protected, changed: marked.changed },
          { ok: true, database: db.displayUrl, databaseSource: 'given', protected: true, changed: true },
        );
        const name = db.backend === 'postgres' ? new URL(url).pathname.slice(1) : db.displayUrl.replace(/^pglite:/, '');
        assert.equal(marked.name, name);
        assert.equal((await checkCore(target)).protection?.marked, true);
        const refused = await protect(target, { off: true });
        assert.equal(refused.error?.code, 'protected-target');
        const off = await protect(target, { off: true, forceProtected: true, yesIMean: name });
        assert.equal(off.error, undefined);
        assert.deepEqual({ protected: off.protected, changed: off.changed }, { protected: false, changed: true });

        const view = await graphView(target);
        assert.deepEqual(
          view.services.map((s) => [s.name, s.revisions.map((r) => r.id)]),
          [['app', ['app_001_a']]],
        );
        assert.deepEqual(target.shadowCalls, [], 'no shadow asked for');
        assert.deepEqual(readdirSync(dir), ['migrations'], 'no config file was needed, and nothing was written next to the migrations');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));
});

describe('tidemark graph', () => {
  it('draws both services, marks heads and paints the duplicate and the cross-service edge red', async () => {
    const mermaid = await runCli(['graph'], LEGACY);
    assert.equal(mermaid.code, 0, mermaid.stderr);
    assert.match(mermaid.stdout, /subgraph \w+\["user_service"\]/);
    assert.match(mermaid.stdout, /subgraph \w+\["budget_service"\]/);
    assert.match(mermaid.stdout, /005 \(duplicate ×2\)/);
    assert.match(mermaid.stdout, /\(head\)/);
    assert.match(mermaid.stdout, /linkStyle \d+ stroke:#d62728/);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'tidemark-graph-')), 'history.svg');
    const svg = await runCli(['graph', '--format', 'svg', '--out', out], LEGACY);
    assert.equal(svg.code, 0, svg.stderr);
    assert.match(readFileSync(out, 'utf8'), /^<svg[\s\S]*budget_service[\s\S]*<\/svg>\s*$/);
    rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
