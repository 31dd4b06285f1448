/**
 * A given shadow (`--shadow URL`) kept empty: refused when it holds user objects, and emptied again
 * after the replay, down to what it held before (schemas, extensions, event triggers).
 */
import { literal, quoteIdent, quoteQualified } from '../sql/ident.js';
import type { Database } from './database.js';

const USER_SCHEMA = `n.nspname NOT IN ('information_schema', 'pg_catalog') AND n.nspname NOT LIKE 'pg\\_%'`;
const NOT_EXTENSION = (catalog: string, oid: string) => `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = ${literal(catalog)}::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

/** Up to 5 user objects (relations, types, routines, schemas other than public), as "table public.users". */
export async function userObjects(db: Database): Promise<string[]> {
  const { rows } = await db.query<{ what: string }>(
    `SELECT what FROM (
       SELECT 1 AS o, 'schema ' || n.nspname AS what FROM pg_namespace n
        WHERE ${USER_SCHEMA} AND n.nspname <> 'public' AND ${NOT_EXTENSION('pg_namespace', 'n.oid')}
       UNION ALL
       SELECT 2, CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '
                  WHEN 'S' THEN 'sequence ' WHEN 'i' THEN 'index ' WHEN 'I' THEN 'index ' ELSE 'relation ' END || n.nspname || '.' || c.relname
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_class', 'c.oid')}
       UNION ALL
       SELECT 3, 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE ${USER_SCHEMA} AND t.typtype IN ('e', 'd', 'r') AND ${NOT_EXTENSION('pg_type', 't.oid')}
       UNION ALL
       SELECT 4, 'routine ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_proc', 'p.oid')}
     ) x ORDER BY o, what LIMIT 5`,
  );
  return rows.map((r) => r.what);
}

export interface Baseline {
  schemas: Set<string>;
  extensions: Set<string>;
  eventTriggers: Set<string>;
}

/** What an empty shadow holds before the replay: left in place by emptyAgain. */
export async function baseline(db: Database): Promise<Baseline> {
  const schemas = await db.query<{ n: string }>(`SELECT n.nspname AS n FROM pg_namespace n WHERE ${USER_SCHEMA}`);
  const extensions = await db.query<{ n: string }>('SELECT extname AS n FROM pg_extension');
  const eventTriggers = await db.query<{ n: string }>('SELECT evtname AS n FROM pg_event_trigger');
  return { schemas: new Set(schemas.rows.map((r) => r.n)), extensions: new Set(extensions.rows.map((r) => r.n)), eventTriggers: new Set(eventTriggers.rows.map((r) => r.n)) };
}

/**
 * Removes what the replay added to a shadow that was empty: new event triggers first (one that refuses drops, as
 * some databases install against accidents, would refuse every drop below; dropping an event trigger fires none),
 * then new extensions and schemas, then every user object left.
 */
export async function emptyAgain(db: Database, before: Baseline): Promise<void> {
  const drops: string[] = [];
  const triggers = await db.query<{ n: string }>('SELECT evtname AS n FROM pg_event_trigger ORDER BY oid DESC');
  drops.push(...triggers.rows.filter((r) => !before.eventTriggers.has(r.n)).map((r) => `DROP EVENT TRIGGER IF EXISTS ${quoteIdent(r.n)}`));
  const exts = await db.query<{ n: string }>('SELECT extname AS n FROM pg_extension ORDER BY oid DESC');
  drops.push(...exts.rows.filter((r) => !before.extensions.has(r.n)).map((r) => `DROP EXTENSION IF EXISTS ${quoteIdent(r.n)} CASCADE`));
  const schemas = await db.query<{ n: string }>(`SELECT n.nspname AS n FROM pg_namespace n WHERE ${USER_SCHEMA} ORDER BY n.oid DESC`);
  drops.push(...schemas.rows.filter((r) => !before.schemas.has(r.n)).map((r) => `DROP SCHEMA IF EXISTS ${quoteIdent(r.n)} CASCADE`));
  for (const sql of drops) await db.exec(sql);

  for (const object of await leftObjects(db)) await db.exec(dropSql(object));
}

/** A user object left after the schemas went: a relation or type by name, a routine by its signature. */
export type LeftObject =
  | { kind: 'VIEW' | 'MATERIALIZED VIEW' | 'SEQUENCE' | 'FOREIGN TABLE' | 'TABLE' | 'DOMAIN' | 'TYPE'; schema: string; name: string }
  | { kind: 'PROCEDURE' | 'AGGREGATE' | 'FUNCTION'; signature: string };

/** The DROP for one left object (pure). */
export function dropSql(o: LeftObject): string {
  // A routine's signature is regprocedure's text: the server quotes its names and argument types there, and
  // no JS rule can rebuild argument types (arrays, typmods, search_path) exactly.
  const what = 'signature' in o ? o.signature : quoteQualified(o);
  return `DROP ${o.kind} IF EXISTS ${what} CASCADE`;
}

async function leftObjects(db: Database): Promise<LeftObject[]> {
  const { rows } = await db.query<{ kind: string; schema: string | null; name: string | null; signature: string | null }>(
    `SELECT kind, schema, name, signature FROM (
       SELECT 1 AS o, c.oid AS id, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                     WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind, n.nspname::text AS schema, c.relname::text AS name, NULL::text AS signature
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${NOT_EXTENSION('pg_class', 'c.oid')}
          -- an identity or serial sequence goes with its table (dropping it alone is refused)
          AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                                AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
       UNION ALL
       SELECT 2, t.oid, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname::text, t.typname::text, NULL
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE ${USER_SCHEMA} AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
          AND ${NOT_EXTENSION('pg_type', 't.oid')}
       UNION ALL
       SELECT 3, p.oid, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, NULL, NULL, p.oid::regprocedure::text
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_proc', 'p.oid')}
     ) x ORDER BY o, id DESC`,
  );
  return rows.map((r) => (r.signature !== null ? { kind: r.kind as 'FUNCTION', signature: r.signature } : { kind: r.kind as 'TABLE', schema: r.schema as string, name: r.name as string }));
}
