/**
 * render/enum-rebuild.ts through renderChanges over literal snapshots: a label removed, labels
 * reordered, the down of ADD VALUE, a column with a default, an array column, schema-qualified type
 * names, an index, a CHECK, a policy and a view naming the type or reading a cast column, and what is
 * refused by name (another service's table, a domain over the type, a function taking it). Exact SQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import { draftMigrations, formatDraft } from '../../src/schema/render/drafts.js';
import type { Snapshot, TableInfo, TypeInfo } from '../../src/schema/snapshot.js';
import { fittedName, nameKey } from '../../src/sql/ident.js';
import { loadPgParser } from '../../src/history/pg-parser.js';
import { column, emptySnapshot, fn, table, view } from './schema-fixtures.js';

const snap = (extra: Partial<Snapshot> = {}): Snapshot => ({ ...emptySnapshot(), ...extra });
const status = (labels: string[], schema = 'public'): TypeInfo => ({ kind: 'enum', schema, name: 'status', labels });

function render(from: Snapshot, to: Snapshot) {
  const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
  const show = (s: (typeof r.up)[number]) => (s.phase === 'main' ? s.sql : `[${s.phase}] ${s.sql}`);
  const notes = (list: typeof r.up) => [...new Set(list.flatMap((s) => s.hazards.map((h) => `${h.hazard} ${h.object}: ${h.sentence}`)))];
  return { up: r.up.map(show), down: r.down.map(show), refused: r.refused, upHazards: notes(r.up), downHazards: notes(r.down) };
}

const orders = (extra: Partial<TableInfo> = {}) => table('orders', { columns: [column('id', 'integer', 1), column('status', 'status', 2, { notNull: true, default: "'draft'::status" })], ...extra });

describe('enum rebuild: labels removed and moved', () => {
  it('a removed label rebuilds the type; the column keeps its default; hazards name the table and the label', () => {
    const from = snap({ types: [status(['draft', 'sent', 'open'])], tables: [orders()] });
    const to = snap({ types: [status(['draft', 'open'])], tables: [orders()] });
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft', 'open');",
      'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
      'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
      "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
      'DROP TYPE status__tidemark_old;',
    ]);
    assert.deepEqual(r.upHazards, [
      'enum-rebuild enum status: the type is rebuilt (renamed to status__tidemark_old, created again, each column cast over): orders is rewritten under an ACCESS EXCLUSIVE lock',
      "data-loss enum status: label 'sent' is removed: a row still holding it makes the cast fail and the migration stop, changing nothing; move such rows to another label first",
    ]);
    // The way back gives the label back by a rebuild too: the down runs in the migration's own transaction,
    // where a label ADD VALUE adds could not be used by the next statement (a default naming it).
    assert.deepEqual(r.down, [
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft', 'sent', 'open');",
      'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
      'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
      "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
      'DROP TYPE status__tidemark_old;',
    ]);
    assert.deepEqual(
      r.downHazards.map((h) => h.split(':')[0]),
      ['enum-rebuild enum status'],
    );
    assert.deepEqual(r.refused, []);
  });

  it('the down of ADD VALUE is a rebuild; a label added with one removed is covered by the rebuild (no ADD VALUE)', () => {
    const from = snap({ types: [status(['draft', 'open'])], tables: [orders()] });
    const added = render(from, snap({ types: [status(['draft', 'open', 'closed'])], tables: [orders()] }));
    assert.deepEqual(added.up, ["ALTER TYPE status ADD VALUE 'closed' AFTER 'open';"]);
    assert.deepEqual(added.down.slice(0, 2), ['ALTER TYPE status RENAME TO status__tidemark_old;', "CREATE TYPE status AS ENUM ('draft', 'open');"]);
    assert.match(added.downHazards[1], /^data-loss enum status: label 'closed' is removed/);
    const swapped = render(from, snap({ types: [status(['draft', 'closed'])], tables: [orders()] }));
    assert.deepEqual(swapped.up.slice(0, 2), ['ALTER TYPE status RENAME TO status__tidemark_old;', "CREATE TYPE status AS ENUM ('draft', 'closed');"]);
    assert.equal(
      swapped.up.some((s) => s.includes('ADD VALUE')),
      false,
    );
    assert.deepEqual(swapped.down.slice(0, 2), ['ALTER TYPE status RENAME TO status__tidemark_old;', "CREATE TYPE status AS ENUM ('draft', 'open');"]);
  });

  it('a new label used in the same diff: its own file, whose down is the rebuild; the main down keeps the label', () => {
    const from = snap({ types: [status(['draft', 'open'])], tables: [orders()] });
    const to = snap({
      types: [status(['draft', 'open', 'closed'])],
      tables: [orders({ columns: [column('id', 'integer', 1), column('status', 'status', 2, { notNull: true, default: "'closed'::status" })] })],
    });
    const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
    const files = draftMigrations(r, 'close').map((d) => ({ slug: d.slug, up: d.up.map((s) => s.sql), down: d.down.map((s) => s.sql) }));
    assert.deepEqual(files, [
      {
        slug: 'close_enum_values',
        up: ["ALTER TYPE status ADD VALUE 'closed' AFTER 'open';"],
        // Runs after the main file's down, on `from` with the label: the column is cast with `from`'s default.
        down: [
          'ALTER TYPE status RENAME TO status__tidemark_old;',
          "CREATE TYPE status AS ENUM ('draft', 'open');",
          'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
          'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
          "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
          'DROP TYPE status__tidemark_old;',
        ],
      },
      { slug: 'close', up: ["ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'closed'::status;"], down: ["ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;"] },
    ]);
  });

  it('reordered labels: an array column is cast through text[], a column without a default keeps none, a dropped column is not cast', () => {
    const t = (cols: TableInfo['columns']) => table('tickets', { columns: cols });
    const kept = [column('id', 'integer', 1), column('history', 'status[]', 2), column('state', 'status', 3)];
    const from = snap({ types: [status(['draft', 'open'])], tables: [t([...kept, column('legacy', 'status', 4)])] });
    const to = snap({ types: [status(['open', 'draft'])], tables: [t(kept)] });
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('open', 'draft');",
      'ALTER TABLE tickets ALTER COLUMN history TYPE status[] USING history::text[]::status[];',
      'ALTER TABLE tickets ALTER COLUMN state TYPE status USING state::text::status;',
      // The dropped column goes with the old type (rank 5), before the old type is dropped (rank 8).
      'ALTER TABLE tickets DROP COLUMN legacy;',
      'DROP TYPE status__tidemark_old;',
    ]);
    assert.deepEqual(r.upHazards.slice(0, 1), [
      'enum-rebuild enum status: the type is rebuilt (renamed to status__tidemark_old, created again, each column cast over): tickets is rewritten under an ACCESS EXCLUSIVE lock',
    ]);
    assert.equal(
      r.upHazards.some((h) => h.startsWith('data-loss enum status')),
      false,
    );
  });

  it("another column's default naming the type is set again once the new type exists", () => {
    const t = table('notes', { columns: [column('kind', 'text', 1, { default: "('draft'::status)::text" })] });
    const from = snap({ types: [status(['draft', 'sent'])], tables: [t] });
    const to = snap({ types: [status(['draft'])], tables: [t] });
    assert.deepEqual(render(from, to).up, [
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft');",
      "ALTER TABLE notes ALTER COLUMN kind SET DEFAULT ('draft'::status)::text;",
      'DROP TYPE status__tidemark_old;',
    ]);
  });

  it('a type outside public, printed schema-qualified, with a table in that schema', () => {
    const t = table('invoices', { columns: [column('status', 'billing.status', 1)] }, 'billing');
    const from = snap({ schemas: ['billing'], types: [status(['a', 'b'], 'billing')], tables: [t] });
    const to = snap({ schemas: ['billing'], types: [status(['b'], 'billing')], tables: [t] });
    assert.deepEqual(render(from, to).up, [
      'ALTER TYPE billing.status RENAME TO status__tidemark_old;',
      "CREATE TYPE billing.status AS ENUM ('b');",
      'ALTER TABLE billing.invoices ALTER COLUMN status TYPE billing.status USING status::text::billing.status;',
      'DROP TYPE billing.status__tidemark_old;',
    ]);
  });
});

describe('enum rebuild: what names the type', () => {
  it('an index and a CHECK naming the type, a policy and a trigger WHEN on the cast column, are dropped first and created again after', () => {
    const extra: Partial<TableInfo> = {
      constraints: [{ name: 'orders_status_check', kind: 'check', definition: "CHECK ((status <> 'open'::status))", validated: true, comment: 'no open' }],
      indexes: [
        { name: 'orders_draft_idx', definition: "CREATE INDEX orders_draft_idx ON public.orders USING btree (id) WHERE (status = 'draft'::status)" },
        // Names neither the type nor a cast: PostgreSQL rebuilds it with the column, nothing written.
        { name: 'orders_id_idx', definition: 'CREATE INDEX orders_id_idx ON public.orders USING btree (id)' },
      ],
      policies: [{ name: 'only_drafts', permissive: true, command: 'SELECT', roles: ['PUBLIC'], using: "(status = 'draft'::status)" }],
      triggers: [
        // A WHEN on the cast column blocks ALTER COLUMN TYPE; a trigger without one is left alone.
        {
          name: 'orders_moved',
          definition: 'CREATE TRIGGER orders_moved AFTER UPDATE ON public.orders FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION touch()',
          enabled: 'D',
        },
        { name: 'orders_touch', definition: 'CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION touch()', enabled: 'O' },
      ],
      rowSecurity: true,
    };
    const from = snap({ types: [status(['draft', 'sent', 'open'])], tables: [orders(extra)] });
    const to = snap({ types: [status(['draft', 'open'])], tables: [orders(extra)] });
    assert.deepEqual(render(from, to).up, [
      'ALTER TABLE orders DROP CONSTRAINT orders_status_check;',
      'DROP INDEX orders_draft_idx;',
      'DROP POLICY only_drafts ON orders;',
      'DROP TRIGGER orders_moved ON orders;',
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft', 'open');",
      'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
      'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
      "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
      "ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK ((status <> 'open'::status));",
      "CREATE INDEX orders_draft_idx ON public.orders USING btree (id) WHERE (status = 'draft'::status);",
      "CREATE POLICY only_drafts ON orders FOR SELECT USING ((status = 'draft'::status));",
      'CREATE TRIGGER orders_moved AFTER UPDATE ON public.orders FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION touch();',
      'ALTER TABLE orders DISABLE TRIGGER orders_moved;',
      "COMMENT ON CONSTRAINT orders_status_check ON orders IS 'no open';",
      'DROP TYPE status__tidemark_old;',
    ]);
  });

  it('a view reading the cast table is dropped (with the views reading it) and created again from the new schema', () => {
    const views = [
      view('open_orders', "SELECT orders.id, orders.status FROM orders WHERE (orders.status = 'open'::status);", { comment: 'open ones' }),
      view('open_count', 'SELECT count(*) AS count FROM open_orders;', { dependsOn: ['public.open_orders'] }),
      view('unrelated', 'SELECT 1 AS one;'),
    ];
    const from = snap({ types: [status(['draft', 'sent', 'open'])], tables: [orders()], views });
    const to = snap({ types: [status(['draft', 'open'])], tables: [orders()], views });
    assert.deepEqual(render(from, to).up, [
      'DROP VIEW open_count;',
      'DROP VIEW open_orders;',
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft', 'open');",
      'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
      'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
      "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
      "CREATE VIEW open_orders AS\nSELECT orders.id, orders.status FROM orders WHERE (orders.status = 'open'::status);",
      'CREATE VIEW open_count AS\nSELECT count(*) AS count FROM open_orders;',
      "COMMENT ON VIEW open_orders IS 'open ones';",
      'DROP TYPE status__tidemark_old;',
    ]);
  });
});

describe('enum rebuild: refused by name', () => {
  it("another service's table using the type, a domain over it, a function taking it", () => {
    const from = snap({
      types: [status(['draft', 'sent']), { kind: 'domain', schema: 'public', name: 'state', baseType: 'status', notNull: false, constraints: [] }],
      functions: [fn('is_sent', 'SELECT 1', { arguments: 's status' })],
      tables: [orders()],
      dependents: [{ service: 'crm', object: 'type status', from: 'table crm.deals' }],
    });
    const to = { ...from, types: [status(['draft']), from.types[1]], dependents: [] };
    const r = render(from, to);
    assert.deepEqual(r.up, []);
    assert.deepEqual(r.refused, [
      {
        object: 'enum status',
        reason:
          'its labels change, which needs the type rebuilt, and table crm.deals of service crm uses it: change it there first, or rebuild the type by hand; ' +
          'domain state is over it: rebuild the domain with it by hand; function is_sent(s status) takes, returns or names it: rebuild the function with it by hand',
      },
    ]);
  });

  it('a composite type created in the same diff with an attribute of the rebuilt type', () => {
    const pair: TypeInfo = { kind: 'composite', schema: 'public', name: 'pair', attributes: [{ name: 's', type: 'status' }] };
    const r = render(snap({ types: [status(['draft', 'sent'])] }), snap({ types: [status(['draft']), pair] }));
    assert.deepEqual(r.refused[0], { object: 'enum status', reason: 'its labels change, which needs the type rebuilt, and composite type pair has an attribute of it: rebuild it by hand' });
  });

  it('a generated column computed from a cast column', () => {
    const t = orders({ columns: [column('status', 'status', 1), column('label', 'text', 2, { generated: { expression: '(status)::text', kind: 'stored' } })] });
    const r = render(snap({ types: [status(['draft', 'sent'])], tables: [t] }), snap({ types: [status(['draft'])], tables: [t] }));
    assert.deepEqual(r.up, []);
    assert.deepEqual(r.refused, [{ object: 'enum status', reason: 'its labels change, which needs the type rebuilt, and generated column orders.label is computed from it: rebuild it by hand' }]);
  });

  it("the down of ADD VALUE is refused when the database's snapshot says another service uses the type (the desired one's shadow may not)", () => {
    const live = snap({ types: [status(['draft'])], tables: [orders()], dependents: [{ service: 'crm', object: 'type status', from: 'table crm.deals' }] });
    const desired = snap({ types: [status(['draft', 'sent'])], tables: [orders()] });
    const r = render(live, desired);
    assert.deepEqual(r.up, ["ALTER TYPE status ADD VALUE 'sent' AFTER 'draft';"]);
    assert.deepEqual(r.refused, [
      { object: 'enum status', reason: 'its labels change, which needs the type rebuilt, and table crm.deals of service crm uses it: change it there first, or rebuild the type by hand' },
    ]);
  });
});

describe('enum rebuild: hostile names', () => {
  it('a name or label holding a newline or a carriage return stays inside its comment line; a long name is fitted, not cut', async () => {
    const hostile = (labels: string[]): TypeInfo => ({ kind: 'enum', schema: 'public', name: 'st\nDROP TABLE users; --', labels });
    const use = table('orders', { columns: [column('s', '"st\nDROP TABLE users; --"', 1)] });
    const from = snap({ types: [hostile(['a', 'b\rDROP TABLE users; --', 'c'])], tables: [use] });
    const to = snap({ types: [hostile(['a', 'c'])], tables: [use] });
    const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
    const text = draftMigrations(r, 'x')
      .map((d) => formatDraft(d, []))
      .join('\n');
    // What PostgreSQL's own parser finds in the file: the rebuild's statements, and no DROP TABLE a name
    // smuggled out of a hazard comment (inside a quoted name a newline is only part of the name).
    const pg = await loadPgParser();
    const { stmts } = (await pg.parse(text)) as { stmts: { stmt: Record<string, { removeType?: string }> }[] };
    const kinds = stmts.map(({ stmt }) => Object.keys(stmt)[0]);
    assert.ok(kinds.length > 0);
    for (const { stmt } of stmts) assert.notEqual(Object.values(stmt)[0].removeType, 'OBJECT_TABLE', `a name escaped its comment:\n${text}`);
    assert.deepEqual([...new Set(kinds)].sort(), ['AlterTableStmt', 'CreateEnumStmt', 'DropStmt', 'RenameStmt']);
    const long = 'x'.repeat(60);
    const fitted = fittedName(long, '__tidemark_old');
    assert.ok(Buffer.byteLength(fitted) <= 63 && fitted.endsWith('__tidemark_old') && fitted !== long);
    assert.notEqual(fittedName(`${long}a`, '__tidemark_old'), fittedName(`${long}b`, '__tidemark_old'));
    assert.equal(fittedName('status', '__tidemark_old'), 'status__tidemark_old');
    assert.equal(Buffer.byteLength(fittedName('é'.repeat(40), '_not_null_check')) <= 63, true);
  });
});
