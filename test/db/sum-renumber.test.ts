import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import { renumber } from '../../src/api/renumber.js';
import { rule as sumMismatch } from '../../src/check/rules/sum-mismatch.js';
import { sumIsClean } from '../../src/history/sum-file.js';
import { readSumVerification } from '../../src/history/sum-io.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';
import { context, tidemarkService } from '../unit/rules/fixtures.js';

const BUDGET = 'migrations/budget';

/** Runs git in `cwd` with a fixed commit date, so "which was added first" does not depend on the clock. */
function git(cwd: string, args: string[], date?: string): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
  if (date) Object.assign(env, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function gitOk(cwd: string, args: string[], date?: string): string {
  const r = git(cwd, args, date);
  assert.equal(r.code, 0, `git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function cli(dir: string, args: string[]) {
  const r = await runCli(args, dir);
  assert.equal(r.code, 0, `tidemark ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}

const budgetFiles = (ws: TempWorkspace) =>
  readdirSync(path.join(ws.dir, BUDGET))
    .filter((n) => n.endsWith('.sql'))
    .sort();
const verification = (ws: TempWorkspace) => readSumVerification('budget', path.join(ws.dir, BUDGET));

const COMMISSION = 'budget_005_add_commission_percentage_actual.sql';
const REMOVE_QTY = 'budget_005_remove_quantity_column.sql';

/**
 * A repository with service budget (4 migrations + tidemark.sum) on main; branch commission adds
 * COMMISSION via `tidemark new`, branch remove-quantity adds REMOVE_QTY by hand + `tidemark sum`.
 * Then commission merges remove-quantity.
 */
async function twoBranches(dates: { commission: string; removeQuantity: string }) {
  const ws = makeWorkspace({ budget: { owns: ['budget*'] } });
  gitOk(ws.dir, ['init', '-q']);
  gitOk(ws.dir, ['config', 'user.name', 'Test User']);
  gitOk(ws.dir, ['config', 'user.email', 'test@example.com']);
  gitOk(ws.dir, ['config', 'commit.gpgsign', 'false']);
  gitOk(ws.dir, ['checkout', '-q', '-b', 'main']);
  ws.write(`${BUDGET}/budget_001_initial_schema.sql`, sqlMigration('CREATE TABLE budgets (id int PRIMARY KEY);', 'DROP TABLE budgets;'));
  ws.write(`${BUDGET}/budget_002_add_lines.sql`, sqlMigration('CREATE TABLE budget_lines (id int, quantity int);', 'DROP TABLE budget_lines;'));
  ws.write(`${BUDGET}/budget_003_add_amount.sql`, sqlMigration('ALTER TABLE budget_lines ADD amount numeric;'));
  ws.write(`${BUDGET}/budget_004_add_currency.sql`, sqlMigration('ALTER TABLE budgets ADD currency text;'));
  await cli(ws.dir, ['sum']);
  gitOk(ws.dir, ['add', '-A']);
  gitOk(ws.dir, ['commit', '-q', '-m', 'budget 001-004'], '2025-01-01T10:00:00Z');

  gitOk(ws.dir, ['checkout', '-q', '-b', 'commission']);
  const created = JSON.parse((await cli(ws.dir, ['new', 'budget', 'add_commission_percentage_actual', '--json'])).stdout);
  assert.equal(path.basename(created.file), COMMISSION);
  assert.ok(sumIsClean(await verification(ws)), '`tidemark new` left tidemark.sum current');
  ws.write(`${BUDGET}/${COMMISSION}`, sqlMigration('ALTER TABLE budget_lines ADD commission_percentage_actual numeric;'));
  await cli(ws.dir, ['sum']);
  gitOk(ws.dir, ['add', '-A']);
  gitOk(ws.dir, ['commit', '-q', '-m', 'commission'], dates.commission);

  gitOk(ws.dir, ['checkout', '-q', 'main']);
  gitOk(ws.dir, ['checkout', '-q', '-b', 'remove-quantity']);
  ws.write(`${BUDGET}/${REMOVE_QTY}`, sqlMigration('ALTER TABLE budget_lines DROP COLUMN quantity;'));
  await cli(ws.dir, ['sum']);
  gitOk(ws.dir, ['add', '-A']);
  gitOk(ws.dir, ['commit', '-q', '-m', 'remove quantity'], dates.removeQuantity);

  gitOk(ws.dir, ['checkout', '-q', 'commission']);
  const merge = git(ws.dir, ['merge', '--no-edit', 'remove-quantity'], '2025-01-05T10:00:00Z');
  return { ws, merge };
}

describe('tidemark.sum in git', () => {
  let ws: TempWorkspace | undefined;
  afterEach(() => {
    ws?.remove();
    ws = undefined;
  });

  it('two branches that each add budget_005_… stop `git merge` with a conflict in tidemark.sum', async () => {
    const r = await twoBranches({ commission: '2025-01-02T10:00:00Z', removeQuantity: '2025-01-03T10:00:00Z' });
    ws = r.ws;
    assert.notEqual(r.merge.code, 0, 'git merge must not succeed');
    const unmerged = gitOk(ws.dir, ['diff', '--name-only', '--diff-filter=U']).split('\n').filter(Boolean);
    assert.deepEqual(unmerged, [`${BUDGET}/tidemark.sum`]);
    // Both migrations are in the working tree; the doctor names the conflict.
    assert.deepEqual(budgetFiles(ws).slice(4), [COMMISSION, REMOVE_QTY]);
    const v = await verification(ws);
    assert.match(readFileSync(v.file, 'utf8'), /^<<<<<<< /);
    assert.deepEqual([v.missing, v.extra, v.changed], [[], [], []]);
    const found = sumMismatch.check(context([tidemarkService('budget', [], { sum: v })]));
    assert.equal(found[0].message, 'tidemark.sum has a merge conflict at line 1.');
    assert.match(found[0].hint!, /tidemark renumber --service budget/);
  });

  it('renumber in the middle of the conflicted merge keeps the earlier-added 005, moves the other to 006, and the sum is clean', async () => {
    const r = await twoBranches({ commission: '2025-01-02T10:00:00Z', removeQuantity: '2025-01-03T10:00:00Z' });
    ws = r.ws;
    assert.notEqual(r.merge.code, 0);
    const out = await cli(ws.dir, ['renumber', '--service', 'budget']);
    assert.match(out.stdout, /kept\s+budget_005_add_commission_percentage_actual\.sql \(added 2025-01-02T10:00:00Z, git\)/);
    assert.match(out.stdout, /renamed\s+budget_005_remove_quantity_column\.sql → budget_006_remove_quantity_column\.sql \(added 2025-01-03T10:00:00Z, git\)/);
    assert.match(out.stderr, /no database given/);
    assert.deepEqual(budgetFiles(ws).slice(4), [COMMISSION, 'budget_006_remove_quantity_column.sql']);
    assert.ok(sumIsClean(await verification(ws)));
    assert.ok(!existsSync(path.join(ws.dir, '.tidemark')), 'the embedded default database was not created');
    gitOk(ws.dir, ['add', '-A']);
    gitOk(ws.dir, ['commit', '-q', '--no-edit'], '2025-01-05T10:00:00Z');
    assert.equal(gitOk(ws.dir, ['status', '--porcelain']), '');
  });

  it("renumber after the merge was committed uses each file's commit time, not its name", async () => {
    // remove-quantity was committed first this time.
    const r = await twoBranches({ commission: '2025-01-03T10:00:00Z', removeQuantity: '2025-01-02T10:00:00Z' });
    ws = r.ws;
    assert.notEqual(r.merge.code, 0);
    await cli(ws.dir, ['sum']); // a careless resolution: rewrite the sum, commit both 005s
    gitOk(ws.dir, ['add', '-A']);
    gitOk(ws.dir, ['commit', '-q', '--no-edit'], '2025-01-05T10:00:00Z');
    const dry = await renumber({ cwd: ws.dir, service: 'budget', dryRun: true });
    assert.equal(dry.error, undefined);
    assert.equal(dry.renamed, false);
    assert.deepEqual(budgetFiles(ws).slice(4), [COMMISSION, REMOVE_QTY]);
    const result = await renumber({ cwd: ws.dir, service: 'budget' });
    assert.equal(result.error, undefined);
    assert.equal(result.groups.length, 1);
    assert.equal(result.groups[0].kept.id, 'budget_005_remove_quantity_column');
    assert.deepEqual(result.groups[0].kept.addedBy, 'git');
    assert.deepEqual(
      result.moves.map((m) => [m.from.id, m.toId]),
      [['budget_005_add_commission_percentage_actual', 'budget_006_add_commission_percentage_actual']],
    );
    assert.deepEqual(budgetFiles(ws).slice(4), [REMOVE_QTY, 'budget_006_add_commission_percentage_actual.sql']);
    assert.ok(sumIsClean(await verification(ws)));
  });
});

describe('renumber outside git', () => {
  let ws: TempWorkspace | undefined;
  const savedUrl = process.env.DATABASE_URL;
  afterEach(() => {
    ws?.remove();
    ws = undefined;
    if (savedUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = savedUrl;
  });

  it('falls back to mtime, lists requires that name a renamed file, and skips the database check when none is configured', async () => {
    delete process.env.DATABASE_URL;
    ws = makeWorkspace(
      { budget: { owns: ['budget*'] }, report: { requires: ['budget'] } },
      {
        [`${BUDGET}/budget_001_initial.sql`]: sqlMigration('CREATE TABLE budgets (id int);'),
        [`${BUDGET}/budget_002_alpha.sql`]: sqlMigration('ALTER TABLE budgets ADD a int;'),
        [`${BUDGET}/budget_002_zeta.sql`]: sqlMigration('ALTER TABLE budgets ADD z int;'),
        [`${BUDGET}/budget_003_more.sql`]: sqlMigration('ALTER TABLE budgets ADD m int;'),
        'migrations/report/report_001_views.sql': sqlMigration('CREATE VIEW v AS SELECT a FROM budgets;', undefined, '-- tidemark:requires budget_002_alpha\n'),
        'migrations/report/report_002_more.sql': sqlMigration('SELECT 1;', undefined, '-- tidemark:requires budget_002\n'),
      },
    );
    const dir = path.join(ws.dir, BUDGET);
    // zeta is older, so it stays; alpha (later, though first by name) moves.
    utimesSync(path.join(dir, 'budget_002_zeta.sql'), new Date('2025-01-01T00:00:00Z'), new Date('2025-01-01T00:00:00Z'));
    utimesSync(path.join(dir, 'budget_002_alpha.sql'), new Date('2025-02-01T00:00:00Z'), new Date('2025-02-01T00:00:00Z'));
    const result = await renumber({ cwd: ws.dir, service: 'budget' });
    assert.equal(result.error, undefined);
    assert.equal(result.ok, true);
    assert.equal(result.groups[0].kept.id, 'budget_002_zeta');
    assert.equal(result.groups[0].kept.addedBy, 'mtime');
    assert.equal(result.groups[0].kept.addedAt, '2025-01-01T00:00:00.000Z');
    assert.deepEqual(
      result.moves.map((m) => [m.from.id, m.toId, m.toNumber]),
      [['budget_002_alpha', 'budget_004_alpha', 4n]],
    );
    assert.deepEqual(readdirSync(dir).sort(), ['budget_001_initial.sql', 'budget_002_zeta.sql', 'budget_003_more.sql', 'budget_004_alpha.sql', 'tidemark.sum']);
    assert.ok(sumIsClean(await verification(ws)));
    assert.deepEqual(result.database, {
      checked: false,
      reason: 'no database given (--database, DATABASE_URL or the config): could not check that the renamed files are unapplied',
    });
    assert.ok(!existsSync(path.join(ws.dir, '.tidemark')));
    assert.deepEqual(
      result.requiresToEdit.map((e) => [path.basename(e.file), e.line, e.ref, e.renamedTo, e.exact]),
      [
        ['report_001_views.sql', 1, 'budget_002_alpha', 'budget_004_alpha', true],
        ['report_002_more.sql', 1, 'budget_002', 'budget_004_alpha', false],
      ],
    );
    // Nothing left to do: a second run changes nothing.
    const again = await renumber({ cwd: ws.dir, service: 'budget' });
    assert.deepEqual([again.ok, again.moves, again.renamed], [true, [], false]);
  });

  it('`tidemark new` keeps tidemark.sum current, and leaves a sum that was already wrong alone', async () => {
    ws = makeWorkspace({ user: {} });
    const dir = path.join(ws.dir, 'migrations/user');
    await cli(ws.dir, ['new', 'user', 'create users']);
    await cli(ws.dir, ['new', 'user', 'add_email']);
    let v = await readSumVerification('user', dir);
    assert.ok(sumIsClean(v));
    assert.deepEqual(Object.keys(v.lines), ['user_001_create_users.sql', 'user_002_add_email.sql']);
    ws.write('migrations/user/user_001_create_users.sql', sqlMigration('CREATE TABLE users (id int);'));
    const third = JSON.parse((await cli(ws.dir, ['new', 'user', 'add_role', '--json'])).stdout);
    assert.equal(third.sum.updated, false);
    assert.match(third.sum.reason, /did not match the migration files before/);
    v = await readSumVerification('user', dir);
    assert.deepEqual([v.changed, v.missing], [['user_001_create_users.sql'], ['user_003_add_role.sql']]);
    await cli(ws.dir, ['sum']);
    assert.ok(sumIsClean(await readSumVerification('user', dir)));
  });
});

forEachBackend('renumber and the database', (backend) => {
  let db: TestDatabase;
  let ws: TempWorkspace | undefined;
  afterEach(async () => {
    ws?.remove();
    ws = undefined;
    await db?.drop();
  });

  async function setUp() {
    db = await backend.createDatabase();
    ws = makeWorkspace(
      { budget: { owns: ['budget*'] } },
      {
        [`${BUDGET}/budget_001_initial.sql`]: sqlMigration('CREATE TABLE budgets (id int);', 'DROP TABLE budgets;'),
        [`${BUDGET}/budget_002_add_a.sql`]: sqlMigration('ALTER TABLE budgets ADD a int;'),
      },
    );
    const applied = await up({ cwd: ws.dir, database: db.url });
    assert.equal(applied.error, undefined);
    assert.equal(applied.results.length, 2);
    // A branch brings another 002, written before add_a (older mtime): renumber wants to move add_a.
    const b = ws.write(`${BUDGET}/budget_002_add_b.sql`, sqlMigration('ALTER TABLE budgets ADD b int;'));
    utimesSync(b, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    return ws;
  }

  it('refuses, renaming nothing, when the file it would move is applied', async () => {
    const w = await setUp();
    await cli(w.dir, ['sum']);
    const before = readFileSync(path.join(w.dir, BUDGET, 'tidemark.sum'), 'utf8');
    const result = await renumber({ cwd: w.dir, service: 'budget', database: db.url });
    assert.equal(result.ok, false);
    assert.equal(result.error?.code, 'renumber-applied');
    assert.match(result.error!.message, /^budget_002_add_a is already applied in .*; renumbering would leave its ledger naming a file that no longer exists\. Nothing was renamed\.$/);
    assert.equal(result.renamed, false);
    assert.deepEqual(result.database.checked && result.database.applied, ['budget_002_add_a']);
    assert.deepEqual(budgetFiles(w), ['budget_001_initial.sql', 'budget_002_add_a.sql', 'budget_002_add_b.sql']);
    assert.equal(readFileSync(path.join(w.dir, BUDGET, 'tidemark.sum'), 'utf8'), before);
    // The CLI says the same and exits 1.
    const cliRun = await runCli(['renumber', '--service', 'budget', '--database', db.url], w.dir);
    assert.equal(cliRun.code, 1);
    assert.match(cliRun.stderr, /budget_002_add_a is already applied in/);
  });

  it('renames when the file it moves is not applied (DATABASE_URL is honoured)', async () => {
    const w = await setUp();
    // Make add_b the later one: it is not applied, so it may move.
    utimesSync(path.join(w.dir, BUDGET, 'budget_002_add_b.sql'), new Date('2030-01-01T00:00:00Z'), new Date('2030-01-01T00:00:00Z'));
    const r = await runCli(['renumber', '--service', 'budget', '--json'], w.dir, { DATABASE_URL: db.url });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout);
    assert.equal(result.database.checked, true);
    assert.equal(result.database.source, 'env');
    assert.deepEqual(result.database.applied, []);
    assert.deepEqual(budgetFiles(w), ['budget_001_initial.sql', 'budget_002_add_a.sql', 'budget_003_add_b.sql']);
    assert.ok(sumIsClean(await verification(w)));
    const next = await up({ cwd: w.dir, database: db.url });
    assert.equal(next.error, undefined);
    assert.deepEqual(
      next.results.map((s) => s.migration),
      ['budget_003_add_b'],
    );
  });
});
