/** applyRenames and suggestRenames (pure) over literal snapshots: each kind, implicit names, the diff left empty, suggestions, the unknown error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidemarkError } from '../../src/errors.js';
import { diff } from '../../src/schema/diff/diff.js';
import { applyRenames, type Rename, suggestRenames } from '../../src/schema/diff/renames.js';
import type { EnumType, Snapshot, TableInfo } from '../../src/schema/snapshot.js';
import { budgetsOn15, column, everything, sequence, table } from './schema-fixtures.js';

const at = { file: 'schema/app.sql', line: 3 };
const rename = (kind: Rename['kind'], from: string, to: string, extra: Partial<Rename> = {}): Rename => ({ kind, schema: 'public', from, to, ...at, ...extra });
const sqlOf = (r: ReturnType<typeof applyRenames>) => r.statements.map((s) => s.sql);
const tableNamed = (s: Snapshot, name: string) => s.tables.find((t) => t.name === name) as TableInfo;

/** budgets (pkey, check, fkey to users, index, identity, trigger) and notes with a foreign key onto budgets. */
function budgetsAndNotes(): Snapshot {
  const s = budgetsOn15();
  s.tables.push(
    table('notes', {
      columns: [column('budget_id', 'bigint', 1)],
      constraints: [
        { name: 'notes_budget_id_fkey', kind: 'foreign key', definition: 'FOREIGN KEY (budget_id) REFERENCES budgets(id)', validated: true, references: { schema: 'public', name: 'budgets' } },
      ],
    }),
  );
  s.createOrder = ['["table","public","budgets"]', '["table","public","notes"]'];
  return s;
}

/** The same schema as PostgreSQL would create it with budgets named quotes from the start. */
function quotesAndNotes(): Snapshot {
  const s = budgetsAndNotes();
  const t = tableNamed(s, 'budgets');
  Object.assign(t, { name: 'quotes' });
  Object.assign(t.columns[0].identity!.sequence, { name: 'quotes_id_seq' });
  t.constraints = [
    { name: 'quotes_pkey', kind: 'primary key', definition: 'PRIMARY KEY (id)', validated: true },
    { name: 'quotes_status_check', kind: 'check', definition: "CHECK ((status = ANY (ARRAY['draft'::text, 'sent'::text])))", validated: true },
    { name: 'quotes_user_id_fkey', kind: 'foreign key', definition: 'FOREIGN KEY (user_id) REFERENCES users(id)', validated: true, references: { schema: 'public', name: 'users' } },
  ];
  t.indexes = [{ name: 'quotes_status_idx', definition: 'CREATE INDEX quotes_status_idx ON public.quotes USING btree (status)' }];
  t.triggers[0].definition = 'CREATE TRIGGER budgets_touch BEFORE UPDATE ON public.quotes FOR EACH ROW EXECUTE FUNCTION touch()';
  const notes = tableNamed(s, 'notes');
  notes.constraints[0] = { ...notes.constraints[0], definition: 'FOREIGN KEY (budget_id) REFERENCES quotes(id)', references: { schema: 'public', name: 'quotes' } };
  s.createOrder = ['["table","public","quotes"]', '["table","public","notes"]'];
  return s;
}

describe('applyRenames', () => {
  it('renames a table and what PostgreSQL named after it, and rewrites references onto it', () => {
    const from = budgetsAndNotes();
    const r = applyRenames(from, [rename('table', 'budgets', 'quotes')]);
    assert.deepEqual(sqlOf(r), [
      'ALTER TABLE budgets RENAME TO quotes;',
      'ALTER TABLE quotes RENAME CONSTRAINT budgets_pkey TO quotes_pkey;',
      'ALTER TABLE quotes RENAME CONSTRAINT budgets_status_check TO quotes_status_check;',
      'ALTER TABLE quotes RENAME CONSTRAINT budgets_user_id_fkey TO quotes_user_id_fkey;',
      'ALTER INDEX budgets_status_idx RENAME TO quotes_status_idx;',
      'ALTER SEQUENCE budgets_id_seq RENAME TO quotes_id_seq;',
    ]);
    assert.ok(r.statements.every((s) => s.phase === 'main' && s.hazards.length === 0));
    assert.deepEqual(diff(r.from, quotesAndNotes()), []);
    assert.deepEqual(r.from.createOrder, quotesAndNotes().createOrder);
    assert.equal(tableNamed(from, 'budgets').name, 'budgets', 'the input snapshot is left as it was');
  });

  it("renames a serial column's sequence (and the default that prints it) and a unique key with the table", () => {
    const items = (name: string): Snapshot => {
      const s = budgetsOn15();
      s.sequences.push(sequence(`${name}_id_seq`, { dataType: 'integer', ownedBy: { schema: 'public', table: name, column: 'id' } }));
      s.tables.push(
        table(name, {
          columns: [column('id', 'integer', 1, { notNull: true, default: `nextval('${name}_id_seq'::regclass)` }), column('code', 'text', 2)],
          constraints: [{ name: `${name}_code_key`, kind: 'unique', definition: 'UNIQUE (code)', validated: true }],
        }),
      );
      s.createOrder = [`["sequence","public","${name}_id_seq"]`, `["table","public","${name}"]`];
      return s;
    };
    const r = applyRenames(items('items'), [rename('table', 'items', 'goods')]);
    assert.deepEqual(sqlOf(r), ['ALTER TABLE items RENAME TO goods;', 'ALTER TABLE goods RENAME CONSTRAINT items_code_key TO goods_code_key;', 'ALTER SEQUENCE items_id_seq RENAME TO goods_id_seq;']);
    assert.deepEqual(diff(r.from, items('goods')), []);
    assert.deepEqual(r.from.createOrder, items('goods').createOrder);
  });

  it('leaves a name PostgreSQL did not derive from the table (the trigger) alone', () => {
    const r = applyRenames(budgetsAndNotes(), [rename('table', 'budgets', 'quotes')]);
    assert.equal(tableNamed(r.from, 'quotes').triggers[0].name, 'budgets_touch');
  });

  it('moves a table named schema.name with SET SCHEMA, then renames it', () => {
    const from = budgetsOn15();
    Object.assign(from.tables[0], { schema: 'billing' });
    from.tables[0].indexes[0].definition = 'CREATE INDEX budgets_status_idx ON billing.budgets USING btree (status)';
    const to = budgetsOn15();
    const r = applyRenames(from, [rename('table', 'billing.budgets', 'budgets')]);
    assert.deepEqual(sqlOf(r), ['ALTER TABLE billing.budgets SET SCHEMA public;']);
    assert.deepEqual(diff(r.from, to), []);
  });

  it('renames a column and the constraint, index, policy and generated texts that name it', () => {
    const from = everything();
    const to = everything();
    const orders = tableNamed(to, 'orders');
    orders.columns[2].name = 'amount';
    orders.constraints[2].definition = 'CHECK ((amount >= (0)::numeric))';
    orders.columns[5].generated = { expression: '(amount * (2)::numeric)', kind: 'stored' };
    orders.columns[4].name = 'owned_by';
    orders.policies[0].using = '(owned_by = CURRENT_USER)';
    orders.columns[3].name = 'state';
    orders.indexes[0].definition = 'CREATE INDEX orders_status_idx ON public.orders USING btree (state)';
    const r = applyRenames(from, [
      rename('column', 'total', 'amount', { table: 'orders' }),
      rename('column', 'owner', 'owned_by', { table: 'orders' }),
      rename('column', 'status', 'state', { table: 'orders' }),
    ]);
    assert.deepEqual(sqlOf(r), ['ALTER TABLE orders RENAME COLUMN total TO amount;', 'ALTER TABLE orders RENAME COLUMN owner TO owned_by;', 'ALTER TABLE orders RENAME COLUMN status TO state;']);
    // View queries are not rewritten for a column (PostgreSQL prints `orders.amount AS total` after one): both sides here print the old text.
    assert.deepEqual(diff(r.from, to), []);
  });

  it('rewrites the referencing side of a foreign key when the referenced column is renamed', () => {
    const from = budgetsAndNotes();
    const to = budgetsAndNotes();
    const b = tableNamed(to, 'budgets');
    b.columns[0].name = 'budget_no';
    b.constraints[0].definition = 'PRIMARY KEY (budget_no)';
    tableNamed(to, 'notes').constraints[0].definition = 'FOREIGN KEY (budget_id) REFERENCES budgets(budget_no)';
    const r = applyRenames(from, [rename('column', 'id', 'budget_no', { table: 'budgets' })]);
    assert.deepEqual(diff(r.from, to), []);
  });

  it('renames an index, a constraint, a view, a type and a sequence', () => {
    const from = everything();
    from.tables[0].columns.push(column('no', 'bigint', 7, { default: "nextval('invoice_no'::regclass)" }));
    const to = structuredClone(from);
    const orders = tableNamed(to, 'orders');
    orders.indexes[0] = { name: 'orders_by_status', definition: 'CREATE INDEX orders_by_status ON public.orders USING btree (status)' };
    orders.constraints[2].name = 'total_not_negative';
    Object.assign(to.views[0], { name: 'pending_orders' });
    Object.assign(to.types[2], { name: 'order_status' });
    orders.columns[3] = { ...orders.columns[3], type: 'order_status', default: "'draft'::order_status" };
    to.views[0].definition = " SELECT orders.id,\n    orders.total\n   FROM orders\n  WHERE (orders.status = 'open'::order_status);";
    to.sequences[0] = sequence('invoice_seq', { start: '1000' });
    orders.columns[6].default = "nextval('invoice_seq'::regclass)";
    const r = applyRenames(from, [
      rename('index', 'orders_status_idx', 'orders_by_status', { table: 'orders' }),
      rename('constraint', 'orders_total_check', 'total_not_negative', { table: 'orders' }),
      rename('view', 'open_orders', 'pending_orders'),
      rename('type', 'status', 'order_status'),
      rename('sequence', 'invoice_no', 'invoice_seq'),
    ]);
    assert.deepEqual(sqlOf(r), [
      'ALTER VIEW open_orders RENAME TO pending_orders;',
      'ALTER TYPE status RENAME TO order_status;',
      'ALTER SEQUENCE invoice_no RENAME TO invoice_seq;',
      'ALTER INDEX orders_status_idx RENAME TO orders_by_status;',
      'ALTER TABLE orders RENAME CONSTRAINT orders_total_check TO total_not_negative;',
    ]);
    assert.deepEqual(diff(r.from, to), []);
    assert.equal((r.from.types[2] as EnumType).labels.join(), 'draft,open');
  });

  it('reads the old name as SQL (quoted keeps its case, bare folds) and quotes names that need it', () => {
    const from = budgetsOn15();
    Object.assign(from.tables[0], { name: 'Budgets' });
    from.tables[0].columns[2].name = 'Status';
    const r = applyRenames(from, [rename('table', '"Budgets"', 'order'), rename('column', '"Status"', 'state', { table: 'order' })]);
    assert.deepEqual(sqlOf(r), ['ALTER TABLE "Budgets" RENAME TO "order";', 'ALTER TABLE "order" RENAME COLUMN "Status" TO state;']);
    assert.throws(() => applyRenames(from, [rename('table', 'Budgets', 'order')]), { code: 'renamed-from-unknown' }, 'a bare name folds to budgets');
  });

  it('ignores a rename already applied (old name absent, new present)', () => {
    const s = budgetsOn15();
    const r = applyRenames(s, [rename('table', 'quotes_old', 'budgets'), rename('column', 'state', 'status', { table: 'budgets' })]);
    assert.deepEqual(r.statements, []);
    assert.deepEqual(r.from, s);
  });

  it('refuses a rename whose old and new names are both absent: renamed-from-unknown, with file and line', () => {
    assert.throws(
      () => applyRenames(budgetsOn15(), [rename('column', 'nope', 'neither', { table: 'budgets' })]),
      (e: unknown) => e instanceof TidemarkError && e.code === 'renamed-from-unknown' && e.file === 'schema/app.sql' && e.line === 3 && /schema\/app\.sql:3: renamed-from nope/.test(e.message),
    );
    assert.throws(() => applyRenames(budgetsOn15(), [rename('table', 'old_t', 'new_t')]), { code: 'renamed-from-unknown' });
  });
});

describe('suggestRenames', () => {
  it('suggests a column of the same type at the same position, with the line that accepts it', () => {
    const to = budgetsOn15();
    to.tables[0].columns[2].name = 'state';
    assert.deepEqual(suggestRenames(diff(budgetsOn15(), to)), [{ kind: 'column', object: 'column budgets.state', old: 'status', new: 'state', line: '-- tidemark:renamed-from status' }]);
  });

  it('does not suggest a column whose type or position differs', () => {
    const to = budgetsOn15();
    to.tables[0].columns[2] = column('state', 'character varying', 3);
    const moved = budgetsOn15();
    moved.tables[0].columns[2] = { ...moved.tables[0].columns[2], name: 'state', position: 4 };
    assert.deepEqual(suggestRenames(diff(budgetsOn15(), to)), []);
    assert.deepEqual(suggestRenames(diff(budgetsOn15(), moved)), []);
  });

  it('suggests a table with the same column list, and an index with the same definition', () => {
    const from = budgetsAndNotes();
    const to = quotesAndNotes();
    const notes = tableNamed(to, 'notes');
    notes.indexes.push({ name: 'notes_by_budget', definition: 'CREATE INDEX notes_by_budget ON public.notes USING btree (budget_id)' });
    tableNamed(from, 'notes').indexes.push({ name: 'notes_budget_id_idx', definition: 'CREATE INDEX notes_budget_id_idx ON public.notes USING btree (budget_id)' });
    assert.deepEqual(suggestRenames(diff(from, to)), [
      { kind: 'index', object: 'index notes_by_budget on notes', old: 'notes_budget_id_idx', new: 'notes_by_budget', line: '-- tidemark:renamed-from notes_budget_id_idx' },
      { kind: 'table', object: 'table quotes', old: 'budgets', new: 'quotes', line: '-- tidemark:renamed-from budgets' },
    ]);
  });
});
