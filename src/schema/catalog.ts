import type { Queryable } from '../db/database.js';
import { quoteIdent, quoteQualified, type QualifiedName } from '../sql/ident.js';

/**
 * The catalog questions backup, restore and validate each asked with their own copy of the query
 * (issue 12 §1): which user tables exist, their constraints and foreign keys with columns in key
 * order, how many rows a key rejects, and whether row-level security applies to this role. One query
 * each, returning what every one of those callers needs; names stay (schema, name) pairs throughout.
 */

/** An ordinary or partitioned user table, as pg_class has it. */
export interface LiveTable extends QualifiedName {
  /** pg_class.oid (fits a double exactly). */
  oid: number;
  /** pg_class.relkind: 'r' ordinary, 'p' partitioned. */
  kind: string;
}

/**
 * Ordinary and partitioned tables outside the system schemas and tidemark's own, partitions left out
 * (they are read through their parent), ordered by schema then name (the server's `name` order).
 */
export async function liveTables(db: Queryable): Promise<LiveTable[]> {
  const { rows } = await db.query<{ oid: number; schema: string; name: string; kind: string }>(
    `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY n.nspname, c.relname`,
  );
  return rows.map((r) => ({ oid: Number(r.oid), schema: r.schema, name: r.name, kind: r.kind }));
}

/** pg_constraint.contype: primary key, unique, check, exclusion, foreign key. */
export type ConstraintType = 'p' | 'u' | 'c' | 'x' | 'f';

export interface TableConstraint {
  /** The table it is on. */
  table: QualifiedName;
  tableOid: number;
  /** The table's pg_class.relkind and whether it is a partition. */
  tableKind: string;
  tableIsPartition: boolean;
  name: string;
  type: ConstraintType;
  /** pg_get_constraintdef: the text after `ADD CONSTRAINT name`. */
  definition: string;
  comment: string | null;
  /** Key columns in key order (conkey's order, not attnum's); empty for a table-level check. */
  columns: string[];
  validated: boolean;
  /** Inherited from a partitioned parent's constraint (pg_constraint.conparentid <> 0). */
  inherited: boolean;
  /** Whether the current role is a member of the table's owner (may ALTER it). */
  ownedByRole: boolean;
  /** Foreign keys only: the referenced table, its kind, its columns in key order, MATCH type. */
  references?: QualifiedName & { oid: number; kind: string; columns: string[]; matchType: 'f' | 'p' | 's'; canReference: boolean };
}

const TYPE_ORDER = `CASE con.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'c' THEN 2 WHEN 'x' THEN 3 ELSE 4 END`;

/**
 * The constraints on `tables` (oids), of the given types (default all five), optionally only foreign
 * keys whose referenced table is in `referencing`. Ordered by table oid, then primary key, unique,
 * check, exclusion, foreign key, then name: the order backup's schema.sql writes them in; with one
 * type that is (table, name), as restore and validate read them.
 */
export async function tableConstraints(db: Queryable, tables: readonly number[], options: { types?: readonly ConstraintType[]; referencing?: readonly number[] } = {}): Promise<TableConstraint[]> {
  if (!tables.length) return [];
  const types = options.types ?? ['p', 'u', 'c', 'x', 'f'];
  const params: unknown[] = [tables, types];
  let refFilter = '';
  if (options.referencing) {
    params.push(options.referencing);
    refFilter = ' AND con.confrelid = ANY($3::int8[]::oid[])';
  }
  const { rows } = await db.query<{
    rel: number;
    schema: string;
    table: string;
    relkind: string;
    relispartition: boolean;
    name: string;
    type: ConstraintType;
    def: string;
    comment: string | null;
    cols: string[] | null;
    validated: boolean;
    inherited: boolean;
    owned: boolean;
    ref: number | null;
    ref_schema: string | null;
    ref_name: string | null;
    ref_kind: string | null;
    refcols: string[] | null;
    matchtype: string;
    can_reference: boolean | null;
  }>(
    `SELECT con.conrelid::int8::float8 AS rel, cn.nspname AS schema, c.relname AS table, c.relkind::text AS relkind,
            c.relispartition, con.conname AS name, con.contype::text AS type, pg_catalog.pg_get_constraintdef(con.oid) AS def,
            pg_catalog.obj_description(con.oid, 'pg_constraint') AS comment,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
            con.convalidated AS validated, con.conparentid <> 0 AS inherited,
            pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned,
            CASE WHEN con.contype = 'f' THEN con.confrelid::int8::float8 END AS ref,
            rn.nspname AS ref_schema, rc.relname AS ref_name, rc.relkind::text AS ref_kind,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS refcols,
            con.confmatchtype::text AS matchtype,
            CASE WHEN con.contype = 'f' THEN pg_catalog.has_table_privilege(con.confrelid, 'REFERENCES') END AS can_reference
       FROM pg_catalog.pg_constraint con
       JOIN pg_catalog.pg_class c ON c.oid = con.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = c.relnamespace
       LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
       LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.conrelid = ANY($1::int8[]::oid[]) AND con.contype::text = ANY($2::text[])${refFilter}
      ORDER BY con.conrelid, ${TYPE_ORDER}, con.conname`,
    params,
  );
  return rows.map((r) => ({
    table: { schema: r.schema, name: r.table },
    tableOid: Number(r.rel),
    tableKind: r.relkind,
    tableIsPartition: r.relispartition,
    name: r.name,
    type: r.type,
    definition: r.def,
    comment: r.comment,
    columns: r.cols ?? [],
    validated: r.validated,
    inherited: r.inherited,
    ownedByRole: r.owned,
    ...(r.type === 'f' && r.ref !== null
      ? {
          references: {
            schema: r.ref_schema!,
            name: r.ref_name!,
            oid: Number(r.ref),
            kind: r.ref_kind!,
            columns: r.refcols ?? [],
            matchType: r.matchtype as 'f' | 'p' | 's',
            canReference: Boolean(r.can_reference),
          },
        }
      : {}),
  }));
}

/** The foreign keys on `tables` (optionally only those pointing into `referencing`), by table then name. */
export function foreignKeys(db: Queryable, tables: readonly number[], referencing?: readonly number[]): Promise<TableConstraint[]> {
  return tableConstraints(db, tables, { types: ['f'], ...(referencing ? { referencing } : {}) });
}

/** A key to check row by row: child columns against parent columns, pairwise. */
export interface KeyCheck {
  child: QualifiedName;
  columns: readonly string[];
  parent: QualifiedName;
  referencedColumns: readonly string[];
  /** Read only the table's own rows (`ONLY`), not an inheritance child's; partitioned tables are read whole. */
  childOnly?: boolean;
  parentOnly?: boolean;
  /** MATCH FULL: a key with some NULLs is an orphan; MATCH SIMPLE (default) passes any key with a NULL. */
  matchFull?: boolean;
  /** Compare as text (soft relations between columns of different types). */
  asText?: boolean;
}

/** `FROM child AS c WHERE <the child row has no parent>`; aliases are only used qualified, so columns named c or p change nothing. */
function orphanFrom(k: KeyCheck): string {
  const cols = k.columns.map((col) => `c.${quoteIdent(col)}`);
  const eq = (rc: string, i: number) => (k.asText ? `p.${quoteIdent(rc)}::pg_catalog.text = ${cols[i]}::pg_catalog.text` : `p.${quoteIdent(rc)} = ${cols[i]}`);
  const parent = `EXISTS (SELECT 1 FROM ${k.parentOnly ? 'ONLY ' : ''}${quoteQualified(k.parent)} AS p WHERE ${k.referencedColumns.map(eq).join(' AND ')})`;
  const allSet = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  const where = k.matchFull ? `NOT (${cols.map((c) => `${c} IS NULL`).join(' AND ')}) AND NOT (${allSet} AND ${parent})` : `${allSet} AND NOT ${parent}`;
  return `FROM ${k.childOnly ? 'ONLY ' : ''}${quoteQualified(k.child)} AS c WHERE ${where}`;
}

/** How many rows of the child the key rejects. */
export async function orphanCount(db: Queryable, k: KeyCheck): Promise<number> {
  return Number((await db.query<{ n: string }>(`SELECT pg_catalog.count(*)::pg_catalog.text AS n ${orphanFrom(k)}`)).rows[0].n);
}

/** Up to `limit` distinct rejected keys as text (`5`, or `(5,x)` for several columns), sorted. */
export async function orphanSamples(db: Queryable, k: KeyCheck, limit: number): Promise<string[]> {
  const cols = k.columns.map((col) => `c.${quoteIdent(col)}`);
  const key = cols.length === 1 ? `${cols[0]}::pg_catalog.text` : `ROW(${cols.join(', ')})::pg_catalog.text`;
  const { rows } = await db.query<{ k: string }>(`SELECT DISTINCT ${key} AS k ${orphanFrom(k)} ORDER BY 1 LIMIT ${Math.max(0, Math.trunc(limit))}`);
  return rows.map((r) => r.k);
}

/**
 * Like pg_dump: read and load with row_security off, so policies that would hide rows make the
 * statement fail instead of silently skipping rows (checked first by rowSecurityActive).
 */
export const ROW_SECURITY_OFF_SQL = `SET LOCAL row_security = off`;

export interface RowSecurityActive extends QualifiedName {
  oid: number;
  /** FORCE ROW LEVEL SECURITY: it applies to the owner too. */
  force: boolean;
  /** The current role is (a member of) the owner. */
  owner: boolean;
  /** current_user, for the message. */
  role: string;
}

/** The tables of `oids` whose row-level security applies to the current role (not superuser, no BYPASSRLS…), by schema and name. */
export async function rowSecurityActive(db: Queryable, oids: readonly number[]): Promise<RowSecurityActive[]> {
  if (!oids.length) return [];
  const { rows } = await db.query<{ oid: number; schema: string; name: string; force: boolean; owner: boolean; role: string }>(
    `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relforcerowsecurity AS force,
            pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owner, current_user::text AS role
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = ANY($1::int8[]::oid[]) AND c.relrowsecurity AND pg_catalog.row_security_active(c.oid)
      ORDER BY 2, 3`,
    [oids],
  );
  return rows.map((r) => ({ ...r, oid: Number(r.oid) }));
}
