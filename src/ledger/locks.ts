import type { Session } from '../db/database.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { serviceLockKey } from './ledger.js';

/**
 * Holds the advisory locks of several services (taken in name order, so two runs cannot deadlock).
 * `db` may be a transaction: the locks are the session's, and re-entrant, so a step run inside a flow
 * that already holds a service's lock (a restore inside rebaseline) takes it again at once.
 * `unchanged` ends the timeout message, e.g. ', nothing restored'.
 */
export async function withServiceLocks<T>(
  db: Session,
  services: readonly string[],
  options: { lockTimeoutMs?: number; onWait?: (service: string) => void },
  fn: () => Promise<T>,
  unchanged = '',
): Promise<T> {
  const sorted = [...new Set(services)].sort();
  const take = async (i: number): Promise<T> => {
    if (i === sorted.length) return fn();
    try {
      return await db.withAdvisoryLock(serviceLockKey(sorted[i]), () => take(i + 1), {
        timeoutMs: options.lockTimeoutMs,
        onWait: () => options.onWait?.(sorted[i]),
      });
    } catch (err) {
      if (isTidemarkError(err) && err.code === 'lock-timeout' && !err.service) {
        throw new TidemarkError('lock-timeout', `Another tidemark run on service ${sorted[i]} held its lock for longer than the lock timeout${unchanged}; ${err.message}.`, {
          service: sorted[i],
          hint: 'Wait for it to finish and run again, or raise --lock-timeout.',
        });
      }
      throw err;
    }
  };
  return take(0);
}
