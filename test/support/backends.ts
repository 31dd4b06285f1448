/**
 * The DB test harness (DESIGN §8): every DB test runs on PGlite and on a real server.
 *
 * The server is, in order: $TIDEMARK_TEST_DATABASE_URL; postgres://postgres@127.0.0.1:5432/postgres if
 * it answers within 2 s; a throwaway cluster from local initdb/pg_ctl (stopped at exit); else the
 * server tests are skipped with one loud line — except under CI=true, where that is an error.
 * Each test database is created fresh and dropped afterwards, so nothing depends on server state.
 *
 *   forEachBackend('ledger', (backend) => {
 *     it('…', () => withDatabase(backend, async (db) => { … }));
 *   });
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'node:test';
import pg from 'pg';
import type { Backend, Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';

export interface TestDatabase {
  url: string;
  /** Removes the database (and, for PGlite, its files). Close any Database on it first. */
  drop(): Promise<void>;
}

export interface TestBackend {
  name: Backend;
  createDatabase(): Promise<TestDatabase>;
}

export const pgliteBackend: TestBackend = {
  name: 'pglite',
  async createDatabase() {
    const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'tidemark-test-'));
    // The data dir itself does not exist yet: opening it creates it from the cached template.
    return { url: `pglite:${path.join(dir, 'db')}`, drop: () => fs.promises.rm(dir, { recursive: true, force: true }) };
  },
};

function serverBackend(adminUrl: string): TestBackend {
  return {
    name: 'postgres',
    async createDatabase() {
      const name = `tidemark_test_${randomBytes(6).toString('hex')}`;
      await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return { url: url.toString(), drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
    },
  };
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  // A short-lived connection: a client left open would keep the test process from exiting.
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

// ---- a throwaway cluster from local initdb / pg_ctl ----

function findPgBinDir(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  try {
    // Debian/Ubuntu keep the server binaries off PATH; prefer the newest major.
    const versions = fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not a Debian layout
  }
  return dirs.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl')));
}

/** A loopback port nothing listens on (free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts a private cluster in a temp dir; returns its URL, or a reason it could not. */
export async function startThrowawayCluster(): Promise<{ url: string } | { reason: string }> {
  const bin = findPgBinDir();
  if (!bin) return { reason: 'no initdb/pg_ctl found in PATH or /usr/lib/postgresql/*/bin' };
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-pg-')));
  // initdb refuses to run as root: run the server binaries as the postgres user then.
  let prefix: string[] = [];
  if (process.getuid?.() === 0) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) return { reason: 'running as root and there is no postgres user for initdb' };
    const uid = Number(id.stdout.trim());
    fs.chownSync(dir, uid, uid);
    prefix = ['runuser', '-u', 'postgres', '--'];
  }
  const run = (cmd: string, args: string[], check = true) => {
    const [file, ...rest] = [...prefix, path.join(bin, cmd), ...args];
    const res = spawnSync(file, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    if (check && res.status !== 0) throw new Error(`${cmd} failed: ${(res.stderr || res.error?.message || '').trim().split('\n')[0]}`);
  };
  const data = path.join(dir, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', opts, 'start']);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { reason: (err as Error).message };
  }
  const stop = () => {
    run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'], false);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => process.exit(130)); // exit runs the stop hook; dying by signal would not
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

// ---- which backends this process tests ----

export const DEFAULT_TEST_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

let serverSkipReason: string | undefined;

async function findServer(): Promise<TestBackend | undefined> {
  if (process.env.TIDEMARK_TEST_DATABASE_URL) return serverBackend(process.env.TIDEMARK_TEST_DATABASE_URL);
  if (await answers(DEFAULT_TEST_SERVER_URL, 2000)) return serverBackend(DEFAULT_TEST_SERVER_URL);
  const cluster = await startThrowawayCluster();
  if ('url' in cluster) return serverBackend(cluster.url);
  const why = `nothing answers at ${DEFAULT_TEST_SERVER_URL} and no throwaway cluster (${cluster.reason})`;
  if (process.env.CI === 'true') throw new Error(`no PostgreSQL server for the DB tests under CI: ${why}`);
  serverSkipReason = `no PostgreSQL server: ${why}`;
  console.warn(`!!! SKIPPING every server-backend DB test: ${why}. Set TIDEMARK_TEST_DATABASE_URL to run them.`);
  return undefined;
}

let backendsPromise: Promise<TestBackend[]> | undefined;

/** The backends to test, probed once per process. */
export function testBackends(): Promise<TestBackend[]> {
  backendsPromise ??= findServer().then((server) => (server ? [pgliteBackend, server] : [pgliteBackend]));
  return backendsPromise;
}

/** Resolved at import, so test files can register their suites synchronously. */
export const backends: TestBackend[] = await testBackends();

/** Registers one `describe` per backend; a backend that is unavailable shows as a skipped suite. */
export function forEachBackend(title: string, fn: (backend: TestBackend) => void): void {
  for (const name of ['pglite', 'postgres'] as const) {
    const backend = backends.find((b) => b.name === name);
    if (backend) describe(`${title} [${name}]`, () => fn(backend));
    else describe(`${title} [${name}]`, { skip: serverSkipReason ?? 'unavailable' }, () => {});
  }
}

/** Creates a fresh database, opens it, runs fn, then closes and drops it (also when fn throws). */
export async function withDatabase<T>(backend: TestBackend, fn: (db: Database, url: string) => Promise<T>): Promise<T> {
  const created = await backend.createDatabase();
  try {
    const db = await openDatabase(created.url);
    try {
      return await fn(db, created.url);
    } finally {
      await db.close();
    }
  } finally {
    await created.drop();
  }
}
