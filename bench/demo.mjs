#!/usr/bin/env node
// bench/demo: `tidemark demo` (the CRM story end to end on PGlite, issue 5), whole command and each
// of its steps as the demo reports them (`--json`), over several runs.
//
//   npm run build && node bench/demo.mjs [--runs 3] [--users N]     (--users: the demo's own, default 10,000)
//   TIDEMARK_BENCH_CLIS=before=DIR1,after=DIR2 node bench/demo.mjs …   (several builds, interleaved in each run)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, baseNamesOf, CLIS, clisInRound, comparisonLines, fmt, labelled, orderedEntries, stats } from './lib.mjs';

const runs = Number(arg('runs', 3));
const users = arg('users', undefined);
for (const { cli } of CLIS) if (!existsSync(cli)) throw new Error(`build first: npm run build (no ${cli})`);

const work = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-demo-'));
const results = {};
const add = (name, v) => (results[name] ??= []).push(v);
// A step's name without the counts its title carries ("The doctor …: 9 errors, 1 warning").
const stepName = (i, title) => `tidemark demo, step ${i + 1}: ${title.split(/[:(]/)[0].trim()}`;

for (let r = 0; r < runs; r++) {
  for (const { label, cli } of clisInRound(r)) {
    const args = [cli, 'demo', '--json', ...(users ? ['--users', users] : [])];
    const started = process.hrtime.bigint();
    const p = spawnSync(process.execPath, args, { cwd: work, encoding: 'utf8', maxBuffer: 1 << 26 });
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    let out;
    try {
      out = JSON.parse(p.stdout);
    } catch {
      out = undefined;
    }
    if (p.status !== 0 || !out?.ok) throw new Error(`${labelled(label, 'tidemark demo')} exited ${p.status}\n${p.stdout?.slice(-2000)}\n${p.stderr?.slice(-2000)}`);
    add(labelled(label, 'tidemark demo, whole command'), wall);
    add(labelled(label, 'tidemark demo, its own total'), out.durationMs / 1000);
    out.steps.forEach((s, i) => add(labelled(label, stepName(i, s.title)), s.ms / 1000));
  }
  process.stderr.write(`run ${r + 1}/${runs} done\n`);
}
rmSync(work, { recursive: true, force: true });

const lines = [
  `bench/demo — ${users ? `${Number(users).toLocaleString('en')} users` : 'default size'}, ${runs} runs, ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| what | wall, median (min, max) |',
  '|---|---|',
];
for (const [name, values] of orderedEntries(results)) lines.push(`| ${name} | ${fmt(stats(values))} |`);
lines.push(...comparisonLines(`bench/demo, builds side by side (${runs} runs)`, baseNamesOf(Object.keys(results)), (name) => results[name]));
console.log(lines.join('\n'));
