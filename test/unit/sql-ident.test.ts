import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dropSql } from '../../src/db/shadow-empty.js';
import { displayName, dumpPattern, ident, literal, nameKey, parseJoinedName, quoteIdent, quoteQualified } from '../../src/sql/ident.js';
import { dotConfusablePair, hostileQualifiedName } from '../support/hostile-names.js';

describe('sql/ident', () => {
  it('quotes always for SQL tidemark runs, minimally for readable DDL', () => {
    assert.equal(quoteIdent('users'), '"users"');
    assert.equal(quoteIdent('a"b'), '"a""b"');
    assert.equal(ident('users'), 'users');
    assert.equal(ident('Users'), '"Users"');
    assert.equal(ident('order'), '"order"');
    assert.equal(literal("it's"), "'it''s'");
    assert.throws(() => quoteIdent('a\0b'));
  });

  it('keeps "a.b".c and a."b.c" apart in SQL, keys and messages', () => {
    fc.assert(
      fc.property(dotConfusablePair(), ([x, y]) => {
        assert.notEqual(quoteQualified(x), quoteQualified(y));
        assert.notEqual(nameKey(x), nameKey(y));
        assert.notEqual(displayName(x), displayName(y));
      }),
    );
  });

  it('round-trips every hostile pair through quoting (the quoted form parses back to the same pair)', () => {
    const unquote = (sql: string): string[] => {
      const parts: string[] = [];
      const re = /"((?:[^"]|"")*)"/gy;
      let m: RegExpExecArray | null;
      let at = 0;
      while ((m = re.exec(sql))) {
        parts.push(m[1].replaceAll('""', '"'));
        at = re.lastIndex;
        if (sql[at] === '.') re.lastIndex = at + 1;
      }
      return parts;
    };
    fc.assert(
      fc.property(hostileQualifiedName(), (q) => {
        assert.deepEqual(unquote(quoteQualified(q)), [q.schema, q.name]);
      }),
    );
  });

  it('never lets a control character reach the terminal', () => {
    assert.equal(displayName({ schema: 'public', name: 'evil\x1b[2Jname' }), '"evil\\x1b[2Jname"');
    assert.equal(displayName('a\nb'), '"a\\nb"');
  });
  it('literal: quotes doubled, backslashes and newlines kept as they are, NUL refused', () => {
    assert.equal(literal(''), "''");
    assert.equal(literal("'"), "''''");
    assert.equal(literal('a\\b\nc'), "'a\\b\nc'");
    assert.equal(literal('00000003-0000001B-1'), "'00000003-0000001B-1'"); // an exported snapshot id, as backup sets it
    assert.throws(() => literal('a\0'));
  });

  it('dumpPattern: every part quoted, so dots, capitals and pattern wildcards stay literal', () => {
    assert.equal(dumpPattern({ schema: 'public', name: 'users' }), '"public"."users"');
    assert.equal(dumpPattern({ schema: 'a.b', name: 'C*?' }), '"a.b"."C*?"');
    assert.equal(dumpPattern({ schema: 'x', name: 'say "hi"' }), '"x"."say ""hi"""');
    assert.notEqual(dumpPattern({ schema: 'a.b', name: 'c' }), dumpPattern({ schema: 'a', name: 'b.c' }));
    fc.assert(
      fc.property(hostileQualifiedName(), (q) => {
        // pg_dump reads a double-quoted part as the literal name: undo the quoting and get the pair back.
        const m = /^"((?:[^"]|"")*)"\."((?:[^"]|"")*)"$/su.exec(dumpPattern(q));
        assert.ok(m, dumpPattern(q));
        assert.deepEqual({ schema: m[1].replaceAll('""', '"'), name: m[2].replaceAll('""', '"') }, { schema: q.schema, name: q.name });
      }),
    );
  });

  it('parseJoinedName: plain identifiers only, the schema apart, case kept', () => {
    assert.deepEqual(parseJoinedName('alembic_version'), { name: 'alembic_version' });
    assert.deepEqual(parseJoinedName('billing.Alembic_Version'), { schema: 'billing', name: 'Alembic_Version' });
    assert.deepEqual(parseJoinedName('_a$1.b'), { schema: '_a$1', name: 'b' });
    for (const bad of ['', '.', 'a.', '.a', 'a.b.c', '"a".b', 'a b', '1a', 'a.1b', 'é', 'a-b']) assert.equal(parseJoinedName(bad), undefined, bad);
  });

  it('parseJoinedName: the split introspection and alembic-split made by hand, for every name the config accepts', () => {
    // src/config/validate.ts's versionTable grammar, and the old split at the first dot.
    const CONFIG = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
    const bySplit = (v: string) => (v.includes('.') ? { schema: v.slice(0, v.indexOf('.')), name: v.slice(v.indexOf('.') + 1) } : { name: v });
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '_', '$', '0', '.', '"', ' ', '-', 'é'), maxLength: 8 });
    fc.assert(
      fc.property(text, (v) => {
        const parsed = parseJoinedName(v);
        assert.equal(parsed !== undefined, CONFIG.test(v), v);
        if (parsed) assert.deepEqual(parsed, bySplit(v));
      }),
      { numRuns: 2000 },
    );
  });

  it("a given shadow's DROPs quote each part of a hostile name, so the DROP names exactly that object", () => {
    fc.assert(
      fc.property(hostileQualifiedName(), (q) => {
        const sql = dropSql({ kind: 'TABLE', ...q });
        const m = /^DROP TABLE IF EXISTS "((?:[^"]|"")*)"\."((?:[^"]|"")*)" CASCADE$/s.exec(sql);
        assert.ok(m, sql);
        assert.deepEqual({ schema: m[1].replaceAll('""', '"'), name: m[2].replaceAll('""', '"') }, { schema: q.schema, name: q.name });
      }),
    );
    assert.equal(dropSql({ kind: 'MATERIALIZED VIEW', schema: 'a.b', name: 'c' }), 'DROP MATERIALIZED VIEW IF EXISTS "a.b"."c" CASCADE');
    // A routine keeps the server's own regprocedure text (names and argument types quoted by the server).
    assert.equal(dropSql({ kind: 'FUNCTION', signature: '"My"."f"(integer[], "Odd type")' }), 'DROP FUNCTION IF EXISTS "My"."f"(integer[], "Odd type") CASCADE');
  });
});
