/**
 * Flags that several commands declare, each declared and validated HERE once, so no command can take
 * one unchecked (`up --lock-timeout abc` used to wait forever on a busy lock: NaN never runs out; only
 * restore checked it, and let `1e999`, Infinity, through). A bad value is `bad-usage` (exit 2) naming
 * the flag and the value, raised while the arguments are parsed: before any file or database is touched.
 */
import { InvalidArgumentError, Option } from 'commander';
import { TidemarkError } from '../errors.js';
import { escapeControl } from '../sql/ident.js';

/** A repeatable flag: every value kept, in order. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * A flag that takes one value refuses a second one (commander would keep the last silently:
 * `rebaseline --service a --service b` ran on b alone). Repeatable flags use `collect`. A fresh
 * parser per flag: the program is built once per process.
 */
export function once(): (value: string, previous: unknown) => string {
  let seen = false;
  return (value) => {
    if (seen) throw new InvalidArgumentError('it is given more than once; this flag takes one value.');
    seen = true;
    return value;
  };
}

/** `once` for an Option that also has its own parser (choices, a number). */
export function onceOption(option: Option): Option {
  const check = option.parseArg;
  const guard = once();
  return option.argParser((value: string, previous: unknown) => {
    guard(value, previous);
    return check ? check(value, previous) : value;
  });
}

function badValue(flag: string, value: string, want: string, example: string): TidemarkError {
  return new TidemarkError('bad-usage', `${flag} ${JSON.stringify(escapeControl(value))}: ${want}.`, { kind: 'usage', hint: `for example ${flag} ${example}` });
}

const DEFAULT_LOCK_TIMEOUT_SECONDS = 600;

/** Seconds, a finite number greater than 0 (`30`, `0.5`, `1e3`); anything else (`abc`, `-1`, `0`, `1e999`, `0x10`) is bad usage. */
function parseLockTimeout(value: string): number {
  const text = value.trim();
  const n = /^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw badValue('--lock-timeout', value, 'give a finite number of seconds greater than 0', '30');
  return n;
}

/** `--lock-timeout <seconds>`: parsed to a number of seconds (default 600); `what` ends the help text. */
export function lockTimeoutOption(what = 'another run of the same service'): Option {
  return onceOption(new Option('--lock-timeout <seconds>', `how long to wait for ${what}`).argParser(parseLockTimeout).default(DEFAULT_LOCK_TIMEOUT_SECONDS));
}

/** The lock timeout of parsed flags in milliseconds, for the API. */
export function lockTimeoutMs(flags: { lockTimeout?: number }): number | undefined {
  return flags.lockTimeout === undefined ? undefined : flags.lockTimeout * 1000;
}

/** A whole number from `min` up (`--users`), else bad usage. */
export function wholeNumber(flag: string, min: number, example: string): (value: string) => number {
  return (value) => {
    const n = /^\s*[0-9]+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min) throw badValue(flag, value, `give a whole number from ${min} up`, example);
    return n;
  };
}

/** `-f, --format`: one of `choices`, checked while parsing (backup and rebaseline both write backups). */
export function formatOption(flags: string, description: string, choices: readonly string[], fallback: string): Option {
  const parse = (value: string) => {
    if (!choices.includes(value)) throw badValue('--format', value, `use ${choices.join(', ')}`, fallback);
    return value;
  };
  return onceOption(new Option(flags, `${description} (${choices.join(', ')})`).argParser(parse).default(fallback));
}

/** The two acts of overriding the guard (src/ledger/guard.ts), on every command that goes through it: the first… */
export function forceProtectedOption(): Option {
  return new Option('--force-protected', 'allow a protected or remote database (its name must still be typed back)');
}

/** …and the second, the name typed back (one value: a second `--yes-i-mean` is refused, never silently kept). */
export function yesIMeanOption(): Option {
  return onceOption(new Option('--yes-i-mean <database>', 'the database name, typed back without a prompt (with --force-protected)'));
}
