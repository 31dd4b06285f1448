/**
 * The error-code contract through the CLI, as a script would use it: `--json` gives `{ error: { code, kind, exit,
 * message, fields } }`, the process exits with the exit class of the code in the catalogue (src/error-codes.ts), and
 * stderr holds no stack trace. One case per code the rest of the suite does not reach; test/codes/ checks that the
 * whole suite, these included, produces every code of the catalogue.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openDatabase } from '../../src/db/open.js';
import { serviceLockKey } from '../../src/ledger/ledger.js';
import { backends, forEachBackend } from '../support/backends.js';
import { expectCode } from '../support/error-json.js';
import { makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

function withWorkspace(ws: TempWorkspace, fn: (ws: TempWorkspace) => Promise<void>): Promise<void> {
  return fn(ws).finally(() => ws.remove());
}

const ALEMBIC = { services: { app: { migrations: 'migrations/app', owns: ['t'] }, legacy: { migrations: 'legacy', format: 'alembic' } } };

describe('error codes of bad usage and bad input, before any database', () => {
  it('init: bad-service-name, config-exists', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-codes-'));
    try {
      await expectCode('bad-service-name', ['init', '--service', 'Bad-Name'], dir);
      assert.equal((await runCli(['init', '--service', 'app'], dir)).code, 0);
      await expectCode('config-exists', ['init', '--service', 'app'], dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('new: bad-slug; --service of an unknown or an Alembic service: unknown-service, alembic-service', () =>
    withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
      await expectCode('bad-slug', ['new', 'app', '!!!'], ws.dir);
      await expectCode('unknown-service', ['up', '--service', 'nope'], ws.dir);
      writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(ALEMBIC));
      mkdirSync(path.join(ws.dir, 'legacy'));
      await expectCode('alembic-service', ['up', '--service', 'legacy'], ws.dir);
    }));

  it('config: config-not-found, config-syntax, config-invalid, missing-migrations-dir, unknown-required-service, requires-cycle, owned-twice', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-codes-'));
    try {
      await expectCode('config-not-found', ['status'], dir);
      await expectCode('config-not-found', ['status', '--config', 'nope.json'], dir);
      const config = (value: unknown) => writeFileSync(path.join(dir, 'tidemark.config.json'), typeof value === 'string' ? value : JSON.stringify(value, null, 2));
      mkdirSync(path.join(dir, 'a'));
      mkdirSync(path.join(dir, 'b'));
      config('{\n  "services": {\n');
      const syntax = await expectCode('config-syntax', ['status'], dir);
      assert.match(String(syntax.fields.file), /tidemark\.config\.json$/);
      config({ services: { a: { migrations: 'a', owns: 7 } } });
      await expectCode('config-invalid', ['status'], dir);
      config({ services: { a: { migrations: 'nowhere' } } });
      const missing = await expectCode('missing-migrations-dir', ['status'], dir);
      assert.equal(missing.fields.service, 'a');
      config({ services: { a: { migrations: 'a', requires: ['ghost'] } } });
      await expectCode('unknown-required-service', ['status'], dir);
      config({ services: { a: { migrations: 'a', requires: ['b'] }, b: { migrations: 'b', requires: ['a'] } } });
      await expectCode('requires-cycle', ['status'], dir);
      config({ services: { a: { migrations: 'a', owns: ['t'] }, b: { migrations: 'b', owns: ['t'] } } });
      await expectCode('owned-twice', ['status'], dir);
      rmSync(path.join(dir, 'tidemark.config.json'));
      writeFileSync(path.join(dir, 'tidemark.config.mjs'), 'throw new Error("no config today");\nexport default {};\n');
      await expectCode('config-load-failed', ['status'], dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migration files: bad-requirement, unknown-requirement, undeclared-requirement, duplicate-id, migration-load', () =>
    withWorkspace(makeWorkspace({ app: {}, other: {} }), async (ws) => {
      const db = ['--database', `pglite:${path.join(ws.dir, 'db')}`];
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      ws.write('migrations/app/app_002_b.sql', sqlMigration('SELECT 1;', undefined, '-- tidemark:requires app_001_a\n'));
      const own = await expectCode('bad-requirement', ['up', ...db], ws.dir);
      assert.equal(own.fields.migration, 'app_002_b');
      assert.equal(own.fields.line, 1);
      ws.write('migrations/app/app_002_b.sql', sqlMigration('SELECT 1;', undefined, '-- tidemark:requires ghost_001_x\n'));
      await expectCode('unknown-requirement', ['up', ...db], ws.dir);
      ws.write('migrations/other/other_001_a.sql', sqlMigration('SELECT 1;'));
      ws.write('migrations/app/app_002_b.sql', sqlMigration('SELECT 1;', undefined, '-- tidemark:requires other_001_a\n'));
      await expectCode('undeclared-requirement', ['up', ...db], ws.dir);
      ws.write('migrations/app/app_002_b.sql', sqlMigration('SELECT 1;'));
      ws.write('migrations/app/app_002_c.sql', sqlMigration('SELECT 1;'));
      await expectCode('duplicate-id', ['up', '--service', 'app', ...db], ws.dir);
      rmSync(path.join(ws.dir, 'migrations/app/app_002_c.sql'));
      ws.write('migrations/app/app_003_script.js', 'throw new Error("boom at import");\n');
      const load = await expectCode('migration-load', ['up', '--service', 'app', ...db], ws.dir);
      assert.equal(load.fields.migration, 'app_003_script');
    }));

  it('the plan: unknown-target, pending-before-applied, no-down-section, applied-missing', () =>
    withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
      const db = ['--database', `pglite:${path.join(ws.dir, 'db')}`];
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      ws.write('migrations/app/app_003_c.sql', sqlMigration('CREATE TABLE c (id int);', 'DROP TABLE c;'));
      await expectCode('unknown-target', ['up', '--to', 'app_999_x', ...db], ws.dir);
      const up = await runCli(['up', ...db], ws.dir);
      assert.equal(up.code, 0, up.stderr);
      ws.write('migrations/app/app_002_b.sql', sqlMigration('CREATE TABLE b (id int);'));
      const late = await expectCode('pending-before-applied', ['up', ...db], ws.dir);
      assert.equal(late.fields.migration, 'app_002_b');
      rmSync(path.join(ws.dir, 'migrations/app/app_002_b.sql'));
      await expectCode('no-down-section', ['down', '--service', 'app', '--to', 'base', ...db], ws.dir);
      rmSync(path.join(ws.dir, 'migrations/app/app_003_c.sql'));
      await expectCode('applied-missing', ['down', '--service', 'app', '--steps', '1', ...db], ws.dir);
    }));

  it('backups: backup-not-found, no-manifest, bad-manifest', () =>
    withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
      await expectCode('backup-not-found', ['verify-backup', path.join(ws.dir, 'nope')], ws.dir);
      mkdirSync(path.join(ws.dir, 'empty'));
      await expectCode('no-manifest', ['validate', '--against', 'empty', '--database', `pglite:${path.join(ws.dir, 'db')}`], ws.dir);
      ws.write('broken/manifest.json', '{');
      await expectCode('bad-manifest', ['validate', '--against', 'broken', '--database', `pglite:${path.join(ws.dir, 'db')}`], ws.dir);
    }));

  it('adopt, demo, alembic: already-tidemark, adopt-name-taken, demo-dir-not-empty, no-alembic-service, bad-version-table', () =>
    withWorkspace(makeWorkspace({ app: {} }), async (ws) => {
      await expectCode('no-alembic-service', ['alembic', 'split-version-table'], ws.dir);
      await expectCode('demo-dir-not-empty', ['demo', '--dir', ws.dir], ws.dir);
      writeFileSync(path.join(ws.dir, 'tidemark.config.json'), JSON.stringify(ALEMBIC));
      mkdirSync(path.join(ws.dir, 'legacy'));
      await expectCode('already-tidemark', ['adopt', '--service', 'app'], ws.dir);
      await expectCode('adopt-name-taken', ['adopt', '--service', 'legacy', '--as', 'app'], ws.dir);
      // a table name the driver would read as a cross-database reference: bad input, not an unexpected failure
      await expectCode('bad-version-table', ['alembic', 'split-version-table', '--table', 'a.b.c'], ws.dir);
      await expectCode('no-version-table', ['alembic', 'split-version-table', '--database', `pglite:${path.join(ws.dir, 'db')}`], ws.dir);
      await expectCode('alembic-location', ['check', '--alembic', path.join(ws.dir, 'nowhere')], ws.dir);
    }));
});

forEachBackend('error codes against a database', (backend) => {
  it('nothing-to-back-up, baseline-empty, no-baseline, rebaseline-not-transactional, restore-no-table, ledger-too-new', async () => {
    const target = await backend.createDatabase();
    const ws = makeWorkspace({ app: { owns: ['t'] }, empty: { owns: ['nothing_here'] } });
    try {
      const db = ['--database', target.url];
      await expectCode('nothing-to-back-up', ['backup', '--service', 'empty', '--out', path.join(ws.dir, 'none'), ...db], ws.dir);
      await expectCode('baseline-empty', ['baseline', '--service', 'empty', ...db], ws.dir);
      await expectCode('no-baseline', ['rebaseline', '--service', 'empty', ...db], ws.dir);

      ws.write('migrations/app/app_001_t.sql', sqlMigration('CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1), (2);', 'DROP TABLE t;'));
      ws.write('migrations/app/app_002_idx.sql', sqlMigration('CREATE INDEX CONCURRENTLY t_id ON t (id);', 'DROP INDEX t_id;', '-- tidemark:no-transaction\n'));
      assert.equal((await runCli(['sum', ...db], ws.dir)).code, 0);
      const up = await runCli(['up', ...db], ws.dir);
      assert.equal(up.code, 0, up.stderr);
      await expectCode('rebaseline-not-transactional', ['rebaseline', '--service', 'app', '--backup-dir', path.join(ws.dir, 'rb'), ...db], ws.dir);

      const out = path.join(ws.dir, 'bk');
      const backedUp = await runCli(['backup', '--service', 'app', '--out', out, ...db], ws.dir);
      assert.equal(backedUp.code, 0, backedUp.stderr);
      // closed before each CLI run: an embedded database takes one process at a time
      const sql = async (text: string) => {
        const conn = await openDatabase(target.url);
        try {
          await conn.exec(text);
        } finally {
          await conn.close();
        }
      };
      await sql('DROP TABLE t');
      await expectCode('restore-no-table', ['restore', out, ...db], ws.dir);
      await sql(`UPDATE tidemark.meta SET value = '999' WHERE key = 'ledger_version'`);
      await expectCode('ledger-too-new', ['up', ...db], ws.dir);
    } finally {
      ws.remove();
      await target.drop();
    }
  });
});

const server = backends.find((b) => b.name === 'postgres');
describe('lock-timeout through the CLI', { skip: server ? false : 'no server (advisory locks exclude only on a server)' }, () => {
  it('a run that cannot take its service lock in time exits 1 with lock-timeout, naming the service', async () => {
    const target = await server!.createDatabase();
    const ws = makeWorkspace({ app: {} });
    const holder = new pg.Client({ connectionString: target.url });
    try {
      ws.write('migrations/app/app_001_a.sql', sqlMigration('CREATE TABLE a (id int);'));
      await holder.connect();
      const [a, b] = serviceLockKey('app');
      await holder.query('SELECT pg_advisory_lock($1, $2)', [a, b]);
      const err = await expectCode('lock-timeout', ['up', '--lock-timeout', '1', '--database', target.url], ws.dir);
      assert.equal(err.fields.service, 'app');
    } finally {
      await holder.end();
      ws.remove();
      await target.drop();
    }
  });
});
