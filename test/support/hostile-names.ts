/**
 * Generated hostile-but-valid identifiers for the trust suites (issue 11): names a user may choose
 * that break code which joins, splits, folds or forgets to quote. Every one is a valid PostgreSQL
 * identifier (1..63 UTF-8 bytes, no NUL) once double-quoted.
 */
import fc from 'fast-check';
import { MAX_IDENTIFIER_BYTES, identifierBytes } from '../../src/sql/ident.js';

/**
 * Names generated SQL uses for its own aliases, helpers and columns, and SQL words: a user column or
 * table named like one of these must not change what a generated query means. Extend it when a
 * generated query introduces a new alias.
 */
export const GENERATED_SQL_WORDS: readonly string[] = [
  't',
  'r',
  's',
  'c',
  'n',
  'a',
  'i',
  'x',
  'j',
  'p',
  'd',
  'k',
  'v',
  'row',
  'rows',
  'digest',
  'hash',
  'sum',
  'count',
  'ctid',
  'oid',
  'tableoid',
  'xmin',
  'row_to_json',
  'json_populate_record',
  'hashtextextended',
  'src',
  'dst',
  'stage',
  'staging',
  'tmp',
  'data',
  'line',
  'doc',
  'json',
  'jsonb',
  'value',
  'key',
  'id',
  'table',
  'select',
  'from',
  'order',
  'user',
  'group',
  'only',
  'null',
  'true',
  'default',
  'public',
  'tidemark',
  'pg_catalog',
  'information_schema',
  // src/data (backup, restore, digest, validate): aliases, output columns and helpers of queries over user tables
  'h',
  'm',
  'y',
  'some',
  'hit',
  'md5',
  'max',
  'setval',
  'json_to_record',
  'pg_temp',
  'tidemark_restore_0',
  'tidemark_restore_1',
];

const alphabet = fc.constantFrom('a', 'b', 'Z', '_', '0', '9', '.', '"', ' ', '-', '$', "'", '\\', ';', '*', '?', '%', 'é', 'ß', '名', '🙂', 'A');

/** Keeps a candidate only if it is a legal identifier: 1..63 UTF-8 bytes, no NUL. */
function legal(name: string): boolean {
  const bytes = identifierBytes(name);
  return bytes > 0 && bytes <= MAX_IDENTIFIER_BYTES && !name.includes('\0');
}

/** Truncates to at most 63 UTF-8 bytes without splitting a character. */
export function fitIdentifier(name: string): string {
  let out = '';
  for (const ch of name) {
    if (identifierBytes(out + ch) > MAX_IDENTIFIER_BYTES) break;
    out += ch;
  }
  return out;
}

/** One hostile identifier: dots, quotes, spaces, unicode, case, reserved words, aliases, 63-byte names. */
export function hostileIdentifier(): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.constantFrom(...GENERATED_SQL_WORDS),
      fc.constantFrom('a.b', 'b.c', '"quoted"', 'Mixed Case', 'UPPER', 'with space', "it's", 'semi;colon', 'x"y', '.', '..'),
      fc.string({ unit: alphabet, minLength: 1, maxLength: 20 }),
      // exactly 63 bytes, and 63 bytes of multi-byte characters (21 × 3)
      fc.string({ unit: fc.constantFrom('a', 'Z', '.', '"'), minLength: 63, maxLength: 63 }),
      fc.constant('名'.repeat(21)),
    )
    .filter(legal);
}

/** A (schema, name) pair of hostile identifiers, avoiding system schemas and tidemark's ledger. */
export function hostileQualifiedName(): fc.Arbitrary<{ schema: string; name: string }> {
  const schema = fc.oneof(fc.constant('public'), hostileIdentifier()).filter((s) => s !== 'pg_catalog' && s !== 'information_schema' && s !== 'tidemark' && !s.startsWith('pg_'));
  return fc.record({ schema, name: hostileIdentifier() });
}

/**
 * Pairs of distinct objects that a join-then-split on `.` would confuse: `"a.b".c` and `a."b.c"`.
 * Useful to prove a command on one never touches the other.
 */
export function dotConfusablePair(): fc.Arbitrary<[{ schema: string; name: string }, { schema: string; name: string }]> {
  return fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z]{1,8}$/)).map(([a, b, c]) => [
    { schema: `${a}.${b}`, name: c },
    { schema: a, name: `${b}.${c}` },
  ]);
}
