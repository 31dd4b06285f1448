// Shared helpers of the benchmarks: timing whole commands, median and spread, fresh databases.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

/** The repository and the built CLI every benchmark runs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/**
 * The builds a benchmark runs, interleaved inside each round so machine noise spreads over all of
 * them. `TIDEMARK_BENCH_CLIS="before=/path/to/dir1,after=/path/to/dir2"` (each DIR a checkout with
 * dist/ built; its CLI is DIR/dist/src/cli/main.js); without it, this repository's build, unlabelled.
 * Each entry: { label, root, cli }.
 */
export const CLIS = parseClis(process.env.TIDEMARK_BENCH_CLIS);

function parseClis(spec) {
  if (spec === undefined || spec.trim() === '') return [{ label: '', root: ROOT, cli: CLI }];
  const refuse = (why) => {
    console.error(`bench: TIDEMARK_BENCH_CLIS=${JSON.stringify(spec)}: ${why}\n  expected: TIDEMARK_BENCH_CLIS="before=/path/to/dir1,after=/path/to/dir2" (each dir a checkout with dist/ built)`);
    process.exit(2);
  };
  const clis = [];
  const items = spec.split(',').map((s) => s.trim());
  for (const item of items.filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) refuse(`"${item}" is not LABEL=DIR`);
    const label = item.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_.-]+$/.test(label)) refuse(`label "${label}": use letters, digits, _ . - only`);
    if (clis.some((c) => c.label === label)) refuse(`label "${label}" given twice`);
    const root = path.resolve(item.slice(eq + 1).trim());
    const cli = path.join(root, 'dist/src/cli/main.js');
    if (!existsSync(cli)) refuse(`${label}: no ${cli} (build it first: cd ${root} && npm ci && npm run build)`);
    clis.push({ label, root, cli });
  }
  if (clis.length === 0) refuse('no LABEL=DIR in it');
  return clis;
}

/** The CLIs in round `r`'s order: rotated by one each round, so no build always runs first. */
export function clisInRound(r) {
  const k = r % CLIS.length;
  return [...CLIS.slice(k), ...CLIS.slice(0, k)];
}

/** A result's name for one build: `before · tidemark up, server`; unchanged when unlabelled. */
export const labelled = (label, name) => (label ? `${label} · ${name}` : name);

/** A result's name without its build's label. */
export function unlabelled(name) {
  for (const { label } of CLIS) if (label && name.startsWith(`${label} · `)) return name.slice(label.length + 3);
  return name;
}

/**
 * The before/after table (only when 2+ builds ran; else no lines): for every base name, median
 * (min, max) of each build and the ratio of each build's median to the FIRST build's.
 * `valuesOf(fullName)` gives the samples (seconds) of a result, or undefined when it has none.
 * `extra` optionally adds one more cell per build: (fullName) => text.
 */
export function comparisonLines(title, baseNames, valuesOf, { extra } = {}) {
  if (CLIS.length < 2) return [];
  const first = CLIS[0].label;
  const others = CLIS.slice(1);
  const cell = (v) => {
    if (!v || v.length === 0) return '–';
    const s = stats(v);
    return `${s.median.toFixed(3)} s (${s.min.toFixed(3)}, ${s.max.toFixed(3)})`;
  };
  const lines = [
    '',
    `${title} — ${CLIS.map((c) => `${c.label} = ${c.root}`).join(', ')}`,
    '',
    `| what | ${CLIS.map((c) => `${c.label}, median (min, max)`).join(' | ')} | ${others.map((c) => `${c.label}/${first}`).join(' | ')} |${extra ? ` ${extra.header} |` : ''}`,
    `|---|${CLIS.map(() => '---|').join('')}${others.map(() => '---|').join('')}${extra ? '---|' : ''}`,
  ];
  for (const base of baseNames) {
    const base0 = valuesOf(labelled(first, base));
    const ratios = others.map(({ label }) => {
      const v = valuesOf(labelled(label, base));
      if (!v?.length || !base0?.length) return '–';
      return `${(stats(v).median / stats(base0).median).toFixed(2)}×`;
    });
    const extraCell = extra ? ` ${CLIS.map(({ label }) => extra.cell(labelled(label, base))).join(' / ')} |` : '';
    lines.push(`| ${base} | ${CLIS.map(({ label }) => cell(valuesOf(labelled(label, base)))).join(' | ')} | ${ratios.join(' | ')} |${extraCell}`);
  }
  return lines;
}

/** The distinct base names of the labelled results, in first-seen order, that `keep` accepts. */
export function baseNamesOf(names, keep = () => true) {
  const out = [];
  for (const n of names) {
    const b = unlabelled(n);
    if (b !== n && keep(b) && !out.includes(b)) out.push(b);
  }
  return out;
}

/**
 * `Object.entries(results)` in first-seen order, except that each build's line of one base name comes
 * right after the others, in CLIS order (the builds rotate in each round). One build: unchanged.
 */
export function orderedEntries(results) {
  const out = [];
  const done = new Set();
  for (const name of Object.keys(results)) {
    const base = unlabelled(name);
    if (base === name) out.push([name, results[name]]);
    else if (!done.has(base)) {
      done.add(base);
      for (const { label } of CLIS) if (labelled(label, base) in results) out.push([labelled(label, base), results[labelled(label, base)]]);
    }
  }
  return out;
}

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
