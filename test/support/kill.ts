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
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Queryable } from '../../src/db/database.js';
import { fingerprintParts } from './fingerprint.js';
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

const quoted = (schema: string, name: string) => `"${schema.replaceAll('"', '""')}"."${name.replaceAll('"', '""')}"`;

/** The database's state, with the ledger's run-specific columns and the sequences set apart (see top). */
export async function dbState(db: Queryable): Promise<DbState> {
  const parts = await fingerprintParts(db);
  const seqs = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S'`,
  );
  const sequences: Record<string, SequenceState> = {};
  for (const s of seqs.rows) {
    const key = `rows ${quoted(s.schema, s.name)}`;
    const [value, called] = (parts[key] ?? '').split(':');
    if (value === undefined || value === '') continue;
    sequences[quoted(s.schema, s.name)] = { next: BigInt(value) + (called === 'true' ? 1n : 0n) };
    delete parts[key];
  }
  const ledger = (await db.query<{ present: boolean }>(`SELECT to_regclass('tidemark.events') IS NOT NULL AND to_regclass('tidemark.applied') IS NOT NULL AS present`)).rows[0].present;
  if (ledger) {
    const applied = await db.query<{ v: string | null }>(
      `SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', service, migration, checksum, status, applied_by, tool_version, error), E'\\n' ORDER BY service, migration) AS v FROM tidemark.applied`,
    );
    const events = await db.query<{ v: string | null }>(
      `SELECT string_agg(e, E'\\n' ORDER BY e) AS v FROM (SELECT format('%s|%s|%s|%s|%s', actor, action, service, migration, outcome) AS e FROM tidemark.events) x`,
    );
    parts['rows "tidemark"."applied"'] = applied.rows[0].v ?? '';
    parts['rows "tidemark"."events"'] = events.rows[0].v ?? '';
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
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '' } });
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

export type KillMoment = 'no transaction open' | 'transaction open, nothing written yet' | 'inside a writing transaction';

/**
 * A server seen through one admin session kept in a database of its own (created by the test
 * harness), from where it clones template databases and watches the clones' sessions.
 */
export class KillServer {
  private readonly created = new Set<string>();
  private constructor(
    private readonly admin: pg.Client,
    private readonly homeUrl: string,
  ) {}

  static async open(homeUrl: string): Promise<KillServer> {
    const admin = new pg.Client({ connectionString: homeUrl, connectionTimeoutMillis: 10_000 });
    admin.on('error', () => {});
    await admin.connect();
    return new KillServer(admin, homeUrl);
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
    await this.admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
    return name;
  }

  async drop(name: string): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    this.created.delete(name);
  }

  /** Every other session on database `name`. */
  async activity(name: string): Promise<Activity[]> {
    const r = await this.admin.query<{ pid: number; state: string | null; writing: boolean; in_tx: boolean; query: string }>(
      `SELECT pid, state, backend_xid IS NOT NULL AS writing, xact_start IS NOT NULL AND state IS DISTINCT FROM 'idle' AS in_tx, query
         FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    return r.rows.map((x) => ({ pid: x.pid, state: x.state, writing: x.writing, inTransaction: x.in_tx, query: x.query }));
  }

  async moment(name: string): Promise<KillMoment> {
    const a = await this.activity(name);
    if (a.some((x) => x.writing)) return 'inside a writing transaction';
    if (a.some((x) => x.inTransaction)) return 'transaction open, nothing written yet';
    return 'no transaction open';
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

  /** Drops what this object created and is still there; closes the admin session. */
  async close(): Promise<void> {
    for (const name of [...this.created]) await this.drop(name).catch(() => {});
    await this.admin.end().catch(() => {});
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

/** A tally of where kills landed, printed by the suite. */
export class KillTally {
  readonly rows: { command: string; moment: string; outcome: string }[] = [];
  add(command: string, moment: string, outcome: string): void {
    this.rows.push({ command, moment, outcome });
  }
  report(filter: (row: { command: string }) => boolean = () => true): string {
    const counts = new Map<string, number>();
    for (const r of this.rows.filter(filter)) {
      const k = `${r.command} | ${r.moment} | ${r.outcome}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    return [...counts].sort().map(([k, n]) => `  ${String(n).padStart(3)}  ${k}`).join('\n');
  }
}
