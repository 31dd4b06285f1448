/**
 * `tidemark demo` when a step fails: the demo stops with that step's code (demo-backup, demo-adopt, demo-validate,
 * demo-up, demo-autogenerate, demo-doctor; demo-failed for building the legacy database and the doctor on it), exit 1, a message
 * naming the step and what went wrong (a tidemark error's own code in brackets), and a hint naming the project it
 * keeps and the command that shows the failure again there. Later steps do not run.
 *
 * The demo takes its steps as a parameter (the real ones by default). Each case runs the REAL step that fails, after
 * stand-ins for the steps before it (building the legacy database costs a PGlite and ~10 s): the stand-in of the
 * first step copies the project and gives the steps a database whose connection is gone, as a server's is after a
 * restart. demo-failed also comes from the real CLI, on a --dir inside a regular file. The whole demo, green, is
 * test/db/demo.test.ts. PGlite only: the demo runs on an embedded PGlite by design.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { openTarget } from '../../src/target/open.js';
import { DEMO_STEP_NAMES, EXAMPLES_DIR, demo, type DemoContext, type DemoResult, type DemoStepName, type DemoSteps } from '../../src/api/demo.js';
import { expectCode } from '../support/error-json.js';

/** A database whose connection is gone: every call fails as node-postgres does when the server went away. */
function lostConnection(closed: { count: number }): Database {
  const gone = () => Promise.reject(new Error('Connection terminated unexpectedly'));
  return {
    backend: 'postgres',
    displayUrl: 'postgres://app:***@db.internal/crm',
    locksExclude: true,
    query: gone,
    exec: gone,
    transaction: gone,
    withAdvisoryLock: gone,
    serverVersionNum: gone,
    copyIn: gone,
    copyOut: () => ({ [Symbol.asyncIterator]: () => ({ next: gone }) }),
    close: async () => {
      closed.count++;
    },
  };
}

type Prepare = (ctx: DemoContext) => Promise<void>;

/** The legacy project (as step 1 leaves it), without its database. */
const legacyProject: Prepare = async (ctx) => {
  fs.cpSync(path.join(EXAMPLES_DIR, 'legacy'), ctx.dir, { recursive: true });
  ctx.workspace = await loadWorkspace({ cwd: ctx.dir });
};

/** The project after adopt (services user and budget kept by tidemark), as step 4 leaves it. */
const adoptedProject: Prepare = async (ctx) => {
  for (const entry of ['tidemark.config.mjs', 'migrations']) fs.cpSync(path.join(EXAMPLES_DIR, entry), path.join(ctx.dir, entry), { recursive: true });
  ctx.workspace = await loadWorkspace({ cwd: ctx.dir });
};

/**
 * Runs the demo with the real step `failing`, stand-ins before it (the first one prepares the project and sets the
 * database) and steps after it that fail the test if they run.
 */
async function runUntil(failing: DemoStepName, prepare: Prepare, database: () => Promise<Database>): Promise<{ result: DemoResult; ran: string[] }> {
  const ran: string[] = [];
  const steps: Partial<DemoSteps> = {};
  const at = DEMO_STEP_NAMES.indexOf(failing);
  DEMO_STEP_NAMES.forEach((name, i) => {
    if (i < at) {
      steps[name] = async (ctx) => {
        if (i === 0) {
          await prepare(ctx);
          ctx.db = await database();
          // As the real first step: the demo's one target wraps that database (the cores of later steps take it).
          ctx.target = await openTarget({ cwd: ctx.dir, database: ctx.db });
        }
        ran.push(name);
        return { title: `${name} (stand-in)`, lines: [] };
      };
    } else if (i > at) {
      steps[name] = async () => assert.fail(`${name} ran after ${failing} failed`);
    }
  });
  return { result: await demo({ steps }), ran };
}

function assertStepFailure(result: DemoResult, code: string, message: RegExp, again: string): void {
  assert.equal(result.ok, false);
  assert.equal(result.kept, true, 'a failed demo keeps its project');
  assert.ok(result.error, 'an error');
  assert.equal(result.error.code, code, result.error.message);
  assert.equal(result.error.exit, 1);
  assert.match(result.error.message, message);
  assert.ok(result.error.hint?.endsWith(`The demo's project is kept in ${result.dir}: \`${again}\` there shows it again.`), result.error.hint);
  assert.ok(fs.existsSync(path.join(result.dir, 'migrations')) || fs.existsSync(path.join(result.dir, 'services')), 'the project is there');
}

describe('demo: a failing step stops the demo with its own code', () => {
  const dirs: string[] = [];
  const cleanup = (r: DemoResult) => dirs.push(r.dir);
  const closed = { count: 0 };

  it('demo-failed: the doctor on the legacy histories cannot read the database', async () => {
    const { result, ran } = await runUntil('doctor', legacyProject, async () => lostConnection(closed));
    cleanup(result);
    assert.deepEqual(ran, ['legacy']);
    assertStepFailure(result, 'demo-failed', /^The demo's doctor on the legacy histories failed: Connection terminated unexpectedly \[unexpected\]$/, 'tidemark check --db');
    assert.deepEqual(
      result.steps.map((s) => s.title),
      ['legacy (stand-in)'],
    );
  });

  it('demo-backup: the backup cannot read the database, and leaves no partial backup', async () => {
    const { result, ran } = await runUntil('backup', legacyProject, async () => lostConnection(closed));
    cleanup(result);
    assert.deepEqual(ran, ['legacy', 'doctor']);
    assertStepFailure(result, 'demo-backup', /^The demo's backup step failed: .*Connection terminated unexpectedly \[backup-failed\]$/, 'tidemark verify-backup backups/before-adopt');
    assert.equal(fs.existsSync(path.join(result.dir, 'backups', 'before-adopt')), false);
  });

  it('demo-adopt: adopting user_service cannot lock the database; the config is not rewritten', async () => {
    const { result, ran } = await runUntil('adopt', legacyProject, async () => lostConnection(closed));
    cleanup(result);
    assert.deepEqual(ran, ['legacy', 'doctor', 'backup']);
    assertStepFailure(result, 'demo-adopt', /^The demo's adopt step failed for user_service → user: .*\[adopt-failed\]$/, 'tidemark adopt --service user_service --as user');
    const config = fs.readFileSync(path.join(result.dir, 'tidemark.config.mjs'), 'utf8');
    assert.equal(config, fs.readFileSync(path.join(EXAMPLES_DIR, 'legacy', 'tidemark.config.mjs'), 'utf8'));
  });

  it('demo-validate: the backup to validate against is not there', async () => {
    const { result } = await runUntil('validate', adoptedProject, async () => lostConnection(closed));
    cleanup(result);
    assertStepFailure(
      result,
      'demo-validate',
      /^The demo's validate step failed: \S+\/backups\/before-adopt\/manifest\.json does not exist\. \[no-manifest\]$/,
      'tidemark validate --against backups/before-adopt',
    );
    // the inner error's own hint comes first
    assert.match(result.error!.hint!, /^--against takes a backup directory written by `tidemark backup`\. /);
  });

  it('demo-up: the new migrations are written, applying them fails', async () => {
    const { result } = await runUntil('migrate', adoptedProject, async () => lostConnection(closed));
    cleanup(result);
    assertStepFailure(result, 'demo-up', /^The demo's up step \(new migrations, applied\) failed: Connection terminated unexpectedly \[unexpected\]$/, 'tidemark status');
    assert.ok(fs.existsSync(path.join(result.dir, 'migrations', 'user', 'user_002_add_phone.sql')));
  });

  it('demo-autogenerate: writing the desired schema cannot read the database; nothing is written', async () => {
    const { result } = await runUntil('autogenerate', adoptedProject, async () => lostConnection(closed));
    cleanup(result);
    assertStepFailure(
      result,
      'demo-autogenerate',
      /^The demo's autogenerate step \(desired schema, tidemark diff, tidemark test\) failed: .*Connection terminated unexpectedly.* \[[a-z-]+\]$/,
      'tidemark baseline --service budget --schema',
    );
    assert.equal(fs.existsSync(path.join(result.dir, 'schema', 'budget.sql')), false);
    assert.deepEqual(fs.readdirSync(path.join(result.dir, 'migrations', 'budget')).sort(), fs.readdirSync(path.join(EXAMPLES_DIR, 'migrations', 'budget')).sort());
  });

  it('demo-doctor: the doctor still finds errors at the end (a second user_001); the step is shown failed', async () => {
    const addDuplicate: Prepare = async (ctx) => {
      await adoptedProject(ctx);
      fs.writeFileSync(path.join(ctx.dir, 'migrations', 'user', 'user_001_again.sql'), '-- tidemark:up\nSELECT 1;\n');
    };
    const { result } = await runUntil('doctor-again', addDuplicate, () => openDatabase('pglite:memory'));
    cleanup(result);
    assertStepFailure(
      result,
      'demo-doctor',
      /^The demo's last doctor failed: it still reports 2 errors after the adoption: .*duplicate-id: user declares number 001 in 2 files/,
      'tidemark check --db',
    );
    const last = result.steps.at(-1)!;
    assert.equal(last.ok, false);
    assert.equal(last.title, 'The doctor again: 2 errors left');
  });

  it('every database the steps were given was closed', () => {
    assert.equal(closed.count, 6);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('demo-failed through the CLI', () => {
  it('--dir inside a regular file: the file system refuses, exit 1, the hint says what to give', async () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-demo-steps-'));
    try {
      const file = path.join(parent, 'notes.txt');
      fs.writeFileSync(file, 'not a directory\n');
      const err = await expectCode('demo-failed', ['demo', '--dir', path.join(file, 'crm')], parent);
      assert.match(err.message, /^The demo failed while building the legacy database: ENOTDIR: not a directory/);
      assert.match(err.hint ?? '', /^The file system refused \(ENOTDIR on .*notes\.txt.*\): give --dir a new or empty directory that can be written, on a disk with free space\.$/);
      assert.deepEqual(fs.readdirSync(parent), ['notes.txt']);
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
