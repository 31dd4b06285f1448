#!/usr/bin/env node
// Round trips on real histories (issue 13, "How it is judged", first line; docs/plan-issue-13.md §3):
// for each vendored project (test/fixtures/real) and each cut k ∈ {1, ⌊n/3⌋, ⌊2n/3⌋, n−1}, `tidemark diff
// --from history:<k-th migration> --to history --dry-run` writes the migration from "the first k
// migrations" to "all n", and
//   - on the server (PostgreSQL 15): database A = the first k replayed with `up`, dumped (that dump is
//     "database C = replay of the first k": the same files on a fresh database); the generated files are
//     written next to them and run with `up`; `pg_dump --schema-only` of A must equal that of database B
//     (the whole history replayed); then `down` to the k-th migration runs the generated downs, and A's
//     dump must equal C's again;
//   - on PGlite (PostgreSQL 18): diff's own proof (the shadow after the up introspects equal to `to`, after
//     the down equal to `from`). No pg_dump there: @electric-sql/pglite-tools is not a dependency (it pins
//     pglite 0.5.8 and is not in the lockfile, so `npm ci` offline cannot install it).
// The pgpm projects need contrib extensions (uuid-ossp, pgcrypto) that PGlite's adapter does not load:
// server only. A refusal of diff (diff-cannot-render, diff-proof-failed) is printed as the result, with why.
//
//   npm run build && node bench/real-histories/round-trip.mjs [projects=all] [backends=postgres,pglite] [cuts]
//
// projects: comma-separated services (worker, dbos, jobs, types); cuts: comma-separated k (default the four
// above). Loopback only ($TIDEMARK_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres); every
// database it creates is dropped. Exit code 1 when any round trip fails.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const load = (relative) => import(pathToFileURL(path.join(ROOT, 'dist', relative)).href);
const { up } = await load('src/api/migrate.js');
const { openDatabase } = await load('src/db/open.js');
const real = await load('test/support/real-histories.js');

const SERVER = process.env.TIDEMARK_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const host = new URL(SERVER).hostname;
if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)) throw new Error(`round-trip.mjs runs on a loopback server only, not ${host}`);

const PROJECTS = process.argv[2] && process.argv[2] !== 'all' ? process.argv[2].split(',') : real.REAL_HISTORIES.map((h) => h.service);
const BACKENDS = (process.argv[3] ?? 'postgres,pglite').split(',');
const CUTS = process.argv[4] ? process.argv[4].split(',').map(Number) : undefined;

/**
 * Cuts run besides the four, where one of those four is refused: graphile-worker renames its tables in
 * migrations 11 and 16 (jobs → _private_jobs, …), which a diff of two schemas sees as a drop and a create
 * (and the created table's identity sequence keeps the old name, still taken): its cuts after 16 are added.
 */
const EXTRA_CUTS = { worker: [16, 17] };

/** k ∈ {1, ⌊n/3⌋, ⌊2n/3⌋, n−1} and the project's extra cuts, each once, in order. */
function cutsOf(n, service) {
  const ks = [1, Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1, ...(EXTRA_CUTS[service] ?? [])];
  return [...new Set(ks)].filter((k) => k >= 1 && k < n).sort((a, b) => a - b);
}

async function admin(sql) {
  const client = new pg.Client({ connectionString: SERVER, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh server database, dropped by the returned `drop` (WITH FORCE: a connection left open cannot keep it). */
async function serverDatabase() {
  const name = `tidemark_bench_rt_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

function check(result, what) {
  if (!result.ok) throw new Error(`${what}: ${result.error?.code}: ${result.error?.message}`);
  return result;
}

/** The roles a history grants to (pgpm's `administrator`), created once on the server and left there. */
async function serverRoles(history) {
  const { roles } = real.requirementsOf(history);
  if (roles.length === 0) return;
  const db = await openDatabase(SERVER);
  try {
    await real.ensureRoles(db, roles);
  } finally {
    await db.close();
  }
}

/** One cut on the server: A = first k + generated up, pg_dump equal to B; generated down, equal to C. */
async function serverCut(full, history, k, dumpB) {
  const started = performance.now();
  const row = await serverCutRow(full, history, k, dumpB);
  return { ...row, seconds: (performance.now() - started) / 1000 };
}

async function serverCutRow(full, history, k, dumpB) {
  const row = { backend: 'postgres', k };
  const a = await serverDatabase();
  try {
    const { result, up, down } = await real.serverRoundTrip(full, history, k, a.url, dumpB);
    row.files = result.files.length;
    if (!result.ok) return { ...row, up: 'refused', down: '-', note: `${result.error?.code}: ${result.error?.message}` };
    const note = [result.files.length === 0 && 'no change to generate', up && `up: ${up}`, down && `down: ${down}`].filter(Boolean).join('\n');
    return { ...row, up: up ? 'DIFFERS' : 'equal', down: down ? 'DIFFERS' : 'equal', note };
  } catch (err) {
    return { ...row, up: 'error', down: '-', note: err.message };
  } finally {
    await a.drop();
  }
}

/** One cut on PGlite: diff's own proof, shadows in-process (up gives `to`, down gives `from` back, by snapshot). */
async function pgliteCut(full, history, k) {
  const started = performance.now();
  const result = await real.diffFromCut(full, history, k, 'pglite:memory');
  const row = { backend: 'pglite', k, files: result.files.length, seconds: (performance.now() - started) / 1000 };
  if (!result.ok) return { ...row, up: 'refused', down: '-', note: `${result.error?.code}: ${result.error?.message}` };
  // No change found: the two snapshots are already equal, nothing to prove.
  if (result.files.length === 0) return { ...row, up: 'no change', down: 'no change', note: '' };
  return { ...row, up: 'proof', down: 'proof', note: '' };
}

const rows = [];
const print = (r) => {
  const line = `| ${r.project} | ${r.n} | ${r.k} | ${r.backend} | ${r.files ?? '-'} | ${r.up} | ${r.down} | ${r.seconds?.toFixed(1) ?? '-'} |`;
  console.log(line);
  if (r.note) console.log(r.note.replace(/^/gm, '    '));
};
const wall = performance.now();
console.log('| project | n | k | backend | files generated | up equal | down equal | seconds |');
console.log('|---|---|---|---|---|---|---|---|');
for (const service of PROJECTS) {
  const history = real.REAL_HISTORIES.find((h) => h.service === service);
  if (!history) throw new Error(`unknown project ${service}: one of ${real.REAL_HISTORIES.map((h) => h.service).join(', ')}`);
  const source = real.readRealSource(history.fixture);
  const n = source.migrations.length;
  const project = `${source.package}@${source.version}`;
  const full = await real.realHistoryWorkspace([history]);
  try {
    for (const backend of BACKENDS) {
      if (backend === 'pglite' && real.requirementsOf(history).extensions.length > 0) {
        const row = { project, n, k: '-', backend, up: 'not run', down: '-', note: `needs ${real.requirementsOf(history).extensions.join(', ')} (PGlite's adapter loads no contrib)` };
        rows.push(row);
        print(row);
        continue;
      }
      let dumpB;
      if (backend === 'postgres') {
        await serverRoles(history);
        const b = await serverDatabase();
        try {
          check(await up({ cwd: full.ws.dir, database: b.url, service }), `${service} full history up`);
          dumpB = real.pgDumpSchema(b.url);
        } finally {
          await b.drop();
        }
      }
      for (const k of CUTS ?? cutsOf(n, service)) {
        const row = { project, n, ...(backend === 'postgres' ? await serverCut(full, history, k, dumpB) : await pgliteCut(full, history, k)) };
        rows.push(row);
        print(row);
      }
    }
  } finally {
    full.ws.remove();
  }
}
const passed = (v) => v === 'equal' || v === 'proof' || v === 'no change';
const failed = rows.filter((r) => r.up !== 'not run' && !(passed(r.up) && passed(r.down)));
console.log(`\n${rows.length} rows, ${failed.length} not passing; wall ${((performance.now() - wall) / 1000).toFixed(1)} s`);
process.exitCode = failed.length > 0 ? 1 : 0;
