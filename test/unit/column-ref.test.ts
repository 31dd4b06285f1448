/**
 * Column references (`softRelations` ends, `restore --fill` keys) in the owns grammar
 * (src/config/column-ref.ts): `"a.b".c.col` and `a."b.c".col` are two tables, the old unquoted
 * spelling reads as before, and the text tidemark prints for a column parses back to it (generated
 * hostile names).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { parseFill } from '../../src/cli/restore-command.js';
import { formatColumnRef, parseColumnRef } from '../../src/config/column-ref.js';
import { loadWorkspace } from '../../src/config/load.js';
import { TidemarkError } from '../../src/errors.js';
import { hostileIdentifier, hostileQualifiedName } from '../support/hostile-names.js';

const ref = (text: string) => {
  const parsed = parseColumnRef(text);
  assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.error.message}`);
  return parsed.ref;
};

describe('parseColumnRef', () => {
  it('"a.b".c.col and a."b.c".col are columns of two different tables', () => {
    assert.deepEqual(ref('"a.b".c.col'), { table: { schema: 'a.b', name: 'c' }, column: 'col', qualified: true });
    assert.deepEqual(ref('a."b.c".col'), { table: { schema: 'a', name: 'b.c' }, column: 'col', qualified: true });
    assert.deepEqual(ref('"a.b.c".col'), { table: { schema: 'public', name: 'a.b.c' }, column: 'col', qualified: false });
    assert.deepEqual(ref('t."x.y"'), { table: { schema: 'public', name: 't' }, column: 'x.y', qualified: false });
  });

  it('the old unquoted spelling reads as before; quotes keep case, "" is a quote', () => {
    assert.deepEqual(ref('budgets.user_id'), { table: { schema: 'public', name: 'budgets' }, column: 'user_id', qualified: false });
    assert.deepEqual(ref('billing.invoices.user_id'), { table: { schema: 'billing', name: 'invoices' }, column: 'user_id', qualified: true });
    assert.deepEqual(ref('"My Schema"."Users"."Id"'), { table: { schema: 'My Schema', name: 'Users' }, column: 'Id', qualified: true });
    assert.deepEqual(ref('"x""y".z'), { table: { schema: 'public', name: 'x"y' }, column: 'z', qualified: false });
  });

  it('refuses what names no single column, saying why', () => {
    for (const [text, why] of [
      ['users', /names no column/],
      ['a.b.c.d', /more than two unquoted dots/],
      ['Users.id', /capital letters/],
      ['users.*', /wildcard/],
      ['"users.id', /never closed|no column/],
      ['users.', /empty/],
    ] as const) {
      const parsed = parseColumnRef(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.match(parsed.error.message, why, text);
    }
  });

  it('formatColumnRef parses back to the same column (200 generated names)', () => {
    fc.assert(
      fc.property(hostileQualifiedName(), hostileIdentifier(), (table, column) => {
        const text = formatColumnRef({ table, column });
        const back = ref(text);
        assert.deepEqual([back.table.schema, back.table.name, back.column], [table.schema, table.name, column], text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('restore --fill keys', () => {
  it('the = that ends the column is the first one outside quotes', () => {
    assert.deepEqual(parseFill(['"a.b".c.note=x=y', 'a."b=c".note=z', 'budgets.currency=BRL']), {
      '"a.b".c.note': 'x=y',
      'a."b=c".note': 'z',
      'budgets.currency': 'BRL',
    });
  });
  it('a key that is not a column reference is bad usage, with the reason', () => {
    for (const bad of ['nodot', 'a.b.c.d=x', 'Users.id=x', '"open.x=1']) {
      assert.throws(
        () => parseFill([bad]),
        (e: unknown) => e instanceof TidemarkError && e.code === 'bad-usage',
        bad,
      );
    }
  });
});

describe('softRelations in the config', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const load = (softRelations: unknown) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-soft-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'm'));
    fs.writeFileSync(path.join(dir, 'tidemark.config.json'), JSON.stringify({ services: { s: { migrations: 'm' } }, softRelations }));
    return loadWorkspace({ cwd: dir });
  };

  it('quoted psql-style ends become (schema, table) pairs and a column', async () => {
    const ws = await load([
      { from: '"a.b".c.ref', to: 'p.id' },
      { from: 'a."b.c".ref', to: 'billing.p.id' },
    ]);
    assert.deepEqual(
      ws.softRelations.map((r) => [r.fromColumn, r.toColumn]),
      [
        [
          { table: { schema: 'a.b', name: 'c' }, column: 'ref' },
          { table: { schema: 'public', name: 'p' }, column: 'id' },
        ],
        [
          { table: { schema: 'a', name: 'b.c' }, column: 'ref' },
          { table: { schema: 'billing', name: 'p' }, column: 'id' },
        ],
      ],
    );
  });

  it('an unquoted capital is an error that says to quote it (as for owns), not a silent change of meaning', async () => {
    await assert.rejects(load([{ from: 'Budgets.user_id', to: 'users.id' }]), (e: unknown) => {
      assert.ok(e instanceof TidemarkError && e.code === 'config-invalid');
      assert.match(e.message, /softRelations\[0\]\.from must be `table\.column` or `schema\.table\.column`, got "Budgets\.user_id": it has capital letters/);
      assert.match(e.hint ?? '', /"Budgets"/);
      return true;
    });
  });
});
