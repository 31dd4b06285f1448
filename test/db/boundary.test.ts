/**
 * Issue 12's measure of the boundary, at run time: the cores (up, status, check --db, backup, validate,
 * restore, baseline, rebaseline, down, reset) run from a Target the caller built, in a child process where a
 * module-resolution hook (test/support/trap-boundary.ts) makes every import of the config loader or a
 * connection opener from below the boundary fail. test/unit/layers.test.ts holds the same on the source.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { forEachBackend } from '../support/backends.js';
import { REPO_ROOT } from '../support/workspace.js';

const SUPPORT = path.join(REPO_ROOT, 'dist/test/support');

function runTrapped(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', path.join(SUPPORT, 'trap-boundary.js'), path.join(SUPPORT, script), ...args], {
      env: { ...process.env, DATABASE_URL: '', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

it('the trap is live: a module below the boundary that imports the config loader fails to load', async () => {
  const probe = await runTrapped('boundary-probe.js', [], { TIDEMARK_TRAP_PROBE: '/dist/test/support/boundary-probe.js' });
  assert.notEqual(probe.code, 0);
  assert.match(probe.out, /boundary crossed: src\/config\/load\.js \(imported by test\/support\/boundary-probe\.js\)/);
  const free = await runTrapped('boundary-probe.js', []);
  assert.equal(free.code, 0, free.out);
  assert.match(free.out, /not trapped/);
});

forEachBackend('boundary', (backend) => {
  it('every core runs from a Target the caller built: none loads a config or opens a connection', async () => {
    const created = await backend.createDatabase();
    try {
      const run = await runTrapped('boundary-run.js', [created.url]);
      assert.equal(run.code, 0, run.out);
      assert.deepEqual(
        run.out
          .trim()
          .split('\n')
          .filter((l) => l.endsWith(' ok')),
        ['up ok', 'status ok', 'check --db ok', 'backup ok', 'validate ok', 'restore --replace ok', 'baseline --dry-run ok', 'rebaseline ok', 'down ok', 'reset ok', 'all ok'],
      );
    } finally {
      await created.drop();
    }
  });
});
