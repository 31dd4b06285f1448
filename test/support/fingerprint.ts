/**
 * "The database is unchanged": one string that changes when any schema object, any row, the ledger or
 * a comment of the database changes. The trust suites take it before hostile input and compare after
 * (bad input must change nothing), and the kill suite requires the state after a kill to be the
 * fingerprint of "before" or of "after", never anything else.
 *
 * It reads the catalog directly (not tidemark's own introspection), so a bug in tidemark cannot hide
 * itself: every relation, column, constraint, index, sequence state, routine, type, trigger, policy
 * and comment outside the system schemas, and each table's rows as an order-free md5 of their text.
 */
import type { Queryable } from '../../src/db/database.js';

export const USER_NAMESPACES = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;

/** The catalog parts: a label and a query returning one row, one column `v` (exported for the kill suite's one-query state). */
export const CATALOG_QUERIES: readonly (readonly [string, string])[] = [
  ['schemas', `SELECT string_agg(n.nspname, ',' ORDER BY n.nspname) AS v FROM pg_namespace n WHERE ${USER_NAMESPACES}`],
  [
    'relations',
    `SELECT string_agg(format('%I.%I:%s:%s', n.nspname, c.relname, c.relkind, c.relpersistence), ',' ORDER BY n.nspname, c.relname) AS v
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NAMESPACES}`,
  ],
  [
    'columns',
    `SELECT string_agg(format('%I.%I.%I:%s:%s:%s:%s', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                              a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attisdropped), ','
                       ORDER BY n.nspname, c.relname, a.attnum) AS v
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND ${USER_NAMESPACES}`,
  ],
  [
    'constraints',
    `SELECT string_agg(format('%I.%I:%s', n.nspname, co.conname, pg_get_constraintdef(co.oid)), ',' ORDER BY n.nspname, co.conname, pg_get_constraintdef(co.oid)) AS v
       FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE ${USER_NAMESPACES}`,
  ],
  [
    'indexes',
    `SELECT string_agg(pg_get_indexdef(i.indexrelid) || ':' || i.indisvalid::text, ',' ORDER BY pg_get_indexdef(i.indexrelid)) AS v
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NAMESPACES}`,
  ],
  [
    'routines',
    `SELECT string_agg(md5(pg_get_functiondef(p.oid)), ',' ORDER BY md5(pg_get_functiondef(p.oid))) AS v
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NAMESPACES} AND p.prokind IN ('f', 'p')`,
  ],
  [
    'types',
    `SELECT string_agg(format('%I.%I:%s', n.nspname, t.typname, t.typtype), ',' ORDER BY n.nspname, t.typname) AS v
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NAMESPACES}`,
  ],
  ['enum-values', `SELECT string_agg(format('%s:%s', e.enumtypid::regtype, e.enumlabel), ',' ORDER BY e.enumtypid::regtype::text, e.enumsortorder) AS v FROM pg_enum e`],
  [
    'triggers',
    `SELECT string_agg(pg_get_triggerdef(t.oid) || ':' || t.tgenabled::text, ',' ORDER BY pg_get_triggerdef(t.oid)) AS v
       FROM pg_trigger t WHERE NOT t.tgisinternal`,
  ],
  ['policies', `SELECT string_agg(format('%I.%I:%s:%s:%s', schemaname, tablename, policyname, qual, with_check), ',' ORDER BY schemaname, tablename, policyname) AS v FROM pg_policies`],
  [
    'comments',
    `SELECT string_agg(md5(d.classoid::regclass::text || ':' || d.objsubid || ':' || d.description), ',' ORDER BY md5(d.classoid::regclass::text || ':' || d.objsubid || ':' || d.description)) AS v
       FROM pg_description d WHERE d.objoid >= 16384`,
  ],
  // A write into a catalog (an edited backup manifest naming pg_description) shows here.
  ['catalog-comments', `SELECT count(*)::text || ':' || md5(string_agg(md5(description), '' ORDER BY md5(description))) AS v FROM pg_description`],
];

/** The digest of one table's rows (`kind` 'S': a sequence's state); `q` is the quoted name. */
export function rowsDigestSql(q: string, kind: string): string {
  return kind === 'S'
    ? `SELECT last_value::text || ':' || is_called::text AS v FROM ${q}`
    : `SELECT count(*)::text || ':' || coalesce(md5(string_agg(md5(ROW(x.*)::text), '' ORDER BY md5(ROW(x.*)::text))), '') AS v FROM ONLY ${q} x`;
}

/** Parts of the fingerprint by name, so a failing comparison can say what changed. */
export async function fingerprintParts(db: Queryable): Promise<Record<string, string>> {
  const one = async (label: string, sql: string): Promise<[string, string]> => {
    const r = await db.query<{ v: string | null }>(sql);
    return [label, r.rows[0]?.v ?? ''];
  };
  // One session: the queries run one after another.
  const out: Record<string, string> = {};
  for (const [label, sql] of CATALOG_QUERIES) {
    const [k, v] = await one(label, sql);
    out[k] = v;
  }
  // Rows of every ordinary and partitioned table (the ledger's included), and every sequence's state.
  const tables = await db.query<{ schema: string; name: string; kind: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'S') AND ${USER_NAMESPACES} ORDER BY 1, 2`,
  );
  for (const t of tables.rows) {
    const q = `"${t.schema.replaceAll('"', '""')}"."${t.name.replaceAll('"', '""')}"`;
    const r = await db.query<{ v: string }>(rowsDigestSql(q, t.kind));
    out[`rows ${q}`] = r.rows[0]?.v ?? '';
  }
  return out;
}

/** One comparable string for the whole database. */
export async function fingerprint(db: Queryable): Promise<string> {
  const parts = await fingerprintParts(db);
  return JSON.stringify(parts);
}

/** The names of the parts that differ between two fingerprints (for assertion messages). */
export function fingerprintDiff(a: string, b: string): string[] {
  const pa = JSON.parse(a) as Record<string, string>;
  const pb = JSON.parse(b) as Record<string, string>;
  const keys = new Set([...Object.keys(pa), ...Object.keys(pb)]);
  return [...keys].filter((k) => pa[k] !== pb[k]).sort();
}
