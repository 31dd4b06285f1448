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
export type DigestAlgorithm = 'hash64' | 'md5';

/** What backup writes. */
export const DIGEST_ALGORITHM: DigestAlgorithm = 'hash64';

/** Identifier quoted for SQL: `"a""b"`. Always quoted, so case and keywords survive. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` (split at the first dot, as tidemark names tables) quoted for SQL. */
export function quoteTable(table: string, schema?: string): string {
  if (schema !== undefined) return `${quoteIdent(schema)}.${quoteIdent(table)}`;
  const dot = table.indexOf('.');
  return dot < 0 ? quoteIdent(table) : `${quoteIdent(table.slice(0, dot))}.${quoteIdent(table.slice(dot + 1))}`;
}

/**
 * A table's own rows as a FROM item: `ONLY t` for an ordinary table, so an inheritance parent does not
 * also read (back up, count, delete) its children's rows, which are tables of their own; a
 * partitioned table as it is (its rows are its partitions'). `relkind` from pg_class.
 */
export function ownRows(qualified: string, relkind: string): string {
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
 * `table` is already quoted (use quoteTable); columns are plain names, quoted here, in the order given
 * (restore must pass the same order: the manifest's `digestColumns`).
 */
export function contentDigestSql(table: string, columns: readonly string[], algorithm: DigestAlgorithm = DIGEST_ALGORITHM): string {
  // ROW() of a single column is still a record; with no columns at all only the count matters.
  const rowText = columns.length ? `ROW(${columns.map((c) => `t.${quoteIdent(c)}`).join(', ')})::text` : `''`;
  if (algorithm === 'hash64') {
    // sum(bigint) accumulates in 128 bits and returns numeric: exact, never overflows.
    return (
      `SELECT count(*)::text AS rows, md5('hash64:' || count(*)::text || ':' || coalesce(sum(hashtextextended(${rowText}, 0)), 0)::text) AS digest ` +
      `FROM ${table} AS t`
    );
  }
  // sum(bigint), not sum(numeric): the same exact value, a third faster.
  const half = (from: number) => `coalesce(sum(('x' || substr(s.h, ${from}, 16))::bit(64)::bigint), 0)`;
  return (
    `SELECT count(*)::text AS rows, ` +
    `md5(count(*)::text || ':' || ${half(1)}::text || ':' || ${half(17)}::text) AS digest ` +
    `FROM (SELECT md5(${rowText}) AS h FROM ${table} AS t) AS s`
  );
}

/** The algorithm a manifest's digests were computed with (format 1 manifests name none: md5). */
export function digestAlgorithmOf(manifest: { contentDigestAlgorithm?: string }): DigestAlgorithm | undefined {
  const a = manifest.contentDigestAlgorithm ?? 'md5';
  return a === 'hash64' || a === 'md5' ? a : undefined;
}
