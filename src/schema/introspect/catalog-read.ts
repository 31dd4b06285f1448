/**
 * The catalog rows every later step filters: user relations, types, routines, extensions and the
 * pg_depend edges between them, read once with a few queries (plus the helpers the steps share).
 */
import type { Queryable } from '../../db/database.js';
import { displayName } from '../snapshot.js';

export const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND n.nspname NOT LIKE 'pg\\_%'`;

export interface RelRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  persistence: string;
  ispartition: boolean;
  typed: boolean;
  rls: boolean;
  force_rls: boolean;
  options: string[] | null;
  comment: string | null;
  replident: string;
  am: string | null;
  tablespace: boolean;
}

export interface TypeRow {
  oid: number;
  schema: string;
  name: string;
  typtype: string;
  category: string;
  elem: number;
  relid: number;
  relkind: string | null;
  base_type: string | null;
  notnull: boolean;
  default: string | null;
  collation: string | null;
  comment: string | null;
}

export interface ProcRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  args: string;
  comment: string | null;
}

export interface ExtensionRow {
  oid: number;
  name: string;
  schema: string;
}

/** A pg_depend edge, each end as `r:<oid>`, `t:`, `p:`, `e:` or `x:<classid>:<oid>` (see readCatalog). */
export interface Edge {
  src: string;
  dst: string;
  deptype: string;
}

export interface Catalog {
  serverVersion: number;
  rels: RelRow[];
  relById: Map<number, RelRow>;
  types: TypeRow[];
  typeById: Map<number, TypeRow>;
  procs: ProcRow[];
  procById: Map<number, ProcRow>;
  extById: Map<number, ExtensionRow>;
  edges: Edge[];
  /** Extension members: object key → extension oid. */
  memberOf: Map<string, number>;
  /** The `n` (normal) dependencies of each object key. */
  outgoing: Map<string, string[]>;
  /** Serial (a) and identity (i) sequences, by sequence oid: the table they belong to. */
  seqOwners: Map<number, { rel: number; deptype: string }>;
}

/** Comma-separated oids for `= ANY(string_to_array($1, ',')::int8[])` (no array parameters: PGlite and pg differ). */
export function oidList(oids: Iterable<number>): string {
  return [...oids].join(',');
}
export const IN_OIDS = (col: string, param = '$1') => `${col}::int8 = ANY(string_to_array(${param}, ',')::int8[])`;

export const byName = <T extends { schema?: string; name: string }>(a: T, b: T) => (a.schema ?? '').localeCompare(b.schema ?? '') || a.name.localeCompare(b.name);

export function comment(c: string | null | undefined): { comment?: string } {
  return c === null || c === undefined ? {} : { comment: c };
}

/** Every user relation, type and routine; extension members apart. */
export async function readCatalog(db: Queryable): Promise<Catalog> {
  const serverVersion = Number((await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0].v);

  const rels = (
    await db.query<RelRow>(
      `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
              c.relpersistence::text AS persistence, c.relispartition AS ispartition, c.reloftype <> 0 AS typed,
              c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls, to_json(c.reloptions) AS options,
              obj_description(c.oid, 'pg_class') AS comment, c.relreplident::text AS replident,
              (SELECT am.amname FROM pg_am am WHERE am.oid = c.relam) AS am, c.reltablespace <> 0 AS tablespace
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND ${USER_SCHEMAS}`,
    )
  ).rows;
  const relById = new Map(rels.map((r) => [r.oid, r]));

  // quote_ident stays in the SQL: a collation name is printed as the server prints the rest of this DDL
  // (format_type, pg_get_expr), with the server's own keyword list, in the same one query.
  const types = (
    await db.query<TypeRow>(
      `SELECT t.oid::int8::float8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype::text AS typtype,
              t.typcategory::text AS category, t.typelem::int8::float8 AS elem, t.typrelid::int8::float8 AS relid,
              (SELECT c.relkind::text FROM pg_class c WHERE c.oid = t.typrelid) AS relkind,
              CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
              t.typnotnull AS notnull, t.typdefault AS default,
              CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN
                (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation,
              obj_description(t.oid, 'pg_type') AS comment
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
        WHERE ${USER_SCHEMAS}`,
    )
  ).rows;
  const typeById = new Map(types.map((t) => [t.oid, t]));

  const procs = (
    await db.query<ProcRow>(
      `SELECT p.oid::int8::float8 AS oid, n.nspname AS schema, p.proname AS name, p.prokind::text AS kind,
              pg_get_function_identity_arguments(p.oid) AS args, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMAS}`,
    )
  ).rows;
  const procById = new Map(procs.map((p) => [p.oid, p]));

  const extensions = (
    await db.query<ExtensionRow>(
      `SELECT e.oid::int8::float8 AS oid, e.extname AS name, n.nspname AS schema
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`,
    )
  ).rows;
  const extById = new Map(extensions.map((e) => [e.oid, e]));

  // Dependencies between user objects, each end as `r:<oid>` (a relation; sub-objects — defaults,
  // constraints, triggers, policies, rules, indexes — count as their table), `t:` a type, `p:` a
  // routine, `e:` an extension.
  const edges = (
    await db.query<{ src: string | null; dst: string | null; deptype: string }>(
      `SELECT CASE d.classid
                WHEN 'pg_class'::regclass THEN 'r:' || coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = d.objid), d.objid)::int8
                WHEN 'pg_attrdef'::regclass THEN 'r:' || (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)::int8
                WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN c.conrelid <> 0 THEN 'r:' || c.conrelid::int8 ELSE 't:' || c.contypid::int8 END FROM pg_constraint c WHERE c.oid = d.objid)
                WHEN 'pg_trigger'::regclass THEN 'r:' || (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)::int8
                WHEN 'pg_policy'::regclass THEN 'r:' || (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)::int8
                WHEN 'pg_rewrite'::regclass THEN 'r:' || (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)::int8
                WHEN 'pg_type'::regclass THEN 't:' || d.objid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.objid::int8
                WHEN 'pg_extension'::regclass THEN NULL
                ELSE 'x:' || d.classid::int8 || ':' || d.objid::int8
              END AS src,
              CASE d.refclassid
                WHEN 'pg_class'::regclass THEN 'r:' || d.refobjid::int8 WHEN 'pg_type'::regclass THEN 't:' || d.refobjid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.refobjid::int8 WHEN 'pg_extension'::regclass THEN 'e:' || d.refobjid::int8
                WHEN 'pg_namespace'::regclass THEN NULL
                ELSE 'x:' || d.refclassid::int8 || ':' || d.refobjid::int8
              END AS dst,
              d.deptype::text AS deptype
         FROM pg_depend d
        WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype IN ('n', 'a', 'i', 'e')`,
    )
  ).rows.filter((e): e is Edge => e.src !== null && e.dst !== null && e.src !== e.dst);

  const memberOf = new Map<string, number>();
  const outgoing = new Map<string, string[]>();
  for (const e of edges) {
    if (e.deptype === 'e') {
      memberOf.set(e.src, Number(e.dst.slice(2)));
      continue;
    }
    if (e.deptype !== 'n') continue;
    let list = outgoing.get(e.src);
    if (!list) outgoing.set(e.src, (list = []));
    list.push(e.dst);
  }

  // Serial (a) and identity (i) sequences belong to their column's table.
  const seqOwners = new Map<number, { rel: number; deptype: string }>();
  for (const e of edges) {
    if ((e.deptype === 'a' || e.deptype === 'i') && e.src.startsWith('r:') && e.dst.startsWith('r:')) {
      const src = relById.get(Number(e.src.slice(2)));
      if (src?.kind === 'S') seqOwners.set(src.oid, { rel: Number(e.dst.slice(2)), deptype: e.deptype });
    }
  }
  return { serverVersion, rels, relById, types, typeById, procs, procById, extById, edges, memberOf, outgoing, seqOwners };
}

/** An object key in words, for messages: `table "a"."b"`, `function f(integer)`, `extension x`. */
export function describeKey(cat: Catalog, key: string): string {
  const id = Number(key.slice(2));
  if (key.startsWith('r:')) {
    const r = cat.relById.get(id);
    if (!r) return `relation ${id}`;
    const kind = r.kind === 'v' ? 'view' : r.kind === 'm' ? 'materialized view' : r.kind === 'S' ? 'sequence' : 'table';
    return `${kind} ${displayName(r)}`;
  }
  if (key.startsWith('t:')) {
    const t = cat.typeById.get(id);
    return t ? `type ${displayName(t)}` : `type ${id}`;
  }
  if (key.startsWith('p:')) {
    const p = cat.procById.get(id);
    return p ? `function ${displayName(p)}(${p.args})` : `function ${id}`;
  }
  return `extension ${cat.extById.get(id)?.name ?? id}`;
}
