#!/usr/bin/env node
// bench/restore-load: only restore's load step, build against build, on the server TIDEMARK_TEST_DATABASE_URL
// names (default 127.0.0.1:5432). One budget_items table of N rows; each build backs it up once (csv);
// then every round empties the table (not timed) and each build restores, the order alternating. With
// --cross every build also restores the other builds' backups, which separates the build from its file.
// Written to settle issue 12's restore figure: a step that follows the server instance, not the build.
//
//   TIDEMARK_BENCH_CLIS=before=DIR1,after=DIR2 node bench/restore-load.mjs [--rows 1000000] [--runs 6] [--cross]
//   TIDEMARK_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5440/postgres …   (another cluster, e.g. a fresh initdb)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_URL, arg, CLIS, clisInRound, crmDatabase, dropDatabase, fmt, stats } from './lib.mjs';

const rows = Number(arg('rows', 1_000_000));
const runs = Number(arg('runs', 6));
const cross = process.argv.includes('--cross');
const work = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-restore-load-'));
const dbName = 'tidemark_bench_restore_load';
const { url, ws } = await crmDatabase(dbName, rows, work);
const psql = (sql) => spawnSync('psql', ['-X', '-q', url, '-c', sql], { stdio: 'ignore' });
for (const { label, cli } of CLIS) {
  const r = spawnSync(process.execPath, [cli, 'backup', '--table', 'budget_items', '--format', 'csv', '--out', path.join(work, label || 'one'), '--database', url], { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`backup with ${label}: ${r.stderr.slice(-1000)}`);
}
const results = {};
for (let r = 0; r < runs; r++) {
  for (const { label, cli } of clisInRound(r)) {
    for (const file of cross ? CLIS.map((c) => c.label || 'one') : [label || 'one']) {
      psql('TRUNCATE budget_items');
      const out = spawnSync(process.execPath, [cli, 'restore', path.join(work, file), '--database', url], { cwd: ws, encoding: 'utf8' });
      const m = /load ([\d.]+) (ms|s)/.exec(out.stdout ?? '');
      if (out.status !== 0 || !m) throw new Error(`restore with ${label}: ${out.stdout.slice(-500)}${out.stderr.slice(-1000)}`);
      const secs = m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1]);
      (results[`${label || 'build'} restores ${cross ? `${file}'s backup` : 'its backup'}`] ??= []).push(secs);
    }
  }
  process.stderr.write(`run ${r + 1}/${runs} done\n`);
}
await dropDatabase(dbName);
rmSync(work, { recursive: true, force: true });
const server = new URL(process.env.TIDEMARK_TEST_DATABASE_URL ?? ADMIN_URL);
console.log(`bench/restore-load — ${rows.toLocaleString('en')} rows of budget_items, csv, ${runs} runs, server ${server.host}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| what | load, median (min, max) |\n|---|---|');
for (const [name, v] of Object.entries(results)) console.log(`| ${name} | ${fmt(stats(v))} |`);
