/**
 * rebaseline on PGlite and the server (issue 5, "fault tests"): the metadata-only path, the full path
 * (drop, baseline, restore, validate in one transaction), and a failure injected at every step —
 * failing baseline DDL, a restore that violates a constraint, a validation mismatch, and on the
 * server the process killed with SIGKILL in the middle of the transaction. After every failure the
 * database is identical (snapshot, content digests, ledger) and the backup verifies.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { up } from '../../src/api/migrate.js';
import { loadWorkspace } from '../../src/config/load.js';
import { verifyBackup } from '../../src/api/backup.js';
import type { Database } from '../../src/db/database.js';
import { rebaseline } from '../../src/api/flows.js';
import { openShadow } from '../../src/db/shadow.js';
import { rebaseline as rebaselineTarget } from '../../src/flows/rebaseline.js';
import { fakeTarget } from '../support/fake-target.js';
import { writeSumFile } from '../../src/history/sum-io.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { CLI, CRM_EXAMPLE, copyCrmExample, type TempWorkspace } from '../support/workspace.js';

interface CrmData {
  crmDataStatements(opts?: { users?: number; budgetsPerUser?: number; itemsPerBudget?: number }): string[];
  crmDigestSql(): string;
}
const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as CrmData;

const BASELINE = 'migrations/budget/budget_001_initial_schema.sql';

/** The CRM example migrated, with data, and a hand-made drift on budgets so the full path runs. */
async function crmWithDrift(db: Database, drift = true): Promise<TempWorkspace> {
  const ws = copyCrmExample();
  const applied = await up({ cwd: ws.dir, database: db });
  assert.ifError(applied.error);
  for (const sql of crm.crmDataStatements({ users: 60, budgetsPerUser: 3, itemsPerBudget: 2 })) await db.exec(sql);
  if (drift) {
    await db.exec(`ALTER TABLE budgets ADD COLUMN legacy_note text; UPDATE budgets SET legacy_note = 'n' || id WHERE id % 7 = 0;
                   CREATE INDEX budgets_title_idx ON budgets (title);`);
  }
  return ws;
}

/** Appends SQL to the budget baseline's up section and rewrites its tidemark.sum. */
async function editBaseline(ws: TempWorkspace, extraUp: string): Promise<void> {
  const file = path.join(ws.dir, BASELINE);
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(
    file,
    text.replace('-- tidemark:down', () => `${extraUp}\n\n-- tidemark:down`),
  );
  await writeSumFile('budget', path.dirname(file));
}

interface State {
  snapshot: string;
  digests: unknown[];
  ledger: unknown[];
  events: number;
}

async function state(db: Database, ws: TempWorkspace): Promise<State> {
  const workspace = await loadWorkspace({ cwd: ws.dir });
  const snaps = [];
  for (const service of ['user', 'budget']) {
    const s = await introspect(db, { workspace, service });
    snaps.push({ ...s, serverVersion: 0 });
  }
  const digests = (await db.query(crm.crmDigestSql())).rows;
  const ledger = (await readLedger(db)).map((r) => ({ ...r, appliedAt: r.appliedAt.toISOString() }));
  const events = Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM tidemark.events`)).rows[0].n);
  return { snapshot: JSON.stringify(snaps), digests, ledger, events };
}

async function assertUnchanged(db: Database, ws: TempWorkspace, before: State): Promise<void> {
  const after = await state(db, ws);
  assert.equal(after.snapshot, before.snapshot, 'schema snapshot unchanged');
  assert.deepEqual(after.digests, before.digests, 'content digests unchanged');
  assert.deepEqual(after.ledger, before.ledger, 'ledger unchanged');
  assert.equal(after.events, before.events, 'no event kept');
}

async function assertBackupVerifies(dir: string | undefined): Promise<void> {
  assert.ok(dir, 'a backup was written');
  const v = await verifyBackup(dir);
  assert.ok(v.ok, `backup verifies: ${v.problems.map((p) => p.message).join('; ')}`);
}

forEachBackend('rebaseline', (backend) => {
  it('metadata only when the live schema equals the baseline: ledger replaced, no data moves', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db, false);
      try {
        // A stale row, as a hand-run `stamp` of an old history would leave.
        await db.exec(`INSERT INTO tidemark.applied (service, migration, checksum, applied_by, tool_version) VALUES ('budget', 'budget_000_legacy', 'x', 'test', '0')`);
        const digests = (await db.query(crm.crmDigestSql())).rows;
        const r = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk') });
        assert.ifError(r.error);
        assert.equal(r.mode, 'metadata');
        assert.deepEqual(r.differences, []);
        assert.deepEqual(r.previousLedger, ['budget_000_legacy', 'budget_001_initial_schema']);
        assert.deepEqual(
          (await readLedger(db, ['budget'])).map((x) => x.migration),
          ['budget_001_initial_schema'],
        );
        assert.deepEqual((await db.query(crm.crmDigestSql())).rows, digests);
        assert.deepEqual(
          r.rows.map((x) => [x.table, x.before, x.after]).sort(),
          [
            ['public.budget_items', 360, 360],
            ['public.budgets', 180, 180],
          ].sort(),
        );
        const ev = await db.query<{ detail: { mode: string } }>(`SELECT detail FROM tidemark.events WHERE action = 'rebaseline' AND migration IS NULL`);
        assert.equal(ev.rows[0].detail.mode, 'metadata');
        await assertBackupVerifies(r.backupDir);
      } finally {
        ws.remove();
      }
    }));

  it('the flow on a Target built by the test (no config loaded, no connection opened by it): full path, one shadow asked', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        const workspace = await loadWorkspace({ cwd: ws.dir });
        const target = fakeTarget(workspace, db, { services: ['budget'], openShadow: (request) => openShadow({ target: db, shadowUrl: request.url, prefer: request.prefer }) });
        const r = await rebaselineTarget(target, { backupDir: path.join(ws.dir, 'bk') });
        assert.ifError(r.error);
        assert.equal(r.mode, 'full');
        assert.equal(r.database, db.displayUrl);
        assert.equal(r.databaseSource, 'given');
        assert.deepEqual(target.shadowCalls, [{ url: undefined }], 'the baseline replayed on the one shadow the target gave');
        assert.deepEqual(
          (await readLedger(db, ['budget'])).map((x) => x.migration),
          ['budget_001_initial_schema'],
        );
        await assertBackupVerifies(r.backupDir);
      } finally {
        ws.remove();
      }
    }));

  it('full path: drops, applies the baseline, restores and validates in one transaction', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        const digestsBefore = (await db.query(crm.crmDigestSql())).rows as { table: string; rows: string }[];
        const r = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk') });
        assert.ifError(r.error);
        assert.equal(r.mode, 'full');
        const said = r.differences.map((d) => d.message).join('\n');
        assert.match(said, /legacy_note/);
        assert.match(said, /budgets_title_idx/);
        // The drift is gone, the data is back (counts equal; the users table untouched).
        const cols = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'budgets' AND column_name = 'legacy_note'`);
        assert.equal(cols.rows.length, 0);
        const after = (await db.query(crm.crmDigestSql())).rows as { table: string; rows: string }[];
        assert.deepEqual(
          after.map((x) => [x.table, String(x.rows)]),
          digestsBefore.map((x) => [x.table, String(x.rows)]),
        );
        assert.deepEqual(after[0], digestsBefore[0], 'users untouched');
        assert.deepEqual(after[2], digestsBefore[2], 'budget_items identical');
        for (const t of r.rows) assert.equal(t.after, t.before, t.table);
        // The schema now equals a fresh replay: a second rebaseline is metadata only.
        const again = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk2') });
        assert.ifError(again.error);
        assert.equal(again.mode, 'metadata');
        // New rows still get fresh ids (sequences were set past the restored maximum).
        await db.exec(`INSERT INTO budgets (user_id, title) VALUES (1, 'after rebaseline')`);
      } finally {
        ws.remove();
      }
    }));

  it('a service others reference: the dependents are named (which foreign key of which service) and nothing changes', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db, false);
      try {
        await db.exec(`ALTER TABLE users ADD COLUMN legacy_flag boolean`);
        const before = await state(db, ws);
        const r = await rebaseline({ cwd: ws.dir, database: db, service: 'user', backupDir: path.join(ws.dir, 'bk') });
        assert.equal(r.error?.code, 'rebaseline-dependents');
        assert.equal(r.error?.kind, 'input');
        assert.match(r.error!.message, /foreign key budgets_user_id_fkey on table budgets \(service budget\) on table users/);
        assert.doesNotMatch(r.error!.message, /other objects depend on them$/);
        assert.match(r.error!.hint ?? '', /migration of service budget/);
        assert.equal(r.backupDir, undefined, 'refused before the backup');
        await assertUnchanged(db, ws, before);
      } finally {
        ws.remove();
      }
    }));

  it('dry run and a doctor error change nothing', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        const before = await state(db, ws);
        const dry = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', dryRun: true });
        assert.ifError(dry.error);
        assert.equal(dry.mode, 'full');
        assert.equal(dry.backupDir, undefined);
        await assertUnchanged(db, ws, before);
        // An edit the sum file does not know of: the doctor's sum-mismatch.
        const file = path.join(ws.dir, BASELINE);
        fs.appendFileSync(file, '\n-- edited after the sum was written\n');
        const refused = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk') });
        assert.equal(refused.ok, false);
        assert.match(refused.error!.message, /doctor reports/);
        assert.equal(fs.existsSync(path.join(ws.dir, 'bk')), false, 'no backup written before the doctor is clean');
        await assertUnchanged(db, ws, before);
      } finally {
        ws.remove();
      }
    }));

  it('a baseline statement failing inside the transaction rolls everything back', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        // Passes on the empty shadow, fails on the live database (it has users): after the DROP ran.
        await editBaseline(ws, `DO $$ BEGIN IF (SELECT count(*) FROM users) > 0 THEN RAISE EXCEPTION 'injected baseline failure'; END IF; END $$;`);
        const before = await state(db, ws);
        const r = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk') });
        assert.equal(r.ok, false);
        assert.match(r.error!.message, /budget_001_initial_schema\.sql:\d+: .*injected baseline failure/);
        await assertUnchanged(db, ws, before);
        await assertBackupVerifies(r.backupDir);
      } finally {
        ws.remove();
      }
    }));

  it('a restore that violates a constraint of the baseline rolls everything back', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        await editBaseline(ws, `ALTER TABLE budget_items ADD CONSTRAINT budget_items_cheap_check CHECK (unit_price < 5);`);
        const before = await state(db, ws);
        const r = await rebaseline({ cwd: ws.dir, database: db, service: 'budget', backupDir: path.join(ws.dir, 'bk') });
        assert.equal(r.ok, false);
        assert.match(r.error!.message, /budget_items_cheap_check/);
        await assertUnchanged(db, ws, before);
        await assertBackupVerifies(r.backupDir);
      } finally {
        ws.remove();
      }
    }));

  it('a validation mismatch after the restore rolls everything back', () =>
    withDatabase(backend, async (db) => {
      const ws = await crmWithDrift(db);
      try {
        const before = await state(db, ws);
        const r = await rebaseline({
          cwd: ws.dir,
          database: db,
          service: 'budget',
          backupDir: path.join(ws.dir, 'bk'),
          beforeValidate: async (tx) => {
            await tx.exec(`DELETE FROM budget_items WHERE id IN (SELECT id FROM budget_items ORDER BY id LIMIT 3)`);
          },
        });
        assert.equal(r.ok, false);
        assert.match(r.error!.message, /budget_items/);
        await assertUnchanged(db, ws, before);
        await assertBackupVerifies(r.backupDir);
      } finally {
        ws.remove();
      }
    }));

  if (backend.name === 'postgres') {
    it('the process killed with SIGKILL in the middle of the transaction leaves the database as it was', () =>
      withDatabase(backend, async (db, url) => {
        const ws = await crmWithDrift(db);
        try {
          // A pause inside the transaction, after the DROP, so the kill lands mid-transaction.
          await editBaseline(ws, `DO $$ BEGIN IF (SELECT count(*) FROM users) > 0 THEN PERFORM pg_sleep(3); END IF; END $$;`);
          const before = await state(db, ws);
          const child = spawn(process.execPath, [CLI, 'rebaseline', '--service', 'budget', '--backup-dir', 'bk', '--database', url], {
            cwd: ws.dir,
            env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '' },
          });
          let out = '';
          const exited = new Promise<number | null>((resolve) => child.on('close', (_code, signal) => resolve(signal === 'SIGKILL' ? -9 : _code)));
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no transaction line in time: ${out}`)), 60_000);
            child.stdout.on('data', (d) => {
              out += d;
              if (/applying the baseline/.test(out) || /baseline budget_001/.test(out)) {
                clearTimeout(timer);
                resolve();
              }
            });
          });
          await new Promise((r) => setTimeout(r, 700));
          child.kill('SIGKILL');
          assert.equal(await exited, -9);
          // The server rolls the transaction back when it notices its client is gone.
          const name = new URL(url).pathname.slice(1);
          for (let i = 0; i < 100; i++) {
            const busy = await db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name]);
            if (Number(busy.rows[0].n) === 0) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          await assertUnchanged(db, ws, before);
          await assertBackupVerifies(path.join(ws.dir, 'bk'));
        } finally {
          ws.remove();
        }
      }));
  }
});
