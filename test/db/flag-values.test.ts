/**
 * Flags several commands share are declared and checked once (src/cli/flags.ts): every command that
 * takes `--lock-timeout` refuses `abc`, `-1`, `0` and `1e999` while parsing (bad-usage, exit 2, the flag
 * and the value named) and changes nothing, on a database where running the command WOULD change
 * something (a pending migration, rows to reset or replace). Also `rebaseline --format pgdump` (used to
 * become ndjson silently) and a second `--yes-i-mean` on restore and rebaseline (used to win silently).
 * The program is built and parsed in-process (no CLI start per case); one CLI run proves the exit code
 * and the --json error.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { up } from '../../src/api/migrate.js';
import { buildProgram } from '../../src/cli/program.js';
import { backup } from '../../src/api/backup.js';
import { openDatabase } from '../../src/db/open.js';
import { TidemarkError } from '../../src/errors.js';
import { forEachBackend } from '../support/backends.js';
import { expectCode } from '../support/error-json.js';
import { fingerprint } from '../support/fingerprint.js';
import { makeWorkspace, sqlMigration } from '../support/workspace.js';

/** Each command that takes --lock-timeout, with arguments that would make it change the database. */
function lockTimeoutCases(backupDir: string): Record<string, string[]> {
  return {
    up: ['up'],
    down: ['down', '--service', 'app', '--steps', '1'],
    stamp: ['stamp', '--service', 'app', '--to', 'base'],
    restore: ['restore', backupDir, '--replace'],
    reset: ['reset', '--service', 'app'],
    rebaseline: ['rebaseline', '--service', 'app', '--force'],
    adopt: ['adopt', '--service', 'app'],
  };
}

const BAD = ['abc', '-1', '0', '1e999', '0x10', ''];

/** A fresh program whose commander messages go nowhere (the error is asserted, not printed). */
function program(): Command {
  const p = buildProgram();
  const quiet = (c: Command) => {
    c.configureOutput({ outputError: () => {}, writeErr: () => {}, writeOut: () => {} });
    c.commands.forEach(quiet);
  };
  quiet(p);
  return p;
}

async function parseFails(args: string[]): Promise<Error> {
  try {
    await program().parseAsync(args, { from: 'user' });
  } catch (err) {
    return err as Error;
  }
  assert.fail(`tidemark ${args.join(' ')} was accepted`);
}

forEachBackend('flag values', (backend) => {
  it('--lock-timeout abc, -1, 0, 1e999 are refused by every command that takes it, before anything runs', async () => {
    const created = await backend.createDatabase();
    const ws = makeWorkspace(
      { app: { owns: ['items'] } },
      {
        'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int PRIMARY KEY, name text);', 'DROP TABLE items;'),
        'migrations/app/app_002_more.sql': sqlMigration('ALTER TABLE items ADD COLUMN more text;', 'ALTER TABLE items DROP COLUMN more;'),
      },
    );
    const backupDir = path.join(ws.dir, 'bk');
    let before: string;
    const db = await openDatabase(created.url);
    try {
      assert.ifError((await up({ cwd: ws.dir, database: db, to: 'app_001' })).error);
      await db.exec(`INSERT INTO items VALUES (1, 'a'), (2, 'b')`);
      assert.ifError((await backup({ cwd: ws.dir, database: db, service: 'app', out: backupDir })).error);
      await db.exec(`DELETE FROM items WHERE id = 2`); // restore --replace would bring it back
      before = await fingerprint(db);
    } finally {
      await db.close();
    }
    try {
      const cases = lockTimeoutCases(backupDir);
      const taking = program()
        .commands.filter((c) => c.options.some((o) => o.long === '--lock-timeout'))
        .map((c) => c.name());
      assert.deepEqual(taking.sort(), Object.keys(cases).sort(), 'every command that takes --lock-timeout is tested');
      const common = ['--config', path.join(ws.dir, 'tidemark.config.json'), '--database', created.url];
      let refused = 0;
      for (const [name, args] of Object.entries(cases)) {
        for (const value of BAD) {
          const err = await parseFails([...args, ...common, '--lock-timeout', value]);
          assert.ok(err instanceof TidemarkError, `${name} --lock-timeout ${value}: ${err.message}`);
          assert.equal(err.code, 'bad-usage');
          assert.equal(err.exit, 2);
          assert.equal(err.message, `--lock-timeout ${JSON.stringify(value)}: give a finite number of seconds greater than 0.`);
          refused++;
        }
        // A good value reaches the command as seconds, the default is 600 (the action stubbed: nothing runs).
        for (const [extra, seconds] of [
          [['--lock-timeout', '2.5'], 2.5],
          [[], 600],
        ] as const) {
          const p = program();
          let seen: unknown;
          p.commands
            .find((c) => c.name() === name)!
            .action((...a: unknown[]) => {
              seen = (a.find((x) => x && typeof x === 'object' && 'lockTimeout' in (x as object)) as { lockTimeout: unknown }).lockTimeout;
            });
          await p.parseAsync([...args, ...common, ...extra], { from: 'user' });
          assert.equal(seen, seconds, `${name} ${extra.join(' ')}`);
        }
      }
      assert.equal(refused, 42);

      // The same habit for the other shared flags: a value the flag cannot take, a second value.
      const other = [
        { args: ['rebaseline', '--service', 'app', '--force', '--format', 'pgdump'], message: '--format "pgdump": use ndjson, csv.' },
        { args: ['backup', '--format', 'xml'], message: '--format "xml": use ndjson, csv, pgdump.' },
        { args: ['demo', '--users', '0'], message: '--users "0": give a whole number from 1 up.' },
      ];
      for (const c of other) {
        const err = await parseFails([...c.args, ...common]);
        assert.ok(err instanceof TidemarkError && err.code === 'bad-usage', `${c.args.join(' ')}: ${err.message}`);
        assert.equal(err.message, c.message);
      }
      for (const args of [
        ['restore', backupDir, '--replace'],
        ['rebaseline', '--service', 'app'],
        ['reset', '--service', 'app'],
        ['protect', '--off'],
      ]) {
        const err = await parseFails([...args, ...common, '--force-protected', '--yes-i-mean', 'a', '--yes-i-mean', 'b']);
        assert.ok(err instanceof CommanderError, `${args[0]}: a second --yes-i-mean`);
        assert.match(err.message, /--yes-i-mean .*given more than once/);
      }

      // Through the CLI: exit 2, the --json error. Refused before any database is opened: once is enough.
      if (backend.name === 'pglite') {
        const viaCli = await expectCode('bad-usage', ['up', '--lock-timeout', 'abc', '--database', created.url], ws.dir);
        assert.match(viaCli.message, /^--lock-timeout "abc"/);
      }

      const after = await openDatabase(created.url);
      try {
        assert.equal(await fingerprint(after), before, 'nothing changed');
      } finally {
        await after.close();
      }
    } finally {
      ws.remove();
      await created.drop();
    }
  });
});
