import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASE, planDown, planUp } from '../../src/apply/plan.js';
import { TidemarkError } from '../../src/errors.js';
import type { History, MigrationFile } from '../../src/history/migration.js';
import type { LedgerRow } from '../../src/ledger/ledger.js';
import { cpuNow } from '../support/cpu-time.js';

function mig(id: string, opts: { requires?: string[]; down?: boolean; transactional?: boolean } = {}): MigrationFile {
  const m = /^(.+)_(\d+)_(.+)$/.exec(id)!;
  return {
    service: m[1],
    id,
    number: BigInt(m[2]),
    slug: m[3],
    file: `/w/${m[1]}/${id}.sql`,
    kind: 'sql',
    checksum: `sum-${id}`,
    transactional: opts.transactional ?? true,
    requires: (opts.requires ?? []).map((ref) => ({ ref, line: 1 })),
    up: { text: 'SELECT 1;', line: 2 },
    down: opts.down === false ? undefined : { text: 'SELECT 2;', line: 4 },
  };
}
const history = (service: string, ...migrations: MigrationFile[]): History => ({ service, migrations, problems: [] });
const row = (m: MigrationFile, over: Partial<LedgerRow> = {}): LedgerRow => ({
  service: m.service,
  migration: m.id,
  checksum: m.checksum,
  status: 'applied',
  appliedAt: new Date(0),
  durationMs: 1,
  appliedBy: 'test',
  toolVersion: '0',
  error: null,
  ...over,
});

const u1 = mig('user_001_init');
const u2 = mig('user_002_role');
const u3 = mig('user_003_index');
const b1 = mig('budget_001_init', { requires: ['user_001_init'] });
const b2 = mig('budget_002_owner', { requires: ['user_003'] });
const histories = [history('user', u1, u2, u3), history('budget', b1, b2)];
const declaredRequires = { user: [], budget: ['user'] };
const ids = (p: { steps: { migration: MigrationFile }[] }) => p.steps.map((s) => s.migration.id);

function throwsCode(fn: () => unknown, code: string, message?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('planUp', () => {
  it('orders all services so each requirement comes first', () => {
    const plan = planUp({ histories, ledger: [], services: ['user', 'budget'], declaredRequires });
    assert.deepEqual(ids(plan), ['user_001_init', 'user_002_role', 'user_003_index', 'budget_001_init', 'budget_002_owner']);
  });
  it('interleaves when a later service is declared first', () => {
    const plan = planUp({ histories: [histories[1], histories[0]], ledger: [], services: ['budget', 'user'], declaredRequires });
    assert.deepEqual(ids(plan), ['user_001_init', 'budget_001_init', 'user_002_role', 'user_003_index', 'budget_002_owner']);
  });
  it('skips applied migrations and stops at --to', () => {
    const plan = planUp({ histories, ledger: [row(u1)], services: ['user', 'budget'], declaredRequires, to: 'user_002' });
    assert.deepEqual(ids(plan), ['user_002_role']);
  });
  it('is empty when everything is applied', () => {
    const ledger = [u1, u2, u3, b1, b2].map((m) => row(m));
    assert.deepEqual(ids(planUp({ histories, ledger, services: ['user', 'budget'], declaredRequires })), []);
  });
  it('refuses one service whose requirement is not applied', () => {
    throwsCode(() => planUp({ histories, ledger: [row(u1)], services: ['budget'], declaredRequires }), 'requirement-not-applied', /budget_002_owner requires user_003_index, which is not applied/);
  });
  it('refuses an edited applied file, naming it', () => {
    throwsCode(
      () => planUp({ histories, ledger: [row(u1, { checksum: 'other' })], services: ['user'], declaredRequires }),
      'checksum-drift',
      /\/w\/user\/user_001_init\.sql was edited after it was applied/,
    );
  });
  it('refuses a lower number added after a higher one was applied', () => {
    throwsCode(
      () => planUp({ histories, ledger: [row(u1), row(u3)], services: ['user'], declaredRequires }),
      'pending-before-applied',
      /user_002_role is not applied but user_003_index, a later number, already is/,
    );
  });
  it('refuses to go on past a failed no-transaction migration and says how to resolve it', () => {
    throwsCode(() => planUp({ histories, ledger: [row(u1), row(u2, { status: 'failed' })], services: ['user'], declaredRequires }), 'failed-migration', /user_002_role failed on an earlier run/);
  });
  it('warns about applied migrations whose file is gone', () => {
    const plan = planUp({ histories, ledger: [row(mig('user_009_gone'))], services: ['user'], declaredRequires });
    assert.equal(plan.warnings[0].rule, 'applied-missing');
  });
  it('refuses a requirement on a service not declared in requires', () => {
    throwsCode(() => planUp({ histories, ledger: [], services: ['budget'], declaredRequires: { budget: [] } }), 'undeclared-requirement');
  });
  it('refuses an unknown requirement with file and line', () => {
    const h = [history('user', u1), history('budget', mig('budget_001_x', { requires: ['user_007'] }))];
    throwsCode(() => planUp({ histories: h, ledger: [], services: ['budget'], declaredRequires }), 'unknown-requirement', /budget_001_x\.sql:1: .*user_007/);
  });
  it('refuses a requirement cycle', () => {
    const h = [history('user', mig('user_001_a', { requires: ['budget_001_a'] })), history('budget', mig('budget_001_a', { requires: ['user_001_a'] }))];
    throwsCode(() => planUp({ histories: h, ledger: [], services: ['user', 'budget'], declaredRequires: { user: ['budget'], budget: ['user'] } }), 'requirement-cycle');
  });
  it('refuses an unknown --to', () => {
    throwsCode(() => planUp({ histories, ledger: [], services: ['user'], declaredRequires, to: 'user_042' }), 'unknown-target');
  });
  it('handles 10,000 migrations quickly', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => mig(`big_${String(i + 1).padStart(5, '0')}_m`));
    const started = cpuNow();
    const plan = planUp({ histories: [history('big', ...many)], ledger: many.slice(0, 5000).map((m) => row(m)), services: ['big'], declaredRequires: {} });
    assert.equal(plan.steps.length, 5000);
    assert.ok(cpuNow() - started < 1000);
  });
});

describe('planDown', () => {
  const ledger = [row(u1), row(u2), row(u3)];
  it('reverts newest first down to --to', () => {
    assert.deepEqual(ids(planDown({ histories: [histories[0]], ledger, service: 'user', to: 'user_001' })), ['user_003_index', 'user_002_role']);
  });
  it('reverts --steps and to base', () => {
    assert.deepEqual(ids(planDown({ histories: [histories[0]], ledger, service: 'user', steps: 1 })), ['user_003_index']);
    assert.equal(planDown({ histories: [histories[0]], ledger, service: 'user', to: BASE }).steps.length, 3);
  });
  it('refuses a migration without a down section', () => {
    const h = [history('user', u1, mig('user_002_role', { down: false }))];
    throwsCode(() => planDown({ histories: h, ledger: [row(u1), row(h[0].migrations[1])], service: 'user', steps: 1 }), 'no-down-section');
  });
  it('refuses to revert what an applied migration of another service requires', () => {
    throwsCode(
      () => planDown({ histories, ledger: [...ledger, row(b1), row(b2)], service: 'user', to: 'user_002' }),
      'required-by-applied',
      /Cannot revert user_003_index: budget_002_owner of budget requires it/,
    );
  });
  it('refuses to revert nothing, or more than is applied (exit 2, nothing reverted)', () => {
    throwsCode(() => planDown({ histories: [histories[0]], ledger: [], service: 'user', steps: 1 }), 'nothing-to-revert', /no migration of user is applied/);
    throwsCode(() => planDown({ histories: [histories[0]], ledger: [], service: 'user', to: BASE }), 'nothing-to-revert');
    throwsCode(() => planDown({ histories: [histories[0]], ledger, service: 'user', to: 'user_003' }), 'nothing-to-revert', /above user_003/);
    throwsCode(() => planDown({ histories: [histories[0]], ledger, service: 'user', steps: 4 }), 'too-few-applied', /only 3 are applied/);
  });
  it('needs exactly one of to and steps', () => {
    throwsCode(() => planDown({ histories, ledger, service: 'user' }), 'bad-usage');
  });
});

describe('planUp and status agree with ledger/diagnose', () => {
  it('below a failed highest row, up refuses the failed migration (not pending-before-applied)', () => {
    throwsCode(() => planUp({ histories, ledger: [row(u1), row(u3, { status: 'failed' })], services: ['user'], declaredRequires }), 'failed-migration', /^user_003_index failed on an earlier run/);
  });

  it('refuses the first failed or edited row in ledger order', () => {
    throwsCode(
      () => planUp({ histories, ledger: [row(u2, { checksum: 'edited' }), row(u1, { status: 'failed' })], services: ['user'], declaredRequires }),
      'checksum-drift',
      /user_002_role\.sql was edited/,
    );
    throwsCode(() => planUp({ histories, ledger: [row(u1, { status: 'failed' }), row(u2, { checksum: 'edited' })], services: ['user'], declaredRequires }), 'failed-migration');
  });

  it('a row without a file is a warning for up and a refusal for down, in ledger order', () => {
    const gone = { ...row(u1), migration: 'user_009_gone' };
    const plan = planUp({ histories, ledger: [row(u1), gone], services: ['user'], declaredRequires });
    assert.deepEqual(
      plan.warnings.map((w) => w.message),
      ["user_009_gone is applied in the database but its file is not in user's migrations directory."],
    );
    assert.deepEqual(ids(plan), ['user_002_role', 'user_003_index'], 'the missing row does not make 002 and 003 late');
    throwsCode(() => planDown({ histories, ledger: [row(u1), gone], service: 'user', steps: 1 }), 'applied-missing', /^Cannot revert user_009_gone/);
  });
});

describe('planUp and planDown with a squash', () => {
  const squash: MigrationFile = { ...mig('user_002_squashed'), squashes: ['user_001_init', 'user_002_role'] };
  const squashed = [history('user', squash, u3)];
  const up = (ledger: LedgerRow[]) => planUp({ histories: squashed, ledger, services: ['user'], declaredRequires: { user: [] } });

  it('a database with every squashed id applied runs only what follows the squash, with no warning', () => {
    const plan = up([row(u1), row(u2)]);
    assert.deepEqual(ids(plan), ['user_003_index']);
    assert.deepEqual(plan.warnings, []);
  });

  it('a new database runs the squash, not the migrations it replaces', () => {
    assert.deepEqual(ids(up([])), ['user_002_squashed', 'user_003_index']);
  });

  it('refuses a database that applied part of what the squash replaces: squash-partially-applied', () => {
    assert.throws(
      () => up([row(u1)]),
      (e: unknown) =>
        e instanceof TidemarkError &&
        e.code === 'squash-partially-applied' &&
        e.migration === 'user_002_squashed' &&
        e.service === 'user' &&
        e.message === 'user_002_squashed squashes migrations of which this database applied only part: user_001_init applied, user_002_role not.',
    );
  });

  it('down reverts what follows the squash, then the squash whole, taking the squashed rows with it', () => {
    const ledger = [row(u1), row(u2), row(u3)];
    assert.deepEqual(ids(planDown({ histories: squashed, ledger, service: 'user', to: 'user_002_squashed' })), ['user_003_index']);
    const all = planDown({ histories: squashed, ledger, service: 'user', to: BASE });
    assert.deepEqual(
      all.steps.map((s) => [s.migration.id, s.squashedRows]),
      [
        ['user_003_index', undefined],
        ['user_002_squashed', ['user_001_init', 'user_002_role']],
      ],
    );
    // The squash counts as one step, as it runs as one.
    assert.deepEqual(ids(planDown({ histories: squashed, ledger, service: 'user', steps: 2 })), ['user_003_index', 'user_002_squashed']);
    // Applied as itself on a new database: its own row, nothing more to remove.
    assert.deepEqual(
      planDown({ histories: squashed, ledger: [row(squash)], service: 'user', steps: 1 }).steps.map((s) => [s.migration.id, s.squashedRows]),
      [['user_002_squashed', undefined]],
    );
    throwsCode(() => planDown({ histories: squashed, ledger, service: 'user', to: 'user_001' }), 'unknown-target', /^Cannot revert to user_001: user_002_squashed squashes it/);
  });

  it('down refuses a squash of which the database applied only part: its down would drop what was never created', () => {
    throwsCode(() => planDown({ histories: squashed, ledger: [row(u1)], service: 'user', to: BASE }), 'squash-partially-applied', /user_001_init applied, user_002_role not; its down/);
  });
});
