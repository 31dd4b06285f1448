import type { ApplyEvent } from '../progress.js';
import { pc } from '../report/colors.js';
import { redactSecrets } from '../db/redact.js';
import { asTidemarkError, exitCodeFor, isTidemarkError, type ErrorCode } from '../errors.js';
import { escapeControl } from '../sql/ident.js';

/** Global flags every command accepts. */
export interface GlobalOptions {
  config?: string;
  database?: string;
  json?: boolean;
  debug?: boolean;
}

// A NUL cannot occur in a file name or a PostgreSQL identifier, so no real string looks like this.
const BIGINT_MARK = '\u0000bigint:';
const BIGINT_OUT = /"\\u0000bigint:(-?\d+)"/g;

/**
 * JSON.stringify, with bigints (migration numbers) written as exact JSON numbers: JSON numbers have
 * no size limit, and a string here would change the type of a field that was a number before.
 */
export function printJson(value: unknown): void {
  const text = JSON.stringify(value, (key, v: unknown) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : hideSecretsOfUnexpected(key, v)), 2);
  process.stdout.write(`${text.replace(BIGINT_OUT, '$1')}
`);
}

/** An `unexpected` error's message comes from below tidemark, which does not redact: hide any password in it. */
function hideSecretsOfUnexpected(_key: string, value: unknown): unknown {
  const v = value as { code?: unknown; message?: unknown } | null;
  return v && typeof v === 'object' && v.code === 'unexpected' && typeof v.message === 'string' ? { ...v, message: redactSecrets(v.message) } : value;
}

/**
 * One sentence, then the hint; a stack only with --debug. Never a password: tidemark's messages carry redacted
 * URLs, and what came from elsewhere (an `unexpected` error's message, a stack) is redacted here.
 */
export function printError(err: unknown, options: Pick<GlobalOptions, 'debug'> = {}): void {
  const e = asTidemarkError(err);
  // Messages quote names and server errors: a control character in a name must not drive the terminal.
  process.stderr.write(`${pc.red('error:')} ${escapeControl(redactSecrets(e.message))}\n`);
  if (e.hint) process.stderr.write(`${pc.dim('hint:')} ${escapeControl(e.hint)}\n`);
  if (options.debug) {
    const cause = (e as { cause?: unknown }).cause;
    process.stderr.write(`${pc.dim(redactSecrets(String((cause as Error)?.stack ?? e.stack)))}\n`);
  }
}

export function note(message: string): void {
  process.stderr.write(`${pc.dim(escapeControl(message))}\n`);
}

/** Text from files, the database or the config, made safe to print: control characters as `\xNN`. */
export function printable(text: string): string {
  return escapeControl(text);
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Sets the exit code of a result-as-value: 0 ok, 1 failure, 2 bad usage or input. */
export function finish(error: unknown | undefined, options: GlobalOptions, printed = false): void {
  if (!error) {
    process.exitCode = 0;
    return;
  }
  if (!printed && !options.json) printError(error, options);
  process.exitCode = exitCodeFor(error);
  finishedWith = isTidemarkError(error) ? error.code : 'unexpected';
}

let finishedWith: ErrorCode | undefined;

/** The code of the last error a command finished with (the CLI records it with the process's exit code). */
export function finishedWithCode(): ErrorCode | undefined {
  return finishedWith;
}

/** Says so when the embedded default is used. */
export function sayDatabase(flags: GlobalOptions) {
  return (database: string, source: string) => {
    if (!flags.json && source === 'default') note(`Using the embedded database ${database} (no --database, DATABASE_URL or config database).`);
  };
}

export function applyPrinter(flags: GlobalOptions): ((e: ApplyEvent) => void) | undefined {
  if (flags.json) return undefined;
  return (e) => {
    if (e.type === 'step-done') process.stdout.write(`${pc.green('applied ')} ${e.step.migration.id} ${pc.dim(formatMs(e.durationMs))}\n`);
    else if (e.type === 'step-failed') process.stdout.write(`${pc.red('failed  ')} ${e.step.migration.id} ${pc.dim(formatMs(e.durationMs))}\n`);
  };
}
