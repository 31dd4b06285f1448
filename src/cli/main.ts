#!/usr/bin/env node
import { recordErrorCode } from '../errors.js';
import { finishedWithCode, printError } from './output.js';
import { buildProgram } from './program.js';
import { runProgram } from './run.js';

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
  await runProgram(buildProgram(), argv);
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
