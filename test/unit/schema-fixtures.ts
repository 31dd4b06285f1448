/** Small Snapshot literals for the pure src/schema tests. */
import type { ColumnInfo, FunctionInfo, SequenceInfo, Snapshot, TableInfo, ViewInfo } from '../../src/schema/snapshot.js';

export function emptySnapshot(service = 'app', serverVersion = 150020): Snapshot {
  return { serverVersion, service, schemas: [], extensions: [], types: [], functions: [], sequences: [], tables: [], views: [], unsupported: [], references: [] };
}

export function column(name: string, type: string, position: number, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return { name, type, position, notNull: false, ...extra };
}

export function table(name: string, extra: Partial<TableInfo> = {}, schema = 'public'): TableInfo {
  return {
    schema,
    name,
    unlogged: false,
    options: [],
    columns: [],
    constraints: [],
    indexes: [],
    triggers: [],
    policies: [],
    rowSecurity: false,
    forceRowSecurity: false,
    ...extra,
  };
}

export const IDENTITY_SEQ = { dataType: 'bigint', start: '1', increment: '1', min: '1', max: '9223372036854775807', cache: '1', cycle: false };

/** budgets as a PostgreSQL 15 server prints it. */
export function budgetsOn15(): Snapshot {
  const s = emptySnapshot('budget', 150020);
  s.tables.push(
    table('budgets', {
      columns: [
        column('id', 'bigint', 1, { notNull: true, identity: { kind: 'by default', sequence: { schema: 'public', name: 'budgets_id_seq', ...IDENTITY_SEQ } } }),
        column('user_id', 'bigint', 2, { notNull: true }),
        column('status', 'text', 3, { notNull: true, default: "'draft'::text" }),
      ],
      constraints: [
        { name: 'budgets_pkey', kind: 'primary key', definition: 'PRIMARY KEY (id)', validated: true },
        { name: 'budgets_status_check', kind: 'check', definition: "CHECK ((status = ANY (ARRAY['draft'::text, 'sent'::text])))", validated: true },
        { name: 'budgets_user_id_fkey', kind: 'foreign key', definition: 'FOREIGN KEY (user_id) REFERENCES users(id)', validated: true, references: { schema: 'public', name: 'users' } },
      ],
      indexes: [{ name: 'budgets_status_idx', definition: 'CREATE INDEX budgets_status_idx ON public.budgets USING btree (status)' }],
      triggers: [{ name: 'budgets_touch', definition: 'CREATE TRIGGER budgets_touch BEFORE UPDATE ON public.budgets FOR EACH ROW EXECUTE FUNCTION touch()', enabled: 'O' }],
      comment: 'Customer budgets',
    }),
  );
  s.functions.push({
    schema: 'public',
    name: 'touch',
    kind: 'function',
    arguments: '',
    definition: 'CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$\nBEGIN NEW.updated_at := now(); RETURN NEW; END\n$function$\n',
    late: false,
  });
  s.references.push({ service: 'user', object: 'table users', from: 'foreign key budgets_user_id_fkey on budgets' });
  return s;
}

// ---- builders for every object kind (schema-diff.test.ts, structure-words.test.ts) ----

export function view(name: string, definition: string, extra: Partial<ViewInfo> = {}, schema = 'public'): ViewInfo {
  return { schema, name, materialized: false, definition, options: [], dependsOn: [], indexes: [], columnComments: [], ...extra };
}

export function sequence(name: string, extra: Partial<SequenceInfo> = {}, schema = 'public'): SequenceInfo {
  return { schema, name, dataType: 'bigint', start: '1', increment: '1', min: '1', max: '9223372036854775807', cache: '1', cycle: false, ...extra };
}

export function fn(name: string, body: string, extra: Partial<FunctionInfo> = {}, schema = 'public'): FunctionInfo {
  const definition = `CREATE OR REPLACE FUNCTION ${schema}.${name}()\n RETURNS integer\n LANGUAGE sql\nAS $function$\n${body}\n$function$\n`;
  return { schema, name, kind: 'function', arguments: '', definition, late: false, ...extra };
}

/** One object of every kind a Snapshot holds: schema, extension, enum, domain (with a check), composite,
 *  function, procedure, sequence, table (columns of every sort, each constraint kind, index, trigger,
 *  policy, row security), view, materialized view (index, column comment), unsupported object. */
export function everything(serverVersion = 150020): Snapshot {
  const s = emptySnapshot('shop', serverVersion);
  s.schemas.push('billing');
  s.extensions.push({ name: 'pgcrypto', schema: 'public' });
  s.types.push(
    { kind: 'composite', schema: 'billing', name: 'money', attributes: [{ name: 'amount', type: 'numeric(12,2)' }] },
    { kind: 'domain', schema: 'public', name: 'email', baseType: 'text', notNull: false, constraints: [{ name: 'email_check', definition: "CHECK ((VALUE ~~ '%@%'::text))" }] },
    { kind: 'enum', schema: 'public', name: 'status', labels: ['draft', 'open'] },
  );
  s.functions.push(fn('answer', 'SELECT 42'), {
    schema: 'public',
    name: 'archive',
    kind: 'procedure',
    arguments: 'days integer',
    definition: 'CREATE OR REPLACE PROCEDURE public.archive(IN days integer)\n LANGUAGE sql\nAS $procedure$DELETE FROM orders WHERE false$procedure$\n',
    late: false,
  });
  s.sequences.push(sequence('invoice_no', { start: '1000' }));
  s.tables.push(
    table('orders', {
      columns: [
        column('id', 'bigint', 1, { notNull: true, identity: { kind: 'always', sequence: { ...sequence('orders_id_seq'), schema: 'public', name: 'orders_id_seq' } } }),
        column('code', 'character varying(20)', 2, { notNull: true, default: "'x'::character varying" }),
        column('total', 'numeric(10,2)', 3, { default: '0' }),
        column('status', 'status', 4, { notNull: true, default: "'draft'::status" }),
        column('owner', 'text', 5, { default: 'CURRENT_USER', collation: '"C"' }),
        column('doubled', 'numeric', 6, { generated: { expression: '(total * (2)::numeric)', kind: 'stored' } }),
      ],
      constraints: [
        { name: 'orders_code_key', kind: 'unique', definition: 'UNIQUE (code)', validated: true },
        { name: 'orders_pkey', kind: 'primary key', definition: 'PRIMARY KEY (id)', validated: true },
        { name: 'orders_total_check', kind: 'check', definition: 'CHECK ((total >= (0)::numeric))', validated: true },
      ],
      indexes: [{ name: 'orders_status_idx', definition: 'CREATE INDEX orders_status_idx ON public.orders USING btree (status)' }],
      triggers: [{ name: 'orders_touch', definition: 'CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION answer()', enabled: 'O' }],
      policies: [{ name: 'mine', permissive: true, command: 'SELECT', roles: ['PUBLIC'], using: '(owner = CURRENT_USER)' }],
      rowSecurity: true,
    }),
  );
  s.views.push(
    view('open_orders', " SELECT orders.id,\n    orders.total\n   FROM orders\n  WHERE (orders.status = 'open'::status);"),
    view('order_totals', ' SELECT sum(orders.total) AS total\n   FROM orders;', {
      materialized: true,
      indexes: [{ name: 'order_totals_idx', definition: 'CREATE INDEX order_totals_idx ON public.order_totals USING btree (total)' }],
      columnComments: [{ column: 'total', comment: 'all orders' }],
    }),
  );
  s.unsupported.push({ kind: 'rule', name: 'no_delete on orders', reason: 'CREATE RULE is not reproduced' });
  return s;
}
