/**
 * The PGlite adapter: PostgreSQL in WASM, in this process, one session. Its data directory (the
 * exclusive lock file, the cached pristine template) is pglite-dir.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { TidemarkError } from '../errors.js';
import type { AdvisoryLockKey, AdvisoryLockOptions, Database, QueryResult } from './database.js';
import { checkLockKey, DEFAULT_LOCK_TIMEOUT_MS, lockTimeoutError } from './lock-poll.js';
import { acquireDirLock, createDirFromTemplate, createFromTemplate, isEmptyOrMissing, type PGliteModule, releaseDirLock } from './pglite-dir.js';
import { rewriteCopyTarget, transactionRunner } from './transaction.js';
import { redactUrl } from './redact.js';

export async function openPglite(url: string, target: { dataDir: string | undefined; displayPath: string }): Promise<Database> {
  const { dataDir, displayPath } = target;
  const lockPath = dataDir === undefined ? undefined : await acquireDirLock(dataDir, displayPath);
  try {
    const mod: PGliteModule = await import('@electric-sql/pglite');
    // int8 as a string, as node-postgres returns it: a JS number would lose precision above 2^53.
    const options = { parsers: { 20: (v: string) => v } };
    let pg: PGlite;
    if (dataDir !== undefined && !isEmptyOrMissing(dataDir)) {
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
        throw new TidemarkError('not-a-database-dir', `${displayPath} is not empty and is not a PGlite data directory`, {
          kind: 'input',
          hint: 'point pglite:PATH at an empty or missing directory to create a new database there',
        });
      }
      pg = await mod.PGlite.create({ ...options, dataDir });
    } else if (dataDir !== undefined) {
      pg = await createDirFromTemplate(mod, options, dataDir);
    } else {
      pg = await createFromTemplate(mod, { ...options, dataDir });
    }
    return new PgliteDatabase(pg, redactUrl(url), lockPath);
  } catch (err) {
    if (lockPath) releaseDirLock(lockPath);
    throw err;
  }
}

// COPY FROM through query()/exec() is a trap on PGlite (FROM STDIN hangs; FROM '/dev/blob' without
// a blob later kills Node) and COPY TO STDOUT silently returns nothing: send them to copyIn/copyOut.
const COPY_STDIO = /\bCOPY\b[^;]*?\b(FROM\s+STDIN|FROM\s+'\/dev\/blob'|TO\s+STDOUT|TO\s+'\/dev\/blob')/i;

function refuseCopy(sql: string): void {
  const m = COPY_STDIO.exec(sql);
  if (m) {
    const use = /^FROM/i.test(m[1]) ? 'copyIn' : 'copyOut';
    throw new TidemarkError('copy-needs-stream', `COPY … ${m[1]} cannot run as a plain statement on PGlite: use ${use}`, { kind: 'input' });
  }
}

class PgliteDatabase implements Database {
  readonly backend = 'pglite' as const;
  readonly locksExclude = false;
  readonly transaction: Database['transaction'];
  private readonly mutex = new KeyedMutex();
  /** The keys held by the async context of a withAdvisoryLock's fn (the holder), each while `live`. */
  private readonly holding = new AsyncLocalStorage<ReadonlyMap<string, { live: boolean }>>();
  private closed = false;

  constructor(
    private readonly pg: PGlite,
    readonly displayUrl: string,
    private readonly lockPath: string | undefined,
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
      commit: async () => (await this.pg.query('COMMIT')).command,
    });
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    refuseCopy(sql);
    const res = await this.pg.query<R>(sql, [...params]);
    return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    refuseCopy(sql);
    await this.pg.exec(sql);
  }

  async withAdvisoryLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>, options: AdvisoryLockOptions = {}): Promise<T> {
    checkLockKey(key);
    const id = `${key[0]},${key[1]}`;
    // Re-entrant for the holder's own fn (a restore inside rebaseline's transaction): the mutex would
    // wait for itself forever. A concurrent caller is another context and queues below.
    if (this.holding.getStore()?.get(id)?.live) return fn();
    // One session: pg_advisory_lock would never block here, so callers in this process queue on a
    // mutex instead; the server-side lock is still taken so pg_locks shows the same state.
    const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    await this.mutex.acquire(id, timeoutMs, options.onWait, () => lockTimeoutError(key, timeoutMs));
    // Dead once released: work fn left running in the background must not count as the holder.
    const held = { live: true };
    try {
      await this.pg.query('SELECT pg_advisory_lock($1, $2)', [key[0], key[1]]);
      let failed = false;
      try {
        return await this.holding.run(new Map(this.holding.getStore()).set(id, held), fn);
      } catch (err) {
        failed = true;
        throw err;
      } finally {
        await this.pg.query('SELECT pg_advisory_unlock($1, $2)', [key[0], key[1]]).catch((err) => {
          if (!failed) throw err;
        });
      }
    } finally {
      held.live = false;
      this.mutex.release(id);
    }
  }

  async *copyOut(sql: string): AsyncIterable<Uint8Array> {
    const blobSql = rewriteCopyTarget(sql, 'blob');
    if (!/\bTO\s+'\/dev\/blob'/i.test(blobSql)) throw new TidemarkError('copy-needs-stream', 'copyOut needs a COPY … TO STDOUT statement');
    const res = await this.pg.query(blobSql);
    // PGlite hands back no blob at all when the COPY produced no bytes (an empty table).
    if (res.blob) yield new Uint8Array(await res.blob.arrayBuffer());
  }

  async copyIn(sql: string, data: AsyncIterable<Uint8Array> | Uint8Array): Promise<number> {
    const blobSql = rewriteCopyTarget(sql, 'blob');
    if (!/\bFROM\s+'\/dev\/blob'/i.test(blobSql)) {
      throw new TidemarkError('copy-needs-stream', 'copyIn needs a COPY … FROM STDIN statement');
    }
    const parts: Uint8Array[] = [];
    if (data instanceof Uint8Array) parts.push(data);
    else for await (const chunk of data) parts.push(chunk);
    // Always with the blob option: without it PGlite copies nothing and later crashes the process.
    const res = await this.pg.query(blobSql, [], { blob: new Blob(parts as BlobPart[]) });
    return res.rowCount ?? res.affectedRows ?? 0;
  }

  async serverVersionNum(): Promise<number> {
    const res = await this.pg.query<{ server_version_num: string }>('SHOW server_version_num');
    return Number(res.rows[0].server_version_num);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pg.close();
    } finally {
      if (this.lockPath) releaseDirLock(this.lockPath);
    }
  }
}

/** FIFO mutex per key, with a timeout for waiters. */
class KeyedMutex {
  // A key present in the map is held; its array holds the waiters in arrival order.
  private readonly queues = new Map<string, Array<() => void>>();

  acquire(key: string, timeoutMs: number, onWait: (() => void) | undefined, timeoutError: () => Error): Promise<void> {
    const queue = this.queues.get(key);
    if (!queue) {
      this.queues.set(key, []);
      return Promise.resolve();
    }
    onWait?.();
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.splice(queue.indexOf(wake), 1);
        reject(timeoutError());
      }, timeoutMs);
      queue.push(wake);
    });
  }

  release(key: string): void {
    const next = this.queues.get(key)?.shift();
    if (next) next();
    else this.queues.delete(key);
  }
}
