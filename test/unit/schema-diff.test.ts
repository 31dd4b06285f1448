/** diff(from, to) (pure): every object kind added, dropped and altered, mirrored both ways, with hazards. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, ObjectId } from '../../src/schema/diff/change.js';
import { diff } from '../../src/schema/diff/diff.js';
import { typeChangeRewrites, volatileDefault } from '../../src/schema/diff/hazards.js';
import { describeChanges } from '../../src/schema/diff/words.js';
import { normalizeSnapshot } from '../../src/schema/normalize.js';
import type { DomainType, Snapshot } from '../../src/schema/snapshot.js';
import { column, everything, table } from './schema-fixtures.js';

/** The same schema as PGlite (PostgreSQL 18) prints it: what normalize.ts knows differs. */
function everythingOn18(): Snapshot {
  const s = everything(180006);
  const t = s.tables[0];
  t.columns.reverse(); // column order is not compared
  t.constraints[2].definition = 'CHECK ((total >= (0)::numeric))';
  t.indexes[0].definition = 'CREATE INDEX orders_status_idx ON orders USING btree ( status )';
  t.policies[0].using = '(owner = CURRENT_USER::text)';
  t.columns.find((c) => c.name === 'code')!.default = "'x'::character varying";
  (s.types[1] as DomainType).constraints[0].definition = "CHECK ((VALUE ~~ '%@%'))";
  s.functions[0].definition = s.functions[0].definition.replace('SELECT 42', 'SELECT 42   ').trimEnd();
  s.views[0].definition = " SELECT orders.id, orders.total\n FROM orders WHERE ( orders.status = 'open'::status );\n";
  s.views[1].indexes[0].definition = 'CREATE INDEX order_totals_idx ON order_totals USING btree (total)';
  s.createOrder = ['["table","public","orders"]'];
  s.dependents = [{ service: 'crm', object: 'table orders', from: 'foreign key notes_order_fkey on table notes' }];
  return s;
}

/**
 * diff(b, a) seen from a: adds and drops swap, before and after swap (hazards are per direction). An
 * alter's id names the object as `from` has it, so a changed kind swaps too.
 */
function mirror(c: Change): unknown {
  if (c.op === 'add') return { op: 'drop', id: c.id, before: c.after };
  if (c.op === 'drop') return { op: 'add', id: c.id, after: c.before };
  let id = c.id;
  if (c.attribute === 'kind') id = { ...id, kind: c.after as ObjectId['kind'] };
  if (c.attribute === 'materialized') id = { ...id, kind: c.after ? 'materialized-view' : 'view' };
  return { op: 'alter', id, attribute: c.attribute, before: c.after, after: c.before };
}
const withoutHazards = (c: Change): unknown => {
  const { hazards: _, ...rest } = c;
  return rest;
};
const key = (c: unknown) => JSON.stringify(c);

function assertMirrors(a: Snapshot, b: Snapshot): void {
  const forward = diff(a, b).map(mirror).map(key).sort();
  const backward = diff(b, a).map(withoutHazards).map(key).sort();
  assert.deepEqual(backward, forward);
}

const orders = (s: Snapshot) => s.tables[0];
const on = (kind: ObjectId['kind'], name: string, extra: Partial<ObjectId> = {}): ObjectId => ({ kind, schema: 'public', name, table: 'orders', ...extra });
const top = (kind: ObjectId['kind'], name: string, schema = 'public', extra: Partial<ObjectId> = {}): ObjectId => ({ kind, schema, name, ...extra });

describe('diff: equal schemas', () => {
  it('identical snapshots and PostgreSQL 15 vs 18 printing give no change, both ways', () => {
    assert.deepEqual(diff(everything(), everything()), []);
    assert.deepEqual(diff(everything(), everythingOn18()), []);
    assert.deepEqual(diff(everythingOn18(), everything()), []);
  });

  it('equal after normalizeSnapshot exactly where the diff sees no change', () => {
    assert.deepEqual(normalizeSnapshot(everything()), normalizeSnapshot(everythingOn18()));
    const other = everythingOn18();
    orders(other).policies[0].using = '(owner = SESSION_USER)';
    assert.notDeepEqual(normalizeSnapshot(everything()), normalizeSnapshot(other));
    assert.equal(diff(everything(), other).length, 1);
  });

  it('the inputs are left alone', () => {
    const a = everything();
    const b = everythingOn18();
    const before = structuredClone(b);
    diff(a, b);
    assert.deepEqual(b, before);
  });
});

/** One object taken out of the snapshot: [what, remove it, its id]. */
const REMOVALS: [string, (s: Snapshot) => void, ObjectId][] = [
  ['schema', (s) => s.schemas.pop(), top('schema', 'billing', '')],
  ['extension', (s) => s.extensions.pop(), top('extension', 'pgcrypto', '')],
  ['composite', (s) => s.types.splice(0, 1), top('composite', 'money', 'billing')],
  ['domain', (s) => s.types.splice(1, 1), top('domain', 'email')],
  ['enum', (s) => s.types.splice(2, 1), top('enum', 'status')],
  ['domain check', (s) => (s.types[1] as DomainType).constraints.pop(), { kind: 'constraint', schema: 'public', name: 'email_check', table: 'email', parent: 'domain', type: 'check' }],
  ['function', (s) => s.functions.splice(0, 1), top('function', 'answer', 'public', { args: '' })],
  ['procedure', (s) => s.functions.splice(1, 1), top('procedure', 'archive', 'public', { args: 'days integer' })],
  ['sequence', (s) => s.sequences.pop(), top('sequence', 'invoice_no')],
  ['table', (s) => s.tables.pop(), top('table', 'orders')],
  ['column', (s) => orders(s).columns.splice(1, 1), on('column', 'code')],
  ['unique constraint', (s) => orders(s).constraints.splice(0, 1), on('constraint', 'orders_code_key', { type: 'unique' })],
  ['primary key', (s) => orders(s).constraints.splice(1, 1), on('constraint', 'orders_pkey', { type: 'primary key' })],
  ['check constraint', (s) => orders(s).constraints.splice(2, 1), on('constraint', 'orders_total_check', { type: 'check' })],
  ['index', (s) => orders(s).indexes.pop(), on('index', 'orders_status_idx')],
  ['trigger', (s) => orders(s).triggers.pop(), on('trigger', 'orders_touch')],
  ['policy', (s) => orders(s).policies.pop(), on('policy', 'mine')],
  ['view', (s) => s.views.splice(0, 1), top('view', 'open_orders')],
  ['materialized view', (s) => s.views.splice(1, 1), top('materialized-view', 'order_totals')],
  ['materialized view index', (s) => s.views[1].indexes.pop(), { kind: 'index', schema: 'public', name: 'order_totals_idx', table: 'order_totals', parent: 'materialized-view' }],
  ['view column comment', (s) => s.views[1].columnComments.pop(), { kind: 'comment', schema: 'public', name: 'total', table: 'order_totals', parent: 'materialized-view' }],
  ['unsupported object', (s) => s.unsupported.pop(), { kind: 'unsupported', schema: '', name: 'no_delete on orders', type: 'rule' }],
];

describe('diff: every kind added and dropped', () => {
  for (const [what, remove, id] of REMOVALS) {
    it(what, () => {
      const full = everything();
      const less = everything();
      remove(less);
      const dropped = diff(full, less);
      assert.equal(dropped.length, 1, JSON.stringify(dropped));
      assert.equal(dropped[0].op, 'drop');
      assert.deepEqual(dropped[0].id, id);
      const added = diff(less, full);
      assert.equal(added.length, 1);
      assert.equal(added[0].op, 'add');
      assert.deepEqual(added[0].id, id);
      // The value is the object itself, whole, as the snapshot holds it.
      assert.deepEqual((added[0] as { after: unknown }).after, (dropped[0] as { before: unknown }).before);
      assertMirrors(full, less);
      assert.equal(describeChanges(dropped).length, 1);
    });
  }
});

/** One attribute changed: [what, change it, id, attribute, before, after]. */
const ALTERS: [string, (s: Snapshot) => void, ObjectId, string, unknown, unknown][] = [
  ['extension schema', (s) => (s.extensions[0].schema = 'billing'), top('extension', 'pgcrypto', ''), 'schema', 'public', 'billing'],
  ['enum labels', (s) => ((s.types[2] as { labels: string[] }).labels = ['draft', 'open', 'closed']), top('enum', 'status'), 'labels', ['draft', 'open'], ['draft', 'open', 'closed']],
  ['type kind', (s) => (s.types[2] = { kind: 'domain', schema: 'public', name: 'status', baseType: 'text', notNull: false, constraints: [] }), top('enum', 'status'), 'kind', 'enum', 'domain'],
  ['domain base type', (s) => ((s.types[1] as DomainType).baseType = 'citext'), top('domain', 'email'), 'baseType', 'text', 'citext'],
  ['domain not null', (s) => ((s.types[1] as DomainType).notNull = true), top('domain', 'email'), 'notNull', false, true],
  ['domain default', (s) => ((s.types[1] as DomainType).default = "'a@b'::text"), top('domain', 'email'), 'default', undefined, "'a@b'::text"],
  ['domain collation', (s) => ((s.types[1] as DomainType).collation = '"C"'), top('domain', 'email'), 'collation', undefined, '"C"'],
  [
    'domain check',
    (s) => ((s.types[1] as DomainType).constraints[0].definition = 'CHECK ((VALUE IS NOT NULL))'),
    { kind: 'constraint', schema: 'public', name: 'email_check', table: 'email', parent: 'domain', type: 'check' },
    'definition',
    "CHECK ((VALUE ~~ '%@%'::text))",
    'CHECK ((VALUE IS NOT NULL))',
  ],
  [
    'composite attributes',
    (s) => ((s.types[0] as { attributes: unknown[] }).attributes = [{ name: 'amount', type: 'numeric' }]),
    top('composite', 'money', 'billing'),
    'attributes',
    [{ name: 'amount', type: 'numeric(12,2)' }],
    [{ name: 'amount', type: 'numeric' }],
  ],
  ['type comment', (s) => (s.types[2].comment = 'lifecycle'), top('enum', 'status'), 'comment', undefined, 'lifecycle'],
  [
    'function body',
    (s) => (s.functions[0].definition = s.functions[0].definition.replace('42', '43')),
    top('function', 'answer', 'public', { args: '' }),
    'definition',
    everything().functions[0].definition,
    everything().functions[0].definition.replace('42', '43'),
  ],
  ['procedure comment', (s) => (s.functions[1].comment = 'nightly'), top('procedure', 'archive', 'public', { args: 'days integer' }), 'comment', undefined, 'nightly'],
  ['sequence increment', (s) => (s.sequences[0].increment = '10'), top('sequence', 'invoice_no'), 'increment', '1', '10'],
  ['sequence cycle', (s) => (s.sequences[0].cycle = true), top('sequence', 'invoice_no'), 'cycle', false, true],
  [
    'sequence owned by',
    (s) => (s.sequences[0].ownedBy = { schema: 'public', table: 'orders', column: 'id' }),
    top('sequence', 'invoice_no'),
    'ownedBy',
    undefined,
    { schema: 'public', table: 'orders', column: 'id' },
  ],
  ['table unlogged', (s) => (orders(s).unlogged = true), top('table', 'orders'), 'unlogged', false, true],
  ['table options', (s) => (orders(s).options = ['fillfactor=70']), top('table', 'orders'), 'options', [], ['fillfactor=70']],
  ['row level security', (s) => (orders(s).rowSecurity = false), top('table', 'orders'), 'rowSecurity', true, false],
  ['forced row level security', (s) => (orders(s).forceRowSecurity = true), top('table', 'orders'), 'forceRowSecurity', false, true],
  ['replica identity', (s) => (orders(s).replicaIdentity = { kind: 'full' }), top('table', 'orders'), 'replicaIdentity', undefined, { kind: 'full' }],
  ['cluster on', (s) => (orders(s).clusterOn = 'orders_status_idx'), top('table', 'orders'), 'clusterOn', undefined, 'orders_status_idx'],
  ['table comment', (s) => (orders(s).comment = 'all orders'), top('table', 'orders'), 'comment', undefined, 'all orders'],
  ['column default', (s) => (orders(s).columns[2].default = '1'), on('column', 'total'), 'default', '0', '1'],
  [
    'column generated',
    (s) => (orders(s).columns[5].generated = { expression: '(total * (3)::numeric)', kind: 'stored' }),
    on('column', 'doubled'),
    'generated',
    { expression: '(total * (2)::numeric)', kind: 'stored' },
    { expression: '(total * (3)::numeric)', kind: 'stored' },
  ],
  ['column identity', (s) => (orders(s).columns[0].identity!.kind = 'by default'), on('column', 'id'), 'identity', 'always', 'by default'],
  ['column identity dropped', (s) => delete orders(s).columns[0].identity, on('column', 'id'), 'identity', 'always', undefined],
  [
    'identity sequence name',
    (s) => (orders(s).columns[0].identity!.sequence = { ...orders(s).columns[0].identity!.sequence, name: 'orders_id_seq1' }),
    on('column', 'id'),
    'identitySequence',
    { schema: 'public', name: 'orders_id_seq' },
    { schema: 'public', name: 'orders_id_seq1' },
  ],
  ['identity sequence start', (s) => (orders(s).columns[0].identity!.sequence.start = '100'), on('column', 'id'), 'identitySequence.start', '1', '100'],
  ['column collation', (s) => delete orders(s).columns[4].collation, on('column', 'owner'), 'collation', '"C"', undefined],
  ['column storage', (s) => (orders(s).columns[4].storage = 'EXTERNAL'), on('column', 'owner'), 'storage', undefined, 'EXTERNAL'],
  ['column statistics', (s) => (orders(s).columns[4].statistics = 500), on('column', 'owner'), 'statistics', undefined, 500],
  ['column compression', (s) => (orders(s).columns[4].compression = 'lz4'), on('column', 'owner'), 'compression', undefined, 'lz4'],
  ['column options', (s) => (orders(s).columns[4].options = ['n_distinct=-1']), on('column', 'owner'), 'options', undefined, ['n_distinct=-1']],
  ['column comment', (s) => (orders(s).columns[4].comment = 'who'), on('column', 'owner'), 'comment', undefined, 'who'],
  [
    'constraint definition',
    (s) => (orders(s).constraints[2].definition = 'CHECK ((total > (0)::numeric))'),
    on('constraint', 'orders_total_check', { type: 'check' }),
    'definition',
    'CHECK ((total >= (0)::numeric))',
    'CHECK ((total > (0)::numeric))',
  ],
  ['constraint comment', (s) => (orders(s).constraints[1].comment = 'key'), on('constraint', 'orders_pkey', { type: 'primary key' }), 'comment', undefined, 'key'],
  [
    'index definition',
    (s) => (orders(s).indexes[0].definition = 'CREATE INDEX orders_status_idx ON public.orders USING hash (status)'),
    on('index', 'orders_status_idx'),
    'definition',
    'CREATE INDEX orders_status_idx ON public.orders USING btree (status)',
    'CREATE INDEX orders_status_idx ON public.orders USING hash (status)',
  ],
  ['index comment', (s) => (orders(s).indexes[0].comment = 'fast'), on('index', 'orders_status_idx'), 'comment', undefined, 'fast'],
  [
    'trigger definition',
    (s) => (orders(s).triggers[0].definition = orders(s).triggers[0].definition.replace('BEFORE', 'AFTER')),
    on('trigger', 'orders_touch'),
    'definition',
    everything().tables[0].triggers[0].definition,
    everything().tables[0].triggers[0].definition.replace('BEFORE', 'AFTER'),
  ],
  ['trigger enabled', (s) => (orders(s).triggers[0].enabled = 'D'), on('trigger', 'orders_touch'), 'enabled', 'O', 'D'],
  ['trigger comment', (s) => (orders(s).triggers[0].comment = 'touch'), on('trigger', 'orders_touch'), 'comment', undefined, 'touch'],
  ['policy permissive', (s) => (orders(s).policies[0].permissive = false), on('policy', 'mine'), 'permissive', true, false],
  ['policy command', (s) => (orders(s).policies[0].command = 'ALL'), on('policy', 'mine'), 'command', 'SELECT', 'ALL'],
  ['policy roles', (s) => (orders(s).policies[0].roles = ['app']), on('policy', 'mine'), 'roles', ['PUBLIC'], ['app']],
  ['policy using', (s) => (orders(s).policies[0].using = '(owner = SESSION_USER)'), on('policy', 'mine'), 'using', '(owner = CURRENT_USER)', '(owner = SESSION_USER)'],
  ['policy with check', (s) => (orders(s).policies[0].withCheck = '(total > 0)'), on('policy', 'mine'), 'withCheck', undefined, '(total > 0)'],
  ['policy comment', (s) => (orders(s).policies[0].comment = 'own rows'), on('policy', 'mine'), 'comment', undefined, 'own rows'],
  [
    'view query',
    (s) => (s.views[0].definition = ' SELECT orders.id\n   FROM orders;'),
    top('view', 'open_orders'),
    'definition',
    everything().views[0].definition,
    ' SELECT orders.id\n   FROM orders;',
  ],
  ['view options', (s) => (s.views[0].options = ['security_barrier=true']), top('view', 'open_orders'), 'options', [], ['security_barrier=true']],
  ['view materialized', (s) => (s.views[0].materialized = true), top('view', 'open_orders'), 'materialized', false, true],
  ['view comment', (s) => (s.views[0].comment = 'open ones'), top('view', 'open_orders'), 'comment', undefined, 'open ones'],
  [
    'materialized view index',
    (s) => (s.views[1].indexes[0].definition = 'CREATE UNIQUE INDEX order_totals_idx ON public.order_totals USING btree (total)'),
    { kind: 'index', schema: 'public', name: 'order_totals_idx', table: 'order_totals', parent: 'materialized-view' },
    'definition',
    'CREATE INDEX order_totals_idx ON public.order_totals USING btree (total)',
    'CREATE UNIQUE INDEX order_totals_idx ON public.order_totals USING btree (total)',
  ],
  [
    'view column comment',
    (s) => (s.views[1].columnComments[0].comment = 'every order'),
    { kind: 'comment', schema: 'public', name: 'total', table: 'order_totals', parent: 'materialized-view' },
    'comment',
    'all orders',
    'every order',
  ],
];

describe('diff: every attribute altered, both ways', () => {
  for (const [what, change, id, attribute, before, after] of ALTERS) {
    it(what, () => {
      const a = everything();
      const b = everything();
      change(b);
      const changes = diff(a, b);
      assert.deepEqual(changes.map(withoutHazards), [{ op: 'alter', id, attribute, before, after }]);
      assertMirrors(a, b);
      assert.match(describeChanges(changes)[0].message, /: live .*, baseline gives |differs from/s);
    });
  }
});

describe('describeChanges: the words compareSnapshots printed before it was a view of the diff', () => {
  it('kinds and attributes the compareSnapshots tests do not reach, with labels', () => {
    const a = everything();
    const b = everything();
    b.extensions[0].schema = 'billing';
    b.functions.splice(1, 1);
    b.sequences[0].max = '5000';
    b.sequences[0].ownedBy = { schema: 'public', table: 'orders', column: 'id' };
    orders(b).replicaIdentity = { kind: 'index', index: 'orders_code_key' };
    orders(b).unlogged = true;
    orders(b).columns[4].statistics = 500;
    orders(b).triggers[0].enabled = 'R';
    b.views[0].materialized = true;
    b.views[1].columnComments = [];
    b.views[1].indexes[0].comment = 'sum';
    b.unsupported.push({ kind: 'partitioned table', name: 'events', reason: 'not reproduced' });
    assert.deepEqual(
      describeChanges(diff(a, b), { expected: 'rebuilt', actual: 'baseline' }).map((d) => d.message),
      [
        'extension pgcrypto: rebuilt in schema public, baseline gives billing',
        'procedure archive(days integer) exists in the rebuilt but not in the baseline',
        'sequence invoice_no: rebuilt maxvalue 9223372036854775807, baseline gives 5000',
        'sequence invoice_no: rebuilt owned by (none), baseline gives orders.id',
        'table orders: rebuilt is logged, baseline gives UNLOGGED',
        'table orders: rebuilt replica identity default, baseline gives index orders_code_key',
        'column orders.owner: rebuilt statistics target default, baseline gives 500',
        'trigger orders_touch on orders: rebuilt enabled enabled, baseline gives enabled on replicas only',
        'view open_orders: rebuilt is a plain view, baseline gives materialized',
        'index order_totals_idx on order_totals: rebuilt comment (none), baseline gives "sum"',
        'comment on column order_totals.total exists in the rebuilt but not in the baseline',
        'partitioned table events exists in the baseline but not in the rebuilt',
      ],
    );
  });
});

describe('diff: order', () => {
  it('follows the walk: kinds in order, inside a table its attributes, columns, constraints, …; drops and alters in from order, adds last', () => {
    const a = everything();
    const b = everything();
    b.unsupported = [];
    b.views[0].comment = 'v';
    orders(b).policies[0].command = 'ALL';
    orders(b).columns.push(column('note', 'text', 7));
    orders(b).columns.splice(1, 1);
    orders(b).columns[0].notNull = false;
    orders(b).comment = 't';
    b.sequences[0].cache = '5';
    b.types[0].comment = 'x';
    b.schemas.push('audit');
    const seen = diff(a, b).map((c) => `${c.op} ${c.id.kind} ${c.id.name}${c.op === 'alter' ? ` ${c.attribute}` : ''}`);
    assert.deepEqual(seen, [
      'add schema audit',
      'alter composite money comment',
      'alter sequence invoice_no cache',
      'alter table orders comment',
      'alter column id notNull',
      'drop column code',
      'add column note',
      'alter policy mine command',
      'alter view open_orders comment',
      'drop unsupported no_delete on orders',
    ]);
    assert.deepEqual(diff(a, b), diff(structuredClone(a), structuredClone(b)));
  });
});

describe('diff: hazards', () => {
  const hazardsOf = (change: (s: Snapshot) => void, from = everything()) => {
    const b = structuredClone(from);
    change(b);
    return diff(from, b).map((c) => c.hazards);
  };

  it('dropping a table or a column loses data; adding them does not', () => {
    assert.deepEqual(
      hazardsOf((s) => s.tables.pop()),
      [['data-loss']],
    );
    assert.deepEqual(
      hazardsOf((s) => orders(s).columns.pop()),
      [['data-loss']],
    );
    const without = everything();
    without.tables = [];
    assert.deepEqual(
      hazardsOf((s) => s.tables.push(...everything().tables), without),
      [[]],
    );
  });

  it('dropping what another service depends on breaks it, where the snapshot says so', () => {
    const live = everything();
    live.dependents = [
      { service: 'crm', object: 'table orders', from: 'foreign key notes_order_fkey on table notes' },
      { service: 'crm', object: 'type status', from: 'column notes.status' },
    ];
    assert.deepEqual(
      hazardsOf((s) => s.tables.pop(), live),
      [['data-loss', 'breaks-dependents']],
    );
    assert.deepEqual(
      hazardsOf((s) => s.types.splice(2, 1), live),
      [['breaks-dependents']],
    );
    assert.deepEqual(
      hazardsOf((s) => s.types.splice(1, 1), live),
      [[]],
    ); // nobody uses the domain
  });

  it('a column type change rewrites the table unless it only widens', () => {
    const cases: [string, string, boolean][] = [
      ['character varying(20)', 'character varying(40)', false],
      ['character varying(20)', 'character varying', false],
      ['character varying(20)', 'text', false],
      ['character varying', 'text', false],
      ['character varying(40)', 'character varying(20)', true],
      ['character varying', 'character varying(20)', true],
      ['numeric(10,2)', 'numeric(12,2)', false],
      ['numeric(10,2)', 'numeric', false],
      ['numeric(12,2)', 'numeric(10,2)', true],
      ['numeric(10,2)', 'numeric(12,3)', true],
      ['numeric', 'numeric(10,2)', true],
      ['integer', 'bigint', true],
      ['text', 'character varying(10)', true],
      ['text', 'integer', true],
    ];
    for (const [before, after, rewrites] of cases) assert.equal(typeChangeRewrites(before, after), rewrites, `${before} → ${after}`);
    assert.deepEqual(
      hazardsOf((s) => (orders(s).columns[1].type = 'character varying(40)')),
      [[]],
    );
    assert.deepEqual(
      hazardsOf((s) => (orders(s).columns[0].type = 'integer')),
      [['table-rewrite']],
    );
  });

  it('a column added with a per-row value rewrites the table; a constant default does not', () => {
    assert.equal(volatileDefault('gen_random_uuid()'), true);
    assert.equal(volatileDefault("nextval('orders_id_seq'::regclass)"), true);
    assert.equal(volatileDefault('now()'), false); // stable: one value for the statement
    assert.equal(volatileDefault(undefined), false);
    const add = (extra: Parameters<typeof column>[3]) => hazardsOf((s) => orders(s).columns.push(column('extra', 'uuid', 9, extra)));
    assert.deepEqual(add({ default: 'gen_random_uuid()' }), [['table-rewrite']]);
    assert.deepEqual(add({ default: "'00000000-0000-0000-0000-000000000000'::uuid" }), [[]]);
    assert.deepEqual(add({ generated: { expression: 'md5(code)', kind: 'stored' } }), [['table-rewrite']]);
    assert.deepEqual(add({}), [[]]);
    // SET DEFAULT on an existing column writes no row.
    assert.deepEqual(
      hazardsOf((s) => (orders(s).columns[2].default = 'random()')),
      [[]],
    );
  });

  it('SET NOT NULL blocks writes while it scans; DROP NOT NULL does not', () => {
    assert.deepEqual(
      hazardsOf((s) => (orders(s).columns[2].notNull = true)),
      [['blocks-writes']],
    );
    assert.deepEqual(
      hazardsOf((s) => (orders(s).columns[1].notNull = false)),
      [[]],
    );
  });

  it('an EXCLUDE constraint added or redefined blocks writes while its index is built; a CHECK does not (it has NOT VALID)', () => {
    const exclude = { name: 'orders_no_overlap', kind: 'exclusion' as const, definition: 'EXCLUDE USING gist (during WITH &&)', validated: true };
    assert.deepEqual(
      hazardsOf((s) => orders(s).constraints.push(exclude)),
      [['blocks-writes']],
    );
    const withExclude = everything();
    orders(withExclude).constraints.push(exclude);
    assert.deepEqual(
      hazardsOf((s) => (orders(s).constraints.at(-1)!.definition = 'EXCLUDE USING gist (during WITH &&) WHERE (total > 0)'), withExclude),
      [['blocks-writes']],
    );
    assert.deepEqual(
      hazardsOf((s) => orders(s).constraints.pop(), withExclude),
      [[]],
    );
    assert.deepEqual(
      hazardsOf((s) => orders(s).constraints.push({ name: 'orders_total_check2', kind: 'check', definition: 'CHECK ((total < 1000))', validated: true })),
      [[]],
    );
  });

  it('a table with no hazards at all stays quiet', () => {
    const a = everything();
    a.tables = [table('plain', { columns: [column('a', 'integer', 1)] })];
    const b = structuredClone(a);
    b.tables[0].comment = 'c';
    assert.deepEqual(diff(a, b), [{ op: 'alter', id: top('table', 'plain'), attribute: 'comment', before: undefined, after: 'c', hazards: [] }]);
  });
});
