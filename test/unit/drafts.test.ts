/**
 * schema/render/drafts.ts: safe-form statements cut into migration files (slugs, run order,
 * no-transaction, the validate file, the enum-values file, lossy-down) and written as file text that
 * the history reader parses back with no problem, each section holding what was meant. Exact text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMigrationName, parseMigrationSource } from '../../src/history/tidemark-source.js';
import type { Change } from '../../src/schema/diff/change.js';
import { diff } from '../../src/schema/diff/diff.js';
import { describeChanges } from '../../src/schema/diff/words.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import { draftMigrations, formatDraft, type MigrationDraft } from '../../src/schema/render/drafts.js';
import { safeForms } from '../../src/schema/render/safe.js';
import type { RenderedChanges } from '../../src/schema/render/statement.js';
import type { Snapshot, TableInfo } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { column, emptySnapshot, table } from './schema-fixtures.js';

const snap = (tables: TableInfo[]): Snapshot => ({ ...emptySnapshot(), tables });
const id = column('id', 'bigint', 1, { notNull: true });
const title = column('title', 'text', 2);
const pk = { name: 'budgets_pkey', kind: 'primary key' as const, definition: 'PRIMARY KEY (id)', validated: true };
const idx = (name: string, cols: string) => ({ name, definition: `CREATE INDEX ${name} ON public.budgets USING btree (${cols})` });
const from = snap([table('budgets', { columns: [id, title, column('note', 'text', 3)], constraints: [pk] })]);
const to = snap([
  table('budgets', {
    columns: [id, { ...title, notNull: true }, column('status', 'text', 4)],
    constraints: [pk],
    indexes: [idx('budgets_status_idx', 'status'), { name: 'Budgets Title', definition: 'CREATE INDEX "Budgets Title" ON public.budgets USING btree (title)' }],
  }),
]);
const changes = diff(from, to);

function rendered(): RenderedChanges {
  const ctx = { from, to, existingTables: new Set(from.tables.map(nameKey)) };
  const r = safeForms(renderChanges(changes, ctx), ctx);
  // An enum label a later statement uses: the enum renderer's phase, written here by hand.
  const label: Change = { op: 'alter', id: { kind: 'enum', schema: 'public', name: 'budget_status' }, attribute: 'labels', before: ['open'], after: ['open', 'closed'], hazards: [] };
  return { ...r, up: [{ sql: "ALTER TYPE budget_status ADD VALUE 'closed' AFTER 'open';", phase: 'enum-values', changes: [label], hazards: [] }, ...r.up] };
}

const brief = (d: MigrationDraft) => ({ slug: d.slug, transactional: d.transactional, lossyDown: d.lossyDown, up: d.up.map((s) => s.sql), down: d.down.map((s) => s.sql) });
const parse = (slug: string, text: string) => {
  const name = parseMigrationName('budget', `budget_004_${slug}.sql`);
  assert.ok(name);
  return parseMigrationSource('budget', `/m/budget_004_${slug}.sql`, name, Buffer.from(text));
};

describe('draftMigrations', () => {
  it('cuts enum values, main, one file per concurrent index, then validate, each with its own down', () => {
    const drafts = draftMigrations(rendered(), 'add_status');
    assert.deepEqual(drafts.map(brief), [
      { slug: 'add_status_enum_values', transactional: true, lossyDown: false, up: ["ALTER TYPE budget_status ADD VALUE 'closed' AFTER 'open';"], down: [] },
      {
        slug: 'add_status',
        transactional: true,
        lossyDown: true,
        up: [
          'ALTER TABLE budgets ADD COLUMN status text;',
          'ALTER TABLE budgets ADD CONSTRAINT budgets_title_not_null_check CHECK (title IS NOT NULL) NOT VALID;',
          'ALTER TABLE budgets DROP COLUMN note;',
        ],
        down: ['ALTER TABLE budgets ADD COLUMN note text;', 'ALTER TABLE budgets DROP CONSTRAINT budgets_title_not_null_check;', 'ALTER TABLE budgets DROP COLUMN status;'],
      },
      {
        slug: 'add_status_idx_budgets_status_idx',
        transactional: false,
        lossyDown: false,
        up: ['CREATE INDEX CONCURRENTLY budgets_status_idx ON public.budgets USING btree (status);'],
        down: ['DROP INDEX CONCURRENTLY IF EXISTS budgets_status_idx;'],
      },
      {
        slug: 'add_status_idx_budgets_title',
        transactional: false,
        lossyDown: false,
        up: ['CREATE INDEX CONCURRENTLY "Budgets Title" ON public.budgets USING btree (title);'],
        down: ['DROP INDEX CONCURRENTLY IF EXISTS "Budgets Title";'],
      },
      {
        slug: 'add_status_validate',
        transactional: true,
        lossyDown: false,
        up: [
          'ALTER TABLE budgets VALIDATE CONSTRAINT budgets_title_not_null_check;',
          'ALTER TABLE budgets ALTER COLUMN title SET NOT NULL;',
          'ALTER TABLE budgets DROP CONSTRAINT budgets_title_not_null_check;',
        ],
        down: ['ALTER TABLE budgets ADD CONSTRAINT budgets_title_not_null_check CHECK (title IS NOT NULL) NOT VALID;', 'ALTER TABLE budgets ALTER COLUMN title DROP NOT NULL;'],
      },
    ]);
  });

  it('no statements, no files; a main file with nothing in it is left out', () => {
    assert.deepEqual(draftMigrations({ up: [], down: [], hazards: [], refused: [] }, 'nothing'), []);
    const only = draftMigrations(rendered(), 'x').filter((d) => d.slug !== 'x');
    const r = rendered();
    const noMain = { ...r, up: r.up.filter((s) => s.phase !== 'main'), down: r.down.filter((s) => s.phase !== 'main') };
    assert.deepEqual(
      draftMigrations(noMain, 'x').map((d) => d.slug),
      only.map((d) => d.slug),
    );
  });
});

describe('formatDraft', () => {
  it('writes words, directives, hazards above their statement, up and down; the reader parses it back', () => {
    const [, main, index] = draftMigrations(rendered(), 'add_status');
    const words = describeChanges(changes, { expected: 'desired schema', actual: 'database' });
    const text = formatDraft({ ...main, requires: ['user_002_add_role'] }, words.slice(0, 2));
    assert.equal(
      text,
      [
        '-- Generated by tidemark diff.',
        '-- Changes:',
        `-- - ${words[0].message}`,
        `-- - ${words[1].message}`,
        '-- tidemark:requires user_002_add_role',
        '-- tidemark:lossy-down',
        '',
        '-- tidemark:up',
        'ALTER TABLE budgets ADD COLUMN status text;',
        'ALTER TABLE budgets ADD CONSTRAINT budgets_title_not_null_check CHECK (title IS NOT NULL) NOT VALID;',
        '-- hazard (data-loss): dropping the column deletes its values',
        'ALTER TABLE budgets DROP COLUMN note;',
        '',
        '-- tidemark:down',
        'ALTER TABLE budgets ADD COLUMN note text;',
        'ALTER TABLE budgets DROP CONSTRAINT budgets_title_not_null_check;',
        '-- hazard (data-loss): dropping the column deletes its values',
        'ALTER TABLE budgets DROP COLUMN status;',
        '',
      ].join('\n'),
    );
    const parsed = parse(main.slug, text);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.migration?.transactional, true);
    assert.equal(parsed.migration?.lossyDown, true);
    assert.deepEqual(
      parsed.migration?.requires.map((r) => r.ref),
      ['user_002_add_role'],
    );
    assert.equal(
      parsed.migration?.up?.text,
      'ALTER TABLE budgets ADD COLUMN status text;\nALTER TABLE budgets ADD CONSTRAINT budgets_title_not_null_check CHECK (title IS NOT NULL) NOT VALID;\n-- hazard (data-loss): dropping the column deletes its values\nALTER TABLE budgets DROP COLUMN note;\n',
    );
    assert.equal(parsed.migration?.up?.line, 9);
    assert.match(parsed.migration?.down?.text ?? '', /DROP COLUMN status;\n$/);

    const indexText = formatDraft(index, []);
    assert.equal(
      indexText,
      '-- Generated by tidemark diff.\n-- tidemark:no-transaction\n\n-- tidemark:up\nCREATE INDEX CONCURRENTLY budgets_status_idx ON public.budgets USING btree (status);\n\n-- tidemark:down\nDROP INDEX CONCURRENTLY IF EXISTS budgets_status_idx;\n',
    );
    const parsedIndex = parse(index.slug, indexText);
    assert.deepEqual(parsedIndex.problems, []);
    assert.equal(parsedIndex.migration?.transactional, false);
    assert.equal(parsedIndex.migration?.lossyDown, undefined);
    assert.equal(parsedIndex.migration?.up?.text.trim(), 'CREATE INDEX CONCURRENTLY budgets_status_idx ON public.budgets USING btree (status);');
    assert.equal(parsedIndex.migration?.down?.text.trim(), 'DROP INDEX CONCURRENTLY IF EXISTS budgets_status_idx;');
  });

  it('a word that reads like a directive, or spans lines, stays a comment', () => {
    const [draft] = draftMigrations(rendered(), 'add_status');
    const text = formatDraft(draft, [{ object: 'x', message: 'tidemark:up in a message\ntidemark:down on a second line' }]);
    assert.ok(text.startsWith('-- Generated by tidemark diff.\n-- Changes:\n-- - tidemark:up in a message\n--  | tidemark:down on a second line\n\n-- tidemark:up\n'));
    const parsed = parse(draft.slug, text);
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.migration?.up?.text.trim(), "ALTER TYPE budget_status ADD VALUE 'closed' AFTER 'open';");
  });
});
