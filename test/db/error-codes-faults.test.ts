/**
 * Error codes of failures that need a fault to happen, each from a real condition or from a fault given to the
 * function as a parameter (never a test switch in production code):
 * - rename-failed: renumber's new name is one byte longer than the file system allows (ENAMETOOLONG), after
 *   another file was already renamed: that one is put back and the directory is as it was (CLI, exit 1); and when
 *   even putting back fails, the error names what stays renamed instead of "nothing was renamed";
 * - unexpected: the CLI's catch-all for what is not a tidemark error (a bug), through runProgram with a command
 *   that throws: exit 1, the message and one hint naming --debug, a stack trace only with --debug, never a password,
 *   and the same as JSON with --json.
 * No database: the runs here stop before one would be opened.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { renameAll, type RenumberMove } from '../../src/apply/renumber.js';
import { runProgram } from '../../src/cli/run.js';
import { TidemarkError } from '../../src/errors.js';
import { expectCode } from '../support/error-json.js';
import { makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

describe('rename-failed', () => {
  it('renumber: the second rename is refused (ENAMETOOLONG); the first is put back, nothing else changes (CLI, exit 1)', async () => {
    // 255 bytes, the longest name the file system takes; renumbered to 1001 it would be 256.
    const long = `app_005_${'x'.repeat(243)}.sql`;
    assert.equal(Buffer.byteLength(long), 255);
    const ws = makeWorkspace(
      { app: {} },
      {
        'migrations/app/app_001_a.sql': sqlMigration('SELECT 1;'),
        'migrations/app/app_001_b.sql': sqlMigration('SELECT 2;'),
        'migrations/app/app_005_first.sql': sqlMigration('SELECT 5;'),
        [`migrations/app/${long}`]: sqlMigration('SELECT 55;'),
        'migrations/app/app_999_last.sql': sqlMigration('SELECT 999;'),
      },
    );
    try {
      const dir = path.join(ws.dir, 'migrations/app');
      // Not in git: the later file (by modification time) of each duplicate number moves.
      const at = (name: string, seconds: number) => utimesSync(path.join(dir, name), seconds, seconds);
      at('app_001_a.sql', 1_000);
      at('app_001_b.sql', 2_000);
      at('app_005_first.sql', 1_000);
      at(long, 2_000);
      const sum = await runCli(['sum'], ws.dir);
      assert.equal(sum.code, 0, sum.stderr);
      const listing = () => readdirSync(dir).sort();
      const before = listing();
      const sumBefore = readFileSync(path.join(dir, 'tidemark.sum'), 'utf8');

      const err = await expectCode('rename-failed', ['renumber', '--service', 'app'], ws.dir);
      // app_001_b.sql → app_1000_b.sql went through first; the long one cannot be named app_1001_…
      assert.match(err.message, new RegExp(`^Cannot rename \\S*${long} to app_1001_x{243}\\.sql: ENAMETOOLONG\\. Nothing was renamed\\.$`));
      assert.match(err.hint ?? '', /would be 256 bytes, longer than the file system allows: give app_005_x+ a shorter slug \(rename it by hand\), then run tidemark renumber again\./);
      assert.equal(err.fields.service, 'app');
      assert.equal(err.fields.file, path.join(dir, long));
      assert.deepEqual(listing(), before, 'the directory is as it was');
      assert.equal(readFileSync(path.join(dir, 'tidemark.sum'), 'utf8'), sumBefore);
    } finally {
      ws.remove();
    }
  });

  it('when putting back fails too, the error names the file that stays renamed', async () => {
    const move = (from: string, to: string): RenumberMove => ({
      from: { id: from, file: `/m/${from}.sql`, number: 1n, addedAt: '', addedBy: 'mtime' },
      toId: to,
      toFile: `/m/${to}.sql`,
      toNumber: 2n,
    });
    const done: string[] = [];
    // The file system of a disk that fills up (ENOSPC) between the first rename and the rest.
    const rename = async (from: string, to: string) => {
      if (done.length > 0) throw Object.assign(new Error(`ENOSPC: no space left on device, rename '${from}' -> '${to}'`), { code: 'ENOSPC' });
      done.push(`${from} -> ${to}`);
    };
    await assert.rejects(renameAll([move('app_001_b', 'app_003_b'), move('app_002_c', 'app_004_c')], 'app', rename), (err: unknown) => {
      assert.ok(err instanceof TidemarkError);
      assert.equal(err.code, 'rename-failed');
      assert.equal(err.exit, 1);
      assert.equal(
        err.message,
        'Cannot rename /m/app_002_c.sql to app_004_c.sql: ENOSPC. Putting back the renames already done failed too, so these stay renamed: /m/app_003_b.sql (ENOSPC; its name was app_001_b.sql).',
      );
      assert.equal(err.hint, 'Rename the files listed back by hand, then run tidemark renumber again.');
      return true;
    });
    assert.deepEqual(done, ['/m/app_001_b.sql -> /m/app_003_b.sql']);
  });
});

/** Runs a command line through runProgram, on a program whose one command throws `thrown`; what it printed and set. */
async function runThrowing(thrown: unknown, flags: string[]): Promise<{ exit: number | undefined; stdout: string; stderr: string }> {
  // The global flags as the real program declares them (src/cli/main.ts).
  const program = new Command('tidemark').option('--json', 'machine-readable output').option('--debug', 'stack traces').exitOverride();
  program.command('explode').action(() => {
    throw thrown;
  });
  const out = { stdout: '', stderr: '' };
  const write = { stdout: process.stdout.write, stderr: process.stderr.write };
  const exitBefore = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => ((out.stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((out.stderr += String(chunk)), true)) as typeof process.stderr.write;
  let exit: number | undefined;
  try {
    await runProgram(program, ['node', 'tidemark', 'explode', ...flags]);
  } finally {
    process.stdout.write = write.stdout;
    process.stderr.write = write.stderr;
    exit = process.exitCode === undefined ? undefined : Number(process.exitCode);
    process.exitCode = exitBefore;
  }
  return { exit, ...out };
}

const STACK = /\n\s+at .+:\d+:\d+/;

describe('unexpected: the CLI catch-all for a bug', () => {
  it('exit 1, the message and one line naming --debug; the stack only with --debug; never the password', async () => {
    const bug = () => new TypeError("Cannot read properties of undefined (reading 'rows') after connecting to postgres://app:s3cret@db.internal/crm");

    const plain = await runThrowing(bug(), []);
    assert.equal(plain.exit, 1);
    assert.equal(plain.stdout, '');
    assert.deepEqual(plain.stderr.trimEnd().split('\n'), [
      "error: Cannot read properties of undefined (reading 'rows') after connecting to postgres://app:***@db.internal/crm",
      'hint: This is a bug in tidemark: run again with --debug to see where it happened, and report it.',
    ]);
    assert.doesNotMatch(plain.stderr, STACK);

    const debug = await runThrowing(bug(), ['--debug']);
    assert.equal(debug.exit, 1);
    assert.equal(debug.stderr.split('\n').filter((l) => l.includes('--debug')).length, 1);
    assert.match(debug.stderr, STACK, 'the stack, with --debug');
    assert.match(debug.stderr, /error-codes-faults\.test\.js:\d+:\d+/, 'where the bug was thrown');
    assert.doesNotMatch(debug.stderr, /s3cret/);

    const json = await runThrowing(bug(), ['--json']);
    assert.equal(json.exit, 1);
    assert.equal(json.stderr, '');
    const body = JSON.parse(json.stdout) as { ok: boolean; error: Record<string, unknown> };
    assert.equal(body.ok, false);
    assert.deepEqual(
      { code: body.error.code, kind: body.error.kind, exit: body.error.exit, hint: body.error.hint },
      { code: 'unexpected', kind: 'failure', exit: 1, hint: 'This is a bug in tidemark: run again with --debug to see where it happened, and report it.' },
    );
    assert.equal(body.error.message, "Cannot read properties of undefined (reading 'rows') after connecting to postgres://app:***@db.internal/crm");
    assert.doesNotMatch(json.stdout, /s3cret/);
  });

  it('a thrown value that is not an Error, and a password= in a message', async () => {
    const number = await runThrowing(42, []);
    assert.equal(number.exit, 1);
    assert.match(number.stderr, /^error: 42\nhint: This is a bug in tidemark: run again with --debug/);
    const keyword = await runThrowing(new Error('connect failed: host=db.internal password=hunter2 dbname=crm'), []);
    assert.match(keyword.stderr, /^error: connect failed: host=db\.internal password=\*\*\* dbname=crm\n/);
    assert.doesNotMatch(keyword.stderr, /hunter2/);
  });

  it('a tidemark error keeps its own code, and bad usage is exit 2', async () => {
    const known = await runThrowing(new TidemarkError('bad-usage', '--steps must be a positive number.'), ['--json']);
    assert.equal(known.exit, 2);
    assert.equal((JSON.parse(known.stdout) as { error: { code: string } }).error.code, 'bad-usage');
    const unknownFlag = await runThrowing(new Error('not reached'), ['--no-such-flag']);
    assert.equal(unknownFlag.exit, 2);
    assert.match(unknownFlag.stderr, /unknown option '--no-such-flag'/);
  });
});
