/**
 * Advisory-lock helpers both adapters share: the key check, the timeout error and the polling wait.
 * Nothing here talks to a database: the adapter hands in its own `tryLock`.
 */
import { TidemarkError } from '../errors.js';
import type { AdvisoryLockKey } from './database.js';

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
export async function pollForLock(tryLock: () => Promise<boolean>, timeoutMs: number, deps: LockPollDeps = {}): Promise<{ acquired: boolean; tries: number }> {
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
