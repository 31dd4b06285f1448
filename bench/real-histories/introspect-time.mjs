#!/usr/bin/env node
// How long `introspect(db, { workspace, service })` takes on a 200-table schema, on PGlite and on the
// server (docs/plan-issue-13.md §2.4: the diff proof's budget assumes < 0.3 s at 200 tables).
//
//   npm run build && node bench/real-histories/introspect-time.mjs [tables=200] [runs=5] [backends=pglite,postgres]
//
// Backends run in the order given, each on a fresh database; `pglite,pglite` shows whether the slow
// first call is paid once per process or once per PGlite database (a diff proof opens fresh shadows).
// The schema: N tables t_001…, each with a bigint primary key, 5 columns, one index and a foreign key
// to the previous table. Prints how long creating it took (one exec, no tidemark), then introspect's
// first (cold) call and the median of `runs` further calls.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const load = (relative) => import(pathToFileURL(path.join(ROOT, 'dist/src', relative)).href);
const { loadWorkspace } = await load('config/load.js');
const { openDatabase } = await load('db/open.js');
const { introspect } = await load('schema/introspect/index.js');

const TABLES = Number(process.argv[2] ?? 200);
const RUNS = Number(process.argv[3] ?? 5);
const BACKENDS = (process.argv[4] ?? 'pglite,postgres').split(',');
const SERVER = process.env.TIDEMARK_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

function schemaSql(n) {
  const name = (i) => `t_${String(i).padStart(3, '0')}`;
  const out = [];
  for (let i = 1; i <= n; i++) {
    const fk = i > 1 ? ` REFERENCES ${name(i - 1)} (id)` : '';
    out.push(
      `CREATE TABLE ${name(i)} (id bigint PRIMARY KEY, prev_id bigint${fk}, label text NOT NULL, amount numeric(12,2) DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now());`,
      `CREATE INDEX ${name(i)}_label_idx ON ${name(i)} (label);`,
    );
  }
  return out.join('\n');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label, url) {
  const db = await openDatabase(url);
  try {
    const applyStart = performance.now();
    await db.exec(schemaSql(TABLES));
    const applyMs = performance.now() - applyStart;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-introspect-'));
    mkdirSync(path.join(dir, 'migrations/bench'), { recursive: true });
    writeFileSync(path.join(dir, 'tidemark.config.json'), JSON.stringify({ services: { bench: { migrations: 'migrations/bench', owns: ['t_*'] } } }));
    const workspace = await loadWorkspace({ cwd: dir });
    const time = async () => {
      const t = performance.now();
      const snapshot = await introspect(db, { workspace, service: 'bench' });
      if (snapshot.tables.length !== TABLES) throw new Error(`${label}: ${snapshot.tables.length} tables introspected, not ${TABLES}`);
      return performance.now() - t;
    };
    const cold = await time();
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await time());
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `${label}: ${TABLES} tables, applied in ${applyMs.toFixed(0)} ms (one exec); introspect first call ${cold.toFixed(0)} ms, median of ${RUNS} ${median(runs).toFixed(0)} ms (runs ${runs.map((r) => r.toFixed(0)).join(', ')})`,
    );
  } finally {
    await db.close();
  }
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

async function measurePglite() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-introspect-db-'));
  try {
    await measure('pglite', `pglite:${path.join(dir, 'db')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureServer() {
  const dbName = `tidemark_bench_introspect_${process.pid}`;
  await admin(`CREATE DATABASE ${dbName}`);
  try {
    const url = new URL(SERVER);
    url.pathname = `/${dbName}`;
    await measure('postgres', url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}

for (const backend of BACKENDS) {
  if (backend === 'pglite') await measurePglite();
  else if (backend === 'postgres') await measureServer();
  else throw new Error(`unknown backend ${backend}: pglite or postgres`);
}
