#!/usr/bin/env node
// bench/apply: 1,000 trivial migrations (one CREATE TABLE each) applied to an empty database, then
// a no-op `up` on the 1,000 applied ones — tidemark on the server and on PGlite, next to psql (the
// floor: one file, no bookkeeping), node-pg-migrate and dbmate in the same run.
//
//   npm run build && node bench/apply.mjs [--runs 5] [--count 1000] [--no-peers]
//   TIDEMARK_BENCH_CLIS=before=DIR1,after=DIR2 node bench/apply.mjs …   (several builds, interleaved in each run)
//
// Peers are installed on demand in bench/peers (npm install there), never by npm ci.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { arg, baseNamesOf, CLIS, clisInRound, comparisonLines, dropDatabase, fmt, freshDatabase, labelled, orderedEntries, ROOT as root, stats, timeCommand } from './lib.mjs';

const runs = Number(arg('runs', 5));
const count = Number(arg('count', 1000));
const withPeers = !process.argv.includes('--no-peers');
for (const { cli } of CLIS) if (!existsSync(cli)) throw new Error(`build first: npm run build (no ${cli})`);

const work = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-apply-'));
const pad = (i) => String(i).padStart(4, '0');
const create = (i) => `CREATE TABLE t${i} (id integer PRIMARY KEY, name text)`;

// tidemark workspace
mkdirSync(path.join(work, 'tidemark/migrations/bench'), { recursive: true });
writeFileSync(path.join(work, 'tidemark/tidemark.config.json'), JSON.stringify({ services: { bench: { migrations: 'migrations/bench' } } }));
for (let i = 1; i <= count; i++) {
  writeFileSync(path.join(work, `tidemark/migrations/bench/bench_${pad(i)}_t${i}.sql`), `-- tidemark:up\n${create(i)};\n-- tidemark:down\nDROP TABLE t${i};\n`);
}
// psql floor: the same statements in one file, autocommit, no bookkeeping
writeFileSync(path.join(work, 'all.sql'), Array.from({ length: count }, (_, i) => `${create(i + 1)};`).join('\n'));
// node-pg-migrate (SQL migrations) and dbmate
mkdirSync(path.join(work, 'npm-migrations'));
mkdirSync(path.join(work, 'dbmate'));
for (let i = 1; i <= count; i++) {
  writeFileSync(path.join(work, `npm-migrations/${pad(i)}_t${i}.sql`), `-- Up Migration\n${create(i)};\n-- Down Migration\nDROP TABLE t${i};\n`);
  writeFileSync(path.join(work, `dbmate/${pad(i)}_t${i}.sql`), `-- migrate:up\n${create(i)};\n\n-- migrate:down\nDROP TABLE t${i};\n`);
}

const peersDir = path.join(root, 'bench/peers');
let peers = false;
if (withPeers) {
  if (!existsSync(path.join(peersDir, 'node_modules/.bin/dbmate'))) {
    spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: peersDir, stdio: 'inherit' });
  }
  peers = existsSync(path.join(peersDir, 'node_modules/.bin/dbmate')) && existsSync(path.join(peersDir, 'node_modules/.bin/node-pg-migrate'));
}

const tm = (cli, args, cwd = path.join(work, 'tidemark')) => timeCommand(process.execPath, [cli, ...args], { cwd });
const results = {};
const add = (name, v) => (results[name] ??= []).push(v);

for (let r = 0; r < runs; r++) {
  // Interleave the tools inside each run so machine noise spreads over all of them.
  const db = `tidemark_bench_apply`;
  let url = await freshDatabase(db);
  add('psql, one file (floor)', timeCommand('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', path.join(work, 'all.sql')]));

  // Each build on a fresh database and a fresh PGlite directory of its own.
  for (const { label, cli } of clisInRound(r)) {
    url = await freshDatabase(db);
    add(labelled(label, 'tidemark up, server'), tm(cli, ['up', '--database', url]));
    add(labelled(label, 'tidemark no-op up, server'), tm(cli, ['up', '--database', url]));

    const dataDir = path.join(work, `pglite-${r}${label ? `-${label}` : ''}`);
    add(labelled(label, 'tidemark up, PGlite'), tm(cli, ['up', '--database', `pglite:${dataDir}`]));
    add(labelled(label, 'tidemark no-op up, PGlite'), tm(cli, ['up', '--database', `pglite:${dataDir}`]));
    rmSync(dataDir, { recursive: true, force: true });
  }

  if (peers) {
    url = await freshDatabase(db);
    const npmBin = path.join(peersDir, 'node_modules/.bin/node-pg-migrate');
    const npmArgs = ['up', '-m', path.join(work, 'npm-migrations'), '-j', 'sql'];
    add('node-pg-migrate up', timeCommand(npmBin, npmArgs, { env: { ...process.env, DATABASE_URL: url } }));
    add('node-pg-migrate no-op up', timeCommand(npmBin, npmArgs, { env: { ...process.env, DATABASE_URL: url } }));

    url = await freshDatabase(db);
    const dbmate = path.join(peersDir, 'node_modules/.bin/dbmate');
    const dbmateArgs = ['--url', `${url}?sslmode=disable`, '--migrations-dir', path.join(work, 'dbmate'), '--no-dump-schema', 'up'];
    add('dbmate up', timeCommand(dbmate, dbmateArgs));
    add('dbmate no-op up', timeCommand(dbmate, dbmateArgs));
  }
  await dropDatabase(db);
  process.stderr.write(`run ${r + 1}/${runs} done\n`);
}

const floor = stats(results['psql, one file (floor)']).median;
const lines = [
  `bench/apply — ${count} migrations, ${runs} runs, ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| what | wall, median (min, max) | vs psql floor |',
  '|---|---|---|',
];
for (const [name, values] of orderedEntries(results)) {
  const s = stats(values);
  lines.push(`| ${name} | ${fmt(s)} | ${name.includes('no-op') ? '–' : `${(s.median / floor).toFixed(2)}×`} |`);
}
lines.push('');
for (const { label } of CLIS) {
  const tmServer = stats(results[labelled(label, 'tidemark up, server')]).median;
  lines.push(
    `${labelled(label, 'tidemark overhead per migration on the server')}: (${tmServer.toFixed(2)} s − ${floor.toFixed(2)} s) / ${count} = ${(((tmServer - floor) / count) * 1000).toFixed(2)} ms`,
  );
}
lines.push(
  ...comparisonLines(
    `bench/apply, builds side by side (${count} migrations, ${runs} runs)`,
    baseNamesOf(Object.keys(results), (b) => b.startsWith('tidemark')),
    (n) => results[n],
  ),
);
console.log(lines.join('\n'));
rmSync(work, { recursive: true, force: true });
