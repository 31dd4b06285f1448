/**
 * render/composite-in-use.ts through renderChanges: a composite's attribute retyped while a table column
 * or another composite's attribute stores values of it is refused by name (PostgreSQL refuses
 * ALTER ATTRIBUTE … TYPE then, CASCADE or not: found by the diff-kinds DB test as a failed proof); in
 * no use, or only added and dropped attributes, it is rendered as before.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import type { Snapshot, TableInfo, TypeInfo } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { column, emptySnapshot, table } from './schema-fixtures.js';

const money = (schema: string, attributes: { name: string; type: string; collation?: string }[]): TypeInfo => ({ kind: 'composite', schema, name: 'money', attributes });
const v1 = [
  { name: 'amount', type: 'numeric' },
  { name: 'legacy', type: 'integer' },
];
const retyped = [{ name: 'amount', type: 'numeric(12,2)' }];
const reshaped = [
  { name: 'amount', type: 'numeric' },
  { name: 'note', type: 'text' },
];

function render(types: [TypeInfo, TypeInfo], tables: TableInfo[] = [], others: TypeInfo[] = []) {
  const from: Snapshot = { ...emptySnapshot(), types: [types[0], ...others], tables };
  const to: Snapshot = { ...emptySnapshot(), types: [types[1], ...others], tables };
  const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(tables.map(nameKey)) });
  return { up: r.up.map((s) => s.sql), refused: r.refused };
}

describe('renderChanges: a composite retyped in use', () => {
  it('a table column of the type (or an array of it) refuses ALTER ATTRIBUTE … TYPE by name, both ways', () => {
    const docs = table('docs', { columns: [column('id', 'integer', 1), column('price', 'money', 2), column('history', 'money[]', 3)] });
    const r = render([money('public', v1), money('public', retyped)], [docs]);
    const reason = 'attribute amount changes type while column docs.price, column docs.history uses it: needs a type rebuild';
    // The up and the down (the reverse change) are both refused, for one reason said once: nothing is written.
    assert.deepEqual(r.refused, [{ object: 'composite money', reason }]);
  });

  it('in another schema the column names it qualified; another composite using it counts too', () => {
    const orders = table('orders', { columns: [column('total', 'billing.money', 1)] });
    assert.match(render([money('billing', v1), money('billing', retyped)], [orders]).refused[0].reason, /while column orders\.total uses it/);
    const pair: TypeInfo = { kind: 'composite', schema: 'public', name: 'pair', attributes: [{ name: 'a', type: 'billing.money' }] };
    assert.match(render([money('billing', v1), money('billing', retyped)], [], [pair]).refused[0].reason, /while type pair attribute a uses it/);
  });

  it('unused, or only attributes added and dropped: rendered as ALTER TYPE', () => {
    assert.deepEqual(render([money('public', v1), money('public', retyped)]), {
      up: ['ALTER TYPE money DROP ATTRIBUTE legacy;', 'ALTER TYPE money ALTER ATTRIBUTE amount TYPE numeric(12,2);'],
      refused: [],
    });
    const docs = table('docs', { columns: [column('price', 'money', 1)] });
    assert.deepEqual(render([money('public', v1), money('public', reshaped)], [docs]), {
      up: ['ALTER TYPE money DROP ATTRIBUTE legacy;', 'ALTER TYPE money ADD ATTRIBUTE note text;'],
      refused: [],
    });
    // A column of a type merely named like it, in another schema, is not a use.
    const other = table('other', { columns: [column('price', 'elsewhere.money', 1)] });
    assert.deepEqual(render([money('public', v1), money('public', retyped)], [other]).refused, []);
  });
});
