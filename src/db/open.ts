/**
 * openDatabase picks the adapter from the URL. Each adapter module is imported only when used, so a
 * command talking to a server never loads PGlite (and the reverse). The helpers both adapters share
 * live in lock-poll.ts and transaction.ts (so no adapter imports this module back).
 */
import type { Database } from './database.js';
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
