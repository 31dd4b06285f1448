/**
 * A command that cannot open its database names the database it TRIED and who named it: its result
 * (`--json`) carries `database` (redacted) and `databaseSource`, and the error's hint says `--database`,
 * `DATABASE_URL` or the config file. backup, validate, stamp, check --db, adopt, alembic
 * split-version-table, renumber and baseline used to report `database: ''` and the embedded default as
 * the source. Every command that connects, with the URL from each of the three places, on a server URL
 * whose port is closed (with a password, which must not show) and on a PGlite path that is not a data
 * directory (refused before PGlite starts, so this costs no PGlite start). restore is covered by
 * guard-passwords.test.ts (it needs a real backup before it connects).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { down, stamp, status, up } from '../../src/api/migrate.js';
import { renumber } from '../../src/api/renumber.js';
import { splitVersionTable } from '../../src/api/split.js';
import { check } from '../../src/api/check.js';
import { backup } from '../../src/api/backup.js';
import { validate } from '../../src/api/validate.js';
import type { DatabaseSource } from '../../src/target/resolve.js';
import { redactUrl } from '../../src/db/redact.js';
import { adopt, protect, rebaseline, reset } from '../../src/api/flows.js';
import { freePort, forEachBackend } from '../support/backends.js';
import { makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

interface Outcome {
  database?: string;
  databaseSource?: DatabaseSource;
  error?: { code: string; message: string; hint?: string };
}

const NAMED_BY: Record<string, RegExp> = {
  option: /this database was named by --database\.$/,
  env: /this database was named by the DATABASE_URL environment variable\.$/,
  config: /this database was named by the config's database \(.*tidemark\.config\.json\)\.$/,
};

forEachBackend('a failed connection names the database tried', (backend) => {
  it('every command that connects: database, databaseSource and the hint name the URL from --database, DATABASE_URL or the config', async () => {
    const ws = makeWorkspace(
      {},
      {
        'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int);', 'DROP TABLE items;'),
        'legacy/a_base.py': 'revision = "a"\ndown_revision = None\n',
        'dup/dup_001_a.sql': sqlMigration('SELECT 1;'),
        'dup/dup_001_b.sql': sqlMigration('SELECT 2;'),
        'not-a-db/some-file.txt': 'not PostgreSQL',
      },
    );
    // The URL the commands are given; the result must show it (redacted).
    let url: string;
    let code: string;
    if (backend.name === 'postgres') {
      url = `postgres://postgres:s3cret-pw@127.0.0.1:${await freePort()}/nowhere`;
      code = 'database-unreachable';
    } else {
      url = `pglite:${path.join(ws.dir, 'not-a-db')}`;
      code = 'not-a-database-dir';
    }
    const config = path.join(ws.dir, 'tidemark.config.json');
    const services = {
      app: { migrations: 'migrations/app', owns: ['items'] },
      legacy: { migrations: 'legacy', format: 'alembic', owns: ['lt'] },
    };
    const dupConfig = path.join(ws.dir, 'dup', 'tidemark.config.json');
    const writeConfigs = (database?: string) => {
      fs.writeFileSync(config, JSON.stringify({ services, ...(database ? { database } : {}) }));
      fs.writeFileSync(dupConfig, JSON.stringify({ services: { dup: { migrations: '.' } }, ...(database ? { database } : {}) }));
    };
    const savedEnv = process.env.DATABASE_URL;
    const cwd = ws.dir;
    try {
      const commands: Record<string, (database?: string) => Promise<Outcome>> = {
        status: (database) => status({ cwd, database, service: 'app' }),
        up: (database) => up({ cwd, database, service: 'app' }),
        down: (database) => down({ cwd, database, service: 'app', steps: 1 }),
        stamp: (database) => stamp({ cwd, database, service: 'app', to: 'base' }),
        'check --db': (database) => check({ cwd, database, db: true }),
        backup: (database) => backup({ cwd, database, service: 'app', out: path.join(ws.dir, 'bk') }),
        validate: (database) => validate({ cwd, database, service: 'app', structure: false }),
        reset: (database) => reset({ cwd, database, service: 'app' }),
        rebaseline: (database) => rebaseline({ cwd, database, service: 'app', force: true }),
        adopt: (database) => adopt({ cwd, database, service: 'legacy' }),
        'alembic split-version-table': (database) => splitVersionTable({ cwd, database }),
        protect: (database) => protect({ cwd, database }),
        renumber: async (database) => {
          const r = await renumber({ cwd: path.dirname(dupConfig), configFile: dupConfig, database, service: 'dup', dryRun: true });
          const d = r.database as { database?: string; source?: DatabaseSource };
          return { database: d.database, databaseSource: d.source, error: r.error };
        },
      };
      let checked = 0;
      for (const source of ['option', 'env', 'config'] as const) {
        writeConfigs(source === 'config' ? url : undefined);
        if (source === 'env') process.env.DATABASE_URL = url;
        else delete process.env.DATABASE_URL;
        for (const [name, run] of Object.entries(commands)) {
          const r = await run(source === 'option' ? url : undefined);
          const what = `${name} with the URL from ${source}: ${JSON.stringify(r.error?.message)} / ${JSON.stringify(r.error?.hint)}`;
          assert.equal(r.error?.code, code, what);
          assert.equal(r.database, redactUrl(url), what);
          assert.equal(r.databaseSource, source, what);
          assert.match(r.error!.hint ?? '', NAMED_BY[source], what);
          assert.ok(!JSON.stringify(r).includes('s3cret'), `${what}: no password`);
          checked++;
        }
      }
      assert.equal(checked, 39);

      // The CLI: baseline opens the database itself; its --json names the database and source too,
      // and a text error prints the hint on stderr.
      delete process.env.DATABASE_URL;
      writeConfigs();
      const b = await runCli(['baseline', '--service', 'app', '--json'], cwd, { DATABASE_URL: url });
      assert.equal(b.code, 1 + Number(code === 'not-a-database-dir'), b.stderr);
      const j = JSON.parse(b.stdout);
      assert.deepEqual([j.database, j.databaseSource, j.error.code], [redactUrl(url), 'env', code]);
      const t = await runCli(['stamp', '--service', 'app', '--to', 'base', '--database', url], cwd);
      assert.ok(t.stderr.startsWith(`error: ${backend.name === 'postgres' ? `cannot connect to ${redactUrl(url)}` : url.slice('pglite:'.length)}`), t.stderr);
      assert.match(t.stderr, /^hint: .*this database was named by --database\.$/m);
      assert.ok(!(b.stdout + b.stderr + t.stdout + t.stderr).includes('s3cret'));
    } finally {
      if (savedEnv === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = savedEnv;
      ws.remove();
    }
  });
});
