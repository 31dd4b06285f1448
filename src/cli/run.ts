import { CommanderError, type Command } from 'commander';
import { asTidemarkError } from '../errors.js';
import { finish, printJson, type GlobalOptions } from './output.js';

/**
 * Runs one command line on a built program and sets the exit code; never throws. What commander refuses (an unknown
 * flag or command) is bad usage, exit 2; `--help` and `--version` exit 0. A TidemarkError exits with its code's
 * class. Anything else is a bug in tidemark: code `unexpected`, exit 1, its message and one hint naming --debug,
 * which alone prints the stack (see printError). The program is a parameter so that a test can give it a command
 * that throws what no real command should.
 */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; everything else commander rejects is bad usage
      process.exitCode = err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
      return;
    }
    const opts = program.opts() as GlobalOptions;
    const error = asTidemarkError(err);
    if (opts.json) printJson({ ok: false, error });
    finish(error, opts, Boolean(opts.json));
  }
}
