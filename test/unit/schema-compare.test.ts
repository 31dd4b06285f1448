/** compareSnapshots (pure): equal across PostgreSQL 15/18 printing, differences in plain words. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSnapshots } from '../../src/schema/diff/compare.js';
import { canonicalQuery, normalizeFunctionDef, normalizeSnapshot, normalizeSql } from '../../src/schema/normalize.js';
import type { Snapshot, ViewInfo } from '../../src/schema/snapshot.js';
import { loadPgParser } from '../../src/history/pg-parser.js';
import { budgetsOn15, column, emptySnapshot, table } from './schema-fixtures.js';

const messages = (a: Snapshot, b: Snapshot) => compareSnapshots(a, b).map((d) => d.message);

/** The same budgets as PGlite (PostgreSQL 18) prints them. */
function budgetsOn18(): Snapshot {
  const s = budgetsOn15();
  s.serverVersion = 180006;
  const t = s.tables[0];
  t.columns.reverse(); // column order is not compared
  t.constraints[1].definition = "CHECK ((status = ANY (ARRAY['draft', 'sent'])))";
  t.indexes[0].definition = 'CREATE INDEX budgets_status_idx ON budgets USING btree ( status )';
  s.functions[0].definition = 'CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN NEW.updated_at := now(); RETURN NEW; END   \n$function$';
  return s;
}

describe('compareSnapshots', () => {
  it('equal snapshots give no difference, whatever the server version and column order', () => {
    assert.deepEqual(compareSnapshots(budgetsOn15(), budgetsOn15()), []);
    assert.deepEqual(compareSnapshots(budgetsOn15(), budgetsOn18()), []);
    assert.deepEqual(compareSnapshots(budgetsOn18(), budgetsOn15()), []);
  });

  it('normalizeSnapshot: equal schemas are deep-equal whichever version printed them; a real difference stays', () => {
    assert.deepEqual(normalizeSnapshot(budgetsOn15()), normalizeSnapshot(budgetsOn18()));
    const other = budgetsOn18();
    other.tables[0].constraints[1].definition = "CHECK ((status = ANY (ARRAY['draft', 'open'])))";
    assert.notDeepEqual(normalizeSnapshot(budgetsOn15()), normalizeSnapshot(other));
    assert.equal(budgetsOn15().tables[0].columns[0].position, 1); // the input is left alone
  });

  it('a default that differs is named with both values', () => {
    const shadow = budgetsOn15();
    shadow.tables[0].columns[2].default = "'open'::text";
    assert.deepEqual(compareSnapshots(budgetsOn15(), shadow), [{ object: 'column budgets.status', message: "column budgets.status: live default 'draft'::text, baseline gives 'open'::text" }]);
  });

  it('objects on one side only: trigger, index, column, table, function', () => {
    const shadow = budgetsOn15();
    shadow.tables[0].triggers = [];
    shadow.tables[0].indexes = [];
    shadow.tables[0].columns.push(column('note', 'text', 4));
    shadow.tables.push(table('budget_items'));
    shadow.functions = [];
    assert.deepEqual(messages(budgetsOn15(), shadow), [
      'function touch() exists live but not in the baseline',
      'column budgets.note exists in the baseline but not live',
      'index budgets_status_idx on budgets exists live but not in the baseline',
      'trigger budgets_touch on budgets exists live but not in the baseline',
      'table budget_items exists in the baseline but not live',
    ]);
  });

  it('nullability, type, identity, collation, generated and comments', () => {
    const shadow = budgetsOn15();
    const [id, userId, status] = shadow.tables[0].columns;
    userId.notNull = false;
    userId.type = 'integer';
    id.identity = { ...id.identity!, kind: 'always', sequence: { ...id.identity!.sequence, start: '100' } };
    status.collation = '"C"';
    status.generated = { expression: "'x'::text", kind: 'stored' };
    status.default = undefined;
    shadow.tables[0].comment = undefined;
    assert.deepEqual(messages(budgetsOn15(), shadow), [
      'table budgets: live comment "Customer budgets", baseline gives (none)',
      'column budgets.id: live identity by default, baseline gives identity always',
      'column budgets.id identity sequence: live start 1, baseline gives 100',
      'column budgets.user_id: live type bigint, baseline gives integer',
      'column budgets.user_id: live NOT NULL, baseline gives nullable',
      "column budgets.status: live default 'draft'::text, baseline gives (none)",
      "column budgets.status: live not generated, baseline gives generated as ('x'::text) stored",
      'column budgets.status: live collation default, baseline gives "C"',
    ]);
  });

  it('constraints compare their definitions, normalized', () => {
    const shadow = budgetsOn15();
    shadow.tables[0].constraints[2].definition = 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE';
    shadow.tables[0].constraints[1].definition = "CHECK ((status = ANY (ARRAY['draft'::text,\n      'sent'::text]\n)))";
    assert.deepEqual(messages(budgetsOn15(), shadow), [
      'foreign key budgets_user_id_fkey on budgets: live FOREIGN KEY (user_id) REFERENCES users(id), baseline gives FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE',
    ]);
  });

  it('types: enum labels, domain checks, composite attributes', () => {
    const live = emptySnapshot();
    live.types.push(
      { kind: 'enum', schema: 'public', name: 'status', labels: ['draft', 'open'] },
      { kind: 'domain', schema: 'public', name: 'email', baseType: 'text', notNull: false, constraints: [{ name: 'email_check', definition: "CHECK ((VALUE ~~ '%@%'::text))" }] },
      { kind: 'composite', schema: 'billing', name: 'money', attributes: [{ name: 'amount', type: 'numeric(12,2)' }] },
    );
    const shadow: Snapshot = structuredClone(live);
    (shadow.types[0] as { labels: string[] }).labels = ['draft', 'open', 'closed'];
    (shadow.types[1] as { constraints: unknown[] }).constraints = [];
    (shadow.types[2] as { attributes: unknown[] }).attributes = [{ name: 'amount', type: 'numeric' }];
    assert.deepEqual(messages(live, shadow), [
      "enum status: live labels 'draft', 'open', baseline gives 'draft', 'open', 'closed'",
      'check email_check on domain email exists live but not in the baseline',
      'type billing.money: live attributes (amount numeric(12,2)), baseline gives (amount numeric)',
    ]);
  });

  it('policies and row level security', () => {
    const live = emptySnapshot();
    live.tables.push(
      table('orders', {
        rowSecurity: true,
        policies: [{ name: 'mine', permissive: true, command: 'SELECT', roles: ['PUBLIC'], using: '(owner = CURRENT_USER)' }],
      }),
    );
    const shadow: Snapshot = structuredClone(live);
    shadow.tables[0].rowSecurity = false;
    shadow.tables[0].policies[0].permissive = false;
    shadow.tables[0].policies[0].using = '(owner = SESSION_USER)';
    assert.deepEqual(messages(live, shadow), [
      'table orders: live row level security enabled, baseline gives disabled',
      'policy mine on orders: live is PERMISSIVE, baseline gives RESTRICTIVE',
      'policy mine on orders: live USING (owner = CURRENT_USER), baseline gives (owner = SESSION_USER)',
    ]);
  });

  it('views compare their parsed query when both sides have one, else the normalized text', async () => {
    const parser = await loadPgParser();
    const view = (definition: string): ViewInfo => ({
      schema: 'public',
      name: 'open_orders',
      materialized: false,
      definition,
      queryHash: canonicalQuery(definition, parser),
      options: [],
      dependsOn: [],
      indexes: [],
      columnComments: [],
    });
    const on15 = emptySnapshot();
    on15.views.push(view(' SELECT orders.id,\n    orders.total\n   FROM orders\n  WHERE (orders.note IS NULL);'));
    const on18 = emptySnapshot();
    on18.views.push(view(' SELECT id,\n    total\n   FROM orders\n  WHERE (note IS NULL);'));
    assert.deepEqual(compareSnapshots(on15, on18), []);
    const other = emptySnapshot();
    other.views.push(view(' SELECT id,\n    total\n   FROM orders\n  WHERE (note IS NOT NULL);'));
    assert.deepEqual(
      messages(on15, other).map((m) => m.split(':')[0]),
      ['view open_orders'],
    );
    // A join keeps its qualifiers on both versions: a different column source is a difference.
    assert.notEqual(canonicalQuery('SELECT a.id FROM a JOIN b ON a.id = b.id', parser), canonicalQuery('SELECT b.id FROM a JOIN b ON a.id = b.id', parser));
  });

  it('labels name the two sides', () => {
    const shadow = budgetsOn15();
    shadow.tables[0].triggers = [];
    assert.deepEqual(
      compareSnapshots(shadow, budgetsOn15(), { expected: 'baseline', actual: 'live database' }).map((d) => d.message),
      ['trigger budgets_touch on budgets exists in the live database but not in the baseline'],
    );
  });

  it('unsupported objects count as objects', () => {
    const live = emptySnapshot();
    live.unsupported.push({ kind: 'rule', name: 'no_delete on orders', reason: 'CREATE RULE is not reproduced' });
    assert.deepEqual(messages(live, emptySnapshot()), ['rule no_delete on orders exists live but not in the baseline']);
  });
});

describe('normalization', () => {
  it('normalizeSql: whitespace, ::text casts, public. prefixes', () => {
    assert.equal(normalizeSql("CHECK ((  status = ANY (ARRAY['a'::text])\n))"), "CHECK ((status = ANY (ARRAY['a'])))");
    assert.equal(normalizeSql('REFERENCES public.users(id)'), 'REFERENCES users(id)');
    assert.equal(normalizeSql('REFERENCES billing.users(id)'), 'REFERENCES billing.users(id)');
  });

  it('normalizeFunctionDef ignores whitespace around the body, not inside words', () => {
    assert.equal(normalizeFunctionDef('AS $f$\n  SELECT 1  \n$f$\n'), normalizeFunctionDef('AS $f$ SELECT 1 $f$'));
    assert.notEqual(normalizeFunctionDef('AS $f$ SELECT 1 $f$'), normalizeFunctionDef('AS $f$ SELECT 2 $f$'));
  });
});
