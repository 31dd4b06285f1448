/**
 * The content digest of a table, computed IN the database (DESIGN §2 "Backup"): backup records it,
 * restore recomputes it after loading and commits only if it matches.
 *
 * Per row: a hash of the row's record text over the listed columns (`ROW(a, b)::text`, which tells
 * NULL from '' and quotes what needs quoting). Per table: the row count and the exact (numeric) sum
 * of the row hashes, hashed once more. Sums commute, so the digest does not depend on row order,
 * physical layout or a dump/restore; it depends only on each column's text output, which the
 * settings below pin down so PostgreSQL 15 and 18 agree.
 *
 * Two row hashes, recorded in the manifest as `contentDigestAlgorithm`:
 * - `hash64` (written since manifest format 2): `hashtextextended(text, 0)`, PostgreSQL's own 64-bit
 *   hash (the one hash partitioning relies on, so it is stable across major versions; PGlite's
 *   WebAssembly build gives the same values). Four to five times cheaper than md5 plus hex parsing: the
 *   row text is then most of the cost. It detects accidental change (a changed row moves the sum
 *   unless two 64-bit hashes collide); it is no defence against a forger — the data files' SHA-256
 *   and the manifest's own are what verify-backup checks.
 * - `md5` (manifest format 1): md5 of the row text, its two 64-bit halves summed. Kept to restore
 *   older backups.
 */
import { quoteIdent, quoteQualified, type QualifiedName } from '../sql/ident.js';

export type DigestAlgorithm = 'hash64' | 'md5';

/** What backup writes. */
export const DIGEST_ALGORITHM: DigestAlgorithm = 'hash64';

/**
 * A table's own rows as a FROM item: `ONLY t` for an ordinary table, so an inheritance parent does not
 * also read (back up, count, delete) its children's rows, which are tables of their own; a
 * partitioned table as it is (its rows are its partitions'). `relkind` from pg_class.
 */
export function ownRows(table: QualifiedName, relkind: string): string {
  const qualified = quoteQualified(table);
  return relkind === 'p' ? qualified : `ONLY ${qualified}`;
}

/**
 * Output settings the digest (and the data files) depend on. Run inside the transaction (SET LOCAL)
 * before `contentDigestSql`: timestamptz in UTC/ISO, floats shortest-exact, bytea as hex.
 */
export const DIGEST_SETTINGS_SQL = [
  `SET LOCAL TimeZone = 'UTC'`,
  `SET LOCAL DateStyle = 'ISO, YMD'`,
  `SET LOCAL IntervalStyle = 'postgres'`,
  `SET LOCAL extra_float_digits = 3`,
  `SET LOCAL bytea_output = 'hex'`,
].join(';\n');

/**
 * ONE query returning `{ rows: string /* bigint as text *\/, digest: string }` for the table.
 * `table` is a FROM item already quoted (ownRows, or a staging subquery); columns are plain names, quoted here, in the order given
 * (restore must pass the same order: the manifest's `digestColumns`).
 */
export function contentDigestSql(table: string, columns: readonly string[], algorithm: DigestAlgorithm = DIGEST_ALGORITHM): string {
  // ROW() of a single column is still a record; with no columns at all only the count matters.
  // Every column is referred to through the FROM alias (`t."c"`, never a bare name that a column of
  // the same name could capture) and every function through pg_catalog.
  const rowText = columns.length ? `ROW(${columns.map((c) => `t.${quoteIdent(c)}`).join(', ')})::pg_catalog.text` : `''`;
  if (algorithm === 'hash64') {
    // sum(bigint) accumulates in 128 bits and returns numeric: exact, never overflows.
    return (
      `SELECT pg_catalog.count(*)::pg_catalog.text AS rows, pg_catalog.md5('hash64:' || pg_catalog.count(*)::pg_catalog.text || ':' || ` +
      `coalesce(pg_catalog.sum(pg_catalog.hashtextextended(${rowText}, 0)), 0)::pg_catalog.text) AS digest ` +
      `FROM ${table} AS t`
    );
  }
  // sum(bigint), not sum(numeric): the same exact value, a third faster.
  const half = (from: number) => `coalesce(pg_catalog.sum(('x' || pg_catalog.substr(s.h, ${from}, 16))::pg_catalog.bit(64)::pg_catalog.int8), 0)`;
  return (
    `SELECT pg_catalog.count(*)::pg_catalog.text AS rows, ` +
    `pg_catalog.md5(pg_catalog.count(*)::pg_catalog.text || ':' || ${half(1)}::pg_catalog.text || ':' || ${half(17)}::pg_catalog.text) AS digest ` +
    `FROM (SELECT pg_catalog.md5(${rowText}) AS h FROM ${table} AS t) AS s`
  );
}

/** The algorithm a manifest's digests were computed with (format 1 manifests name none: md5). */
export function digestAlgorithmOf(manifest: { contentDigestAlgorithm?: string }): DigestAlgorithm | undefined {
  const a = manifest.contentDigestAlgorithm ?? 'md5';
  return a === 'hash64' || a === 'md5' ? a : undefined;
}
