/**
 * Issue 11 §8: baseline proven on real application schemas tidemark did not write, read from the npm
 * packages of those projects (devDependencies, MIT licensed, read from node_modules, not copied):
 *
 * - graphile-worker: its 19 SQL migrations (sql/0000NN.sql), run the way its migrate() runs them
 *   (bootstrap, `:GRAPHILE_WORKER_SCHEMA` replaced, one transaction each): plpgsql and SQL functions
 *   reading tables, triggers, composite types, partial indexes, views over its private tables;
 * - pg-boss 9: the SQL its plans.create(schema, version) generates: an enum, partial expression indexes,
 *   a check, defaults on the enum;
 * - connect-pg-simple: its table.sql;
 * - @pgpm/types: the extension script's domains over citext, jsonb and text with CHECKs and comments;
 * - @pgpm/database-jobs: a job queue schema: plpgsql procedures reading its tables, triggers, indexes,
 *   defaults from pgcrypto.
 *
 * Each is loaded into a fresh database, owned by one service, baselined (tidemark's own proof: replay
 * on a shadow, snapshots compared), and the baseline replayed on a second fresh database. On the
 * server, `pg_dump --schema-only` of the original and of the replay must be equal statement for
 * statement, in pg_dump's order, once what the README says baseline does not reproduce is taken out (owners, grants,
 * pg_dump's own SET lines and comments). On PGlite (no pg_dump, no contrib extensions) the snapshots
 * of the original and the replay must be equal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import type { Database } from '../../src/db/database.js';
import { baseline } from '../../src/api/flows.js';
import { compareSnapshots } from '../../src/schema/diff/compare.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { REPO_ROOT, makeWorkspace } from '../support/workspace.js';

const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const PG_DUMP = '/usr/lib/postgresql/15/bin/pg_dump';

interface RealSchema {
  project: string;
  owns: string[];
  /** Contrib extensions it needs: PGlite has none, so it runs on the server only. */
  extensions: string[];
  load(db: Database): Promise<void>;
}

/** An extension script's body: its `\echo … \quit` guard line taken out. */
function extensionScript(dir: string): string {
  const sqlDir = path.join(dir, 'sql');
  const file = fs.readdirSync(sqlDir).find((f) => f.endsWith('.sql'));
  assert.ok(file, `an extension script in ${sqlDir}`);
  return fs.readFileSync(path.join(sqlDir, file), 'utf8').replace(/^\\echo .*$/m, '');
}

const SCHEMAS: RealSchema[] = [
  {
    project: 'graphile-worker',
    owns: ['schema:graphile_worker'],
    extensions: [],
    async load(db) {
      // What graphile-worker's installSchema() and runMigration() run (dist/migrate.js).
      await db.exec(`create schema if not exists graphile_worker;
        create table if not exists graphile_worker.migrations(id int primary key, ts timestamptz default now() not null);
        alter table graphile_worker.migrations add column if not exists breaking boolean not null default false;`);
      const dir = path.join(pkgDir('graphile-worker'), 'sql');
      const files = fs
        .readdirSync(dir)
        .filter((f) => /^\d{6}\.sql$/.test(f))
        .sort();
      assert.ok(files.length >= 10, `graphile-worker ships its migrations (${files.length})`);
      for (const f of files) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8').replace(/:GRAPHILE_WORKER_SCHEMA\b/g, 'graphile_worker');
        await db.transaction(async (tx) => {
          await tx.exec(`insert into graphile_worker.migrations (id) values (${Number(f.slice(0, 6))})`);
          await tx.exec(text);
        });
      }
    },
  },
  {
    project: 'pg-boss',
    owns: ['schema:pgboss'],
    extensions: [],
    async load(db) {
      const plans = require('pg-boss/src/plans') as { create(schema: string, version: number): string };
      const version = (require('pg-boss/version.json') as { schema: number }).schema;
      await db.exec(plans.create('pgboss', version));
    },
  },
  {
    project: 'connect-pg-simple',
    owns: ['session'],
    extensions: [],
    async load(db) {
      await db.exec(fs.readFileSync(path.join(pkgDir('connect-pg-simple'), 'table.sql'), 'utf8'));
    },
  },
  {
    project: '@pgpm/types',
    owns: ['schema:public'],
    extensions: ['citext'],
    async load(db) {
      await db.exec('CREATE EXTENSION IF NOT EXISTS citext');
      await db.exec(extensionScript(pkgDir('@pgpm/types')));
    },
  },
  {
    project: '@pgpm/database-jobs',
    owns: ['schema:app_jobs'],
    extensions: ['pgcrypto', 'uuid-ossp'],
    async load(db) {
      await db.exec('CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE EXTENSION IF NOT EXISTS "uuid-ossp"');
      // Its grants name a role the project's deployments create; roles are per server.
      await db.exec(`DO $$ BEGIN CREATE ROLE administrator NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
      await db.exec(extensionScript(pkgDir('@pgpm/database-jobs')));
    },
  },
];

/**
 * pg_dump --schema-only as statements, in pg_dump's order, without what baseline does not reproduce
 * (README "Baseline"): owners, grants and default privileges, and extensions no owned object uses
 * (`keepExtensions` lists those the baseline creates); and without pg_dump's own session settings,
 * comments and `\restrict` guard lines.
 */
function dumpStatements(url: string, keepExtensions: readonly string[]): string[] {
  const u = new URL(url);
  const run = spawnSync(PG_DUMP, ['--schema-only', '--no-owner', '--no-privileges', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username), '-d', u.pathname.slice(1)], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) },
  });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.split('\n').filter((l) => !/^--/.test(l) && !/^\\(un)?restrict /.test(l));
  return lines
    .join('\n')
    .split(/;\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !/^SET /.test(s) && !/^SELECT pg_catalog\.set_config/.test(s))
    .filter((s) => {
      const ext = /^(?:CREATE EXTENSION IF NOT EXISTS|COMMENT ON EXTENSION) ("?)(.+?)\1(?: |$)/.exec(s);
      return !ext || keepExtensions.includes(ext[2]);
    });
}

const serverOnly = (s: RealSchema) => s.extensions.length > 0;

forEachBackend('baseline of real application schemas', (backend) => {
  for (const schema of SCHEMAS) {
    // A schema that needs a contrib extension PGlite lacks is registered on the server only (a green run
    // reports no skips).
    if (backend.name === 'pglite' && serverOnly(schema)) continue;
    it(`${schema.project}: baselined, replayed on an empty database, ${backend.name === 'postgres' ? 'pg_dump --schema-only equal' : 'snapshots equal'}`, () =>
      withDatabase(backend, async (db, url) => {
        const ws = makeWorkspace({ app: { owns: schema.owns } }, {});
        try {
          await schema.load(db);
          const workspace = await loadWorkspace({ cwd: ws.dir });
          const made = await baseline({ workspace, database: db, service: 'app', dryRun: true, targetUrl: url });
          assert.ifError(made.error);
          assert.deepEqual(made.differences, []);
          assert.deepEqual(made.unsupported, []);
          const live = made.snapshot!;
          assert.ok(live.tables.length + live.types.length > 0, 'the service owns the schema');

          await withDatabase(backend, async (fresh, freshUrl) => {
            await fresh.transaction((tx) => tx.exec(made.up));
            assert.deepEqual(compareSnapshots(live, await introspect(fresh, { workspace, service: 'app' })), []);
            if (backend.name === 'postgres') {
              const keep = live.extensions.map((e) => e.name);
              const original = dumpStatements(url, keep);
              const replayed = dumpStatements(freshUrl, keep);
              assert.deepEqual(replayed, original);
              assert.ok(original.length > 1);
              console.log(`# ${schema.project}: pg_dump --schema-only equal (${original.length} pieces cut at ";\\n"); ${JSON.stringify(made.counts)}`);
            }
          });
        } finally {
          ws.remove();
        }
      }));
  }
});
