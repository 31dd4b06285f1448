import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { History, MigrationFile } from '../../src/history/migration.js';
import { diagnoseLedger, type LedgerFact } from '../../src/ledger/diagnose.js';

function mig(id: string): MigrationFile {
  const m = /^(.+)_(\d+)_(.+)$/.exec(id)!;
  return {
    service: m[1],
    id,
    number: BigInt(m[2]),
    slug: m[3],
    file: `/w/${m[1]}/${id}.sql`,
    kind: 'sql',
    checksum: `sum-${id}`,
    transactional: true,
    requires: [],
    up: { text: 'SELECT 1;', line: 2 },
  };
}
const history = (service: string, ...migrations: MigrationFile[]): History => ({ service, migrations, problems: [] });
const row = (m: MigrationFile | string, over: Partial<LedgerFact> = {}): LedgerFact =>
  typeof m === 'string'
    ? { service: m.replace(/_\d+_.*$/, ''), migration: m, checksum: 'x', status: 'applied', ...over }
    : { service: m.service, migration: m.id, checksum: m.checksum, status: 'applied', ...over };
const states = (d: { migrations: { id: string; state: string }[] }) => d.migrations.map((x) => `${x.id}:${x.state}`);

const u1 = mig('user_001_init');
const u2 = mig('user_002_role');
const u3 = mig('user_003_index');
const u10 = mig('user_010_late');

describe('diagnoseLedger', () => {
  it('an empty ledger: everything pending, nothing recorded', () => {
    const d = diagnoseLedger(history('user', u1, u2), []);
    assert.deepEqual(states(d), ['user_001_init:pending', 'user_002_role:pending']);
    assert.deepEqual(d.recorded, []);
    assert.equal(d.highestApplied, undefined);
    assert.equal(d.highestRecorded, undefined);
    assert.deepEqual(d.late, []);
  });

  it('tells applied, failed, drift, pending and missing-file apart, and carries the row', () => {
    const failed = row(u2, { status: 'failed' });
    const d = diagnoseLedger(history('user', u1, u2, u3), [row(u1, { checksum: 'edited' }), failed, row('user_004_gone')]);
    assert.deepEqual(states(d), ['user_001_init:drift', 'user_002_role:failed', 'user_003_index:pending', 'user_004_gone:missing-file']);
    assert.equal(d.migrations[1].row, failed);
    assert.equal(d.migrations[2].row, undefined);
    assert.equal(d.migrations[3].file, undefined);
    assert.equal(d.migrations[0].file, u1);
  });

  it('a failed row whose checksum also differs is failed, not drift (failed wins, as up and status say)', () => {
    const d = diagnoseLedger(history('user', u1), [row(u1, { status: 'failed', checksum: 'other' })]);
    assert.deepEqual(states(d), ['user_001_init:failed']);
  });

  it('reads only its own service from a mixed ledger', () => {
    const b1 = mig('budget_001_init');
    const rows = [row(b1, { checksum: 'edited' }), row('budget_009_gone'), row(u1), row('user_002_role', { service: 'user', checksum: 'sum-user_002_role' })];
    const d = diagnoseLedger(history('user', u1, u2, u3), rows);
    assert.deepEqual(states(d), ['user_001_init:applied', 'user_002_role:applied', 'user_003_index:pending']);
    assert.deepEqual(
      d.recorded.map((x) => x.id),
      ['user_001_init', 'user_002_role'],
    );
    const b = diagnoseLedger(history('budget', b1), rows);
    assert.deepEqual(states(b), ['budget_001_init:drift', 'budget_009_gone:missing-file']);
  });

  it('a service whose name prefixes another (user, user_admin) does not take its rows', () => {
    const a1 = mig('user_admin_001_init');
    const d = diagnoseLedger(history('user', u1), [{ service: 'user_admin', migration: a1.id, checksum: a1.checksum, status: 'applied' }]);
    assert.deepEqual(states(d), ['user_001_init:pending']);
  });

  it('a lower number not applied below an applied one is out-of-order, and late', () => {
    const d = diagnoseLedger(history('user', u1, u2, u3, u10), [row(u1), row(u10)]);
    assert.deepEqual(states(d), ['user_001_init:applied', 'user_002_role:out-of-order', 'user_003_index:out-of-order', 'user_010_late:applied']);
    assert.equal(d.highestApplied, u10);
    assert.equal(d.highestRecorded, u10);
    assert.deepEqual(
      d.late.map((x) => x.id),
      ['user_002_role', 'user_003_index'],
    );
  });

  it('below a FAILED highest: pending for status and up (out-of-order counts applied rows), late for check', () => {
    const d = diagnoseLedger(history('user', u1, u2, u3), [row(u1), row(u3, { status: 'failed' })]);
    assert.deepEqual(states(d), ['user_001_init:applied', 'user_002_role:pending', 'user_003_index:failed']);
    assert.equal(d.highestApplied, u1);
    assert.equal(d.highestRecorded, u3);
    assert.deepEqual(
      d.late.map((x) => x.id),
      ['user_002_role'],
    );
  });

  it('a drifted row still counts as applied for the order (status and up agree)', () => {
    const d = diagnoseLedger(history('user', u1, u2, u3), [row(u3, { checksum: 'edited' })]);
    assert.deepEqual(states(d), ['user_001_init:out-of-order', 'user_002_role:out-of-order', 'user_003_index:drift']);
    assert.equal(d.highestApplied, u3);
  });

  it('a row without a file neither raises the highest applied nor makes others late', () => {
    const d = diagnoseLedger(history('user', u1, u2), [row(u1), row('user_009_gone')]);
    assert.deepEqual(states(d), ['user_001_init:applied', 'user_002_role:pending', 'user_009_gone:missing-file']);
    assert.equal(d.highestApplied, u1);
    assert.deepEqual(d.late, []);
  });

  it('recorded keeps ledger order (refusals and rules report the first row the ledger lists)', () => {
    const rows = [row(u3, { checksum: 'e3' }), row('user_000_gone'), row(u1, { status: 'failed' })];
    const d = diagnoseLedger(history('user', u1, u2, u3), rows);
    assert.deepEqual(
      d.recorded.map((x) => `${x.id}:${x.state}`),
      ['user_003_index:drift', 'user_000_gone:missing-file', 'user_001_init:failed'],
    );
    // files first in history order, then the rows without a file
    assert.deepEqual(states(d), ['user_001_init:failed', 'user_002_role:out-of-order', 'user_003_index:drift', 'user_000_gone:missing-file']);
  });

  it('numbers compare as numbers, not text (user_010 is above user_003)', () => {
    const d = diagnoseLedger(history('user', u3, u10), [row(u10)]);
    assert.deepEqual(states(d), ['user_003_index:out-of-order', 'user_010_late:applied']);
    const e = diagnoseLedger(history('user', u3, u10), [row(u3)]);
    assert.deepEqual(states(e), ['user_003_index:applied', 'user_010_late:pending']);
  });

  it('is pure: it does not change its inputs', () => {
    const rows = Object.freeze([Object.freeze(row(u1))]);
    const h = history('user', u1, u2);
    Object.freeze(h.migrations);
    const d = diagnoseLedger(h, rows);
    assert.deepEqual(states(d), ['user_001_init:applied', 'user_002_role:pending']);
  });
});

describe('diagnoseLedger: a squash (-- tidemark:squashes) against the ledger', () => {
  // user_001 and user_002 squashed into user_002_squashed (their files moved to squashed/), user_003 after it.
  const squash: MigrationFile = { ...mig('user_002_squashed'), squashes: ['user_001_init', 'user_002_role'] };
  const h = history('user', squash, u3);
  const recordedStates = (d: { recorded: { id: string; state: string }[] }) => d.recorded.map((x) => `${x.id}:${x.state}`);

  it('every squashed id applied: the squash is applied without a row, their rows are squashed, not missing', () => {
    const d = diagnoseLedger(h, [row('user_001_init'), row('user_002_role')]);
    assert.deepEqual(states(d), ['user_002_squashed:applied', 'user_003_index:pending']);
    assert.deepEqual(recordedStates(d), ['user_001_init:squashed', 'user_002_role:squashed']);
    assert.equal(d.recorded[0].state === 'squashed' && d.recorded[0].by, squash);
    assert.equal(d.migrations[0].row, undefined);
    assert.deepEqual(d.migrations[0].state !== 'missing-file' && d.migrations[0].squash, { applied: ['user_001_init', 'user_002_role'], missing: [] });
    assert.equal(d.highestApplied, squash);
    assert.deepEqual(d.late, []);
  });

  it('none applied: the squash is pending like any new migration', () => {
    const d = diagnoseLedger(h, []);
    assert.deepEqual(states(d), ['user_002_squashed:pending', 'user_003_index:pending']);
    assert.equal('squash' in d.migrations[0], false);
  });

  it('part applied (or one failed): partial, naming what is applied and what is not', () => {
    const d = diagnoseLedger(h, [row('user_001_init')]);
    assert.deepEqual(states(d), ['user_002_squashed:partial', 'user_003_index:pending']);
    assert.deepEqual(d.migrations[0].state !== 'missing-file' && d.migrations[0].squash, { applied: ['user_001_init'], missing: ['user_002_role'] });
    assert.deepEqual(recordedStates(d), ['user_001_init:squashed']);
    const failed = diagnoseLedger(h, [row('user_001_init'), row('user_002_role', { status: 'failed' })]);
    assert.equal(failed.migrations[0].state, 'partial');
  });

  it('the squash recorded itself: applied by its own row, the squashed rows stay squashed', () => {
    const d = diagnoseLedger(h, [row('user_001_init'), row('user_002_role'), row(squash), row(u3)]);
    assert.deepEqual(states(d), ['user_002_squashed:applied', 'user_003_index:applied']);
    assert.deepEqual(recordedStates(d), ['user_001_init:squashed', 'user_002_role:squashed', 'user_002_squashed:applied', 'user_003_index:applied']);
    assert.equal('squash' in d.migrations[0], false);
  });

  it('a later migration applied over a squash applied through its ids is in order; a row of an id nobody squashes is still missing-file', () => {
    const d = diagnoseLedger(h, [row('user_001_init'), row('user_002_role'), row(u3), row('user_000_gone')]);
    assert.deepEqual(states(d), ['user_002_squashed:applied', 'user_003_index:applied', 'user_000_gone:missing-file']);
    assert.deepEqual(d.late, []);
    assert.equal(d.highestRecorded, u3);
  });
});
