#!/usr/bin/env node
// Vendors one public project's real migration history into test/fixtures/real/<name>@<version>/, so
// tests replay it without network access (docs/plan-issue-13.md §3 "Candidate real histories").
//
//   node bench/real-histories/vendor.mjs graphile-worker@0.17.3
//
// `npm pack` into a temp dir, the tarball checked against `npm view NAME@VERSION dist.integrity`,
// extracted with tar, the licence checked to be MIT, then only the SQL and the LICENSE are copied, with
// a source.json saying where they came from and what was done to them. Re-vendoring is this command.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/real');

/** How each supported package's history is read. Each returns { migrations, transform, prelude?, requires? }. */
const LAYOUTS = {
  'graphile-worker': graphileWorker,
  '@dbos-inc/dbos-sdk': dbos,
  '@pgpm/database-jobs': pgpm,
  '@pgpm/types': pgpm,
};

function fail(message) {
  console.error(`vendor: ${message}`);
  process.exit(1);
}

function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function main() {
  const spec = process.argv[2];
  const at = spec ? spec.lastIndexOf('@') : -1;
  if (!spec || at <= 0) fail('usage: node bench/real-histories/vendor.mjs NAME@VERSION');
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  const layout = LAYOUTS[name];
  if (!layout) fail(`no layout known for ${name}; known: ${Object.keys(LAYOUTS).join(', ')}`);

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tidemark-vendor-'));
  try {
    const integrity = npm(['view', `${name}@${version}`, 'dist.integrity'], tmp);
    const tarball = JSON.parse(npm(['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], tmp))[0].filename;
    const tarPath = path.join(tmp, tarball);
    const [algorithm] = integrity.split('-');
    const actual = `${algorithm}-${createHash(algorithm).update(readFileSync(tarPath)).digest('base64')}`;
    if (actual !== integrity) fail(`${tarball}: integrity ${actual} is not the registry's ${integrity}`);
    const pkgDir = path.join(tmp, 'x');
    mkdirSync(pkgDir);
    execFileSync('tar', ['xzf', tarPath, '-C', pkgDir]);
    const root = path.join(pkgDir, 'package');
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    if (manifest.version !== version) fail(`packed version ${manifest.version}, asked for ${version}`);
    const licenseFile = readdirSync(root).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
    if (!licenseFile) fail(`${name}@${version} ships no LICENSE file`);
    // The manifest's field when there is one; the pgpm packages have none, only an MIT LICENSE file.
    const licenseText = readFileSync(path.join(root, licenseFile), 'utf8');
    const mitText = /^\W*(The )?MIT License\b/i.test(licenseText);
    if (manifest.license !== undefined ? manifest.license !== 'MIT' : !mitText) {
      fail(`${name}@${version} is licensed ${JSON.stringify(manifest.license ?? licenseText.split('\n')[0])}, not MIT: not vendored`);
    }
    const license = manifest.license ?? `MIT (${licenseFile}; package.json has no license field)`;

    const out = path.join(FIXTURES, `${name}@${version}`);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const history = layout(root, out);
    writeFileSync(path.join(out, 'LICENSE'), readFileSync(path.join(root, licenseFile)));
    const source = { package: name, version, license, licenseFile, integrity, ...history };
    writeFileSync(path.join(out, 'source.json'), `${JSON.stringify(source, null, 2)}\n`);
    console.log(`vendor: ${name}@${version}: ${history.migrations.length} migrations → ${path.relative(ROOT, out)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function write(out, relative, text) {
  const file = path.join(out, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
}

/** graphile-worker: sql/NNNNNN.sql in file order; the schema placeholder filled; installSchema's SQL as prelude. */
function graphileWorker(root, out) {
  const schema = 'graphile_worker';
  const fill = (text) => text.replace(/:GRAPHILE_WORKER_SCHEMA\b/g, schema);
  const migrate = readFileSync(path.join(root, 'dist/migrate.js'), 'utf8');
  // The one query installSchema sends before recording breaking migrations: schema + migrations table.
  const m = /event\.client\.query\(`\\\n(create schema if not exists[\s\S]*?)`\);/.exec(migrate);
  if (!m) fail('graphile-worker: installSchema SQL not found in dist/migrate.js');
  write(out, 'prelude.sql', m[1].replace(/\$\{escapedWorkerSchema\}/g, schema));
  const files = readdirSync(path.join(root, 'sql'))
    .filter((f) => /^\d{6}\.sql$/.test(f))
    .sort();
  const migrations = files.map((f) => {
    write(out, `sql/${f}`, fill(readFileSync(path.join(root, 'sql', f), 'utf8')));
    return { number: Number.parseInt(f, 10), name: f.slice(0, -4), up: `sql/${f}` };
  });
  return {
    transform: `placeholder :GRAPHILE_WORKER_SCHEMA replaced by ${schema}; prelude.sql is installSchema's SQL from dist/migrate.js (\${escapedWorkerSchema} → ${schema})`,
    prelude: 'prelude.sql',
    migrations,
  };
}

/** @dbos-inc/dbos-sdk: allMigrations('dbos'), one file per non-empty entry, numbered by its position. */
function dbos(root, out) {
  const file = path.join(root, 'dist/src/sysdb_migrations/internal/migrations.js');
  const { allMigrations } = createRequire(file)(file);
  const migrations = [];
  allMigrations('dbos').forEach((entry, i) => {
    if (entry.pg.length === 0) return;
    const number = i + 1;
    const concurrent = entry.pg.some((s) => /\bCONCURRENTLY\b/i.test(s));
    if (concurrent && entry.pg.length > 1) fail(`dbos entry ${number} mixes CREATE INDEX CONCURRENTLY with other statements`);
    const rel = `migrations/${String(number).padStart(3, '0')}.sql`;
    write(out, rel, entry.pg.map((s) => `${s.trim().replace(/;$/, '')};\n`).join('\n'));
    migrations.push({ number, name: entry.name ?? `migration_${number}`, up: rel, ...(concurrent ? { noTransaction: true } : {}) });
  });
  return {
    transform:
      "allMigrations('dbos') from dist/src/sysdb_migrations/internal/migrations.js; empty entries skipped (numbers keep the entry's position, 1-based); each entry's statements joined with ';'; entries with CREATE INDEX CONCURRENTLY marked noTransaction",
    migrations,
  };
}

/** pgpm (sqitch): pgpm.plan order, deploy/ as up, revert/ as down, BEGIN;/COMMIT; lines stripped. */
function pgpm(root, out) {
  const strip = (text) =>
    text
      .split('\n')
      .filter((line) => !/^\s*(BEGIN|COMMIT)\s*;\s*$/i.test(line))
      .join('\n')
      .trim();
  const plan = readFileSync(path.join(root, 'pgpm.plan'), 'utf8');
  const changes = plan
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('%') && !l.startsWith('#'))
    .map((l) => l.split(/\s+/)[0]);
  const migrations = changes.map((change, i) => {
    const up = `deploy/${change}.sql`;
    write(out, up, strip(readFileSync(path.join(root, up), 'utf8')));
    const entry = { number: i + 1, name: change, up };
    const revert = `revert/${change}.sql`;
    if (existsSync(path.join(root, revert))) {
      write(out, revert, strip(readFileSync(path.join(root, revert), 'utf8')));
      entry.down = revert;
    }
    return entry;
  });
  const control = readdirSync(root).find((f) => f.endsWith('.control'));
  const requiresLine = control ? /^requires\s*=\s*'([^']*)'/m.exec(readFileSync(path.join(root, control), 'utf8')) : null;
  // plpgsql is always there; pgpm-verify is pgpm's own helper for verify/ scripts, which are not vendored.
  const extensions = (requiresLine?.[1] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'plpgsql' && s !== 'pgpm-verify');
  const all = migrations.map((m) => readFileSync(path.join(out, m.up), 'utf8')).join('\n');
  const roles = [...new Set([...all.matchAll(/\bGRANT\b[^;]*?\bTO\s+([a-z_][a-z0-9_]*)/gi)].map((x) => x[1].toLowerCase()))].filter((r) => r !== 'public');
  return {
    transform: 'pgpm.plan order; deploy/<change>.sql as up, revert/<change>.sql as down; lines BEGIN; and COMMIT; stripped; verify/ not vendored',
    requires: { extensions, roles },
    migrations,
  };
}

main();
