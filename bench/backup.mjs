#!/usr/bin/env node
// bench/backup: tidemark backup (ndjson and csv) of one table of N rows against pg_dump -Fc and
// psql \copy, and tidemark restore of those backups against pg_restore --data-only and psql \copy, in the same run,
// with peak RSS. The table is the CRM's budget_items, filled by the
// deterministic generator (examples/crm-ditual/data.mjs). Then the budget service (budgets and
// budget_items) backed up and restored as a whole against pg_dump / pg_restore of the same two tables.
//
//   npm run build && node bench/backup.mjs [--rows 1000000] [--runs 5]
//   TIDEMARK_BENCH_CLIS=before=DIR1,after=DIR2 node bench/backup.mjs …   (several builds, interleaved in each run;
//   each build restores its own backups)
//
// Wall time and peak RSS from /usr/bin/time -f '%e %M' around each whole command.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { arg, baseNamesOf, CLIS, clisInRound, comparisonLines, crmDatabase, dropDatabase, fmt, labelled, orderedEntries, stats, unlabelled } from './lib.mjs';

const rows = Number(arg('rows', 1_000_000));
const runs = Number(arg('runs', 5));
const work = mkdtempSync(path.join(os.tmpdir(), 'tidemark-bench-backup-'));
const dbName = 'tidemark_bench_backup';
const t0 = Date.now();
// The CRM schema, then data: itemsPerBudget 4, budgetsPerUser 5 → 20 items per user.
const { url, ws } = await crmDatabase(dbName, rows, work);
const client = new pg.Client({ connectionString: url });
await client.connect();
const {
  rows: [{ n, size }],
} = await client.query(`SELECT count(*)::bigint AS n, pg_size_pretty(pg_total_relation_size('budget_items')) AS size FROM budget_items`);
await client.end();
process.stderr.write(`loaded ${n} budget_items (${size}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

function timed(cmd, args, options = {}) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-1500)}`);
  const [wall, rssKb] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, rssMb: rssKb / 1024, stdout: r.stdout };
}

const results = {};
const add = (name, v) => ((results[name] ??= { wall: [], rss: [] }).wall.push(v.wall), results[name].rss.push(v.rssMb));
for (let r = 0; r < runs; r++) {
  const out = (name) => path.join(work, `${name}-${r}`);
  // One build's own outputs (csv-before-0, …); unlabelled: the names of one build (csv-0).
  const outOf = (label, name) => out(label ? `${name}-${label}` : name);
  const round = clisInRound(r);
  add('pg_dump -Fc -t budget_items', timed('pg_dump', ['-Fc', '-t', 'budget_items', '-f', out('dump'), url]));
  add('psql \\copy budget_items to csv', timed('psql', ['-X', '-q', url, '-c', `\\copy budget_items TO '${out('copy')}.csv' WITH (FORMAT csv)`]));
  // Backups only read: every build sees the same table.
  for (const { label, cli } of round) {
    add(
      labelled(label, 'tidemark backup --format csv'),
      timed(process.execPath, [cli, 'backup', '--table', 'budget_items', '--format', 'csv', '--out', outOf(label, 'csv'), '--database', url], { cwd: ws }),
    );
    add(labelled(label, 'tidemark backup (ndjson)'), timed(process.execPath, [cli, 'backup', '--table', 'budget_items', '--out', outOf(label, 'ndjson'), '--database', url], { cwd: ws }));
    add(labelled(label, 'tidemark verify-backup (ndjson)'), timed(process.execPath, [cli, 'verify-backup', outOf(label, 'ndjson')], { cwd: ws }));
  }
  // Restore side: empty the table (not timed), then load it back. pg_restore --data-only is the peer.
  const truncate = () => spawnSync('psql', ['-X', '-q', url, '-c', 'TRUNCATE budget_items'], { stdio: 'ignore' });
  truncate();
  add('pg_restore --data-only -t budget_items', timed('pg_restore', ['--data-only', '-t', 'budget_items', '-d', url, out('dump')]));
  truncate();
  add('psql \\copy budget_items from csv (restore)', timed('psql', ['-X', '-q', url, '-c', `\\copy budget_items FROM '${out('copy')}.csv' WITH (FORMAT csv)`]));
  // Each build restores its own backup into the emptied table.
  for (const format of ['csv', 'ndjson']) {
    for (const { label, cli } of round) {
      truncate();
      const r = timed(process.execPath, [cli, 'restore', outOf(label, format), '--database', url], { cwd: ws });
      add(labelled(label, `tidemark restore (${format}), whole command`), r);
      const m = /load ([\d.]+) (ms|s), verify ([\d.]+) (ms|s)/.exec(r.stdout ?? '');
      if (m) {
        const secs = (v, unit) => (unit === 'ms' ? Number(v) / 1000 : Number(v));
        add(labelled(label, `tidemark restore (${format}), load only`), { wall: secs(m[1], m[2]), rssMb: r.rssMb });
        add(labelled(label, `tidemark restore (${format}), verification only`), { wall: secs(m[3], m[4]), rssMb: r.rssMb });
      }
    }
  }
  // The budget service (budgets + budget_items): budget_items' key to budgets is between restored
  // tables, so tidemark checks it in one pass; pg_restore checks it row by row.
  add('pg_dump -Fc -t budgets -t budget_items (service)', timed('pg_dump', ['-Fc', '-t', 'budgets', '-t', 'budget_items', '-f', out('svc-dump'), url]));
  for (const { label, cli } of round) {
    add(
      labelled(label, 'tidemark backup --service budget --format csv'),
      timed(process.execPath, [cli, 'backup', '--service', 'budget', '--format', 'csv', '--out', outOf(label, 'svc-csv'), '--database', url], { cwd: ws }),
    );
  }
  const truncateService = () => spawnSync('psql', ['-X', '-q', url, '-c', 'TRUNCATE budgets, budget_items'], { stdio: 'ignore' });
  truncateService();
  // pg_restore -t loads in its list's order (budget_items first: its key fails): parents first, by hand.
  const restoreOne = (t) => `pg_restore --data-only -t ${t} -d '${url}' '${out('svc-dump')}'`;
  add('pg_restore --data-only -t budgets, then -t budget_items (service restore)', timed('sh', ['-c', `${restoreOne('budgets')} && ${restoreOne('budget_items')}`]));
  for (const { label, cli } of round) {
    truncateService();
    const svc = timed(process.execPath, [cli, 'restore', outOf(label, 'svc-csv'), '--database', url], { cwd: ws });
    add(labelled(label, 'tidemark restore of the budget backup (csv), whole command (service restore)'), svc);
    const sm = /load ([\d.]+) (ms|s), verify ([\d.]+) (ms|s)/.exec(svc.stdout ?? '');
    if (sm) add(labelled(label, 'tidemark restore of the budget backup (csv), load only (service restore)'), { wall: sm[2] === 'ms' ? Number(sm[1]) / 1000 : Number(sm[1]), rssMb: svc.rssMb });
  }
  for (const name of ['dump', 'copy.csv', 'svc-dump']) rmSync(out(name), { recursive: true, force: true });
  for (const { label } of round) for (const name of ['csv', 'ndjson', 'svc-csv']) rmSync(outOf(label, name), { recursive: true, force: true });
  process.stderr.write(`run ${r + 1}/${runs} done\n`);
}
await dropDatabase(dbName);
rmSync(work, { recursive: true, force: true });

const floor = stats(results['pg_dump -Fc -t budget_items'].wall).median;
const restoreFloor = stats(results['pg_restore --data-only -t budget_items'].wall).median;
const serviceFloor = stats(results['pg_dump -Fc -t budgets -t budget_items (service)'].wall).median;
const serviceRestoreFloor = stats(results['pg_restore --data-only -t budgets, then -t budget_items (service restore)'].wall).median;
const lines = [
  `bench/backup — budget_items, ${Number(n).toLocaleString('en')} rows (${size}), ${runs} runs, ${os.cpus().length} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| what | wall, median (min, max) | vs pg_dump -Fc (backup) or pg_restore (restore) of the same tables | peak RSS, median (max) |',
  '|---|---|---|---|',
];
for (const [name, v] of orderedEntries(results)) {
  const s = stats(v.wall);
  const m = stats(v.rss);
  const service = /service/.test(unlabelled(name));
  const base = /restore/.test(unlabelled(name)) ? (service ? serviceRestoreFloor : restoreFloor) : service ? serviceFloor : floor;
  lines.push(`| ${name} | ${fmt(s)} | ${(s.median / base).toFixed(2)}× | ${m.median.toFixed(0)} MB (${m.max.toFixed(0)} MB) |`);
}
lines.push(
  ...comparisonLines(
    `bench/backup, builds side by side (${Number(n).toLocaleString('en')} rows, ${runs} runs)`,
    baseNamesOf(Object.keys(results), (b) => b.startsWith('tidemark')),
    (name) => results[name]?.wall,
    { extra: { header: `peak RSS median, ${CLIS.map((c) => c.label).join(' / ')}`, cell: (name) => (results[name] ? `${stats(results[name].rss).median.toFixed(0)} MB` : '–') } },
  ),
);
console.log(lines.join('\n'));
writeFileSync(path.join(os.tmpdir(), `tidemark-bench-backup-${rows}.md`), `${lines.join('\n')}\n`);
