/**
 * The one interface every layer above src/db talks to. A Database is ONE session (one pg client,
 * or one PGlite instance), so BEGIN/COMMIT and session advisory locks behave the same on both.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One statement, extended protocol, `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** One or more statements, simple protocol, no parameters. */
  exec(sql: string): Promise<void>;
}

export type Backend = 'pglite' | 'postgres';

/** Two int4 keys, as pg_advisory_lock(int, int) takes them. */
export type AdvisoryLockKey = readonly [number, number];

export interface AdvisoryLockOptions {
  /** Give up with a `lock-timeout` error after this long (default 10 minutes). */
  timeoutMs?: number;
  /** Called once if the lock is not free at once, so the caller can say it is waiting. */
  onWait?: () => void;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** On a Database only: `BEGIN ISOLATION LEVEL …`. A savepoint cannot change it (bad-usage). */
  isolation?: IsolationLevel;
  /** On a Database only: `BEGIN … READ ONLY`. */
  readOnly?: boolean;
}

/**
 * What a Database and a transaction on it share: every ability of the one session underneath, so a
 * flow hands its transaction down and the callee does not need to know whether it is inside one.
 */
export interface Session extends Queryable {
  readonly backend: Backend;
  /** False on PGlite: it is one session in one process, so advisory locks exclude no one else. */
  readonly locksExclude: boolean;
  /** `COPY … TO STDOUT` (server) or `COPY … TO '/dev/blob'` (PGlite): the output as chunks. */
  copyOut(sql: string): AsyncIterable<Uint8Array>;
  /** `COPY … FROM STDIN` (server) or `COPY … FROM '/dev/blob'` (PGlite); returns rows copied. */
  copyIn(sql: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number>;
  /** server_version_num, e.g. 150020 or 180006. */
  serverVersionNum(): Promise<number>;
  /**
   * Session-level advisory lock held while fn runs, released after (also on error). Re-entrant: taking
   * a key this session already holds runs fn at once (on PGlite, only from inside the holder's fn: a
   * concurrent caller in the process queues as a second session would on a server).
   */
  withAdvisoryLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>, options?: AdvisoryLockOptions): Promise<T>;
  /**
   * On a Database: BEGIN … COMMIT (ROLLBACK and rethrow if fn throws); a second one while one is open
   * is `nested-transaction`. On a Tx: SAVEPOINT … RELEASE (ROLLBACK TO on error); options are bad-usage.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

/**
 * A transaction (depth 1) or a savepoint inside one (depth 2, 3, …) on one session. Once it has
 * ended it refuses everything with `transaction-closed`.
 */
export interface Tx extends Session {
  readonly depth: number;
}

/** One opened session (depth 0). */
export interface Database extends Session {
  /** The URL with any password replaced by `***`: safe to print. */
  readonly displayUrl: string;
  close(): Promise<void>;
}
