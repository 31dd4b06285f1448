/**
 * schema/render/changes.ts for what is not a table (routines.ts, types.ts) over literal snapshots:
 * schemas, extensions, sequences, functions and procedures, enums, domains, composite types, each
 * rendered up and down as exact SQL in run order, with phases, and what is refused by name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import type { Snapshot, TableInfo, TypeInfo } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { column, emptySnapshot, fn, sequence, table, view } from './schema-fixtures.js';

function snap(extra: Partial<Snapshot> = {}): Snapshot {
  return { ...emptySnapshot(), ...extra };
}

function render(from: Snapshot, to: Snapshot) {
  const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
  const show = (s: (typeof r.up)[number]) => (s.phase === 'main' ? s.sql : `[${s.phase}] ${s.sql}`);
  return { up: r.up.map(show), down: r.down.map(show), refused: r.refused };
}

describe('renderChanges: schemas and extensions', () => {
  it('a schema is created if missing and dropped plainly, after what was in it', () => {
    const r = render(snap(), snap({ schemas: ['billing'], sequences: [sequence('invoice_no', {}, 'billing')] }));
    assert.deepEqual(r.up, ['CREATE SCHEMA IF NOT EXISTS billing;', 'CREATE SEQUENCE billing.invoice_no;']);
    assert.deepEqual(r.down, ['DROP SEQUENCE billing.invoice_no;', 'DROP SCHEMA billing;']);
    assert.deepEqual(r.refused, []);
  });

  it('an extension is created in its schema and moved, but never dropped', () => {
    const r = render(snap(), snap({ extensions: [{ name: 'pgcrypto', schema: 'public' }] }));
    assert.deepEqual(r.up, ['CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public;']);
    assert.deepEqual(r.down, []);
    assert.deepEqual(r.refused, []);
    const moved = render(snap({ extensions: [{ name: 'pgcrypto', schema: 'public' }] }), snap({ extensions: [{ name: 'pgcrypto', schema: 'ext' }] }));
    assert.deepEqual(moved.up, ['ALTER EXTENSION pgcrypto SET SCHEMA ext;']);
    assert.deepEqual(moved.down, ['ALTER EXTENSION pgcrypto SET SCHEMA public;']);
  });
});

describe('renderChanges: sequences', () => {
  const orders = table('orders', { columns: [column('no', 'integer', 1)] });
  it('created with its options, owned by its column after the table, commented; down drops it', () => {
    const seq = sequence('orders_no_seq', { dataType: 'integer', max: '2147483647', start: '100', cache: '10', ownedBy: { schema: 'public', table: 'orders', column: 'no' }, comment: 'numbers' });
    const r = render(snap(), snap({ tables: [orders], sequences: [seq] }));
    assert.deepEqual(r.up, [
      'CREATE SEQUENCE orders_no_seq AS integer START WITH 100 CACHE 10;',
      'CREATE TABLE orders (\n  no integer\n);',
      'ALTER SEQUENCE orders_no_seq OWNED BY orders.no;',
      "COMMENT ON SEQUENCE orders_no_seq IS 'numbers';",
    ]);
    // The sequence goes with the table that owns it: no DROP SEQUENCE of its own.
    assert.deepEqual(r.down, ['DROP TABLE orders;']);
  });

  it('options altered one by one, ownership and comment changed', () => {
    const from = snap({ tables: [orders], sequences: [sequence('invoice_no')] });
    const to = snap({
      tables: [orders],
      sequences: [sequence('invoice_no', { increment: '5', max: '1000000', cycle: true, ownedBy: { schema: 'public', table: 'orders', column: 'no' }, comment: 'x' })],
    });
    const r = render(from, to);
    assert.deepEqual(r.up, [
      'ALTER SEQUENCE invoice_no INCREMENT BY 5;',
      'ALTER SEQUENCE invoice_no MAXVALUE 1000000;',
      'ALTER SEQUENCE invoice_no CYCLE;',
      'ALTER SEQUENCE invoice_no OWNED BY orders.no;',
      "COMMENT ON SEQUENCE invoice_no IS 'x';",
    ]);
    assert.deepEqual(r.down, [
      'ALTER SEQUENCE invoice_no INCREMENT BY 1;',
      'ALTER SEQUENCE invoice_no MAXVALUE 9223372036854775807;',
      'ALTER SEQUENCE invoice_no NO CYCLE;',
      'ALTER SEQUENCE invoice_no OWNED BY NONE;',
      'COMMENT ON SEQUENCE invoice_no IS NULL;',
    ]);
  });
});

describe('renderChanges: functions and procedures', () => {
  const proc = {
    schema: 'public',
    name: 'archive',
    kind: 'procedure' as const,
    arguments: 'days integer',
    definition: 'CREATE OR REPLACE PROCEDURE public.archive(IN days integer)\n LANGUAGE sql\nAS $procedure$DELETE FROM orders WHERE false$procedure$\n',
    late: false,
  };

  it('created from their definition with bodies unchecked, before tables unless late; dropped by signature', () => {
    const late = { ...fn('counted', 'SELECT count(*) FROM orders'), late: true };
    const r = render(snap(), snap({ functions: [fn('answer', 'SELECT 42', { comment: 'the answer' }), proc, late], tables: [table('orders')] }));
    assert.deepEqual(r.up, [
      'SET LOCAL check_function_bodies = off;',
      'CREATE OR REPLACE FUNCTION public.answer()\n RETURNS integer\n LANGUAGE sql\nAS $function$\nSELECT 42\n$function$;',
      'CREATE OR REPLACE PROCEDURE public.archive(IN days integer)\n LANGUAGE sql\nAS $procedure$DELETE FROM orders WHERE false$procedure$;',
      'CREATE TABLE orders (\n\n);',
      'CREATE OR REPLACE FUNCTION public.counted()\n RETURNS integer\n LANGUAGE sql\nAS $function$\nSELECT count(*) FROM orders\n$function$;',
      "COMMENT ON FUNCTION answer() IS 'the answer';",
    ]);
    assert.deepEqual(r.down, ['DROP FUNCTION counted();', 'DROP TABLE orders;', 'DROP FUNCTION answer();', 'DROP PROCEDURE archive(days integer);']);
    assert.deepEqual(r.refused, []);
  });

  it('a new body is CREATE OR REPLACE; a new return type drops the old function first', () => {
    const body = render(snap({ functions: [fn('answer', 'SELECT 42')] }), snap({ functions: [fn('answer', 'SELECT 43', { comment: 'c' })] }));
    assert.deepEqual(body.up, [
      'SET LOCAL check_function_bodies = off;',
      'CREATE OR REPLACE FUNCTION public.answer()\n RETURNS integer\n LANGUAGE sql\nAS $function$\nSELECT 43\n$function$;',
      "COMMENT ON FUNCTION answer() IS 'c';",
    ]);
    assert.deepEqual(body.down, [
      'SET LOCAL check_function_bodies = off;',
      'CREATE OR REPLACE FUNCTION public.answer()\n RETURNS integer\n LANGUAGE sql\nAS $function$\nSELECT 42\n$function$;',
      'COMMENT ON FUNCTION answer() IS NULL;',
    ]);
    const bigint = fn('answer', 'SELECT 42::bigint');
    const returns = render(snap({ functions: [fn('answer', 'SELECT 42')] }), snap({ functions: [{ ...bigint, definition: bigint.definition.replace('RETURNS integer', 'RETURNS bigint') }] }));
    assert.deepEqual(returns.up, [
      'SET LOCAL check_function_bodies = off;',
      'DROP FUNCTION answer();',
      'CREATE OR REPLACE FUNCTION public.answer()\n RETURNS bigint\n LANGUAGE sql\nAS $function$\nSELECT 42::bigint\n$function$;',
    ]);
  });
});

describe('renderChanges: enums', () => {
  const status = (labels: string[]): TypeInfo => ({ kind: 'enum', schema: 'public', name: 'status', labels });
  const orders = (dflt: string) => table('orders', { columns: [column('status', 'status', 1, { default: dflt })] });

  it('new labels are added in place; in their own phase only when a later statement uses one', () => {
    const from = snap({ types: [status(['draft', 'open'])], tables: [orders("'draft'::status")] });
    const plain = render(from, snap({ types: [status(['new', 'draft', 'sent', 'open', 'closed'])], tables: [orders("'draft'::status")] }));
    assert.deepEqual(plain.up, ["ALTER TYPE status ADD VALUE 'new' BEFORE 'draft';", "ALTER TYPE status ADD VALUE 'sent' AFTER 'draft';", "ALTER TYPE status ADD VALUE 'closed' AFTER 'open';"]);
    // The way back removes labels: the type is rebuilt (test/unit/enum-rebuild.test.ts has the cases).
    assert.deepEqual(plain.refused, []);
    assert.deepEqual(plain.down, [
      'ALTER TYPE status RENAME TO status__tidemark_old;',
      "CREATE TYPE status AS ENUM ('draft', 'open');",
      'ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;',
      'ALTER TABLE orders ALTER COLUMN status TYPE status USING status::text::status;',
      "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'draft'::status;",
      'DROP TYPE status__tidemark_old;',
    ]);
    const used = render(from, snap({ types: [status(['draft', 'open', 'closed'])], tables: [orders("'closed'::status")] }));
    assert.deepEqual(used.up, ["[enum-values] ALTER TYPE status ADD VALUE 'closed' AFTER 'open';", "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'closed'::status;"]);
  });

  it('reordered labels rebuild the type; a new enum is created and dropped after its users', () => {
    const r = render(snap({ types: [status(['draft', 'open'])] }), snap({ types: [status(['open', 'draft'])] }));
    assert.deepEqual(r.up, ['ALTER TYPE status RENAME TO status__tidemark_old;', "CREATE TYPE status AS ENUM ('open', 'draft');", 'DROP TYPE status__tidemark_old;']);
    assert.deepEqual(r.down, ['ALTER TYPE status RENAME TO status__tidemark_old;', "CREATE TYPE status AS ENUM ('draft', 'open');", 'DROP TYPE status__tidemark_old;']);
    assert.deepEqual(r.refused, []);
    const created = render(snap(), snap({ types: [{ ...status(['draft']), comment: 'state' }], tables: [orders("'draft'::status")] }));
    assert.deepEqual(created.up, ["CREATE TYPE status AS ENUM ('draft');", "CREATE TABLE orders (\n  status status DEFAULT 'draft'::status\n);", "COMMENT ON TYPE status IS 'state';"]);
    assert.deepEqual(created.down, ['DROP TABLE orders;', 'DROP TYPE status;']);
  });
});

describe('renderChanges: domains and composite types', () => {
  const email = (extra: Partial<TypeInfo & { kind: 'domain' }> = {}): TypeInfo => ({
    kind: 'domain',
    schema: 'public',
    name: 'email',
    baseType: 'text',
    notNull: false,
    constraints: [{ name: 'email_check', definition: "CHECK ((VALUE ~~ '%@%'::text))" }],
    ...extra,
  });

  it('domain NOT NULL, default and constraints altered in place', () => {
    const to = email({
      notNull: true,
      default: "'a@b'::text",
      constraints: [
        { name: 'email_check', definition: "CHECK ((VALUE ~~ '%@%.%'::text))" },
        { name: 'email_short', definition: 'CHECK ((length(VALUE) < 200))' },
      ],
    });
    const r = render(snap({ types: [email()] }), snap({ types: [to] }));
    assert.deepEqual(r.up, [
      'ALTER DOMAIN email SET NOT NULL;',
      "ALTER DOMAIN email SET DEFAULT 'a@b'::text;",
      'ALTER DOMAIN email DROP CONSTRAINT email_check;',
      "ALTER DOMAIN email ADD CONSTRAINT email_check CHECK ((VALUE ~~ '%@%.%'::text));",
      'ALTER DOMAIN email ADD CONSTRAINT email_short CHECK ((length(VALUE) < 200));',
    ]);
    assert.deepEqual(r.down, [
      'ALTER DOMAIN email DROP NOT NULL;',
      'ALTER DOMAIN email DROP DEFAULT;',
      'ALTER DOMAIN email DROP CONSTRAINT email_check;',
      "ALTER DOMAIN email ADD CONSTRAINT email_check CHECK ((VALUE ~~ '%@%'::text));",
      'ALTER DOMAIN email DROP CONSTRAINT email_short;',
    ]);
    const based = render(snap({ types: [email()] }), snap({ types: [email({ baseType: 'character varying(200)' })] }));
    assert.deepEqual(
      based.refused.map((x) => `${x.object}: ${x.reason}`),
      ['domain email: another base type: needs a type rebuild'],
    );
  });

  it('composite attributes added, dropped and retyped; moved ones need a rebuild', () => {
    const money = (attributes: { name: string; type: string; collation?: string }[]): TypeInfo => ({ kind: 'composite', schema: 'billing', name: 'money', attributes });
    const r = render(
      snap({
        schemas: ['billing'],
        types: [
          money([
            { name: 'amount', type: 'numeric(12,2)' },
            { name: 'note', type: 'text' },
          ]),
        ],
      }),
      snap({
        schemas: ['billing'],
        types: [
          money([
            { name: 'amount', type: 'numeric(14,2)' },
            { name: 'currency', type: 'text', collation: '"C"' },
          ]),
        ],
      }),
    );
    assert.deepEqual(r.up, [
      'ALTER TYPE billing.money DROP ATTRIBUTE note;',
      'ALTER TYPE billing.money ALTER ATTRIBUTE amount TYPE numeric(14,2);',
      'ALTER TYPE billing.money ADD ATTRIBUTE currency text COLLATE "C";',
    ]);
    assert.deepEqual(r.down, [
      'ALTER TYPE billing.money DROP ATTRIBUTE currency;',
      'ALTER TYPE billing.money ALTER ATTRIBUTE amount TYPE numeric(12,2);',
      'ALTER TYPE billing.money ADD ATTRIBUTE note text;',
    ]);
    const moved = render(
      snap({
        types: [
          money([
            { name: 'a', type: 'int' },
            { name: 'b', type: 'int' },
          ]),
        ],
      }),
      snap({
        types: [
          money([
            { name: 'b', type: 'int' },
            { name: 'a', type: 'int' },
          ]),
        ],
      }),
    );
    assert.deepEqual(moved.refused[0], { object: 'composite billing.money', reason: 'attributes reordered: needs a type rebuild' });
  });
});

describe('renderChanges: triggers and policies', () => {
  const trig = (definition: string, enabled: 'O' | 'D' = 'O', comment?: string) => ({ name: 'orders_touch', definition, enabled, ...(comment ? { comment } : {}) });
  const before = 'CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION touch()';
  const orders = (extra: Partial<TableInfo> = {}) => table('orders', { columns: [column('owner', 'text', 1)], ...extra });

  it('a trigger is created with its state and comment, replaced in place, enabled and dropped', () => {
    const added = render(snap({ tables: [orders()] }), snap({ tables: [orders({ triggers: [trig(before, 'D', 'stamps')] })] }));
    assert.deepEqual(added.up, [`${before};`, 'ALTER TABLE orders DISABLE TRIGGER orders_touch;', "COMMENT ON TRIGGER orders_touch ON orders IS 'stamps';"]);
    assert.deepEqual(added.down, ['DROP TRIGGER orders_touch ON orders;']);
    const insert = before.replace('BEFORE UPDATE', 'BEFORE INSERT OR UPDATE');
    const replaced = render(snap({ tables: [orders({ triggers: [trig(before, 'D')] })] }), snap({ tables: [orders({ triggers: [trig(insert, 'D')] })] }));
    assert.deepEqual(replaced.up, [`${insert.replace('CREATE TRIGGER', 'CREATE OR REPLACE TRIGGER')};`, 'ALTER TABLE orders DISABLE TRIGGER orders_touch;']);
    const enabled = render(snap({ tables: [orders({ triggers: [trig(before, 'D')] })] }), snap({ tables: [orders({ triggers: [trig(before)] })] }));
    assert.deepEqual(enabled.up, ['ALTER TABLE orders ENABLE TRIGGER orders_touch;']);
    assert.deepEqual(enabled.down, ['ALTER TABLE orders DISABLE TRIGGER orders_touch;']);
  });

  it('a policy is altered for roles and expressions, dropped and created again for its command', () => {
    const mine = { name: 'mine', permissive: true, command: 'SELECT', roles: ['PUBLIC'], using: '(owner = CURRENT_USER)' };
    const from = snap({ tables: [orders({ policies: [mine] })] });
    const altered = render(from, snap({ tables: [orders({ policies: [{ ...mine, roles: ['app', 'report'], using: '(owner = SESSION_USER)', withCheck: 'true' }] })] }));
    assert.deepEqual(altered.up, ['ALTER POLICY mine ON orders TO app, report;', 'ALTER POLICY mine ON orders USING ((owner = SESSION_USER));', 'ALTER POLICY mine ON orders WITH CHECK (true);']);
    // The way back loses WITH CHECK, which ALTER POLICY cannot do: one drop and create from `from`.
    assert.deepEqual(altered.down, ['DROP POLICY mine ON orders;', 'CREATE POLICY mine ON orders FOR SELECT USING ((owner = CURRENT_USER));']);
    const command = render(from, snap({ tables: [orders({ policies: [{ ...mine, permissive: false, command: 'ALL', comment: 'c' }] })] }));
    assert.deepEqual(command.up, ['DROP POLICY mine ON orders;', 'CREATE POLICY mine ON orders AS RESTRICTIVE USING ((owner = CURRENT_USER));', "COMMENT ON POLICY mine ON orders IS 'c';"]);
    assert.deepEqual(command.refused, []);
  });
});

describe('renderChanges: views', () => {
  const base = table('orders', { columns: [column('id', 'bigint', 1), column('total', 'numeric', 2)] });
  const open = view('open_orders', ' SELECT orders.id,\n    orders.total\n   FROM orders;', { comment: 'open ones' });
  const big = view('big_orders', ' SELECT open_orders.id\n   FROM open_orders\n  WHERE (open_orders.total > (100)::numeric);', { dependsOn: ['public.open_orders'] });
  const totals = view('order_totals', ' SELECT sum(orders.total) AS total\n   FROM orders;', {
    materialized: true,
    indexes: [{ name: 'order_totals_idx', definition: 'CREATE INDEX order_totals_idx ON public.order_totals USING btree (total)' }],
    columnComments: [{ column: 'total', comment: 'all orders' }],
  });

  it('created after the tables in dependency order with indexes and comments; dropped readers first', () => {
    const r = render(snap({ tables: [base] }), snap({ tables: [base], views: [big, open, totals] }));
    assert.deepEqual(r.up, [
      'CREATE VIEW open_orders AS\nSELECT orders.id,\n    orders.total\n   FROM orders;',
      'CREATE VIEW big_orders AS\nSELECT open_orders.id\n   FROM open_orders\n  WHERE (open_orders.total > (100)::numeric);',
      'CREATE MATERIALIZED VIEW order_totals AS\nSELECT sum(orders.total) AS total\n   FROM orders;',
      'CREATE INDEX order_totals_idx ON public.order_totals USING btree (total);',
      "COMMENT ON VIEW open_orders IS 'open ones';",
      "COMMENT ON COLUMN order_totals.total IS 'all orders';",
    ]);
    // The reverse of creation order: a reader always before what it reads.
    assert.deepEqual(r.down, ['DROP MATERIALIZED VIEW order_totals;', 'DROP VIEW big_orders;', 'DROP VIEW open_orders;']);
    assert.deepEqual(r.refused, []);
  });

  it('a new query drops and creates the view and the views that read it; options and indexes in place', () => {
    const wider = { ...open, definition: ' SELECT orders.id,\n    orders.total,\n    1 AS one\n   FROM orders;' };
    const r = render(snap({ tables: [base], views: [open, big] }), snap({ tables: [base], views: [wider, { ...big, options: ['security_barrier=true'] }] }));
    assert.deepEqual(r.up, [
      'DROP VIEW big_orders;',
      'DROP VIEW open_orders;',
      'CREATE VIEW open_orders AS\nSELECT orders.id,\n    orders.total,\n    1 AS one\n   FROM orders;',
      'CREATE VIEW big_orders WITH (security_barrier=true) AS\nSELECT open_orders.id\n   FROM open_orders\n  WHERE (open_orders.total > (100)::numeric);',
      'ALTER VIEW big_orders SET (security_barrier=true);',
      "COMMENT ON VIEW open_orders IS 'open ones';",
    ]);
    const idx = { name: 'order_totals_total_idx', definition: 'CREATE UNIQUE INDEX order_totals_total_idx ON public.order_totals USING btree (total)' };
    const indexed = render(snap({ tables: [base], views: [totals] }), snap({ tables: [base], views: [{ ...totals, indexes: [idx], columnComments: [] }] }));
    assert.deepEqual(indexed.up, [
      'DROP INDEX order_totals_idx;',
      'CREATE UNIQUE INDEX order_totals_total_idx ON public.order_totals USING btree (total);',
      'COMMENT ON COLUMN order_totals.total IS NULL;',
    ]);
  });

  it('what has no form yet is refused by name', () => {
    const r = render(snap(), snap({ unsupported: [{ kind: 'rule', name: 'keep on orders', reason: 'CREATE RULE is not reproduced' }] }));
    assert.deepEqual(
      r.refused.map((x) => x.reason),
      ['a rule is not reproduced by tidemark (baseline refuses it too)'],
    );
  });
});
