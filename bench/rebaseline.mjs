#!/usr/bin/env node
// bench/rebaseline: `tidemark rebaseline --service budget` on the CRM with N budget_items (default 1M,
// 250k budgets), on the PostgreSQL server, in the same run as `tidemark backup` and `tidemark restore`:
//   (a) the live schema equals the baseline → metadata only: the time of its transaction (aim ≤ 1 s);
//   (b) a hand-made drift (an extra index) → the full path: drop, baseline, restore, validate, in one
//       transaction — each step's time as rebaseline reports it (`--json`), next to backup + restore.
//
//   npm run build && node bench/rebaseline.mjs [--rows 1000000] [--runs 3]
//   TIDEMARK_BENCH_CLIS=before=DIR1,after=DIR2 node bench/rebaseline.mjs …   (several builds, interleaved in each run)
//
// Each build's turn leaves the database as it found it (the full path rebuilds the baseline, restore
// --replace puts the same rows back), so every build starts from the baseline schema and the same
// rows; with 2+ builds, VACUUM ANALYZE of the two tables (untimed) before each turn evens out what the
// previous turn's restore left (hint bits, statistics).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { arg, CLIS, clisInRound, comparisonLines, crmDatabase, dropDatabase, fmt, labelled, stats } from './lib.mjs';

const rows = Number(arg('rows', 1_000_000));
const runs = Number(arg('runs', 3));
const work = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-rebaseline-'));
const dbName = 'tidemark_bench_rebaseline';
const { url, ws } = await crmDatabase(dbName, rows, work);
const client = new pg.Client({ connectionString: url });
await client.connect();
const counted = (await client.query(`SELECT (SELECT count(*) FROM budgets) AS b, (SELECT count(*) FROM budget_items) AS i`)).rows[0];
process.stderr.write(`loaded ${counted.b} budgets and ${counted.i} budget_items\n`);

function runWith(cli, args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args, '--database', url, '--json'], { cwd: ws, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`tidemark ${args.join(' ')} exited ${r.status}: ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`);
  return { wall, json: JSON.parse(r.stdout) };
}

const bySample = new Map(CLIS.map(({ label }) => [label, { metaTx: [], metaWall: [], fullTx: [], fullWall: [], fullBackup: [], fullShadow: [], backup: [], restore: [] }]));
for (let i = 0; i < runs; i++) {
  for (const { label, cli } of clisInRound(i)) {
    const samples = bySample.get(label);
    const run = (args) => runWith(cli, args);
    const tag = label ? `${label}-${i}` : `${i}`;
    if (CLIS.length > 1) await client.query('VACUUM ANALYZE budgets, budget_items');
    // (a) metadata only.
    const meta = run(['rebaseline', '--service', 'budget', '--backup-dir', path.join(work, `meta-${tag}`)]);
    if (meta.json.mode !== 'metadata') throw new Error(`expected the metadata path, got ${meta.json.mode}`);
    samples.metaTx.push(meta.json.steps.find((s) => s.step === 'transaction').ms / 1000);
    samples.metaWall.push(meta.wall);

    // (b) full path: an index made by hand is a difference from the baseline.
    await client.query('CREATE INDEX budget_items_description_idx ON budget_items (description)');
    const full = run(['rebaseline', '--service', 'budget', '--backup-dir', path.join(work, `full-${tag}`)]);
    if (full.json.mode !== 'full') throw new Error(`expected the full path, got ${full.json.mode}`);
    samples.fullTx.push(full.json.steps.find((s) => s.step === 'transaction').ms / 1000);
    samples.fullBackup.push(full.json.steps.find((s) => s.step === 'backup').ms / 1000);
    samples.fullShadow.push(full.json.steps.find((s) => s.step === 'shadow').ms / 1000);
    samples.fullWall.push(full.wall);

    // The same data through the two commands a user would otherwise run.
    samples.backup.push(run(['backup', '--service', 'budget', '--out', path.join(work, `bk-${tag}`)]).wall);
    samples.restore.push(run(['restore', path.join(work, `bk-${tag}`), '--replace']).wall);
    for (const d of [`meta-${tag}`, `full-${tag}`, `bk-${tag}`]) rmSync(path.join(work, d), { recursive: true, force: true });
  }
  if (CLIS.length > 1) process.stderr.write(`run ${i + 1}/${runs} done\n`);
}
await client.end();
await dropDatabase(dbName);
rmSync(work, { recursive: true, force: true });

const line = (what, values, ratioTo) => {
  const s = stats(values);
  return `| ${what} | ${fmt(s)} |${ratioTo ? ` ${(s.median / stats(ratioTo).median).toFixed(2)}× |` : ' – |'}`;
};
console.log(`bench/rebaseline — budget service, ${counted.b} budgets + ${counted.i} budget_items, ${runs} runs, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| what | time, median (min, max) | vs backup + restore |');
console.log('|---|---|---|');
// Each line's samples by its full name, for the before/after table.
const named = {};
const tableRows = (label, samples) => {
  const both = samples.backup.map((b, i) => b + samples.restore[i]);
  return [
    ['rebaseline, metadata only: its transaction', samples.metaTx],
    ['rebaseline, metadata only: whole command', samples.metaWall, both],
    ['rebaseline, full path: backup step', samples.fullBackup],
    ['rebaseline, full path: shadow replay', samples.fullShadow],
    ['rebaseline, full path: its transaction (drop, baseline, restore, validate, ledger)', samples.fullTx],
    ['rebaseline, full path: whole command', samples.fullWall, both],
    ['tidemark backup --service budget', samples.backup],
    ['tidemark restore --replace', samples.restore],
    ['backup + restore', both, both],
  ].map(([what, values, ratioTo]) => [labelled(label, what), values, ratioTo]);
};
const all = [...bySample].map(([label, samples]) => tableRows(label, samples));
// One line of each build after another, in CLIS order (one build: the table as it always was).
for (let k = 0; k < all[0].length; k++) {
  for (const lines of all) {
    const [what, values, ratioTo] = lines[k];
    named[what] = values;
    console.log(line(what, values, ratioTo));
  }
}
const compared = comparisonLines(
  `bench/rebaseline, builds side by side (${counted.i} budget_items, ${runs} runs)`,
  tableRows('', bySample.get(CLIS[0].label)).map(([what]) => what),
  (name) => named[name],
);
if (compared.length) console.log(compared.join('\n'));
