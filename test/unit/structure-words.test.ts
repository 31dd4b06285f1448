/**
 * describeStructure(diff(live, migrations)) (pure): the sentences `tidemark validate` prints for its
 * structure check (today src/data/structure.ts), from literal snapshot pairs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { describeStructure } from '../../src/schema/diff/structure-words.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { column, emptySnapshot, table } from './schema-fixtures.js';

const messages = (live: Snapshot, migrations: Snapshot) => describeStructure(diff(live, migrations)).map((d) => d.message);

/** users and budget_items of the crm example, as the migrations give them (PostgreSQL 18 printing). */
function crm(): Snapshot {
  const s = emptySnapshot('user', 180006);
  s.tables.push(
    table('budget_items', { columns: [column('id', 'bigint', 1, { notNull: true }), column('description', 'text', 2)] }),
    table('users', {
      columns: [
        column('id', 'bigint', 1, { notNull: true }),
        column('name', 'text', 2, { notNull: true }),
        column('role', 'text', 3, { notNull: true, default: "'sales'" }),
        column('created_at', 'timestamp with time zone', 4, { notNull: true, default: 'now()' }),
      ],
      constraints: [
        { name: 'users_pkey', kind: 'primary key', definition: 'PRIMARY KEY (id)', validated: true },
        { name: 'users_role_check', kind: 'check', definition: "CHECK ((role = ANY (ARRAY['admin', 'manager', 'sales', 'viewer'])))", validated: true },
      ],
      indexes: [{ name: 'users_created_at_idx', definition: 'CREATE INDEX users_created_at_idx ON public.users USING btree (created_at)' }],
    }),
  );
  return s;
}

describe('describeStructure', () => {
  it('the same structure printed by PostgreSQL 15 live and 18 in the shadow: nothing to say', () => {
    const live = crm();
    live.serverVersion = 150020;
    const users = live.tables[1];
    users.columns.reverse();
    users.columns.find((c) => c.name === 'role')!.default = "'sales'::text";
    users.constraints[1].definition = "CHECK ((role = ANY (ARRAY['admin'::text, 'manager'::text, 'sales'::text, 'viewer'::text])))";
    users.indexes[0].definition = 'CREATE INDEX users_created_at_idx ON users USING btree (created_at)';
    assert.deepEqual(describeStructure(diff(live, crm())), []);
  });

  it("validate's drift case: a column added, an index and a check dropped, a type, a NOT NULL and a default changed live", () => {
    const live = crm();
    live.serverVersion = 150020;
    const [items, users] = live.tables;
    items.columns[1].type = 'character varying(200)';
    users.columns.push(column('extra', 'integer', 5));
    users.indexes = [];
    users.columns[1].notNull = false;
    users.columns[2].default = "'viewer'::text";
    users.constraints.pop();
    const found = describeStructure(diff(live, crm()));
    assert.deepEqual(found, [
      { table: 'public.budget_items', message: 'budget_items.description: live type character varying(200), migrations give text' },
      { table: 'public.users', message: 'users.name: live nullable, migrations give NOT NULL' },
      { table: 'public.users', message: "users.role: live default 'viewer', migrations give 'sales'" },
      { table: 'public.users', message: 'column users.extra (integer) exists live but not in the migrations' },
      { table: 'public.users', message: "check constraint users_role_check on users missing live (CHECK ((role = ANY (ARRAY['admin', 'manager', 'sales', 'viewer']))))" },
      { table: 'public.users', message: 'index users_created_at_idx on users missing live (CREATE INDEX ON users USING btree (created_at))' },
    ]);
  });

  it("tables missing live and live only; the migrations' tables first, by name", () => {
    const live = emptySnapshot();
    live.tables.push(table('legacy'), table('t', { columns: [column('a', 'text', 1, { notNull: false, default: "'x'::text" })] }));
    const migrations = emptySnapshot();
    migrations.tables.push(table('accounts', {}, 'billing'), table('t', { columns: [column('a', 'text', 1, { notNull: true, default: "'x'" })] }));
    assert.deepEqual(describeStructure(diff(live, migrations)), [
      { table: 'billing.accounts', message: 'table billing.accounts missing live (the migrations create it)' },
      { table: 'public.t', message: 't.a: live nullable, migrations give NOT NULL' },
      { table: 'public.legacy', message: 'table legacy exists live but the migrations do not create it' },
    ]);
  });

  it('a column: missing live, identity, generated expression, default; names quoted where they need it', () => {
    const migrations = emptySnapshot();
    migrations.tables.push(
      table('Orders', {
        columns: [
          column('id', 'bigint', 1, {
            notNull: true,
            identity: { kind: 'always', sequence: { schema: 'public', name: 'Orders_id_seq', dataType: 'bigint', start: '1', increment: '1', min: '1', max: '9', cache: '1', cycle: false } },
          }),
          column('net', 'numeric', 2, { generated: { expression: '(gross / 1.2)', kind: 'stored' } }),
          column('gross', 'numeric', 3),
          column('Note', 'text', 4),
        ],
      }),
    );
    const live: Snapshot = structuredClone(migrations);
    const cols = live.tables[0].columns;
    delete cols[0].identity;
    cols[1].generated = { expression: '(gross / 1.25)', kind: 'stored' };
    cols[2].default = '0';
    cols.pop();
    assert.deepEqual(messages(live, migrations), [
      'column "Orders"."Note" missing live (the migrations give text)',
      '"Orders".gross: live default 0, migrations give (none)',
      '"Orders".id: live no identity, migrations give identity always',
      '"Orders".net: live generated as ((gross / 1.25)), migrations give generated as ((gross / 1.2))',
    ]);
    // A stored/virtual switch alone is not something validate compares; nor are comments or storage.
    const quiet: Snapshot = structuredClone(migrations);
    quiet.tables[0].columns[1].generated = { expression: '(gross / 1.2)', kind: 'virtual' };
    quiet.tables[0].columns[2].comment = 'before tax';
    quiet.tables[0].columns[2].storage = 'MAIN';
    quiet.tables[0].comment = 'orders';
    assert.deepEqual(messages(quiet, migrations), []);
    assert.equal(diff(quiet, migrations).length, 4); // the diff has them all: the view leaves them out
  });

  it('constraints and indexes that differ print both definitions, normalized', () => {
    const migrations = emptySnapshot();
    migrations.tables.push(
      table('t', {
        columns: [column('a', 'integer', 1), column('b', 'integer', 2)],
        constraints: [
          { name: 't_a_fkey', kind: 'foreign key', definition: 'FOREIGN KEY (a) REFERENCES public.u(id)', validated: true },
          { name: 't_b_key', kind: 'unique', definition: 'UNIQUE (b)', validated: true },
        ],
        indexes: [{ name: 't_a_idx', definition: 'CREATE INDEX t_a_idx ON public.t USING btree (a)' }],
      }),
    );
    const live: Snapshot = structuredClone(migrations);
    const t = live.tables[0];
    t.constraints[0].definition = 'FOREIGN KEY (a) REFERENCES public.u(id) ON DELETE CASCADE';
    t.constraints.push({ name: 't_x_excl', kind: 'exclusion', definition: 'EXCLUDE USING gist (a WITH =)', validated: true });
    t.indexes[0].definition = 'CREATE UNIQUE INDEX t_a_idx ON public.t USING btree (a)';
    t.indexes.push({ name: 'Extra', definition: 'CREATE INDEX "Extra" ON public.t USING hash (b)' });
    assert.deepEqual(messages(live, migrations), [
      'constraint t_a_fkey on t: live FOREIGN KEY (a) REFERENCES u(id) ON DELETE CASCADE, migrations give FOREIGN KEY (a) REFERENCES u(id)',
      'exclusion constraint t_x_excl on t exists live but not in the migrations (EXCLUDE USING gist (a WITH =))',
      'index t_a_idx on t: live CREATE UNIQUE INDEX ON t USING btree (a), migrations give CREATE INDEX ON t USING btree (a)',
      'index "Extra" on t exists live but not in the migrations (CREATE INDEX ON t USING hash (b))',
    ]);
  });

  it('objects validate does not compare (views, types, triggers, policies) say nothing', () => {
    const migrations = crm();
    const live: Snapshot = structuredClone(migrations);
    live.types.push({ kind: 'enum', schema: 'public', name: 'mood', labels: ['ok'] });
    live.tables[1].triggers.push({ name: 'touch', definition: 'CREATE TRIGGER touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION f()', enabled: 'O' });
    live.tables[1].policies.push({ name: 'p', permissive: true, command: 'ALL', roles: ['PUBLIC'] });
    live.tables[1].rowSecurity = true;
    live.views.push({
      schema: 'public',
      name: 'v',
      materialized: true,
      definition: 'SELECT 1',
      options: [],
      dependsOn: [],
      indexes: [{ name: 'v_idx', definition: 'CREATE INDEX v_idx ON public.v USING btree ("?column?")' }],
      columnComments: [],
    });
    assert.equal(diff(live, migrations).length, 5);
    assert.deepEqual(messages(live, migrations), []);
  });
});
