/**
 * kill -9 (issue 11, atomicity): `up`, `restore` (into empty tables and with --replace) and the full
 * `rebaseline` path are started as a user would start them and killed with SIGKILL at random moments:
 * a third at a delay drawn over the window in which an uninterrupted run was seen connected (a few
 * before it connects), two thirds once the server shows the command's write transaction open or a
 * chosen statement running (plus a random slice of time). After each kill the database must be in a
 * state the command may stop in:
 *  - up: the migrations run one transaction each, so any PREFIX of the planned order — compared with
 *    the state of a run of exactly that prefix (which prefix: the ledger says; a ledger that does not
 *    match its schema fails the comparison);
 *  - restore, rebaseline: before or after, nothing else;
 * and the next run must work: it completes (locks released) and ends in the state of an uninterrupted
 * run. A rebaseline's backup on disk, once there, verifies. On PGlite (a killed process leaves its data
 * directory and lock file) a few kills during `up`, each data directory reopened.
 *
 * Only a run the kill stopped counts (one that ended first does not). Where each kill landed — before
 * the command connected, connected before writing, inside a write transaction, after a commit — is
 * read from the server just before the kill and printed. The seed is printed;
 * TIDEMARK_KILL_SEED=<seed> replays the same draws. TIDEMARK_KILL_TRIALS scales the number of kills
 * (default 1: 50 on the server, 2 on PGlite). Cheap trials (see kill.ts): each database is a copy of
 * a prepared template made ahead of need, a state is one query, drops are batched.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { up } from '../../src/api/migrate.js';
import { backup, verifyBackup } from '../../src/api/backup.js';
import { restore } from '../../src/api/restore.js';
import { openDatabase } from '../../src/db/open.js';
import { rebaseline } from '../../src/api/flows.js';
import { backends, type TestDatabase } from '../support/backends.js';
import {
  FINISHED,
  KILL_SEED,
  KillServer,
  KillTally,
  dbState,
  killAfterOutput,
  oneQueryDisagrees,
  phaseOf,
  pollUntil,
  seededRandom,
  sleep,
  startCli,
  stateDifferences,
  type Activity,
  type CliOutcome,
  type DbState,
  type Timeline,
} from '../support/kill.js';
import { CRM_EXAMPLE, copyCrmExample, makeWorkspace, sqlMigration, type TempWorkspace } from '../support/workspace.js';

interface CrmData {
  crmDataStatements(opts?: { users?: number; budgetsPerUser?: number; itemsPerBudget?: number }): string[];
}
const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as CrmData;

const SCALE = Number(process.env.TIDEMARK_KILL_TRIALS ?? 1);
/** Trials at once, each on its own database (most of a trial waits on the server or on a child process). */
const CONCURRENCY = Number(process.env.TIDEMARK_KILL_CONCURRENCY ?? 3);
const random = seededRandom(KILL_SEED);
/** Kills per command on the server (times TIDEMARK_KILL_TRIALS): 50 in all. */
const UP_KILLS = 20;
const RESTORE_KILLS = 10; // into empty tables, and again with --replace
const REBASELINE_KILLS = 10;
const SERVER_KILLS = Math.round(UP_KILLS * SCALE) + 2 * Math.round(RESTORE_KILLS * SCALE) + Math.round(REBASELINE_KILLS * SCALE);
/** The next run after a kill must get its locks at once: the killed session's are gone with it. */
const NEXT_RUN_LOCK_TIMEOUT_MS = 20_000;
const tally = new KillTally();
console.log(`# kill suite seed ${KILL_SEED} (replay: TIDEMARK_KILL_SEED=${KILL_SEED} node --test dist/test/db/kill.test.js)`);

/**
 * When to kill, the run's own progress seen on the server: a fraction of the time an uninterrupted run
 * spent connected, counted from when this run connects (`early`: a fraction of the time before an
 * uninterrupted run connected, counted from the start); `extraMs` after a write transaction of the
 * command shows; `extraMs` after the command's session is seen running a statement that matches
 * `query` (a chosen point, e.g. the COPY of the second table of a restore); or `extraMs` after a write
 * transaction was seen and then seen gone (a commit) while the command still runs.
 */
type KillPlan =
  | { kind: 'delay'; fraction: number; early: boolean }
  | { kind: 'write'; extraMs: number }
  | { kind: 'query'; query: string; extraMs: number; orCommit: boolean }
  | { kind: 'commit'; extraMs: number };

/**
 * The plans of `n` trials, drawn up front so that concurrency does not change the draws, in sixes: two
 * at a delay (one in four of those before the command connects), one at a write transaction, two at
 * the chosen `points` (cycling), one after a commit. `oneTransaction`: a command with one write
 * transaction, where a point too brief to be seen falls back to the commit (not a run that ends first).
 */
function plans(n: number, windowMs: number, points: string[], oneTransaction = false): KillPlan[] {
  let point = 0;
  return Array.from({ length: n }, (_, i): KillPlan => {
    if (i % 3 === 0) return { kind: 'delay', fraction: random(), early: i % 12 === 0 };
    const extraMs = Math.round(random() * windowMs);
    if (i % 6 === 4) return { kind: 'commit', extraMs: Math.round(extraMs / 10) };
    if (i % 3 === 2) return { kind: 'query', query: points[point++ % points.length], extraMs: Math.round(extraMs / 4), orCommit: oneTransaction };
    return { kind: 'write', extraMs };
  });
}

interface Killed {
  /** False when the command finished before the kill (not counted as a kill). */
  killed: boolean;
  /** The command's sessions on the database just before the kill. */
  sessions: Activity[];
  outcome: CliOutcome;
}

/** The tally's phase of a trial: where the kill landed, or that the run ended first. */
const phase = (k: Killed, committed: boolean) => (k.killed ? phaseOf(k.sessions, committed) : FINISHED);

/**
 * Runs trials (at most CONCURRENCY at a time, plans taken in order) until `target` of them killed the
 * command: a run that finished before its kill is not counted, and another trial takes its place (no
 * more start than can still be needed). Stops at the first failure.
 */
async function untilKills(command: string, target: number, planned: KillPlan[], trial: (plan: KillPlan, i: number) => Promise<boolean>): Promise<void> {
  let kills = 0;
  let running = 0;
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && kills + running < target && next < planned.length) {
      const i = next++;
      running++;
      try {
        if (await trial(planned[i], i)) kills++;
      } catch (err) {
        failed ??= err;
      } finally {
        running--;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (failed !== undefined) throw failed;
  assert.ok(kills >= target, `${command}: ${kills} kills in ${planned.length} trials, ${target} wanted (seed ${KILL_SEED})`);
}

// ---- the up fixture ----

const SERVICES = ['alpha', 'beta', 'gamma'];
/** Three services; 001 is applied in the template, 002-004 are pending: nine transactions with data. */
function upWorkspace(rows: number): TempWorkspace {
  const files: Record<string, string> = {};
  for (const s of SERVICES) {
    const dir = `migrations/${s}`;
    files[`${dir}/${s}_001_create.sql`] = sqlMigration(
      `CREATE TABLE ${s}_items (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n int NOT NULL, label text NOT NULL);
INSERT INTO ${s}_items (id, n, label) SELECT g, g, 'seed ' || g FROM generate_series(1, 1000) g;`,
    );
    files[`${dir}/${s}_002_load.sql`] = sqlMigration(`INSERT INTO ${s}_items (id, n, label) SELECT 1000 + g, g, md5(g::text) FROM generate_series(1, ${rows}) g;`);
    files[`${dir}/${s}_003_reshape.sql`] = sqlMigration(
      `ALTER TABLE ${s}_items ADD COLUMN k int;
UPDATE ${s}_items SET k = n % 97;
CREATE INDEX ${s}_items_k ON ${s}_items (k);
COMMENT ON COLUMN ${s}_items.k IS 'bucket of n';`,
    );
    files[`${dir}/${s}_004_split.sql`] = sqlMigration(
      `CREATE TABLE ${s}_buckets (k int PRIMARY KEY, total bigint NOT NULL);
INSERT INTO ${s}_buckets SELECT k, sum(n) FROM ${s}_items GROUP BY k;
ALTER TABLE ${s}_items ADD CONSTRAINT ${s}_items_k_fk FOREIGN KEY (k) REFERENCES ${s}_buckets (k);
DELETE FROM ${s}_items WHERE n % 10 = 0;`,
    );
  }
  return makeWorkspace(Object.fromEntries(SERVICES.map((s) => [s, { owns: [`${s}_*`] }])), files);
}

/** The applied migrations a state's ledger lists, as service/migration. */
function appliedOf(state: DbState): string[] {
  return (state.core['rows "tidemark"."applied"'] ?? '')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('|').slice(0, 2).join('/'));
}

// ---- the server ----

const server = backends.find((b) => b.name === 'postgres');

describe('kill -9 at random moments [postgres]', { skip: server ? false : 'no PostgreSQL server' }, () => {
  let home: TestDatabase | undefined;
  let srv: KillServer;
  const dirs: TempWorkspace[] = [];
  const workspace = (ws: TempWorkspace) => (dirs.push(ws), ws);

  const started = performance.now();
  before(async () => {
    home = await server!.createDatabase();
    srv = await KillServer.open(home.url);
  });
  after(async () => {
    for (const ws of dirs) ws.remove();
    await srv?.close();
    await home?.drop();
    const onServer = (r: { command: string }) => !r.command.includes('[pglite]');
    const kills = tally.kills(onServer).length;
    const seconds = Math.round((performance.now() - started) / 1000);
    console.log(`# kill suite seed ${KILL_SEED}: ${kills} kills on the server in ${seconds} s; where they landed (command | phase | state found):\n${tally.report(onServer)}`);
    // The whole suite (not a --test-name-pattern subset): every planned kill happened (50 at scale 1).
    if (new Set(tally.rows.filter(onServer).map((r) => r.command)).size === 4) assert.ok(kills >= SERVER_KILLS, `at least ${SERVER_KILLS} kills on the server (${kills})`);
  });

  /** An uninterrupted run of `args` on database `name`, watched: when it connected, wrote and ended. */
  async function reference(command: string, name: string, args: string[], cwd: string): Promise<Timeline & { output: string }> {
    const run = startCli(args, cwd);
    const tl = await srv.timeline(name, run);
    const full = await run.done;
    assert.equal(full.code, 0, full.stderr);
    const ms = (n: number) => Math.round(n);
    console.log(`# ${command}: an uninterrupted run takes ${ms(tl.endMs)} ms: connected at ${ms(tl.connectMs)}, writing from ${ms(tl.firstWriteMs)} to ${ms(tl.lastWriteMs)}`);
    return { ...tl, output: full.stdout + full.stderr };
  }

  /** Starts the command on database `name`, kills it as planned, waits until the server let go of its sessions. */
  async function killDuring(name: string, args: string[], cwd: string, plan: KillPlan, tl: Timeline): Promise<Killed> {
    const run = startCli(args, cwd);
    /** Polls the command's sessions until `check` says so; false if the command ended first. */
    const until = (check: (sessions: Activity[]) => boolean, everyMs: number) =>
      pollUntil(
        async () => check(await srv.activity(name)),
        () => run.exited,
        everyMs,
      );
    if (plan.kind === 'delay' && plan.early) {
      await sleep(plan.fraction * tl.connectMs);
    } else {
      // Nothing to watch before the command can have connected (a busy machine only makes it later).
      await sleep(0.7 * tl.connectMs);
      if (plan.kind === 'delay') {
        if (await until((s) => s.length > 0, 10)) await sleep(plan.fraction * 0.97 * (tl.endMs - tl.connectMs));
      } else {
        let [wrote, committed] = [false, false];
        /** Notes a write transaction seen, then seen gone: a commit. */
        const commit = (s: Activity[]) => {
          const writing = s.some((a) => a.writing);
          wrote ||= writing;
          return (committed = wrote && !writing);
        };
        let seen: boolean;
        if (plan.kind === 'write') seen = await until((s) => s.some((a) => a.writing), 8);
        else if (plan.kind === 'query') {
          const pattern = new RegExp(plan.query, 'i');
          seen = await until((s) => s.some((a) => a.state === 'active' && pattern.test(a.query)) || (plan.orCommit && commit(s)), 2);
        } else seen = await until(commit, 4);
        // After a point, a slice of time; after a commit seen in place of a point, at once.
        if (seen && !(plan.kind === 'query' && committed)) await sleep(plan.extraMs);
      }
    }
    // Where it lands: the sessions just before the kill (after it, the server may already have ended them).
    let sessions: Activity[] = [];
    if (!run.exited) {
      sessions = await srv.activity(name);
      run.child.kill('SIGKILL');
    }
    const outcome = await run.done;
    await srv.waitGone(name);
    const killed = outcome.signal === 'SIGKILL';
    if (!killed) assert.equal(outcome.code, 0, `tidemark ${args[0]} ended by itself, and failed: ${outcome.stdout}${outcome.stderr}`);
    return { killed, sessions, outcome };
  }

  async function stateOf(name: string): Promise<DbState> {
    const db = await openDatabase(srv.urlOf(name));
    try {
      return await dbState(db);
    } finally {
      await db.close();
    }
  }

  function assertSame(actual: DbState, expected: DbState, what: string, options: { ignoreEvents?: boolean } = {}): void {
    const diff = stateDifferences(actual, expected, options);
    assert.deepEqual(diff, [], `${what}: differs in ${diff.join(', ')} (seed ${KILL_SEED})`);
  }

  // ---- up ----

  it(`up: ${Math.round(UP_KILLS * SCALE)} kills; every state is a prefix of the planned migrations, the next up completes`, { timeout: 300_000 }, async () => {
    const ws = workspace(upWorkspace(8_000));
    const template = await srv.create();
    for (const s of SERVICES) {
      const r = await up({ cwd: ws.dir, database: srv.urlOf(template), to: `${s}_001_create` });
      assert.ifError(r.error);
    }
    const before = await stateOf(template);

    // The reference run: its duration, its order of migrations, the state after all of them.
    const ref = await srv.create(template);
    const tl = await reference('up', ref, ['up', '--database', srv.urlOf(ref)], ws.dir);
    const afterAll = await stateOf(ref);
    const db = await openDatabase(srv.urlOf(ref));
    const order = (await db.query<{ m: string }>(`SELECT service || '/' || migration AS m FROM tidemark.events WHERE action = 'up' AND migration NOT LIKE '%\\_001\\_%' ORDER BY id`)).rows.map(
      (r) => r.m,
    );
    // The one-query state reads what the fingerprint reads (a schema with identities, indexes, keys, comments, a ledger).
    assert.deepEqual(await oneQueryDisagrees(db), [], 'the one-query state and fingerprintParts agree');
    await db.close();
    srv.dispose(ref);
    assert.equal(order.length, 9);

    // The state after exactly the first k migrations, for every k: one migration at a time on one copy.
    const prefixStates: DbState[] = [before];
    const steps = await srv.create(template);
    const sdb = await openDatabase(srv.urlOf(steps));
    try {
      for (const m of order) {
        assert.ifError((await up({ cwd: ws.dir, database: sdb, to: m.split('/')[1] })).error);
        prefixStates.push(await dbState(sdb));
      }
    } finally {
      await sdb.close();
      srv.dispose(steps);
    }
    assert.deepEqual(stateDifferences(prefixStates[order.length], afterAll), [], 'one at a time ends where one run ends');

    const target = Math.round(UP_KILLS * SCALE);
    const clones = srv.clones(template, CONCURRENCY);
    await untilKills('up', target, plans(target + 20, 150, ['INSERT INTO \\w+_items', 'UPDATE \\w+_items', 'INSERT INTO \\w+_buckets', 'WITH rec AS']), async (plan, i) => {
      const name = await clones.take();
      try {
        const args = ['up', '--database', srv.urlOf(name)];
        const k = await killDuring(name, args, ws.dir, plan, tl);
        const state = await stateOf(name);
        const applied = appliedOf(state).filter((m) => !m.endsWith('_001_create'));
        const n = applied.length;
        const where = phase(k, n > 0);
        assert.deepEqual([...applied].sort(), order.slice(0, n).sort(), `trial ${i}: the ledger lists a prefix of the planned order (seed ${KILL_SEED})`);
        assertSame(state, prefixStates[n], `trial ${i} (${JSON.stringify(plan)}, ${where}): the state after ${n} of ${order.length} migrations`);
        tally.add('up', where, n === 0 ? 'before' : n === order.length ? 'after' : `prefix (${n} of ${order.length})`, plan.kind);
        // The next run (in this process: the function the CLI calls), with a short lock timeout: locks
        // released, the rest applied, the same end state as an uninterrupted run.
        const again = await up({ cwd: ws.dir, database: srv.urlOf(name), lockTimeoutMs: NEXT_RUN_LOCK_TIMEOUT_MS });
        assert.ifError(again.error);
        assertSame(await stateOf(name), afterAll, `trial ${i}: after the next up`);
        return k.killed;
      } finally {
        srv.dispose(name);
      }
    });
    await clones.close();
    srv.dispose(template);
    srv.flush();
  });

  // ---- restore ----

  const SHOP_SCHEMA = `CREATE TABLE shop_orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, customer text NOT NULL, total numeric(12,2) NOT NULL);
CREATE TABLE shop_lines (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL REFERENCES shop_orders (id), sku text NOT NULL, qty int NOT NULL);`;
  const shopRows = (orders: number, salt: string) => `
INSERT INTO shop_orders (customer, total) SELECT '${salt} customer ' || g, (g % 1000) / 7.0 FROM generate_series(1, ${orders}) g;
INSERT INTO shop_lines (order_id, sku, qty) SELECT 1 + g % ${orders}, '${salt}-sku-' || (g % 313), g % 9 FROM generate_series(1, ${orders * 3}) g;`;

  for (const replace of [false, true]) {
    const kills = Math.round(RESTORE_KILLS * SCALE);
    const title = replace
      ? `restore --replace: ${kills} kills; the old rows or the backup's, never a mix, sequences never behind; the next restore completes`
      : `restore into empty tables: ${kills} kills; before or after, never a part; the next restore completes`;
    it(title, { timeout: 300_000 }, async () => {
      const ws = workspace(makeWorkspace({ shop: { owns: ['shop_*'] } }, { 'migrations/shop/shop_001_schema.sql': sqlMigration(SHOP_SCHEMA) }));
      // The backup: 3,000 orders and 9,000 lines.
      const source = await srv.create();
      try {
        assert.ifError((await up({ cwd: ws.dir, database: srv.urlOf(source) })).error);
        const db = await openDatabase(srv.urlOf(source));
        await db.exec(shopRows(3_000, 'backup'));
        await db.close();
        assert.ifError((await backup({ cwd: ws.dir, database: srv.urlOf(source), out: path.join(ws.dir, 'bk') })).error);
      } finally {
        srv.dispose(source);
      }
      // The target: the schema, empty or with other rows whose ids run past the backup's.
      const template = await srv.create();
      assert.ifError((await up({ cwd: ws.dir, database: srv.urlOf(template) })).error);
      if (replace) {
        const db = await openDatabase(srv.urlOf(template));
        await db.exec(shopRows(3_600, 'live'));
        await db.close();
      }
      const before = await stateOf(template);
      const args = (name: string) => ['restore', path.join(ws.dir, 'bk'), '--database', srv.urlOf(name), ...(replace ? ['--replace'] : [])];

      const ref = await srv.create(template);
      const tl = await reference(replace ? 'restore --replace' : 'restore', ref, args(ref), ws.dir);
      const afterRestore = await stateOf(ref);
      srv.dispose(ref);
      assert.notDeepEqual(stateDifferences(afterRestore, before), [], 'the restore changes the database');

      const points = ['COPY .*shop_lines', 'hashtextextended', 'INSERT INTO tidemark\\.events', ...(replace ? ['DELETE FROM'] : [])];
      const clones = srv.clones(template, CONCURRENCY);
      await untilKills(replace ? 'restore --replace' : 'restore', kills, plans(kills + 20, 300, points, true), async (plan, i) => {
        const name = await clones.take();
        try {
          const k = await killDuring(name, args(name), ws.dir, plan, tl);
          const state = await stateOf(name);
          const isBefore = stateDifferences(state, before).length === 0;
          const isAfter = stateDifferences(state, afterRestore).length === 0;
          assert.ok(
            isBefore || isAfter,
            `trial ${i} (${JSON.stringify(plan)}, ${phase(k, !isBefore)}): neither before (differs in ${stateDifferences(state, before).join(', ')}) nor after (differs in ${stateDifferences(state, afterRestore).join(', ')}) (seed ${KILL_SEED})`,
          );
          tally.add(replace ? 'restore --replace' : 'restore', phase(k, !isBefore), isBefore ? 'before' : 'after', plan.kind);
          // The next run: from "before" it must end exactly as an uninterrupted run; from "after" a
          // --replace must still get its locks and leave the same rows.
          const again = await restore({ cwd: ws.dir, database: srv.urlOf(name), dir: path.join(ws.dir, 'bk'), replace: replace || isAfter, lockTimeoutMs: NEXT_RUN_LOCK_TIMEOUT_MS });
          assert.ifError(again.error);
          assertSame(await stateOf(name), afterRestore, `trial ${i}: after the next restore`, { ignoreEvents: isAfter });
          return k.killed;
        } finally {
          srv.dispose(name);
        }
      });
      await clones.close();
      srv.dispose(template);
      srv.flush();
    });
  }

  // ---- rebaseline ----

  it(`rebaseline (full path): ${Math.round(REBASELINE_KILLS * SCALE)} kills; before or after, the backup on disk verifies, the next rebaseline completes`, { timeout: 300_000 }, async () => {
    const crmWs = workspace(copyCrmExample());
    const template = await srv.create();
    assert.ifError((await up({ cwd: crmWs.dir, database: srv.urlOf(template) })).error);
    const db = await openDatabase(srv.urlOf(template));
    for (const sql of crm.crmDataStatements({ users: 400, budgetsPerUser: 3, itemsPerBudget: 3 })) await db.exec(sql);
    // A drift, so that the full path (drop, baseline, restore, validate) runs.
    await db.exec(`ALTER TABLE budgets ADD COLUMN legacy_note text; UPDATE budgets SET legacy_note = 'n' || id WHERE id % 7 = 0;
                   CREATE INDEX budgets_title_idx ON budgets (title);`);
    await db.close();
    const before = await stateOf(template);

    /** A rebaseline of `name` with its own workspace, backup directory and (empty) shadow database. */
    const shadows = srv.clones(undefined, CONCURRENCY);
    const rebaselineOf = async (name: string, ws: TempWorkspace, bk: string) => {
      const shadow = await shadows.take();
      return { shadow, args: ['rebaseline', '--service', 'budget', '--backup-dir', path.join(ws.dir, bk), '--shadow', srv.urlOf(shadow), '--database', srv.urlOf(name)] };
    };

    const ref = await srv.create(template);
    const refWs = workspace(copyCrmExample());
    const r = await rebaselineOf(ref, refWs, 'bk');
    const tl = await reference('rebaseline', ref, r.args, refWs.dir);
    assert.match(tl.output, /dropping, applying the baseline/);
    const afterRebaseline = await stateOf(ref);
    srv.dispose(ref);
    srv.dispose(r.shadow);

    const kills = Math.round(REBASELINE_KILLS * SCALE);
    // Statements of the transaction only (the backup before it also reads with COPY and digests, and
    // writes temporary tables): the drop, the restore's COPY, the ledger rows.
    const points = ['DROP TABLE .*budgets', 'COPY .*budget_items.*FROM STDIN', 'COPY .*budgets.*FROM STDIN', 'WITH rec AS'];
    const clones = srv.clones(template, CONCURRENCY);
    await untilKills('rebaseline', kills, plans(kills + 30, 200, points, true), async (plan, i) => {
      const name = await clones.take();
      const ws = copyCrmExample();
      const used: string[] = [];
      try {
        const first = await rebaselineOf(name, ws, 'bk');
        used.push(first.shadow);
        const k = await killDuring(name, first.args, ws.dir, plan, tl);
        await srv.waitGone(first.shadow);
        const state = await stateOf(name);
        const isBefore = stateDifferences(state, before).length === 0;
        const isAfter = stateDifferences(state, afterRebaseline).length === 0;
        assert.ok(
          isBefore || isAfter,
          `trial ${i} (${JSON.stringify(plan)}, ${phase(k, !isBefore)}): neither before (differs in ${stateDifferences(state, before).join(', ')}) nor after (differs in ${stateDifferences(state, afterRebaseline).join(', ')}) (seed ${KILL_SEED})`,
        );
        tally.add('rebaseline', phase(k, !isBefore), isBefore ? 'before' : 'after', plan.kind);
        // The backup, once renamed into place, is whole; a rebaseline that committed had one.
        const bk = path.join(ws.dir, 'bk');
        if (isAfter) assert.ok(fs.existsSync(bk), `trial ${i}: a committed rebaseline left its backup`);
        if (fs.existsSync(bk)) {
          const v = await verifyBackup(bk);
          assert.ok(v.ok, `trial ${i}: the backup verifies: ${v.problems.map((p) => p.message).join('; ')}`);
        }
        // The next run completes: from "before", exactly as an uninterrupted run; from "after", metadata only.
        const shadow = await shadows.take();
        used.push(shadow);
        const again = await rebaseline({
          cwd: ws.dir,
          database: srv.urlOf(name),
          service: 'budget',
          backupDir: path.join(ws.dir, 'bk2'),
          shadow: srv.urlOf(shadow),
          lockTimeoutMs: NEXT_RUN_LOCK_TIMEOUT_MS,
        });
        assert.ifError(again.error);
        assert.equal(again.mode, isAfter ? 'metadata' : 'full');
        assertSame(await stateOf(name), afterRebaseline, `trial ${i}: after the next rebaseline`, { ignoreEvents: isAfter });
        return k.killed;
      } finally {
        ws.remove();
        srv.dispose(name);
        for (const s of used) srv.dispose(s);
      }
    });
    await clones.close();
    await shadows.close();
    srv.dispose(template);
    srv.flush();
  });
});

// ---- PGlite ----

describe('kill -9 during up [pglite]', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-kill-'));
  const ws = upWorkspace(3_000);
  after(() => {
    ws.remove();
    fs.rmSync(root, { recursive: true, force: true });
  });

  let copies = 0;
  /** A copy of the data directory `from` (closed). */
  const copyOf = (from: string): string => {
    const dir = path.join(root, `db${++copies}`);
    fs.cpSync(from, dir, { recursive: true });
    return dir;
  };

  const kills = Math.max(2, Math.round(2 * SCALE));
  it(`${kills} kills: the data directory reopens in the state of a prefix of the migrations; the next up completes`, { timeout: 300_000 }, async () => {
    const template = path.join(root, 'template');
    const tdb = await openDatabase(`pglite:${template}`);
    let before: DbState;
    try {
      for (const s of SERVICES) assert.ifError((await up({ cwd: ws.dir, database: tdb, to: `${s}_001_create` })).error);
      before = await dbState(tdb);
    } finally {
      await tdb.close();
    }

    // PGlite runs in the CLI's own process: no server to watch, and most of a run is PGlite starting
    // up. Each kill comes a random slice of time (up to 300 ms) after the CLI reported its k-th
    // migration committed, k drawn from 1 to 8: inside or between the later transactions. The CLIs
    // start now and run (watched from worker threads) while this process computes the states to compare with.
    const draws = Array.from({ length: kills }, () => ({ after: 1 + Math.floor(random() * 8), extraMs: Math.round(random() * 300) }));
    const ran = Promise.all(
      draws.map(async (draw) => {
        const dir = copyOf(template);
        return { dir, draw, outcome: await killAfterOutput(['up', '--database', `pglite:${dir}`], ws.dir, /^applied /gm, draw.after, draw.extraMs) };
      }),
    );
    ran.catch(() => {});

    // The order and the state after exactly the first k migrations, for every k: one at a time on one copy.
    const prefixStates: DbState[] = [before];
    const steps = await openDatabase(`pglite:${copyOf(template)}`);
    let order: string[];
    try {
      const dry = await up({ cwd: ws.dir, database: steps, dryRun: true });
      assert.ifError(dry.error);
      order = dry.plan.map((p) => `${p.service}/${p.migration}`);
      assert.equal(order.length, 9);
      for (const m of order) {
        assert.ifError((await up({ cwd: ws.dir, database: steps, to: m.split('/')[1] })).error);
        prefixStates.push(await dbState(steps));
      }
    } finally {
      await steps.close();
    }
    // An uninterrupted run (in this process: a CLI would start PGlite once more) ends in the same state.
    const whole = await openDatabase(`pglite:${copyOf(template)}`);
    let afterAll: DbState;
    try {
      const r = await up({ cwd: ws.dir, database: whole });
      assert.ifError(r.error);
      assert.deepEqual(
        r.results.map((x) => `${x.service}/${x.migration}`),
        order,
        'one run applies the planned order',
      );
      afterAll = await dbState(whole);
      assert.deepEqual(await oneQueryDisagrees(whole), [], 'the one-query state and fingerprintParts agree');
    } finally {
      await whole.close();
    }
    assert.deepEqual(stateDifferences(prefixStates[order.length], afterAll), [], 'one at a time ends where one run ends');

    for (const [i, { dir, draw, outcome }] of (await ran).entries()) {
      const printed = [...outcome.stdout.matchAll(/^applied\s+(\S+)/gm)].length;
      // Reopening takes over the lock file the killed process left (its pid is gone) and runs recovery.
      const db = await openDatabase(`pglite:${dir}`);
      try {
        const state = await dbState(db);
        const applied = appliedOf(state).filter((m) => !m.endsWith('_001_create'));
        const n = applied.length;
        assert.deepEqual([...applied].sort(), order.slice(0, n).sort(), `PGlite trial ${i}: the ledger lists a prefix of the planned order (seed ${KILL_SEED})`);
        // Every migration the CLI reported applied survived the kill (it was committed).
        assert.ok(n >= printed, `PGlite trial ${i}: ${printed} migrations reported applied, ${n} in the ledger after reopening`);
        const diff = stateDifferences(state, prefixStates[n]);
        assert.deepEqual(diff, [], `PGlite trial ${i} (${JSON.stringify(draw)}): the state after ${n} of ${order.length} migrations; differs in ${diff.join(', ')} (seed ${KILL_SEED})`);
        tally.add('up [pglite]', outcome.signal === 'SIGKILL' ? `killed after ${printed} reported` : FINISHED, n === 0 ? 'before' : n === order.length ? 'after' : `prefix (${n} of ${order.length})`);
        // The next run (in this process, on the reopened directory) applies the rest.
        assert.ifError((await up({ cwd: ws.dir, database: db })).error);
        assert.deepEqual(stateDifferences(await dbState(db), afterAll), [], `PGlite trial ${i}: after the next up`);
      } finally {
        await db.close();
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(`${dir}.lock`, { force: true });
    }
    console.log(`# kill suite on PGlite:\n${tally.report((r) => r.command.includes('[pglite]'))}`);
  });
});
