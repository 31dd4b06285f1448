#!/usr/bin/env node
import { CommanderError } from 'commander';
import { pc } from '../report/colors.js';
import { TidemarkError, recordErrorCode } from '../errors.js';
import { finish, finishedWithCode, printError, printJson, type GlobalOptions } from './output.js';
import { buildProgram } from './program.js';

/**
 * `tidemark status | head -1`: once the reader is gone, further output is dropped and the command
 * finishes as it would have (a migration is never cut short by a closed pipe), with no stack trace.
 */
function quietOnBrokenPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    stream.write = (() => true) as typeof stream.write;
    if (err.code !== 'EPIPE' && !process.exitCode) process.exitCode = 1;
  });
}

async function main(argv: string[]): Promise<void> {
  quietOnBrokenPipe(process.stdout);
  quietOnBrokenPipe(process.stderr);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; everything else commander rejects is bad usage
      process.exitCode = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
      return;
    }
    const opts = program.opts() as GlobalOptions;
    if (opts.json) printJson({ ok: false, error: err instanceof TidemarkError ? err : new TidemarkError('unexpected', String((err as Error)?.message ?? err), { cause: err }) });
    finish(err, opts, Boolean(opts.json));
    if (!opts.json && !(err instanceof TidemarkError)) process.stderr.write(pc.dim('This is a bug in tidemark; run again with --debug and report it.\n'));
  }
}

process.on('unhandledRejection', (err) => {
  printError(err, { debug: process.argv.includes('--debug') });
  process.exit(1);
});

// Test instrumentation (a no-op unless TIDEMARK_TEST_CODES_DIR is set): the code this process exits with, and how.
process.once('exit', (exit) => {
  const code = finishedWithCode();
  if (code) recordErrorCode(code, exit, 'exit');
});

await main(process.argv);
