import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, exitCodeOfKind, isErrorCode, type ErrorCode, type ErrorField, type ErrorKind } from './error-codes.js';

export type { ErrorCode, ErrorField, ErrorKind } from './error-codes.js';

/**
 * Failures that reach a user carry a stable kebab-case `code` from the catalogue (src/error-codes.ts) and
 * named fields (Prisma's habit); only src/cli turns a kind into an exit code and prints the message.
 *
 * - `usage`   bad flags or arguments                       → exit 2
 * - `input`   bad config, bad migration file, bad backup   → exit 2
 * - `failure` the work itself failed (SQL error, database unreachable, lock timeout) → exit 1
 *
 * The kind of an error is the kind of its code in the catalogue: one code, one exit class everywhere.
 */
export interface ErrorDetails {
  /** Ignored: the catalogue decides (test/unit/error-codes.test.ts refuses a call site that contradicts it). */
  kind?: ErrorKind;
  hint?: string;
  file?: string;
  line?: number;
  service?: string;
  migration?: string;
  cause?: unknown;
}

export class TidemarkError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly service?: string;
  readonly migration?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TidemarkError';
    this.code = code;
    // A JavaScript caller can pass a code the types would refuse: it keeps its own kind, failure by default.
    this.kind = isErrorCode(code) ? ERROR_CODES[code].kind : (details.kind ?? 'failure');
    this.hint = details.hint;
    this.file = details.file;
    this.line = details.line;
    this.service = details.service;
    this.migration = details.migration;
    if (process.env.TIDEMARK_TEST_CODES_DIR && !madeByTestCode(this.stack)) recordErrorCode(this.code, exitCodeOfKind(this.kind), 'made');
  }

  /** The exit code the CLI gives this error: 2 for usage and input, 1 for failure. */
  get exit(): 1 | 2 {
    return exitCodeOfKind(this.kind);
  }

  /** The named fields this error carries (see ErrorField), only those set. */
  get fields(): Partial<Record<ErrorField, string | number>> {
    return {
      ...(this.file ? { file: this.file } : {}),
      ...(this.line ? { line: this.line } : {}),
      ...(this.service ? { service: this.service } : {}),
      ...(this.migration ? { migration: this.migration } : {}),
    };
  }

  /** `--json`: code, kind, exit, message, hint, fields; the fields are also repeated at the top level. */
  toJSON(): Record<string, unknown> {
    const fields = this.fields;
    return {
      code: this.code,
      kind: this.kind,
      exit: this.exit,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      fields,
      ...fields,
    };
  }
}

/** True when the frame that called `new TidemarkError` is a test file, not tidemark's own code. */
function madeByTestCode(stack: string | undefined): boolean {
  const caller = (stack ?? '').split('\n').find((l) => /^\s+at /.test(l) && !/[\\/]errors\.[jt]s:/.test(l));
  if (!caller) return false;
  const testDir = new URL('../test/', import.meta.url);
  return caller.includes(testDir.href) || caller.includes(fileURLToPath(testDir));
}

/**
 * Test instrumentation, off unless TIDEMARK_TEST_CODES_DIR is set (the `npm test` script sets it): each error
 * made, and each error the CLI exits with, is appended as `code<TAB>exit<TAB>made|exit` to a file of that
 * directory, so test/codes/ can prove every catalogued code is produced by a test with its exit code.
 */
export function recordErrorCode(code: string, exit: number, via: 'made' | 'exit'): void {
  const dir = process.env.TIDEMARK_TEST_CODES_DIR;
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true });
    appendFileSync(path.join(dir, `${process.pid}.tsv`), `${code}\t${exit}\t${via}\n`);
  } catch {
    // instrumentation never changes what the command does
  }
}

/** The hint every `unexpected` error carries: the one line that names --debug. */
export const UNEXPECTED_HINT = 'This is a bug in tidemark: run again with --debug to see where it happened, and report it.';

/**
 * What a catch-all hands on: a TidemarkError as it is; anything else (a plain Error, a thrown string or number) is
 * a bug, code `unexpected`, whose message is the thrown value's and whose hint says to run again with --debug.
 */
export function asTidemarkError(err: unknown): TidemarkError {
  if (isTidemarkError(err)) return err;
  const message =
    err instanceof Error ? err.message : typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : String(err);
  return new TidemarkError('unexpected', message || String(err), { cause: err, hint: UNEXPECTED_HINT });
}

export function isTidemarkError(err: unknown): err is TidemarkError {
  return err instanceof TidemarkError;
}

export function exitCodeFor(err: unknown): 1 | 2 {
  return isTidemarkError(err) ? err.exit : 1;
}
