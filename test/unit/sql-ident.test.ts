import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { displayName, ident, literal, nameKey, quoteIdent, quoteQualified } from '../../src/sql/ident.js';
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
});
