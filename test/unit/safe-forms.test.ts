/**
 * schema/render/safe.ts over literal snapshots: renderChanges' plain statements on a table that
 * exists become CONCURRENTLY / NOT VALID forms in their phases, with downs that undo each file in
 * turn (validate file first); a new table keeps the plain form. Exact SQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import { draftMigrations } from '../../src/schema/render/drafts.js';
import { notNullCheckName, safeForms } from '../../src/schema/render/safe.js';
import type { Snapshot, TableInfo, TypeInfo } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { column, emptySnapshot, table } from './schema-fixtures.js';

const snap = (tables: TableInfo[]): Snapshot => ({ ...emptySnapshot(), tables });

function safe(from: Snapshot, to: Snapshot) {
  const ctx = { from, to, existingTables: new Set(from.tables.map(nameKey)) };
  const r = safeForms(renderChanges(diff(from, to), ctx), ctx);
  const show = (s: { phase: string; sql: string; concurrently?: boolean }) => `${s.phase}${s.concurrently ? '!' : ''}: ${s.sql}`;
  return { up: r.up.map(show), down: r.down.map(show), hazards: r.hazards.map((h) => h.hazard) };
}

const id = column('id', 'bigint', 1, { notNull: true });
const title = column('title', 'text', 2);
const userId = column('user_id', 'bigint', 3);
const pk = { name: 'budgets_pkey', kind: 'primary key' as const, definition: 'PRIMARY KEY (id)', validated: true };
const budgets = (extra: Partial<TableInfo> = {}) => table('budgets', { columns: [id, title, userId], constraints: [pk], ...extra });
const users = table('users', { columns: [id], constraints: [{ ...pk, name: 'users_pkey' }] });

describe('safeForms', () => {
  it('an index added to an existing table is built CONCURRENTLY, and dropped so in its down', () => {
    const idx = { name: 'budgets_title_idx', definition: 'CREATE UNIQUE INDEX budgets_title_idx ON public.budgets USING btree (title)' };
    const r = safe(snap([budgets()]), snap([budgets({ indexes: [idx] })]));
    assert.deepEqual(r.up, ['concurrent!: CREATE UNIQUE INDEX CONCURRENTLY budgets_title_idx ON public.budgets USING btree (title);']);
    assert.deepEqual(r.down, ['concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_title_idx;']);
  });

  it('a replaced index: the old one dropped CONCURRENTLY before the main file, the new one built CONCURRENTLY after', () => {
    const idx = (cols: string) => ({ name: 'budgets_title_idx', definition: `CREATE INDEX budgets_title_idx ON public.budgets USING btree (${cols})` });
    const r = safe(snap([budgets({ indexes: [idx('title')] })]), snap([budgets({ indexes: [idx('title, user_id')] })]));
    assert.deepEqual(r.up, [
      'drop-concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_title_idx;',
      'concurrent!: CREATE INDEX CONCURRENTLY budgets_title_idx ON public.budgets USING btree (title, user_id);',
    ]);
    assert.deepEqual(r.down, [
      'concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_title_idx;',
      'drop-concurrent!: CREATE INDEX CONCURRENTLY budgets_title_idx ON public.budgets USING btree (title);',
    ]);
  });

  it('an index dropped from an existing table (with the column it reads): DROP INDEX CONCURRENTLY first, built again CONCURRENTLY last in the down', () => {
    const idx = { name: 'budgets_user_id_idx', definition: 'CREATE INDEX budgets_user_id_idx ON public.budgets USING btree (user_id)' };
    const r = safe(snap([budgets({ indexes: [idx] })]), snap([budgets({ columns: [id, title] })]));
    assert.deepEqual(r.up, ['drop-concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_user_id_idx;', 'main: ALTER TABLE budgets DROP COLUMN user_id;']);
    assert.deepEqual(r.down, ['main: ALTER TABLE budgets ADD COLUMN user_id bigint;', 'drop-concurrent!: CREATE INDEX CONCURRENTLY budgets_user_id_idx ON public.budgets USING btree (user_id);']);
    // Cut into files: the drop first (its own no-transaction file), then the main file; downs run in reverse.
    const from = snap([budgets({ indexes: [idx] })]);
    const ctx = { from, to: snap([budgets({ columns: [id, title] })]), existingTables: new Set(from.tables.map(nameKey)) };
    const drafts = draftMigrations(safeForms(renderChanges(diff(ctx.from, ctx.to), ctx), ctx), 'slim');
    assert.deepEqual(
      drafts.map((d) => [d.slug, d.transactional, d.up.map((s) => s.sql), d.down.map((s) => s.sql)]),
      [
        [
          'slim_drop_idx_budgets_user_id_idx',
          false,
          ['DROP INDEX CONCURRENTLY IF EXISTS budgets_user_id_idx;'],
          ['CREATE INDEX CONCURRENTLY budgets_user_id_idx ON public.budgets USING btree (user_id);'],
        ],
        ['slim', true, ['ALTER TABLE budgets DROP COLUMN user_id;'], ['ALTER TABLE budgets ADD COLUMN user_id bigint;']],
      ],
    );
  });

  it("an index's comment goes with it: after its build in its file, put back after its rebuild in the down", () => {
    const idx = { name: 'budgets_title_idx', definition: 'CREATE INDEX budgets_title_idx ON public.budgets USING btree (title)', comment: 'search' };
    const files = (from: Snapshot, to: Snapshot) => {
      const ctx = { from, to, existingTables: new Set(from.tables.map(nameKey)) };
      return draftMigrations(safeForms(renderChanges(diff(from, to), ctx), ctx), 's').map((d) => [d.slug, d.up.map((x) => x.sql), d.down.map((x) => x.sql)]);
    };
    assert.deepEqual(files(snap([budgets()]), snap([budgets({ indexes: [idx] })])), [
      [
        's_idx_budgets_title_idx',
        ['CREATE INDEX CONCURRENTLY budgets_title_idx ON public.budgets USING btree (title);', "COMMENT ON INDEX budgets_title_idx IS 'search';"],
        ['DROP INDEX CONCURRENTLY IF EXISTS budgets_title_idx;'],
      ],
    ]);
    assert.deepEqual(files(snap([budgets({ indexes: [idx] })]), snap([budgets()])), [
      [
        's_drop_idx_budgets_title_idx',
        ['DROP INDEX CONCURRENTLY IF EXISTS budgets_title_idx;'],
        ['CREATE INDEX CONCURRENTLY budgets_title_idx ON public.budgets USING btree (title);', "COMMENT ON INDEX budgets_title_idx IS 'search';"],
      ],
    ]);
  });

  it('a new table keeps the plain form', () => {
    const idx = { name: 'budgets_title_idx', definition: 'CREATE INDEX budgets_title_idx ON public.budgets USING btree (title)' };
    const r = safe(snap([]), snap([budgets({ indexes: [idx] })]));
    assert.ok(r.up.every((s) => s.startsWith('main: ')));
    assert.ok(r.up.includes('main: CREATE INDEX budgets_title_idx ON public.budgets USING btree (title);'));
  });

  it('a CHECK and a FOREIGN KEY are added NOT VALID and validated in the validate phase', () => {
    const check = { name: 'budgets_title_check', kind: 'check' as const, definition: "CHECK ((title <> ''::text))", validated: true };
    const fk = { name: 'budgets_user_id_fkey', kind: 'foreign key' as const, definition: 'FOREIGN KEY (user_id) REFERENCES public.users(id)', validated: true };
    const r = safe(snap([users, budgets()]), snap([users, budgets({ constraints: [pk, check, fk] })]));
    assert.deepEqual(r.up, [
      "main: ALTER TABLE budgets ADD CONSTRAINT budgets_title_check CHECK ((title <> ''::text)) NOT VALID;",
      'validate: ALTER TABLE budgets VALIDATE CONSTRAINT budgets_title_check;',
      'main: ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID;',
      'validate: ALTER TABLE budgets VALIDATE CONSTRAINT budgets_user_id_fkey;',
    ]);
    assert.deepEqual(r.down, [
      'validate: ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;',
      'validate: ALTER TABLE budgets ADD CONSTRAINT budgets_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) NOT VALID;',
      'validate: ALTER TABLE budgets DROP CONSTRAINT budgets_title_check;',
      "validate: ALTER TABLE budgets ADD CONSTRAINT budgets_title_check CHECK ((title <> ''::text)) NOT VALID;",
      'main: ALTER TABLE budgets DROP CONSTRAINT budgets_user_id_fkey;',
      'main: ALTER TABLE budgets DROP CONSTRAINT budgets_title_check;',
    ]);
  });

  it('a CHECK already NOT VALID in the desired schema stays as written', () => {
    const check = { name: 'budgets_title_check', kind: 'check' as const, definition: "CHECK ((title <> ''::text)) NOT VALID", validated: false };
    const r = safe(snap([budgets()]), snap([budgets({ constraints: [pk, check] })]));
    assert.deepEqual(r.up, ["main: ALTER TABLE budgets ADD CONSTRAINT budgets_title_check CHECK ((title <> ''::text)) NOT VALID;"]);
  });

  it('a PRIMARY KEY / UNIQUE: unique index CONCURRENTLY, then ADD CONSTRAINT … USING INDEX', () => {
    const key = { name: 'budgets_title_key', kind: 'unique' as const, definition: 'UNIQUE (title) INCLUDE (user_id) DEFERRABLE', validated: true };
    const r = safe(snap([table('budgets', { columns: [id, title, userId] })]), snap([budgets({ constraints: [pk, key] })]));
    assert.deepEqual(r.up, [
      'concurrent!: CREATE UNIQUE INDEX CONCURRENTLY budgets_pkey ON budgets (id);',
      'validate: ALTER TABLE budgets ADD CONSTRAINT budgets_pkey PRIMARY KEY USING INDEX budgets_pkey;',
      'concurrent!: CREATE UNIQUE INDEX CONCURRENTLY budgets_title_key ON budgets (title) INCLUDE (user_id);',
      'validate: ALTER TABLE budgets ADD CONSTRAINT budgets_title_key UNIQUE USING INDEX budgets_title_key DEFERRABLE;',
    ]);
    assert.deepEqual(r.down, [
      'validate: ALTER TABLE budgets DROP CONSTRAINT budgets_title_key;',
      'validate: CREATE UNIQUE INDEX budgets_title_key ON budgets (title) INCLUDE (user_id);',
      'validate: ALTER TABLE budgets DROP CONSTRAINT budgets_pkey;',
      'validate: CREATE UNIQUE INDEX budgets_pkey ON budgets (id);',
      'concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_pkey;',
      'concurrent!: DROP INDEX CONCURRENTLY IF EXISTS budgets_title_key;',
    ]);
  });

  it('a replaced CHECK / UNIQUE: dropped in the main file, added back the safe way; the main down restores the old one', () => {
    const k = (definition: string, kind: 'check' | 'unique', name: string) => ({ name, kind, definition, validated: true });
    const check = safe(snap([budgets({ constraints: [k("CHECK ((title <> ''::text))", 'check', 'c')] })]), snap([budgets({ constraints: [k("CHECK ((title <> 'x'::text))", 'check', 'c')] })]));
    assert.deepEqual(check.up, [
      'main: ALTER TABLE budgets DROP CONSTRAINT c;',
      "main: ALTER TABLE budgets ADD CONSTRAINT c CHECK ((title <> 'x'::text)) NOT VALID;",
      'validate: ALTER TABLE budgets VALIDATE CONSTRAINT c;',
    ]);
    assert.deepEqual(check.down, [
      'validate: ALTER TABLE budgets DROP CONSTRAINT c;',
      "validate: ALTER TABLE budgets ADD CONSTRAINT c CHECK ((title <> 'x'::text)) NOT VALID;",
      'main: ALTER TABLE budgets DROP CONSTRAINT c;',
      "main: ALTER TABLE budgets ADD CONSTRAINT c CHECK ((title <> ''::text));",
    ]);
    const unique = safe(snap([budgets({ constraints: [k('UNIQUE (title)', 'unique', 'u')] })]), snap([budgets({ constraints: [k('UNIQUE (title, id)', 'unique', 'u')] })]));
    assert.deepEqual(unique.up, [
      'main: ALTER TABLE budgets DROP CONSTRAINT u;',
      'concurrent!: CREATE UNIQUE INDEX CONCURRENTLY u ON budgets (title, id);',
      'validate: ALTER TABLE budgets ADD CONSTRAINT u UNIQUE USING INDEX u;',
    ]);
    assert.deepEqual(unique.down, [
      'validate: ALTER TABLE budgets DROP CONSTRAINT u;',
      'validate: CREATE UNIQUE INDEX u ON budgets (title, id);',
      'concurrent!: DROP INDEX CONCURRENTLY IF EXISTS u;',
      'main: ALTER TABLE budgets ADD CONSTRAINT u UNIQUE (title);',
    ]);
  });

  it("a CHECK added to an existing domain: NOT VALID, then VALIDATE; its down goes back to NOT VALID; a new domain's stays inside CREATE DOMAIN", () => {
    const positive = (constraints: { name: string; definition: string }[]): TypeInfo => ({ kind: 'domain', schema: 'public', name: 'positive', baseType: 'integer', notNull: false, constraints });
    const gt0 = { name: 'positive_check', definition: 'CHECK ((VALUE > 0))' };
    const small = { name: 'positive_small', definition: 'CHECK ((VALUE < 1000))' };
    const with_ = (types: TypeInfo[]): Snapshot => ({ ...emptySnapshot(), types });
    const r = safe(with_([positive([gt0])]), with_([positive([gt0, small])]));
    assert.deepEqual(r.up, ['main: ALTER DOMAIN positive ADD CONSTRAINT positive_small CHECK ((VALUE < 1000)) NOT VALID;', 'validate: ALTER DOMAIN positive VALIDATE CONSTRAINT positive_small;']);
    assert.deepEqual(r.down, [
      'validate: ALTER DOMAIN positive DROP CONSTRAINT positive_small;',
      'validate: ALTER DOMAIN positive ADD CONSTRAINT positive_small CHECK ((VALUE < 1000)) NOT VALID;',
      'main: ALTER DOMAIN positive DROP CONSTRAINT positive_small;',
    ]);
    // Desired NOT VALID stays so; a new domain is created with its CHECKs.
    const notValid = safe(with_([positive([gt0])]), with_([positive([gt0, { ...small, definition: `${small.definition} NOT VALID` }])]));
    assert.deepEqual(notValid.up, ['main: ALTER DOMAIN positive ADD CONSTRAINT positive_small CHECK ((VALUE < 1000)) NOT VALID;']);
    assert.deepEqual(safe(with_([]), with_([positive([gt0, small])])).up, [
      'main: CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK ((VALUE > 0)) CONSTRAINT positive_small CHECK ((VALUE < 1000));',
    ]);
  });

  it('EXCLUDE has no safe form: left plain', () => {
    const exclude = { name: 'budgets_title_excl', kind: 'exclusion' as const, definition: 'EXCLUDE USING btree (title WITH =)', validated: true };
    const r = safe(snap([budgets()]), snap([budgets({ constraints: [pk, exclude] })]));
    assert.deepEqual(r.up, ['main: ALTER TABLE budgets ADD CONSTRAINT budgets_title_excl EXCLUDE USING btree (title WITH =);']);
  });

  it('SET NOT NULL: a NOT VALID CHECK first, then VALIDATE, SET NOT NULL, DROP CONSTRAINT; no blocks-writes left', () => {
    const check = notNullCheckName('budgets', 'title');
    const r = safe(snap([budgets()]), snap([budgets({ columns: [id, { ...title, notNull: true }, userId] })]));
    assert.deepEqual(r.up, [
      `main: ALTER TABLE budgets ADD CONSTRAINT ${check} CHECK (title IS NOT NULL) NOT VALID;`,
      `validate: ALTER TABLE budgets VALIDATE CONSTRAINT ${check};`,
      'validate: ALTER TABLE budgets ALTER COLUMN title SET NOT NULL;',
      `validate: ALTER TABLE budgets DROP CONSTRAINT ${check};`,
    ]);
    assert.deepEqual(r.down, [
      `validate: ALTER TABLE budgets ADD CONSTRAINT ${check} CHECK (title IS NOT NULL) NOT VALID;`,
      'validate: ALTER TABLE budgets ALTER COLUMN title DROP NOT NULL;',
      `main: ALTER TABLE budgets DROP CONSTRAINT ${check};`,
    ]);
    assert.deepEqual(r.hazards, []);
    assert.equal(check, 'budgets_title_not_null_check');
  });
});
