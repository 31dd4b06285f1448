/**
 * Runs AFTER the whole suite (the second `node --test` of `npm test`): every code of the catalogue must have been
 * produced by tidemark's own code during the suite, and every error the CLI exited with must have exited with its
 * code's exit class. The record is written by recordErrorCode (src/errors.ts) into TIDEMARK_TEST_CODES_DIR, one file
 * per process: `made` when tidemark constructs the error (in a test process or a CLI child; errors a test file
 * constructs itself do not count), `exit` with the real exit code of a CLI process that finished with it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, exitCodeOfKind, isErrorCode, type ErrorCode } from '../../src/error-codes.js';

/**
 * Codes no test produces yet. The check fails when a code outside this list is missing from the record (a new code
 * without a test); a code of this list that the suite now produces is named in the output: remove it from here.
 */
const NOT_YET_PRODUCED: readonly string[] = [];

const dir = process.env.TIDEMARK_TEST_CODES_DIR;

interface Seen {
  made: Set<string>;
  exits: Map<string, Set<number>>;
  lines: number;
}

function readRecord(from: string): Seen {
  const seen: Seen = { made: new Set(), exits: new Map(), lines: 0 };
  for (const name of readdirSync(from)) {
    for (const line of readFileSync(path.join(from, name), 'utf8').split('\n')) {
      if (!line) continue;
      const [code, exit, via] = line.split('\t');
      seen.lines++;
      if (via === 'exit') {
        if (!seen.exits.has(code)) seen.exits.set(code, new Set());
        seen.exits.get(code)!.add(Number(exit));
      } else seen.made.add(code);
    }
  }
  return seen;
}

const skip =
  !dir || !existsSync(dir)
    ? `no record of error codes (${dir ? `${dir} does not exist` : 'TIDEMARK_TEST_CODES_DIR is not set'}): run \`npm test\`, which runs the suite first, then this check`
    : false;
if (skip) process.stderr.write(`test/codes: SKIPPED: ${skip}\n`);

test('every error code of the catalogue is produced by the suite, and the CLI exits with its exit class', { skip: skip && process.env.CI !== 'true' ? skip : false }, (t) => {
  assert.ok(dir && existsSync(dir), String(skip));
  const seen = readRecord(dir);
  const produced = new Set([...seen.made, ...seen.exits.keys()]);

  const strangers = [...produced].filter((c) => !isErrorCode(c));
  assert.deepEqual(strangers, [], 'codes outside the catalogue were produced');

  const wrongExit = [...seen.exits].flatMap(([code, exits]) => [...exits].filter((x) => isErrorCode(code) && x !== exitCodeOfKind(ERROR_CODES[code].kind)).map((x) => `${code} exited ${x}`));
  assert.deepEqual(wrongExit, [], "a CLI run exited with another code than its error code's exit class");

  const missing = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => !produced.has(c));
  const unlisted = missing.filter((c) => !NOT_YET_PRODUCED.includes(c));
  assert.deepEqual(unlisted, [], 'codes no test produced: add a test that does (or, for now, list them in NOT_YET_PRODUCED)');
  const stale = NOT_YET_PRODUCED.filter((c) => produced.has(c));
  if (stale.length) t.diagnostic(`produced now, remove from NOT_YET_PRODUCED in test/codes/coverage.test.ts: ${stale.join(', ')}`);
  assert.deepEqual(
    NOT_YET_PRODUCED.filter((c) => !isErrorCode(c)),
    [],
    'NOT_YET_PRODUCED names codes the catalogue does not have',
  );

  const viaCli = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => seen.exits.has(c)).length;
  t.diagnostic(`error codes: ${produced.size} of ${Object.keys(ERROR_CODES).length} produced by the suite (${viaCli} through a CLI exit), ${seen.lines} records`);
});
