/**
 * The transaction handle both adapters share. `transactionRunner(session)` is a Database's
 * `transaction()`: BEGIN [ISOLATION LEVEL …] [READ ONLY] … COMMIT, handing fn a Tx (depth 1) with
 * every ability of the session; `tx.transaction()` nests as SAVEPOINT … RELEASE. A Tx is a view of
 * the same session, so COPY and advisory locks on it are the session's own; it refuses everything
 * once its transaction (or savepoint) has ended. Depth 0 costs BEGIN and COMMIT only: `up` makes
 * one per migration.
 */
import { TidemarkError } from '../errors.js';
import type { AdvisoryLockKey, AdvisoryLockOptions, IsolationLevel, QueryResult, Session, TransactionOptions, Tx } from './database.js';

/** What an adapter hands the runner: its session without `transaction`, and COMMIT's command tag. */
export interface SessionCore extends Omit<Session, 'transaction'> {
  /** Runs COMMIT and returns the command tag: 'ROLLBACK' when the transaction had already failed. */
  commit(): Promise<string | undefined>;
}

const ISOLATION_LEVELS: readonly IsolationLevel[] = ['read committed', 'repeatable read', 'serializable'];

/** The BEGIN statement for these options; the isolation level is checked, as it is spliced into SQL. */
function beginStatement(options: TransactionOptions = {}): string {
  let sql = 'BEGIN';
  if (options.isolation !== undefined) {
    if (!ISOLATION_LEVELS.includes(options.isolation)) {
      throw new TidemarkError('bad-usage', `transaction({ isolation: ${JSON.stringify(options.isolation)} }): give one of ${ISOLATION_LEVELS.map((l) => `'${l}'`).join(', ')}.`, { kind: 'usage' });
    }
    sql += ` ISOLATION LEVEL ${options.isolation.toUpperCase()}`;
  }
  if (options.readOnly === true) sql += ' READ ONLY';
  return sql;
}

const nested = () => new TidemarkError('nested-transaction', 'a transaction is already open on this connection (transaction() is not reentrant)');
const closed = () => new TidemarkError('transaction-closed', 'this transaction has already ended');

/**
 * BEGIN … COMMIT over one session. Not reentrant on the Database: a nested call would silently join
 * the outer transaction (BEGIN inside BEGIN is only a warning), so it is refused; nest through the Tx.
 */
export function transactionRunner(session: SessionCore): Session['transaction'] {
  let active = false;
  return async <T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T> => {
    if (active) throw nested();
    const begin = beginStatement(options);
    active = true;
    const tx = new TxHandle(session, 1, undefined);
    try {
      await session.exec(begin);
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        tx.ended = true;
        await session.exec('ROLLBACK').catch(() => {}); // the original error matters more
        throw err;
      }
      tx.ended = true;
      // COMMIT of a failed transaction "succeeds" as ROLLBACK: fn swallowed an error, and its work is lost.
      if ((await session.commit()) === 'ROLLBACK') {
        throw new TidemarkError('transaction-rolled-back', 'COMMIT rolled back: a statement in the transaction failed earlier');
      }
      return result;
    } finally {
      tx.ended = true;
      active = false;
    }
  };
}

/** One transaction (depth 1) or savepoint (depth 2, 3, …): the session's abilities while it is open. */
class TxHandle implements Tx {
  readonly backend: Tx['backend'];
  readonly locksExclude: boolean;
  /** Set when its transaction or savepoint ends; a handle whose parent ended is dead too. */
  ended = false;
  private child: TxHandle | undefined;

  constructor(
    private readonly session: SessionCore,
    readonly depth: number,
    private readonly parent: TxHandle | undefined,
  ) {
    this.backend = session.backend;
    this.locksExclude = session.locksExclude;
  }

  /** Throws transaction-closed if this handle or one it is nested in has ended. */
  private check(): void {
    for (let t: TxHandle | undefined = this; t; t = t.parent) if (t.ended) throw closed();
  }

  async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.check();
    return this.session.query<R>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    this.check();
    return this.session.exec(sql);
  }

  async *copyOut(sql: string): AsyncIterable<Uint8Array> {
    this.check();
    yield* this.session.copyOut(sql);
  }

  async copyIn(sql: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
    this.check();
    return this.session.copyIn(sql, data);
  }

  async serverVersionNum(): Promise<number> {
    this.check();
    return this.session.serverVersionNum();
  }

  async withAdvisoryLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>, options?: AdvisoryLockOptions): Promise<T> {
    this.check();
    return this.session.withAdvisoryLock(key, fn, options);
  }

  /** SAVEPOINT sN … RELEASE; on a throw ROLLBACK TO sN (the outer work stays) and rethrow. */
  async transaction<T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions): Promise<T> {
    this.check();
    if (options?.isolation !== undefined || options?.readOnly !== undefined) {
      throw new TidemarkError('bad-usage', "transaction({ isolation, readOnly }) inside a transaction: a savepoint keeps its transaction's mode; give them to the outermost transaction().", {
        kind: 'usage',
      });
    }
    // Two savepoints side by side on one session would interleave their statements.
    if (this.child) throw new TidemarkError('nested-transaction', `a savepoint is already open on this transaction (depth ${this.depth}): nest through its handle`);
    const child = new TxHandle(this.session, this.depth + 1, this);
    const name = `s${child.depth}`;
    this.child = child;
    try {
      await this.session.exec(`SAVEPOINT ${name}`);
      const undo = () => this.session.exec(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
      let result: T;
      try {
        result = await fn(child);
      } catch (err) {
        child.ended = true;
        await undo().catch(() => {}); // the original error matters more
        throw err;
      }
      child.ended = true;
      try {
        await this.session.exec(`RELEASE SAVEPOINT ${name}`);
      } catch (err) {
        // 25P02: fn swallowed a failed statement. Undo the savepoint so the outer transaction can go on.
        if ((err as { code?: string }).code !== '25P02') throw err;
        await undo().catch(() => {});
        throw new TidemarkError('transaction-rolled-back', 'RELEASE SAVEPOINT rolled back: a statement in the savepoint failed earlier');
      }
      return result;
    } finally {
      child.ended = true;
      this.child = undefined;
    }
  }
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
