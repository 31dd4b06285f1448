/**
 * The kill harness (issue 11, atomicity): start the built CLI as a user would, SIGKILL it at a random
 * moment (or the moment the server shows its write transaction open), then read what the database
 * holds. The state must be one the command can leave when it stops between two commits: "before",
 * "after", or for `up` a prefix of its migrations — never anything in between.
 *
 * States are compared through `fingerprintParts` (test/support/fingerprint.ts) with two deliberate
 * relaxations, both properties of PostgreSQL rather than of tidemark:
 *  - the ledger's clock and run-specific columns (applied_at, duration_ms, events.id/at/detail) are
 *    left out: two correct runs never agree on them. Which rows exist, with which service, migration,
 *    checksum, status and outcome, is compared exactly;
 *  - sequences are not transactional (a rolled-back nextval or setval keeps its effect), so a
 *    sequence may be AHEAD of the state it is compared with, never behind it: behind means the next
 *    insert can collide with a row that is there.
 *
 * A state is read in ONE query (the fingerprint's own catalog queries and row digests, composed; row
 * digests through query_to_xml): the suite reads two states per kill, and ~25 round trips each were a
 * good part of a trial on a busy machine. `oneQueryAgrees` checks it against `fingerprintParts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import type { Queryable } from '../../src/db/database.js';
import { CATALOG_QUERIES, USER_NAMESPACES, fingerprintParts, rowsDigestSql } from './fingerprint.js';
import { CLI } from './workspace.js';

// ---- a seeded random source, so a failing run can be replayed ----

/** mulberry32: small, fast, good enough to spread kill moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** TIDEMARK_KILL_SEED replays a run; otherwise a fresh seed, printed by the suite. */
export const KILL_SEED = process.env.TIDEMARK_KILL_SEED ? Number(process.env.TIDEMARK_KILL_SEED) : Math.floor(Math.random() * 2 ** 31);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- database states ----

export interface SequenceState {
  /** The value the next nextval() returns. */
  next: bigint;
}

export interface DbState {
  core: Record<string, string>;
  sequences: Record<string, SequenceState>;
}

/** The ledger's run-independent columns (hex: query_to_xml escapes text), as two strings. */
const LEDGER_APPLIED = `SELECT encode(convert_to(string_agg(format('%s|%s|%s|%s|%s|%s|%s', service, migration, checksum, status, applied_by, tool_version, error), E'\\n' ORDER BY service, migration), 'UTF8'), 'hex') AS v FROM tidemark.applied`;
const LEDGER_EVENTS = `SELECT encode(convert_to(string_agg(e, E'\\n' ORDER BY e), 'UTF8'), 'hex') AS v FROM (SELECT format('%s|%s|%s|%s|%s', actor, action, service, migration, outcome) AS e FROM tidemark.events) x`;
/** The value `v` of a one-row query run through query_to_xml (NULL: no value). */
const xmlValue = (sql: string) => `(xpath('/row/v/text()', query_to_xml(${sql}, false, true, '')))[1]::text`;
const hasLedger = `to_regclass('tidemark.events') IS NOT NULL AND to_regclass('tidemark.applied') IS NOT NULL`;
const STATE_SQL = `
WITH kill_tables AS (
  SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
         '"' || replace(n.nspname, '"', '""') || '"."' || replace(c.relname, '"', '""') || '"' AS q
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'S') AND ${USER_NAMESPACES}
)
SELECT json_build_object(${CATALOG_QUERIES.map(([label, sql]) => `'${label}', (${sql})`).join(',\n  ')}) AS catalog,
  (SELECT json_agg(json_build_array(q, kind, ${xmlValue(`replace(CASE kind WHEN 'S' THEN $1::text ELSE $2::text END, '{table}', q)`)}) ORDER BY schema, name) FROM kill_tables) AS tables,
  CASE WHEN ${hasLedger} THEN ${xmlValue('$3::text')} END AS applied,
  CASE WHEN ${hasLedger} THEN ${xmlValue('$4::text')} END AS events`;

/** `fingerprintParts` (same names, same values) in one query, and the ledger's run-independent columns. */
export async function oneQueryParts(db: Queryable): Promise<{ parts: Record<string, string>; sequences: string[]; ledger?: { applied: string; events: string } }> {
  const r = await db.query<{ catalog: Record<string, string | null>; tables: [string, string, string | null][] | null; applied: string | null; events: string | null }>(STATE_SQL, [
    rowsDigestSql('{table}', 'S'),
    rowsDigestSql('{table}', 'r'),
    LEDGER_APPLIED,
    LEDGER_EVENTS,
  ]);
  const row = r.rows[0];
  const parts: Record<string, string> = {};
  for (const [label] of CATALOG_QUERIES) parts[label] = row.catalog[label] ?? '';
  const sequences: string[] = [];
  for (const [q, kind, v] of row.tables ?? []) {
    parts[`rows ${q}`] = v ?? '';
    if (kind === 'S') sequences.push(q);
  }
  const text = (hex: string | null) => Buffer.from(hex ?? '', 'hex').toString('utf8');
  const ledgerThere = 'rows "tidemark"."applied"' in parts && 'rows "tidemark"."events"' in parts;
  return { parts, sequences, ledger: ledgerThere ? { applied: text(row.applied), events: text(row.events) } : undefined };
}

/** Whether the one-query state reads what `fingerprintParts` reads (names of the parts that differ). */
export async function oneQueryDisagrees(db: Queryable): Promise<string[]> {
  const [one, many] = [(await oneQueryParts(db)).parts, await fingerprintParts(db)];
  return [...new Set([...Object.keys(one), ...Object.keys(many)])].filter((k) => one[k] !== many[k]).sort();
}

/** The database's state, with the ledger's run-specific columns and the sequences set apart (see top). */
export async function dbState(db: Queryable): Promise<DbState> {
  const { parts, sequences: seqs, ledger } = await oneQueryParts(db);
  const sequences: Record<string, SequenceState> = {};
  for (const q of seqs) {
    const key = `rows ${q}`;
    const [value, called] = (parts[key] ?? '').split(':');
    if (value === undefined || value === '') continue;
    sequences[q] = { next: BigInt(value) + (called === 'true' ? 1n : 0n) };
    delete parts[key];
  }
  if (ledger) {
    parts['rows "tidemark"."applied"'] = ledger.applied;
    parts['rows "tidemark"."events"'] = ledger.events;
  }
  return { core: parts, sequences };
}

/**
 * Why `actual` is not `expected` (empty when it is). With `ignoreEvents`, the events table may differ
 * (a run that found nothing to do still logs itself).
 */
export function stateDifferences(actual: DbState, expected: DbState, options: { ignoreEvents?: boolean } = {}): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(actual.core), ...Object.keys(expected.core)]);
  for (const k of [...keys].sort()) {
    if (options.ignoreEvents && k === 'rows "tidemark"."events"') continue;
    if (actual.core[k] !== expected.core[k]) out.push(k);
  }
  for (const [name, want] of Object.entries(expected.sequences)) {
    const got = actual.sequences[name];
    // A sequence dropped or created shows in 'relations'; here only one that went backwards.
    if (got && got.next < want.next) out.push(`sequence ${name} went back: next ${got.next} < ${want.next}`);
  }
  return out;
}

// ---- the CLI, started and killed ----

export interface CliOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunningCli {
  child: ChildProcess;
  started: number;
  exited: boolean;
  done: Promise<CliOutcome>;
  output(): string;
}

/** Starts `tidemark ARGS` in `cwd` (no colour, no DATABASE_URL from the environment). */
export function startCli(args: string[], cwd: string): RunningCli {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cliEnv() });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const running: RunningCli = {
    child,
    started,
    exited: false,
    output: () => stdout + stderr,
    done: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        running.exited = true;
        resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
      });
    }),
  };
  return running;
}

/** The environment a CLI under test gets: no colour, no DATABASE_URL from the environment. */
const cliEnv = () => ({ ...process.env, NO_COLOR: '1', DATABASE_URL: '' });

/** The worker of `killAfterOutput` (CommonJS, evaluated). */
const KILLER = `
const { spawn } = require('node:child_process');
const { parentPort, workerData: w } = require('node:worker_threads');
const started = performance.now();
const child = spawn(process.execPath, [w.cli, ...w.args], { cwd: w.cwd, env: w.env });
const pattern = new RegExp(w.source, w.flags);
let stdout = '', stderr = '', armed = false;
const seen = () => {
  if (armed || ((stdout + stderr).match(pattern) || []).length < w.count) return;
  armed = true;
  setTimeout(() => child.kill('SIGKILL'), w.extraMs);
};
child.stdout.on('data', (d) => { stdout += d; seen(); });
child.stderr.on('data', (d) => { stderr += d; seen(); });
child.on('close', (code, signal) => parentPort.postMessage({ code, signal, stdout, stderr, ms: performance.now() - started }));
`;

/**
 * Starts `tidemark ARGS` and kills it with SIGKILL `extraMs` after its output matched `pattern`
 * (global) `count` times; resolves when it has ended (killed, or by itself first). Watched from a
 * worker thread, so that this process's own work (PGlite runs its queries synchronously in it) does
 * not delay the kill.
 */
export function killAfterOutput(args: string[], cwd: string, pattern: RegExp, count: number, extraMs: number): Promise<CliOutcome> {
  const worker = new Worker(KILLER, { eval: true, workerData: { cli: CLI, args, cwd, env: cliEnv(), source: pattern.source, flags: pattern.flags, count, extraMs } });
  return new Promise<CliOutcome>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => worker.terminate());
}

/** Runs `tidemark ARGS` to its end. */
export function runToEnd(args: string[], cwd: string): Promise<CliOutcome> {
  return startCli(args, cwd).done;
}

// ---- the server: clones, activity, cleanup ----

export interface Activity {
  pid: number;
  state: string | null;
  /** A write transaction is open (the server assigned it a transaction id). */
  writing: boolean;
  inTransaction: boolean;
  query: string;
}

/** Where a kill landed, from the command's sessions seen just before it and what had committed. */
export type Phase = 'before connect' | 'connected, before writing' | 'inside the write transaction' | 'after commit';
export const PHASES: readonly Phase[] = ['before connect', 'connected, before writing', 'inside the write transaction', 'after commit'];

export function phaseOf(sessions: Activity[], committed: boolean): Phase {
  if (sessions.some((a) => a.writing)) return 'inside the write transaction';
  if (committed) return 'after commit';
  return sessions.length > 0 ? 'connected, before writing' : 'before connect';
}

/** When, in ms after the start, an uninterrupted run first had a session, first and last wrote, and exited. */
export interface Timeline {
  connectMs: number;
  firstWriteMs: number;
  lastWriteMs: number;
  endMs: number;
}

/** How many connections create and drop databases at once (the server is shared with other suites). */
const DDL_CONNECTIONS = 3;

/**
 * A server seen from a database of its own (created by the test harness): two sessions watch the
 * clones' sessions; databases are created and dropped through a few others, so a slow CREATE or
 * DROP never delays a watch.
 *
 * Drops are deferred (`dispose`) and done together (`flush`), each on its own session: on PostgreSQL
 * 15 every DROP DATABASE waits for a checkpoint (~1-2 s each on a busy machine, the largest cost of a
 * trial when done one by one; 3 at a time, 20 drops took 25 s); drops waiting at once share one
 * checkpoint (20 at once: 1.1 s).
 */
export class KillServer {
  private readonly created = new Set<string>();
  private readonly disposed = new Set<string>();
  private readonly flushing: Promise<unknown>[] = [];
  private constructor(
    private readonly watch: pg.Pool,
    private readonly ddl: pg.Pool,
    private readonly homeUrl: string,
  ) {}

  static async open(homeUrl: string): Promise<KillServer> {
    // No connection timeout: in a pool it also bounds the wait for a free session (the test's own timeout applies).
    const pool = (max: number) => new pg.Pool({ connectionString: homeUrl, max, idleTimeoutMillis: 0 }).on('error', () => {});
    const server = new KillServer(pool(2), pool(DDL_CONNECTIONS), homeUrl);
    await server.watch.query('SELECT 1');
    return server;
  }

  urlOf(name: string): string {
    const u = new URL(this.homeUrl);
    u.pathname = `/${name}`;
    return u.toString();
  }

  /** A new empty database, or a copy of `template` (nobody may be connected to the template). */
  async create(template?: string): Promise<string> {
    const name = `tidemark_test_${randomBytes(6).toString('hex')}`;
    this.created.add(name);
    await this.ddl.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    return name;
  }

  /** Copies of `template` (empty databases without one), `ahead` of them made before they are asked for. */
  clones(template: string | undefined, ahead: number): ClonePool {
    return new ClonePool(this, template, ahead);
  }

  async drop(name: string): Promise<void> {
    await this.ddl.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    this.created.delete(name);
    this.disposed.delete(name);
  }

  /** Drops `name` at the next `flush`. */
  dispose(name: string): void {
    this.disposed.add(name);
  }

  /** Starts dropping every disposed database, all at once (up to 16), in the background: `close` waits. */
  flush(): void {
    const names = [...this.disposed];
    this.disposed.clear();
    if (names.length === 0) return;
    const pool = new pg.Pool({ connectionString: this.homeUrl, max: Math.min(16, names.length) }).on('error', () => {});
    const drops = names.map(async (name) => {
      await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      this.created.delete(name);
    });
    this.flushing.push(Promise.allSettled(drops).finally(() => pool.end()));
  }

  /** Every session on database `name` (the watchers are in another). */
  async activity(name: string): Promise<Activity[]> {
    const r = await this.watch.query<{ pid: number; state: string | null; writing: boolean; in_tx: boolean; query: string }>(
      `SELECT pid, state, backend_xid IS NOT NULL AS writing, xact_start IS NOT NULL AND state IS DISTINCT FROM 'idle' AS in_tx, query
         FROM pg_stat_activity WHERE datname = $1`,
      [name],
    );
    return r.rows.map((x) => ({ pid: x.pid, state: x.state, writing: x.writing, inTransaction: x.in_tx, query: x.query }));
  }

  /** Watches `run` on database `name` to its end (every `everyMs`): its timeline. */
  async timeline(name: string, run: RunningCli, everyMs = 10): Promise<Timeline> {
    let connectMs: number | undefined;
    let firstWriteMs: number | undefined;
    let lastWriteMs: number | undefined;
    await pollUntil(
      async () => {
        const seen = await this.activity(name);
        const at = performance.now() - run.started;
        if (seen.length > 0) connectMs ??= at;
        if (seen.some((a) => a.writing)) [firstWriteMs, lastWriteMs] = [firstWriteMs ?? at, at];
        return false;
      },
      () => run.exited,
      everyMs,
    );
    const endMs = (await run.done).ms;
    const connect = connectMs ?? 0;
    return { connectMs: connect, firstWriteMs: firstWriteMs ?? connect, lastWriteMs: lastWriteMs ?? endMs, endMs };
  }

  /**
   * Waits until the killed client's sessions are gone: the server notices the closed socket when it
   * next talks to it, rolls back what was open and releases the session's advisory locks.
   */
  async waitGone(name: string, timeoutMs = 30_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const left = await this.activity(name);
      if (left.length === 0) return;
      if (performance.now() > until) throw new Error(`sessions still open on ${name} ${timeoutMs} ms after the kill: ${JSON.stringify(left)}`);
      await sleep(20);
    }
  }

  /** Drops what this object created and is still there; closes its sessions. */
  async close(): Promise<void> {
    await Promise.all(this.flushing);
    for (const name of this.created) this.disposed.add(name);
    this.flush();
    await Promise.all(this.flushing);
    await this.watch.end().catch(() => {});
    await this.ddl.end().catch(() => {});
  }
}

/** Databases made ahead of need (a trial then waits for none), disposed of when taken back. */
export class ClonePool {
  private readonly ready: Promise<string>[] = [];
  constructor(
    private readonly server: KillServer,
    private readonly template: string | undefined,
    private readonly ahead: number,
  ) {}

  /** A fresh database; `ahead` more are made meanwhile. */
  take(): Promise<string> {
    while (this.ready.length <= this.ahead) {
      const made = this.server.create(this.template);
      made.catch(() => {});
      this.ready.push(made);
    }
    return this.ready.shift()!;
  }

  /** The databases made and not taken are disposed of (dropped at the server's next flush). */
  async close(): Promise<void> {
    for (const made of this.ready.splice(0)) {
      const name = await made.catch(() => undefined);
      if (name) this.server.dispose(name);
    }
  }
}

/** Resolves once `check` is true (polled every `everyMs`), or false when `stop` says so first. */
export async function pollUntil(check: () => Promise<boolean>, stop: () => boolean, everyMs = 3): Promise<boolean> {
  for (;;) {
    if (stop()) return false;
    if (await check()) return true;
    await sleep(everyMs);
  }
}

/** A tally of where kills landed (and of the runs that ended before their kill), printed by the suite. */
export class KillTally {
  readonly rows: { command: string; phase: string; outcome: string; plan?: string }[] = [];
  /** `plan`: the kind of plan that timed the kill (named for the runs that ended before it). */
  add(command: string, phase: string, outcome: string, plan?: string): void {
    this.rows.push({ command, phase, outcome, plan });
  }
  /** The rows that are kills (not runs that ended first) among `filter`. */
  kills(filter: (row: { command: string }) => boolean = () => true) {
    return this.rows.filter((r) => filter(r) && r.phase !== FINISHED);
  }
  report(filter: (row: { command: string }) => boolean = () => true): string {
    const rows = this.rows.filter(filter);
    const count = (pick: (r: (typeof rows)[number]) => boolean) => rows.filter(pick).length;
    // The server's phases (each, also when none landed there), or the phases the rows name (PGlite's).
    const phases: string[] = rows.some((r) => (PHASES as string[]).includes(r.phase)) ? [...PHASES] : [...new Set(rows.map((r) => r.phase))].filter((p) => p !== FINISHED);
    const byPhase = (of: typeof rows) => phases.map((p) => `${p} ${of.filter((r) => r.phase === p).length}`).join(', ');
    const first = rows.filter((r) => r.phase === FINISHED);
    const plans = [...new Set(first.map((r) => r.plan ?? '?'))].map((p) => `${p} ${first.filter((r) => (r.plan ?? '?') === p).length}`).join(', ');
    const lines = [`  all: ${byPhase(rows)}; ${count((r) => r.phase === FINISHED)} runs ended before their kill (not counted${plans ? `; their plans: ${plans}` : ''})`];
    for (const command of [...new Set(rows.map((r) => r.command))]) {
      const of = rows.filter((r) => r.command === command);
      lines.push(`  ${command}: ${of.filter((r) => r.phase !== FINISHED).length} kills: ${byPhase(of)}`);
    }
    const counts = new Map<string, number>();
    for (const r of rows) {
      const k = `${r.command} | ${r.phase} | ${r.outcome}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...lines, ...[...counts].sort().map(([k, n]) => `  ${String(n).padStart(3)}  ${k}`)].join('\n');
  }
}

/** The phase of a run that ended by itself before its kill came. */
export const FINISHED = 'finished before the kill';
