/**
 * The error-code contract as a script sees it: `tidemark ARGS --json` gives `{ ok: false, error: { code, kind,
 * exit, message, fields } }`, the process exits with the exit class the catalogue gives the code, and stderr holds
 * no stack trace. Shared by the error-code test files.
 */
import assert from 'node:assert/strict';
import { ERROR_CODES, exitCodeOfKind, type ErrorCode } from '../../src/error-codes.js';
import { runCli } from './workspace.js';

export interface JsonError {
  code: string;
  kind: string;
  exit: number;
  message: string;
  hint?: string;
  fields: Record<string, unknown>;
}

/** Runs `tidemark ARGS --json` and asserts the code, its exit class, the JSON error object and no stack trace. */
export async function expectCode(code: ErrorCode, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<JsonError> {
  const run = await runCli([...args, '--json'], cwd, env);
  const shown = `tidemark ${args.join(' ')}: exit ${run.code}\n${run.stdout}\n${run.stderr}`;
  let body: { ok?: boolean; error?: JsonError };
  try {
    body = JSON.parse(run.stdout);
  } catch {
    assert.fail(`not JSON: ${shown}`);
  }
  assert.equal(body.ok, false, shown);
  assert.equal(body.error?.code, code, shown);
  const exit = exitCodeOfKind(ERROR_CODES[code].kind);
  assert.equal(run.code, exit, shown);
  assert.equal(body.error.exit, exit, shown);
  assert.equal(body.error.kind, ERROR_CODES[code].kind, shown);
  assert.ok(body.error.message.length > 0, shown);
  for (const field of Object.keys(body.error.fields)) {
    assert.ok((ERROR_CODES[code].fields as readonly string[]).includes(field), `${code} carries ${field}, which the catalogue does not list`);
  }
  assert.doesNotMatch(run.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
  return body.error;
}
