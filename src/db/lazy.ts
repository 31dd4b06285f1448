/**
 * A Database that connects on its first use. The boundary (target/open.ts) names the database with
 * no I/O and hands this to the cores, so each core still checks its own input (migration files, a
 * backup manifest, flags) before the first connection, as node-postgres's Pool and Kysely's Migrator
 * do: a broken file next to an unreachable server reports the file, and a result names the database
 * even when connecting fails.
 */
import type { AdvisoryLockKey, AdvisoryLockOptions, Backend, Database, QueryResult, TransactionOptions, Tx } from './database.js';

export interface LazyDatabase extends Database {
  /** True once a connection was attempted (opened, or failed to). */
  readonly attempted: boolean;
}

/**
 * `open` runs once, on the first call that needs the server; its failure is the failure of that
 * call and of every later one (a command does not retry a refused connection behind the user's back).
 */
export function lazyDatabase(displayUrl: string, backend: Backend, open: () => Promise<Database>): LazyDatabase {
  let opening: Promise<Database> | undefined;
  const get = (): Promise<Database> => {
    opening ??= open();
    return opening;
  };
  return {
    displayUrl,
    backend,
    locksExclude: backend === 'postgres',
    get attempted() {
      return opening !== undefined;
    },
    async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      return (await get()).query<R>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      return (await get()).exec(sql);
    },
    async *copyOut(sql: string): AsyncIterable<Uint8Array> {
      yield* (await get()).copyOut(sql);
    },
    async copyIn(sql: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
      return (await get()).copyIn(sql, data);
    },
    async serverVersionNum(): Promise<number> {
      return (await get()).serverVersionNum();
    },
    async withAdvisoryLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>, options?: AdvisoryLockOptions): Promise<T> {
      return (await get()).withAdvisoryLock(key, fn, options);
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T> {
      return (await get()).transaction(fn, options);
    },
    async close(): Promise<void> {
      if (opening === undefined) return;
      // A connection that failed to open has nothing to close.
      const db = await opening.catch(() => undefined);
      await db?.close();
    },
  };
}
