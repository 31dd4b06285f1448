/**
 * schema/render/changes.ts over literal snapshots: each table-side change (table, column attribute,
 * constraint, index) rendered up and down as exact SQL, in run order; hazards in words; what is not
 * rendered yet refused by name. Round trips on real databases are the DB tests' job.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nameKey } from '../../src/sql/ident.js';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import type { Snapshot, TableInfo } from '../../src/schema/snapshot.js';
import { column, emptySnapshot, table } from './schema-fixtures.js';

function snap(tables: TableInfo[], extra: Partial<Snapshot> = {}): Snapshot {
  return { ...emptySnapshot(), tables, ...extra };
}

function render(from: Snapshot, to: Snapshot) {
  const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
  return { up: r.up.map((s) => s.sql), down: r.down.map((s) => s.sql), hazards: r.hazards.map((h) => `${h.hazard}: ${h.object}: ${h.sentence}`), refused: r.refused };
}

const id = column('id', 'bigint', 1, { notNull: true });
const pk = { name: 'budgets_pkey', kind: 'primary key' as const, definition: 'PRIMARY KEY (id)', validated: true };
const budgets = (extra: Partial<TableInfo> = {}) => table('budgets', { columns: [id, column('title', 'text', 2)], constraints: [pk], ...extra });

describe('renderChanges: tables', () => {
  it('a new table as a baseline writes it, foreign keys and indexes after; down drops it', () => {
    const users = table('users', { columns: [id], constraints: [{ ...pk, name: 'users_pkey' }] });
    const from = snap([users]);
    const to = snap([
      users,
      budgets({
        columns: [id, column('user_id', 'bigint', 2, { notNull: true }), column('title', 'text', 3, { comment: 'shown' })],
        constraints: [pk, { name: 'budgets_user_id_fkey', kind: 'foreign key', definition: 'FOREIGN KEY (user_id) REFERENCES public.users(id)', validated: true }],
        indexes: [{ name: 'budgets_user_id_idx', definition: 'CREATE INDEX budgets_user_id_idx ON public.budgets USING btree (user_id)' }],
        comment: "it's a budget",
      }),
    ]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'CREATE TABLE budgets (\n  id bigint NOT NULL,\n  user_id bigint NOT NULL,\n  title text,\n  CONSTRAINT budgets_pkey PRIMARY KEY (id)\n);',
      'ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);',
      'CREATE INDEX budgets_user_id_idx ON public.budgets USING btree (user_id);',
      "COMMENT ON TABLE budgets IS 'it''s a budget';",
      "COMMENT ON COLUMN budgets.title IS 'shown';",
    ]);
    assert.deepEqual(r.down, ['ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;', 'DROP TABLE budgets;']);
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.hazards, []);
  });

  it('table attributes: logged, options, row level security, replica identity, CLUSTER ON, comment', () => {
    const idx = { name: 'budgets_title_idx', definition: 'CREATE UNIQUE INDEX budgets_title_idx ON public.budgets USING btree (title)' };
    const from = snap([budgets({ indexes: [idx], options: ['fillfactor=90', 'autovacuum_enabled=false'] })]);
    const to = snap([
      budgets({
        indexes: [idx],
        unlogged: true,
        options: ['fillfactor=70'],
        rowSecurity: true,
        forceRowSecurity: true,
        replicaIdentity: { kind: 'index', index: 'budgets_title_idx' },
        clusterOn: 'budgets_title_idx',
        comment: 'x',
      }),
    ]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets SET UNLOGGED;',
      'ALTER TABLE budgets RESET (autovacuum_enabled);',
      'ALTER TABLE budgets SET (fillfactor=70);',
      'ALTER TABLE budgets ENABLE ROW LEVEL SECURITY;',
      'ALTER TABLE budgets FORCE ROW LEVEL SECURITY;',
      'ALTER TABLE budgets REPLICA IDENTITY USING INDEX budgets_title_idx;',
      'ALTER TABLE budgets CLUSTER ON budgets_title_idx;',
      "COMMENT ON TABLE budgets IS 'x';",
    ]);
    assert.deepEqual(r.down, [
      'ALTER TABLE budgets SET LOGGED;',
      'ALTER TABLE budgets SET (fillfactor=90, autovacuum_enabled=false);',
      'ALTER TABLE budgets DISABLE ROW LEVEL SECURITY;',
      'ALTER TABLE budgets NO FORCE ROW LEVEL SECURITY;',
      'ALTER TABLE budgets REPLICA IDENTITY DEFAULT;',
      'ALTER TABLE budgets SET WITHOUT CLUSTER;',
      'COMMENT ON TABLE budgets IS NULL;',
    ]);
  });
});

describe('renderChanges: columns', () => {
  it('added in position order, altered, dropped; the drop is a data-loss hazard, a NOT NULL one without default needs a backfill', () => {
    const from = snap([budgets({ columns: [id, column('title', 'text', 2), column('old', 'text', 3)] })]);
    const to = snap([budgets({ columns: [id, column('title', 'text', 2, { notNull: true }), column('b', 'integer', 4, { notNull: true }), column('a', 'text', 5, { default: "'x'::text" })] })]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets ADD COLUMN b integer NOT NULL;',
      "ALTER TABLE budgets ADD COLUMN a text DEFAULT 'x'::text;",
      'ALTER TABLE budgets ALTER COLUMN title SET NOT NULL;',
      'ALTER TABLE budgets DROP COLUMN old;',
    ]);
    assert.deepEqual(r.hazards, [
      'blocks-writes: column budgets.title: SET NOT NULL reads every row under an ACCESS EXCLUSIVE lock',
      'data-loss: column budgets.old: dropping the column deletes its values',
      'needs-backfill: column budgets.b: a NOT NULL column without a default fails on a table with rows: add it nullable, fill it, then SET NOT NULL',
    ]);
    assert.deepEqual(r.down, [
      'ALTER TABLE budgets ADD COLUMN old text;',
      'ALTER TABLE budgets ALTER COLUMN title DROP NOT NULL;',
      'ALTER TABLE budgets DROP COLUMN b;',
      'ALTER TABLE budgets DROP COLUMN a;',
    ]);
  });

  it("a change's hazard is written above its own statements only, not above another change of the same column", () => {
    const from = snap([budgets({ columns: [id, column('title', 'text', 2, { comment: 'shown' })] })]);
    const to = snap([budgets({ columns: [id, column('title', 'integer', 2)] })]);
    const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
    assert.deepEqual(
      r.up.map((s) => [s.sql, s.hazards.map((h) => h.hazard)]),
      [
        ['ALTER TABLE budgets ALTER COLUMN title TYPE integer USING title::integer;', ['table-rewrite']],
        ['COMMENT ON COLUMN budgets.title IS NULL;', []],
      ],
    );
  });

  it('a type change drops the default around ALTER TYPE … USING and sets it again; collation rides on it', () => {
    const from = snap([budgets({ columns: [id, column('total', 'integer', 2, { default: '0' })] })]);
    const to = snap([budgets({ columns: [id, column('total', 'numeric(12,2)', 2, { default: '0.00' })] })]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets ALTER COLUMN total DROP DEFAULT;',
      'ALTER TABLE budgets ALTER COLUMN total TYPE numeric(12,2) USING total::numeric(12,2);',
      'ALTER TABLE budgets ALTER COLUMN total SET DEFAULT 0.00;',
    ]);
    assert.deepEqual(r.hazards, ['table-rewrite: column budgets.total: the table is rewritten under an ACCESS EXCLUSIVE lock']);
    const c1 = snap([budgets({ columns: [id, column('title', 'text', 2)] })]);
    const c2 = snap([budgets({ columns: [id, column('title', 'text', 2, { collation: '"C"' })] })]);
    assert.deepEqual(render(c1, c2).up, ['ALTER TABLE budgets ALTER COLUMN title TYPE text COLLATE "C";']);
    assert.deepEqual(render(c1, c2).down, ['ALTER TABLE budgets ALTER COLUMN title TYPE text COLLATE "default";']);
  });

  it('defaults, identity, generated, storage, statistics, compression, options, comment', () => {
    const seq = { schema: 'public', name: 'budgets_n_seq', dataType: 'bigint', start: '1', increment: '1', min: '1', max: '9223372036854775807', cache: '1', cycle: false };
    const from = snap([
      budgets({
        columns: [
          id,
          column('d', 'text', 2, { default: "'a'::text" }),
          column('n', 'bigint', 3, { notNull: true }),
          column('g', 'integer', 4, { generated: { expression: '(1 + 1)', kind: 'stored' } }),
          column('s', 'text', 5),
          column('k', 'bigint', 6, { notNull: true, identity: { kind: 'by default', sequence: { ...seq, name: 'budgets_k_seq' } } }),
        ],
      }),
    ]);
    const to = snap([
      budgets({
        columns: [
          id,
          column('d', 'text', 2),
          column('n', 'bigint', 3, { notNull: true, identity: { kind: 'always', sequence: seq } }),
          column('g', 'integer', 4),
          column('s', 'text', 5, { storage: 'EXTERNAL', statistics: 500, compression: 'pglz', options: ['n_distinct=-1'], comment: 'c' }),
          column('k', 'bigint', 6, { notNull: true, identity: { kind: 'always', sequence: { ...seq, name: 'budgets_k_seq', increment: '5', cycle: true } } }),
        ],
      }),
    ]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets ALTER COLUMN d DROP DEFAULT;',
      'ALTER TABLE budgets ALTER COLUMN n ADD GENERATED ALWAYS AS IDENTITY;',
      'ALTER TABLE budgets ALTER COLUMN g DROP EXPRESSION;',
      'ALTER TABLE budgets ALTER COLUMN s SET STORAGE EXTERNAL;',
      'ALTER TABLE budgets ALTER COLUMN s SET STATISTICS 500;',
      'ALTER TABLE budgets ALTER COLUMN s SET COMPRESSION pglz;',
      'ALTER TABLE budgets ALTER COLUMN s SET (n_distinct=-1);',
      'ALTER TABLE budgets ALTER COLUMN k SET GENERATED ALWAYS;',
      'ALTER TABLE budgets ALTER COLUMN k SET INCREMENT BY 5;',
      'ALTER TABLE budgets ALTER COLUMN k SET CYCLE;',
      "COMMENT ON COLUMN budgets.s IS 'c';",
    ]);
    assert.deepEqual(r.refused, [{ object: 'column budgets.s', reason: "column s: back to the type's default storage has no form before PostgreSQL 16" }]);
    const down = render(to, from);
    assert.ok(down.up.includes("ALTER TABLE budgets ALTER COLUMN d SET DEFAULT 'a'::text;"));
    assert.ok(down.up.includes('ALTER TABLE budgets ALTER COLUMN n DROP IDENTITY;'));
    // No SET EXPRESSION on 15: a generated column comes back by being made again.
    assert.deepEqual(
      down.up.filter((s) => s.includes(' g ') || s.endsWith(' g;')),
      ['ALTER TABLE budgets DROP COLUMN g;', 'ALTER TABLE budgets ADD COLUMN g integer GENERATED ALWAYS AS ((1 + 1)) STORED;'],
    );
    assert.ok(down.up.includes('ALTER TABLE budgets ALTER COLUMN s SET STATISTICS -1;'));
    assert.ok(down.up.includes('ALTER TABLE budgets ALTER COLUMN s SET COMPRESSION DEFAULT;'));
    assert.ok(down.up.includes('ALTER TABLE budgets ALTER COLUMN s RESET (n_distinct);'));
    assert.ok(down.up.includes('ALTER TABLE budgets ALTER COLUMN k SET NO CYCLE;'));
  });
});

describe('renderChanges: constraints and indexes', () => {
  const check = { name: 'budgets_title_check', kind: 'check' as const, definition: "CHECK ((title <> ''::text))", validated: true };
  const fk = { name: 'budgets_user_id_fkey', kind: 'foreign key' as const, definition: 'FOREIGN KEY (id) REFERENCES public.users(id)', validated: true };
  const idx = { name: 'budgets_title_idx', definition: 'CREATE INDEX budgets_title_idx ON public.budgets USING btree (title)' };

  it('dropped first (foreign keys before the rest), added after the columns (foreign keys last)', () => {
    const from = snap([budgets({ constraints: [pk, fk] })]);
    const to = snap([budgets({ columns: [id, column('title', 'text', 2), column('extra', 'text', 3)], constraints: [pk, check], indexes: [idx] })]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;',
      'ALTER TABLE budgets ADD COLUMN extra text;',
      "ALTER TABLE budgets ADD CONSTRAINT budgets_title_check CHECK ((title <> ''::text));",
      'CREATE INDEX budgets_title_idx ON public.budgets USING btree (title);',
    ]);
    assert.deepEqual(r.down, [
      'ALTER TABLE budgets DROP CONSTRAINT budgets_title_check;',
      'DROP INDEX budgets_title_idx;',
      'ALTER TABLE budgets DROP COLUMN extra;',
      'ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (id) REFERENCES public.users(id);',
    ]);
  });

  it('an EXCLUDE constraint added to an existing table is written above its blocks-writes hazard, in words of its own', () => {
    const exclude = { name: 'budgets_id_excl', kind: 'exclusion' as const, definition: 'EXCLUDE USING btree (id WITH =)', validated: true };
    const from = snap([budgets()]);
    const to = snap([budgets({ constraints: [pk, exclude] })]);
    const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
    assert.deepEqual(
      r.up.map((s) => [s.sql, s.hazards.map((h) => h.hazard)]),
      [['ALTER TABLE budgets ADD CONSTRAINT budgets_id_excl EXCLUDE USING btree (id WITH =);', ['blocks-writes']]],
    );
    assert.deepEqual(
      r.hazards.map((h) => `${h.hazard}: ${h.object}: ${h.sentence}`),
      ['blocks-writes: constraint budgets_id_excl on budgets: an exclusion constraint has no NOT VALID or concurrent form: its index is built under an ACCESS EXCLUSIVE lock'],
    );
    // Inside a new table it is part of CREATE TABLE: nothing to block.
    assert.deepEqual(render(snap([]), to).hazards, []);
  });

  it('a changed definition is dropped and added again; NOT VALID going away is a VALIDATE; comments', () => {
    const from = snap([budgets({ constraints: [pk, { ...check, definition: "CHECK ((title <> ''::text)) NOT VALID", validated: false }, fk], indexes: [idx] })]);
    const to = snap([
      budgets({
        constraints: [pk, { ...check, comment: 'not empty' }, { ...fk, definition: 'FOREIGN KEY (id) REFERENCES public.users(id) ON DELETE CASCADE' }],
        indexes: [{ ...idx, definition: 'CREATE INDEX budgets_title_idx ON public.budgets USING btree (lower(title))', comment: 'search' }],
      }),
    ]);
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;',
      'DROP INDEX budgets_title_idx;',
      'ALTER TABLE budgets VALIDATE CONSTRAINT budgets_title_check;',
      'ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (id) REFERENCES public.users(id) ON DELETE CASCADE;',
      'CREATE INDEX budgets_title_idx ON public.budgets USING btree (lower(title));',
      "COMMENT ON CONSTRAINT budgets_title_check ON budgets IS 'not empty';",
      "COMMENT ON INDEX budgets_title_idx IS 'search';",
    ]);
    // The way back: NOT VALID cannot be restored in place, so drop and add.
    assert.deepEqual(r.down.slice(0, 3), ['ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;', 'ALTER TABLE budgets DROP CONSTRAINT budgets_title_check;', 'DROP INDEX budgets_title_idx;']);
  });

  it('names that need quoting are quoted, schemas kept', () => {
    const t = (extra: Partial<TableInfo>) => table('Budget Items', { columns: [column('Id', 'bigint', 1)], ...extra }, 'crm');
    const r = render(
      snap([t({})]),
      snap([
        t({ columns: [column('Id', 'bigint', 1), column('select', 'text', 2)], constraints: [{ name: 'Budget Items_pkey', kind: 'primary key', definition: 'PRIMARY KEY ("Id")', validated: true }] }),
      ]),
    );
    assert.deepEqual(r.up, ['ALTER TABLE crm."Budget Items" ADD COLUMN "select" text;', 'ALTER TABLE crm."Budget Items" ADD CONSTRAINT "Budget Items_pkey" PRIMARY KEY ("Id");']);
  });
});

describe('renderChanges: what tidemark cannot reproduce', () => {
  it('is refused by name, both ways, never half-written', () => {
    const from = snap([budgets()]);
    const to = snap([budgets()], { unsupported: [{ kind: 'rule', name: 'keep on budgets', reason: 'CREATE RULE is not reproduced' }] });
    const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(['public.budgets']) });
    assert.deepEqual(r.up, []);
    // Refused both ways (the down would drop it), said once.
    assert.deepEqual(r.refused, [{ object: 'rule keep on budgets', reason: 'a rule is not reproduced by tidemark (baseline refuses it too)' }]);
  });
});
