/**
 * openDatabase picks the adapter from the URL. Each adapter module is imported only when used, so a
 * command talking to a server never loads PGlite (and the reverse). The few helpers both adapters
 * share live here too: this module itself imports nothing heavy.
 */
import { TidemarkError } from '../errors.js';
import type { AdvisoryLockKey, Database, Queryable } from './database.js';
import { resolveTarget, type DatabaseTarget } from './url.js';

export interface OpenOptions {
  /** Where a relative `pglite:PATH` is resolved from (default: process.cwd()). */
  cwd?: string;
}

export async function openDatabase(url: string | DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  // A server URL is resolved once (pg's parser + PG* variables); the client is made from that object.
  const target = typeof url === 'string' ? resolveTarget(url, options.cwd) : url;
  if (target.backend === 'pglite') {
    const { openPglite } = await import('./pglite.js');
    return openPglite(target.url, target);
  }
  const { openPostgres } = await import('./postgres.js');
  return openPostgres(target.server);
}

// ---- shared by the adapters ----

export const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60_000;

/** pg_advisory_lock(int, int) takes int4 keys; 2^31 would overflow on the server. */
export function checkLockKey(key: AdvisoryLockKey): void {
  if (key.length !== 2 || !key.every((k) => Number.isInteger(k) && k >= -(2 ** 31) && k < 2 ** 31)) {
    throw new TidemarkError('bad-lock-key', `advisory lock key (${key.join(', ')}) is not two int4 numbers`);
  }
}

export function lockTimeoutError(key: AdvisoryLockKey, timeoutMs: number, holder?: string): TidemarkError {
  const secs = timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`;
  return new TidemarkError('lock-timeout', `timed out after ${secs} waiting for advisory lock (${key[0]}, ${key[1]})`, {
    kind: 'failure',
    hint: `${holder ? `it is held by ${holder}` : 'another run holds it'}; wait for it to finish, then retry`,
  });
}

/**
 * How a waiter polls for an advisory lock: `pg_try_advisory_lock` (one short statement, outside any
 * transaction) then a sleep that doubles from `firstDelayMs` up to `maxDelayMs`, with jitter so that
 * replicas started together do not poll in step. Nothing is held between polls: a blocking
 * `pg_advisory_lock` would sit in a statement whose snapshot CREATE INDEX CONCURRENTLY waits for.
 */
export const LOCK_POLL = { firstDelayMs: 25, maxDelayMs: 1000 } as const;

export interface LockPollDeps {
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** In [0, 1): the jitter (each sleep is 50-100 % of the back-off step). */
  random?: () => number;
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Calls `tryLock` until it returns true or `timeoutMs` has passed since the call (a last try is made
 * at the deadline, never after it). Returns whether the lock was taken and how many tries it took.
 * The caller makes the first, uncontended try itself: this is only the waiting.
 */
export async function pollForLock(
  tryLock: () => Promise<boolean>,
  timeoutMs: number,
  deps: LockPollDeps = {},
): Promise<{ acquired: boolean; tries: number }> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = deps.random ?? Math.random;
  const maxDelay = Math.max(1, deps.maxDelayMs ?? LOCK_POLL.maxDelayMs);
  let step = Math.min(maxDelay, Math.max(1, deps.firstDelayMs ?? LOCK_POLL.firstDelayMs));
  const deadline = now() + timeoutMs;
  let tries = 0;
  for (;;) {
    const left = deadline - now();
    if (left <= 0) return { acquired: false, tries };
    await sleep(Math.max(1, Math.min(left, Math.round(step * (0.5 + random() / 2)))));
    tries++;
    if (await tryLock()) return { acquired: true, tries };
    step = Math.min(maxDelay, step * 2);
  }
}

interface Session extends Queryable {
  /** Runs COMMIT and returns the command tag: 'ROLLBACK' when the transaction had already failed. */
  commit(): Promise<string | undefined>;
}

/**
 * BEGIN … COMMIT over one session. Not reentrant: a nested call would silently join the outer
 * transaction (BEGIN inside BEGIN is only a warning), so it is refused instead.
 */
export function transactionRunner(session: Session): <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T> {
  let active = false;
  return async <T>(fn: (tx: Queryable) => Promise<T>): Promise<T> => {
    if (active) {
      throw new TidemarkError('nested-transaction', 'a transaction is already open on this connection (transaction() is not reentrant)');
    }
    active = true;
    let open = true;
    // A tx handle used after its transaction ended would run outside it: refuse.
    const closed = () => new TidemarkError('transaction-closed', 'this transaction has already ended');
    const tx: Queryable = {
      query: (sql, params) => (open ? session.query(sql, params) : Promise.reject(closed())),
      exec: (sql) => (open ? session.exec(sql) : Promise.reject(closed())),
    };
    try {
      await session.exec('BEGIN');
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        open = false;
        await session.exec('ROLLBACK').catch(() => {}); // the original error matters more
        throw err;
      }
      open = false;
      // COMMIT of a failed transaction "succeeds" as ROLLBACK: fn swallowed an error, and its work is lost.
      if ((await session.commit()) === 'ROLLBACK') {
        throw new TidemarkError('transaction-rolled-back', 'COMMIT rolled back: a statement in the transaction failed earlier');
      }
      return result;
    } finally {
      open = false;
      active = false;
    }
  };
}

/** Callers write `COPY … TO STDOUT` / `FROM STDIN`; PGlite needs '/dev/blob' instead (and the reverse). */
export function rewriteCopyTarget(sql: string, target: 'stdio' | 'blob'): string {
  const re = /\b(TO\s+STDOUT|FROM\s+STDIN|TO\s+'\/dev\/blob'|FROM\s+'\/dev\/blob')/gi;
  // Only the last match: the COPY's own target comes after any (SELECT …) it copies.
  let last: RegExpExecArray | undefined;
  for (let m = re.exec(sql); m; m = re.exec(sql)) last = m;
  if (!last) return sql;
  const isTo = /^TO/i.test(last[0]);
  const replacement = target === 'blob' ? (isTo ? "TO '/dev/blob'" : "FROM '/dev/blob'") : isTo ? 'TO STDOUT' : 'FROM STDIN';
  return sql.slice(0, last.index) + replacement + sql.slice(last.index + last[0].length);
}
