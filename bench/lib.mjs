// Shared helpers of the benchmarks: timing whole commands, median and spread, fresh databases.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

/** The repository and the built CLI every benchmark runs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** `--name value` from the command line, else the default. */
export function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : process.argv[i + 1];
}

/**
 * A fresh server database `name` with the CRM example migrated (from a copy in `workDir/ws`) and
 * `rows` budget_items of the deterministic generator (20 items per user), vacuumed.
 * Returns its URL and the workspace directory.
 */
export async function crmDatabase(name, rows, workDir) {
  const url = await freshDatabase(name);
  const ws = path.join(workDir, 'ws');
  execFileSync('cp', ['-r', path.join(ROOT, 'examples/crm-ditual'), ws]);
  execFileSync(process.execPath, [CLI, 'up', '--database', url], { cwd: ws, stdio: 'ignore' });
  const { crmDataStatements } = await import(pathToFileURL(path.join(ROOT, 'examples/crm-ditual/data.mjs')).href);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of crmDataStatements({ users: Math.ceil(rows / 20) })) await client.query(sql);
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
  return { url, ws };
}

export const ADMIN_URL = process.env.TIDEMARK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function withDatabase(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(name) {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${name}`);
  return withDatabase(ADMIN_URL, name);
}

export async function dropDatabase(name) {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** Runs a command, returns wall seconds; throws with its output if it fails. */
export function timeCommand(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout?.slice(-2000)}\n${r.stderr?.slice(-2000)}`);
  }
  return seconds;
}

export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

export function fmt({ median, min, max, n }, unit = 's', digits = 2) {
  return `${median.toFixed(digits)} ${unit} (min ${min.toFixed(digits)}, max ${max.toFixed(digits)}, n=${n})`;
}
