/** Small Snapshot literals for the pure src/schema tests. */
import type { ColumnInfo, Snapshot, TableInfo } from '../../src/schema/snapshot.js';

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

const IDENTITY_SEQ = { dataType: 'bigint', start: '1', increment: '1', min: '1', max: '9223372036854775807', cache: '1', cycle: false };

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
