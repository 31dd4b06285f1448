import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rule as alembicContamination } from '../../../src/check/rules/alembic-version-contamination.js';
import { rule as appliedMissing } from '../../../src/check/rules/applied-missing.js';
import { rule as checksumDrift } from '../../../src/check/rules/checksum-drift.js';
import { rule as foreignLedgerRows } from '../../../src/check/rules/foreign-ledger-rows.js';
import { rule as pendingBeforeApplied } from '../../../src/check/rules/pending-before-applied.js';
import { rule as unownedObject } from '../../../src/check/rules/unowned-object.js';
import { alembicService, applied, context, rev, tidemarkMigration as m, tidemarkService, withDatabase } from './fixtures.js';

const user = tidemarkService('user', [m('user', 1, 'init'), m('user', 2, 'role'), m('user', 3, 'index')], { owns: ['users'] });

describe('checksum-drift', () => {
  it('ok when checksums match; reports an edited applied file', () => {
    assert.deepEqual(checksumDrift.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init')] })), []);
    const found = checksumDrift.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init', 'other')] }));
    assert.equal(found.length, 1);
    assert.equal(found[0].message, '/w/migrations/user/user_001_init.sql was edited after it was applied to postgres://db/x.');
  });
});

describe('applied-missing', () => {
  it('ok when every applied row has a file; reports one that has none', () => {
    assert.deepEqual(appliedMissing.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init')] })), []);
    const found = appliedMissing.check(withDatabase(context([user]), { ledger: [applied('user', 'user_009_gone')] }));
    assert.equal(found[0].message, "user_009_gone is applied in postgres://db/x but has no file in user's migrations directory.");
  });
});

describe('pending-before-applied', () => {
  it('ok for a plain pending tail; reports a lower number merged late', () => {
    assert.deepEqual(pendingBeforeApplied.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init')] })), []);
    const found = pendingBeforeApplied.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init'), applied('user', 'user_003_index')] }));
    assert.equal(found.length, 1);
    assert.equal(found[0].message, 'user_002_role is not applied in postgres://db/x, but user_003_index, a later number, is.');
    assert.equal(found[0].file, '/w/migrations/user/user_002_role.sql');
  });
});

describe('foreign-ledger-rows', () => {
  it('ok for declared services; reports rows of an undeclared one, once per service', () => {
    assert.deepEqual(foreignLedgerRows.check(withDatabase(context([user]), { ledger: [applied('user', 'user_001_init')] })), []);
    const found = foreignLedgerRows.check(withDatabase(context([user]), { ledger: [applied('billing', 'billing_001_a'), applied('billing', 'billing_002_b')] }));
    assert.deepEqual(
      found.map((d) => d.message),
      ['tidemark.applied in postgres://db/x has 2 rows for service billing, which the config does not declare.'],
    );
  });
});

describe('unowned-object', () => {
  const ctx = context([user], { users: 'user' });
  it('ok when every table is owned; reports the others', () => {
    assert.deepEqual(unownedObject.check(withDatabase(ctx, { tables: [{ schema: 'public', name: 'users' }] })), []);
    const found = unownedObject.check(
      withDatabase(ctx, {
        tables: [
          { schema: 'public', name: 'users' },
          { schema: 'public', name: 'temp_import' },
        ],
      }),
    );
    assert.deepEqual(
      found.map((d) => d.message),
      ['Table temp_import in postgres://db/x is owned by no service.'],
    );
  });
  it('says nothing when no service declares owns (no ownership to compare with)', () => {
    assert.deepEqual(unownedObject.check(withDatabase(context([{ ...user, owns: [] }]), { tables: [{ schema: 'public', name: 'x' }] })), []);
  });
});

describe('alembic-version-contamination', () => {
  const userSvc = alembicService('user_service', [rev('user_service', '001'), rev('user_service', '1f4f4176aeb7', ['001'])], { versionTable: 'alembic_version' });
  const budgetSvc = alembicService('budget_service', [rev('budget_service', '004'), rev('budget_service', '005', ['004'])], { versionTable: 'alembic_version' });
  it('ok with one version table per service holding its own rows', () => {
    const ctx = context([
      { ...userSvc, versionTable: 'alembic_version_user_service' },
      { ...budgetSvc, versionTable: 'alembic_version_budget_service' },
    ]);
    const facts = {
      alembicVersions: [
        { table: 'alembic_version_user_service', versionNum: '1f4f4176aeb7' },
        { table: 'alembic_version_budget_service', versionNum: '005' },
      ],
    };
    assert.deepEqual(alembicContamination.check(withDatabase(ctx, facts)), []);
  });
  it('reports each row of a shared table, and rows of no service', () => {
    const facts = {
      alembicVersions: [
        { table: 'alembic_version', versionNum: '1f4f4176aeb7' },
        { table: 'alembic_version', versionNum: '005' },
        { table: 'alembic_version', versionNum: 'fix_2025_contamination' },
      ],
    };
    const found = alembicContamination.check(withDatabase(context([userSvc, budgetSvc]), facts));
    assert.deepEqual(
      found.map((d) => d.message),
      [
        'alembic_version is shared by user_service, budget_service: its row 1f4f4176aeb7 belongs to user_service, so budget_service reads it as its own.',
        'alembic_version is shared by user_service, budget_service: its row 005 belongs to budget_service, so user_service reads it as its own.',
        "alembic_version holds revision fix_2025_contamination, which no service's directory defines.",
      ],
    );
  });
});

describe('files versus ledger: the three rules and the distinctions they keep', () => {
  it('below a FAILED highest row: pending-before-applied still reports it (any row counts), checksum-drift ignores the failed row', () => {
    const ledger = [applied('user', 'user_001_init'), applied('user', 'user_003_index', 'other', 'failed')];
    const found = pendingBeforeApplied.check(withDatabase(context([user]), { ledger }));
    assert.deepEqual(
      found.map((d) => d.message),
      ['user_002_role is not applied in postgres://db/x, but user_003_index, a later number, is.'],
    );
    assert.deepEqual(checksumDrift.check(withDatabase(context([user]), { ledger })), []);
  });

  it('reports in ledger order, one service at a time, only its own rows', () => {
    const budget = tidemarkService('budget', [m('budget', 1, 'init')]);
    const ctx = withDatabase(context([user, budget]), {
      ledger: [applied('budget', 'budget_001_init', 'x'), applied('user', 'user_003_index', 'y'), applied('user', 'user_001_init', 'z'), applied('user', 'user_000_gone')],
    });
    assert.deepEqual(
      checksumDrift.check(ctx).map((d) => `${d.service}:${d.file}`),
      ['user:/w/migrations/user/user_003_index.sql', 'user:/w/migrations/user/user_001_init.sql', 'budget:/w/migrations/budget/budget_001_init.sql'],
    );
    assert.deepEqual(
      appliedMissing.check(ctx).map((d) => d.message),
      ["user_000_gone is applied in postgres://db/x but has no file in user's migrations directory."],
    );
    assert.deepEqual(
      pendingBeforeApplied.check(ctx).map((d) => d.message),
      ['user_002_role is not applied in postgres://db/x, but user_003_index, a later number, is.'],
    );
  });

  it('without a database the three say nothing', () => {
    for (const r of [checksumDrift, appliedMissing, pendingBeforeApplied]) assert.deepEqual(r.check(context([user])), []);
  });
});

describe('files versus ledger after a squash: the three rules stay quiet for squashed rows and still fire for real problems', () => {
  const squash = { ...m('user', 2, 'squashed'), squashes: ['user_001_init', 'user_002_role'] };
  const squashedUser = tidemarkService('user', [squash, m('user', 3, 'index')], { owns: ['users'] });
  const rules = [checksumDrift, appliedMissing, pendingBeforeApplied];
  const run = (ledger: ReturnType<typeof applied>[]) => rules.flatMap((r) => r.check(withDatabase(context([squashedUser]), { ledger })));

  it('squashed rows (any checksum) and a later migration applied over them: nothing to report', () => {
    assert.deepEqual(run([applied('user', 'user_001_init', 'old-sum'), applied('user', 'user_002_role'), applied('user', 'user_003_index')]), []);
    assert.deepEqual(run([applied('user', 'user_001_init'), applied('user', 'user_002_role'), applied('user', 'user_002_squashed')]), []);
  });

  it('an edited later file, a row nobody squashes and a migration merged below the squash are still reported', () => {
    const lower = tidemarkService('user', [m('user', 1, 'hotfix'), squash, m('user', 3, 'index')], { owns: ['users'] });
    const found = [checksumDrift, appliedMissing, pendingBeforeApplied].flatMap((r) =>
      r.check(
        withDatabase(context([lower]), { ledger: [applied('user', 'user_001_init'), applied('user', 'user_002_role'), applied('user', 'user_003_index', 'edited'), applied('user', 'user_000_gone')] }),
      ),
    );
    assert.deepEqual(
      found.map((d) => d.rule),
      ['checksum-drift', 'applied-missing', 'pending-before-applied'],
    );
    assert.match(found[2].message, /^user_001_hotfix is not applied in postgres:\/\/db\/x, but user_003_index, a later number, is\.$/);
  });
});
