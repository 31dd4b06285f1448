/**
 * The server adapter: ONE node-postgres Client, so BEGIN/COMMIT and session advisory locks
 * mean what they say. COPY streams through pg-copy-streams.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { TidemarkError } from '../errors.js';
import type { AdvisoryLockKey, AdvisoryLockOptions, Database, QueryResult } from './database.js';
import { checkLockKey, DEFAULT_LOCK_TIMEOUT_MS, lockTimeoutError, pollForLock } from './lock-poll.js';
import { rewriteCopyTarget, transactionRunner } from './transaction.js';
import { describeServerTarget, type ServerTarget } from './url.js';
import { redactUrl } from './redact.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** The target each open server Database was created from (for pg_dump, which opens its own connection). */
const targets = new WeakMap<Database, ServerTarget>();

/** The resolved target a server Database was opened from; undefined for PGlite or a foreign Database. */
export function serverTargetOf(db: Database): ServerTarget | undefined {
  return targets.get(db);
}

/**
 * Opens ONE client made from the resolved target (src/db/url.ts): host, port, database and user are
 * given explicitly, so node-postgres connects exactly where the guard looked, whatever PG* says.
 */
export async function openPostgres(target: ServerTarget, options: { connectTimeoutMs?: number } = {}): Promise<Database> {
  const client = new pg.Client({
    application_name: 'tidemark', // an application_name in the URL still wins over ours
    ...target.params,
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password !== undefined ? { password: target.password } : {}),
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
  } as pg.ClientConfig);
  // A dropped connection emits 'error'; unhandled, it would kill the process. The next query fails anyway.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    throw new TidemarkError('database-unreachable', `cannot connect to ${describeServerTarget(target)}: ${connectReason(err, target)}`, {
      kind: 'failure',
      hint: 'check that the server is running and that host, port, user and database in the URL are right',
    });
  }
  const db = new PostgresDatabase(client, target.display);
  targets.set(db, target);
  return db;
}

/** One line saying why, without the password (pg's messages do not contain it, but make sure). */
function connectReason(err: unknown, target: ServerTarget): string {
  const e = err as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  // Node's happy-eyeballs connect fails with an AggregateError whose own message is empty.
  let reason = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err);
  reason = redactUrl(reason.split('\n')[0]);
  if (target.password) reason = reason.split(target.password).join('***');
  return reason;
}

class PostgresDatabase implements Database {
  readonly backend = 'postgres' as const;
  readonly locksExclude = true;
  readonly transaction: Database['transaction'];
  private closed = false;
  /** How many times each key is held by this session, as "k1,k2" (see withAdvisoryLock). */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly client: pg.Client,
    readonly displayUrl: string,
  ) {
    this.transaction = transactionRunner({
      backend: this.backend,
      locksExclude: this.locksExclude,
      query: (sql, params) => this.query(sql, params),
      exec: (sql) => this.exec(sql),
      copyOut: (sql) => this.copyOut(sql),
      copyIn: (sql, data) => this.copyIn(sql, data),
      serverVersionNum: () => this.serverVersionNum(),
      withAdvisoryLock: (key, fn, options) => this.withAdvisoryLock(key, fn, options),
      commit: async () => (await this.client.query('COMMIT')).command,
    });
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    // queryMode 'extended' even without parameters: one statement, as on PGlite (missing from @types/pg).
    const config = { text: sql, values: [...params], queryMode: 'extended' } as pg.QueryConfig;
    const res = await this.client.query(config);
    return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql); // no values: the simple protocol, several statements allowed
  }

  async withAdvisoryLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>, options: AdvisoryLockOptions = {}): Promise<T> {
    checkLockKey(key);
    const [k1, k2] = key;
    const id = `${k1},${k2}`;
    // Re-entrant, counted here: the server would nest the lock too, but an unlock inside an aborted
    // transaction fails and would leave it held. Only the first taker and the last to leave talk to it.
    if (!this.held.has(id)) {
      const timeoutMs = Math.max(1, Math.round(options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
      if (!(await this.tryLock(key))) {
        options.onWait?.();
        await this.waitForLock(key, timeoutMs);
      }
      // Another caller on this session took it meanwhile: the server now counts it twice.
      if (this.held.has(id)) await this.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]);
    }
    this.held.set(id, (this.held.get(id) ?? 0) + 1);
    let failed = false;
    try {
      return await fn();
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      const left = (this.held.get(id) ?? 1) - 1;
      if (left > 0) this.held.set(id, left);
      else {
        this.held.delete(id);
        await this.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]).catch((err) => {
          if (!failed) throw err; // fn's own error says more
        });
      }
    }
  }

  /**
   * Waits by polling pg_try_advisory_lock with back-off, never in a blocking pg_advisory_lock: that
   * call sits in one statement holding a snapshot, and CREATE INDEX CONCURRENTLY run by the lock's
   * holder (or by any other session) waits for every such snapshot: a deadlock (40P01) with a replica
   * of the same service, a stalled index build behind a runner of another service.
   */
  private async waitForLock(key: AdvisoryLockKey, timeoutMs: number): Promise<void> {
    const { acquired } = await pollForLock(() => this.tryLock(key), timeoutMs);
    if (!acquired) throw lockTimeoutError(key, timeoutMs, await this.lockHolder(key));
  }

  private async tryLock(key: AdvisoryLockKey): Promise<boolean> {
    const res = await this.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [key[0], key[1]]);
    return res.rows[0].ok;
  }

  /** "process 1234 (tidemark)" for the session holding the lock, to name it in the timeout hint. */
  private async lockHolder(key: AdvisoryLockKey): Promise<string | undefined> {
    try {
      // Two-int4 advisory locks show in pg_locks as classid = key1, objid = key2, objsubid = 2 (oids, unsigned).
      const res = await this.query<{ pid: number; app: string | null }>(
        `SELECT l.pid, a.application_name AS app
           FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.classid::int8 = ($1::int8 & 4294967295) AND l.objid::int8 = ($2::int8 & 4294967295)
          LIMIT 1`,
        [key[0], key[1]],
      );
      const row = res.rows[0];
      return row ? `process ${row.pid}${row.app ? ` (${row.app})` : ''}` : undefined;
    } catch {
      return undefined;
    }
  }

  async *copyOut(sql: string): AsyncIterable<Uint8Array> {
    const stream = this.client.query(copyTo(rewriteCopyTarget(sql, 'stdio')));
    // Don't destroy the stream if the caller stops early: the connection would be left mid-COPY.
    let finished = false;
    try {
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
      finished = true;
    } catch (err) {
      finished = true;
      throw err;
    } finally {
      // The caller stopped early: drain the rest so the session stays usable.
      if (!finished) for await (const _ of stream.iterator({ destroyOnReturn: false })) void _;
    }
  }

  async copyIn(sql: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
    const stream = this.client.query(copyFrom(rewriteCopyTarget(sql, 'stdio')));
    // Readable.from(aUint8Array) would iterate byte by byte: wrap a single buffer.
    await pipeline(Readable.from(data instanceof Uint8Array ? [data] : data), stream);
    return stream.rowCount;
  }

  async serverVersionNum(): Promise<number> {
    const res = await this.query<{ server_version_num: string }>('SHOW server_version_num');
    return Number(res.rows[0].server_version_num);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end();
  }
}
