/** Verifying: the content digest recomputed in the database, and how many rows differ when it does not match. */
import type { Queryable } from '../../db/database.js';
import { quoteIdent } from '../../sql/ident.js';
import { contentDigestSql, type DigestAlgorithm } from '../digest.js';
import type { TablePlan } from './types.js';

async function digestOf(db: Queryable, from: string, columns: readonly string[], algorithm: DigestAlgorithm): Promise<{ rows: string; digest: string }> {
  return (await db.query<{ rows: string; digest: string }>(contentDigestSql(from, columns, algorithm))).rows[0];
}

/**
 * The csv fast path (no staging table): no backup column skipped or generated here, no `fill`
 * expression, and the columns compared are exactly the backup's, so the target's digest alone is
 * checked against the manifest. Target-only columns still take their defaults (COPY fills them).
 */
export function direct(p: TablePlan): boolean {
  // A backup without columns goes through staging: `COPY t ()` is not SQL, and its rows must take the target's defaults.
  return p.m.columns.length > 0 && p.mapped.length === p.m.columns.length && p.fillExprs.length === 0 && sameColumns(p);
}

function sameColumns(p: TablePlan): boolean {
  return p.compared.length === p.m.digestColumns.length && p.compared.every((c, i) => c === p.m.digestColumns[i]);
}

/** `algorithm`: the manifest's, so the digests compare with the ones the backup recorded. */
export async function verifyTable(db: Queryable, p: TablePlan, source: string | undefined, algorithm: DigestAlgorithm): Promise<void> {
  const same = sameColumns(p);
  const target = await digestOf(db, p.rowsFrom, p.compared, algorithm);
  if (same || source === undefined) {
    p.result.digestMatched = target.digest === p.m.contentDigest && Number(target.rows) === p.m.rowCount;
  } else {
    // The staging rows must be the backup's rows (all its columns), and the target must hold them (common columns).
    const full = await digestOf(db, source, p.m.digestColumns, algorithm);
    const common = await digestOf(db, source, p.compared, algorithm);
    p.result.digestMatched = full.digest === p.m.contentDigest && common.digest === target.digest && Number(target.rows) === p.m.rowCount;
  }
  if (!p.result.digestMatched && source !== undefined) p.result.differingRows = await countDiffering(db, source, p.rowsFrom, p.compared);
}

/**
 * How many rows differ over the given columns: the larger of the multiset differences both ways, so a
 * changed row counts once (missing from one side and unexpected in the other), and an extra row once.
 */
async function countDiffering(db: Queryable, a: string, b: string, columns: readonly string[]): Promise<number> {
  const h = (from: string) => `SELECT pg_catalog.md5(${columns.length ? `ROW(${columns.map((c) => `t.${quoteIdent(c)}`).join(', ')})::text` : `''`}) AS h FROM ${from} AS t`;
  const r = await db.query<{ n: string }>(`SELECT greatest((SELECT count(*) FROM (${h(a)} EXCEPT ALL ${h(b)}) x), (SELECT count(*) FROM (${h(b)} EXCEPT ALL ${h(a)}) y))::text AS n`);
  return Number(r.rows[0].n);
}
