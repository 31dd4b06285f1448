/**
 * The CI recipe (examples/ci) runs only commands and flags the CLI has: every tidemark line of the GitHub
 * Actions workflow and of ci.sh is parsed by the real commander program, built in-process as in
 * readme-commands.test.ts (src/cli/program.ts), with each command's action replaced by a recorder. So an
 * unknown command or flag, a value outside a flag's choices, or a missing required flag fails here as it
 * would fail in a user's CI. And the two files run the same steps in the same order.
 *
 * No YAML parser: the workflow keeps every step's command on one `run:` line (its header says so), which a
 * line match reads; a block scalar (`run: |`) would hide commands from this test, so it is refused below.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT } from '../support/workspace.js';

const CI_DIR = path.join(REPO_ROOT, 'examples/ci');

/** The `run:` commands of the workflow, in order. */
function workflowRuns(): string[] {
  const text = readFileSync(path.join(CI_DIR, 'github-actions.yml'), 'utf8');
  const runs: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(?:-\s+)?run:\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    assert.ok(m[1] !== '' && !/^[|>]/.test(m[1]), `one command per run: line, no block scalar: ${line.trim()}`);
    runs.push(m[1]);
  }
  return runs;
}

/** ci.sh's `npx tidemark …` lines, in order, with the format variable as GitHub Actions sets it. */
function scriptRuns(): string[] {
  const text = readFileSync(path.join(CI_DIR, 'ci.sh'), 'utf8');
  assert.match(text, /^set -euo pipefail$/m, 'ci.sh stops at the first failing step');
  return text
    .split('\n')
    .filter((l) => /^\s*npx tidemark\b/.test(l))
    .map((l) => l.trim().replaceAll('"$format"', 'github'));
}

interface Ran {
  command: string;
  opts: Record<string, unknown>;
}

/** Parses one `npx tidemark …` line with the real program; returns the command that would run and its flags. */
async function parse(line: string): Promise<Ran> {
  const words = line.split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ['npx', 'tidemark'], line);
  assert.ok(
    words.every((w) => !/["'$`\\]/.test(w)),
    `no quoting or variable left in ${line}`,
  );
  // A fresh program per line: `once()` flags remember a value per process.
  const program = buildProgram();
  const ran: Ran[] = [];
  const quiet = (cmd: Command, prefix: string[]) => {
    cmd.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
    for (const sub of cmd.commands) {
      const p = [...prefix, sub.name()];
      quiet(sub, p);
      if (!sub.commands.length) sub.action(() => void ran.push({ command: p.join(' '), opts: sub.optsWithGlobals() }));
    }
  };
  quiet(program, []);
  await program.parseAsync(words.slice(2), { from: 'user' });
  assert.equal(ran.length, 1, `${line} runs one command`);
  return ran[0];
}

it('every tidemark line of the workflow and of ci.sh is a command the CLI parses, with flags it has', async () => {
  const yml = workflowRuns();
  assert.ok(yml.includes('npm ci'), 'the workflow installs with npm ci');
  const tidemarkLines = yml.filter((r) => r.startsWith('npx tidemark'));
  assert.deepEqual(
    yml.filter((r) => !r.startsWith('npx tidemark')),
    ['npm ci'],
    'every other run: line is a tidemark command',
  );
  const sh = scriptRuns();
  assert.deepEqual(sh, tidemarkLines, 'ci.sh runs the workflow’s tidemark steps, in its order');

  const ran = [];
  for (const line of tidemarkLines) ran.push(await parse(line));
  assert.deepEqual(
    ran.map((r) => r.command),
    ['check', 'test', 'up', 'check'],
  );
  // What each step is for: files only, then the database with drift on; annotations where they are read.
  const [files, test, , db] = ran;
  assert.deepEqual([files.opts.db, files.opts.format], [false, 'github']);
  assert.deepEqual([test.opts.format], ['github']);
  assert.deepEqual([db.opts.db, db.opts.drift, db.opts.format], [true, true, 'github']);
});

it('the parse above refuses what the CLI refuses (so a wrong flag in the recipe would fail it)', async () => {
  await assert.rejects(parse('npx tidemark check --no-such-flag'), /unknown option/);
  await assert.rejects(parse('npx tidemark test --format xml'), /Allowed choices are text, json, github/);
  await assert.rejects(parse('npx tidemark tset'), /unknown command/);
  await assert.rejects(parse('npx tidemark down'), /required option/);
});

it('the workflow runs PostgreSQL 15 with a health check and Node 20, and hands the container to tidemark', () => {
  const text = readFileSync(path.join(CI_DIR, 'github-actions.yml'), 'utf8');
  assert.match(text, /^\s+image: postgres:15$/m);
  assert.match(text, /--health-cmd "pg_isready/);
  assert.match(text, /uses: actions\/setup-node@v\d+\n\s+with:\n\s+node-version: 20\b/);
  assert.match(text, /^\s+DATABASE_URL: postgres:\/\/postgres:postgres@localhost:5432\/ci$/m);
  const script = readFileSync(path.join(CI_DIR, 'ci.sh'), 'utf8');
  // ci.sh refuses to start without a database to migrate, before any step runs.
  assert.ok(script.indexOf('DATABASE_URL is not set') < script.indexOf('npx tidemark'), 'the DATABASE_URL check comes first');
});
