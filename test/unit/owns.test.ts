/**
 * The ownership language of `owns` (src/config/owns.ts): psql-style patterns with quoted identifiers,
 * matched on (schema, name) pairs; the case and 63-byte rules; overlap between services; and, generated
 * with fast-check, that the entry written for a hostile name owns exactly that table and round-trips.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatOwns, matchRank, ownerOf, ownershipConflict, ownsEntryFor, parseOwns, parseTableName, partSearchSource, ONE, STAR, type OwnsPattern, type PatternUnit } from '../../src/config/owns.js';
import { parseJoinedName, quoteQualified, type QualifiedName } from '../../src/sql/ident.js';
import { dotConfusablePair, hostileIdentifier, hostileQualifiedName } from '../support/hostile-names.js';

function pattern(entry: string): OwnsPattern {
  const parsed = parseOwns(entry);
  if (!parsed.ok) assert.fail(`${entry}: ${parsed.error.message}`);
  return parsed.pattern;
}
const owns = (entry: string, schema: string, name: string) => matchRank(pattern(entry), { schema, name }) > 0;
const error = (entry: string) => {
  const parsed = parseOwns(entry);
  assert.equal(parsed.ok, false, `${entry} should not parse`);
  return (parsed as { error: { message: string; hint?: string } }).error;
};

describe('owns: the grammar', () => {
  test('unquoted: table (in public), schema.table, schema:<name>, * and ?', () => {
    assert.ok(owns('users', 'public', 'users'));
    assert.ok(!owns('users', 'crm', 'users'));
    assert.ok(owns('crm.users', 'crm', 'users'));
    assert.ok(owns('budget_*', 'public', 'budget_items'));
    assert.ok(owns('budget_?', 'public', 'budget_x'));
    assert.ok(!owns('budget_?', 'public', 'budget_xy'));
    assert.ok(owns('schema:crm', 'crm', 'anything'));
    assert.ok(owns('*.audit', 'x', 'audit'));
  });

  test('a quoted name with a dot is ONE table in public, not schema.table', () => {
    assert.ok(owns('"sales.orders"', 'public', 'sales.orders'));
    assert.ok(!owns('"sales.orders"', 'sales', 'orders'));
    assert.ok(owns('sales.orders', 'sales', 'orders'));
    assert.ok(!owns('sales.orders', 'public', 'sales.orders'));
  });

  test('"a.b".c and a."b.c" are two different tables', () => {
    assert.ok(owns('"a.b".c', 'a.b', 'c'));
    assert.ok(!owns('"a.b".c', 'a', 'b.c'));
    assert.ok(owns('a."b.c"', 'a', 'b.c'));
    assert.ok(!owns('a."b.c"', 'a.b', 'c'));
  });

  test('quotes keep case and make *, ? and . literal; "" is a quote', () => {
    assert.ok(owns('"Users"', 'public', 'Users'));
    assert.ok(!owns('"Users"', 'public', 'users'));
    assert.ok(owns('"My Schema".*', 'My Schema', 'orders'));
    assert.ok(owns('schema:"My Schema"', 'My Schema', 'x.y'));
    assert.ok(owns('schema:"My"*', 'My Schema', 'x'));
    assert.ok(!owns('schema:"My"*', 'my schema', 'x'));
    assert.ok(owns('"a*b"', 'public', 'a*b'));
    assert.ok(!owns('"a*b"', 'public', 'axxb'));
    assert.ok(owns('"a?"', 'public', 'a?'));
    assert.ok(!owns('"a?"', 'public', 'ab'));
    assert.ok(owns('"x""y"', 'public', 'x"y'));
    assert.ok(owns('pre"Fix"*', 'public', 'preFix_1'));
  });

  test('? is one character, also a multi-byte one', () => {
    assert.ok(owns('caf?', 'public', 'café'));
    assert.ok(owns('"名"?', 'public', '名🙂'));
    assert.ok(!owns('"名"?', 'public', '名🙂x'));
  });

  test('an exact name beats a glob, a glob beats schema:', () => {
    const ws = {
      services: [
        { name: 'whole', owns: ['schema:public'] },
        { name: 'globs', owns: ['audit_*'] },
        { name: 'exact', owns: ['"audit_log"'] },
      ],
    };
    assert.equal(ownerOf(ws, { schema: 'public', name: 'audit_log' })?.name, 'exact');
    assert.equal(ownerOf(ws, { schema: 'public', name: 'audit_x' })?.name, 'globs');
    assert.equal(ownerOf(ws, { schema: 'public', name: 'other' })?.name, 'whole');
  });

  test('refuses what is not an entry, each with a reason', () => {
    for (const [bad, why] of [
      ['', /empty/],
      ['a.b.c', /more than one unquoted dot/],
      ['schema:', /names no schema/],
      ['schema:a.b', /dot in a schema name/],
      ['my table', /unquoted space/],
      ['"open', /never closed/],
      ['""', /empty quoted name/],
      ['a.', /empty name/],
      ['.a', /empty name/],
      ['a:b', /`:` outside quotes/],
    ] as const) {
      assert.match(error(bad).message, why, bad);
    }
    assert.match(error('schema:a.b').hint ?? '', /schema:"a\.b"/);
  });

  test('capitals outside quotes are an error that suggests the quoted form (never a silent change)', () => {
    const e = error('Users');
    assert.match(e.message, /capital letters outside quotes/);
    assert.match(e.hint ?? '', /write "Users" for the name with capitals, or users for the lower-case one/);
    assert.match(error('schema:My*').hint ?? '', /schema:"My"\*/);
    assert.match(error('Sales.Orders').hint ?? '', /"Sales"\."Orders"/);
    assert.match(error('public.Users').hint ?? '', /public\."Users"/);
    assert.match(error('"Big"Small').hint ?? '', /write "BigSmall" for the name with capitals, or "Bigsmall" for the lower-case one/);
    // Non-ASCII letters do not fold in PostgreSQL: literal, allowed.
    assert.ok(owns('éte', 'public', 'éte'));
  });

  test('a part longer than 63 bytes is an error, 63 bytes is fine', () => {
    assert.ok(owns('a'.repeat(63), 'public', 'a'.repeat(63)));
    assert.match(error('a'.repeat(64)).message, /64 bytes, longer than PostgreSQL's limit of 63/);
    assert.match(error(`"${'名'.repeat(22)}"`).message, /66 bytes/);
    assert.match(error(`schema:${'s'.repeat(64)}`).message, /64 bytes/);
    assert.match(error(`${'s'.repeat(64)}.t`).message, /64 bytes/);
    assert.match(error(`${'a'.repeat(60)}????`).message, /only matches names of 64 bytes or more/);
    assert.ok(parseOwns(`${'a'.repeat(62)}*`).ok, 'a glob that can still match');
  });

  test('parseTableName: one table, quoted like owns, no wildcards', () => {
    assert.deepEqual(parseTableName('"sales.orders"'), { ok: true, name: { schema: 'public', name: 'sales.orders' } });
    assert.deepEqual(parseTableName('sales.orders'), { ok: true, name: { schema: 'sales', name: 'orders' } });
    assert.deepEqual(parseTableName('"Ops x"."a.b"'), { ok: true, name: { schema: 'Ops x', name: 'a.b' } });
    assert.equal(parseTableName('budget_*').ok, false);
    assert.equal(parseTableName('schema:x').ok, false);
  });
});

describe('owns: overlap between services', () => {
  const claim = (service: string, entry: string) => ({ service, entry, pattern: pattern(entry) });
  const conflict = (a: string, b: string) => ownershipConflict(claim('user', a), claim('budget', b));
  test('quoted and unquoted spellings of one table conflict', () => {
    assert.match(conflict('orders', '"orders"') ?? '', /owned by both user \(`orders`\) and budget \(`"orders"`\)/);
    assert.match(conflict('"Orders"', '"Orders"') ?? '', /owned by both/);
  });
  test('a dotted name and a schema-qualified one do not', () => {
    assert.equal(conflict('"sales.orders"', 'sales.orders'), undefined);
    assert.equal(conflict('"a.b".c', 'a."b.c"'), undefined);
    assert.equal(conflict('"Orders"', 'orders'), undefined);
  });
  test('globs against quoted names and schemas', () => {
    assert.match(conflict('"My Schema".*', 'schema:"My"*') ?? '', /overlap/);
    assert.match(conflict('"My Schema".orders', 'schema:"My"*') ?? '', /table "My Schema"\.orders is owned by both/);
    assert.equal(conflict('"a*"', 'ab'), undefined, 'a quoted * is a literal star');
    assert.match(conflict('a*', 'ab') ?? '', /table ab is owned by both/);
    assert.equal(conflict('schema:"a.b"', 'a.*'), undefined);
  });
});

describe('owns: generated hostile names', () => {
  test('the entry written for a name owns that pair and no other of a generated set', () => {
    fc.assert(
      fc.property(hostileQualifiedName(), fc.array(hostileQualifiedName(), { maxLength: 12 }), dotConfusablePair(), fc.constantFrom('needed' as const, 'always' as const), (q, others, pair, quote) => {
        const entry = ownsEntryFor(q, quote);
        const p = pattern(entry);
        assert.equal(matchRank(p, q), 3, entry);
        for (const o of [...others, ...pair, { schema: q.name, name: q.schema }, { schema: 'public', name: `${q.schema}.${q.name}` }]) {
          if (o.schema === q.schema && o.name === q.name) continue;
          assert.equal(matchRank(p, o), 0, `${entry} must not own ${JSON.stringify(o)}`);
        }
        // the two dot-confusable tables: each one's entry owns it alone
        const [x, y] = pair;
        assert.equal(matchRank(pattern(ownsEntryFor(x, quote)), y), 0);
        assert.equal(matchRank(pattern(ownsEntryFor(y, quote)), x), 0);
      }),
      { numRuns: 500 },
    );
  });

  test('parse(format(entry)) round-trips, for entries with quotes, dots and wildcards', () => {
    // literal characters (a literal * ? . " among them) and the two wildcards
    const unit = fc.oneof(
      hostileIdentifier().map((s): PatternUnit[] => [...s].slice(0, 4)),
      fc.constant([STAR]),
      fc.constant([ONE]),
    );
    const part = fc.array(unit, { minLength: 1, maxLength: 4 }).map((units) => units.flat());
    const entry = fc.oneof(
      part.map((schema): OwnsPattern => ({ kind: 'schema', schema })),
      fc.tuple(part, part).map(([schema, table]): OwnsPattern => ({ kind: 'table', schema, table })),
    );
    fc.assert(
      fc.property(entry, fc.constantFrom('needed' as const, 'always' as const), (p, quote) => {
        const text = formatOwns(p, quote, true);
        const back = parseOwns(text);
        if (!back.ok) {
          // only the 63-byte rule may refuse a generated pattern
          assert.match(back.error.message, /bytes/, text);
          return;
        }
        assert.deepEqual(back.pattern, p, text);
        assert.equal(formatOwns(back.pattern, quote, true), text);
      }),
      { numRuns: 500 },
    );
  });

  test("the doctor's text pre-filter finds every table an entry owns in SQL that names it", () => {
    fc.assert(
      fc.property(hostileQualifiedName(), (q: QualifiedName) => {
        const p = pattern(ownsEntryFor(q));
        const re = new RegExp(partSearchSource((p as Extract<OwnsPattern, { kind: 'table' }>).table), 'iu');
        assert.ok(re.test(`UPDATE ${quoteQualified(q)} SET x = 1`), quoteQualified(q));
      }),
      { numRuns: 300 },
    );
  });
});

describe('owns: an Alembic versionTable', () => {
  test('is split by sql/ident parseJoinedName (one rule for a joined name)', () => {
    assert.deepEqual(parseJoinedName('billing.Alembic_Version'), { schema: 'billing', name: 'Alembic_Version' });
    assert.equal(parseJoinedName('"a.b".c'), undefined);
  });
});
