/**
 * The one identifier model and SQL-quoting module (issue 11 §3, issue 12 §5).
 *
 * A database object's name is a pair `{ schema, name }` from the catalog to the SQL text: never a
 * joined `schema.name` string split on `.` again (`"a.b".c` and `a."b.c"` are two different tables).
 * Everything that puts a name or a value into generated SQL goes through this file. It imports
 * nothing of tidemark's (only node:crypto), so every layer may use it.
 */
import { createHash } from 'node:crypto';

/** A schema-qualified object name, exactly as the catalog spells it (no quoting, no case folding). */
export interface QualifiedName {
  readonly schema: string;
  readonly name: string;
}

/** A column of a table: the (schema, name) pair and the column's name, as the catalog spells them. */
export interface ColumnRef {
  readonly table: QualifiedName;
  readonly column: string;
}

/** PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated by the server, so refuse them. */
export const MAX_IDENTIFIER_BYTES = 63;

// pg_get_keywords() where catcode <> 'U' (reserved, column-name and type-function-name keywords),
// PostgreSQL 18 (a superset of 15's list).
const KEYWORDS = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char ' +
    'character check coalesce collate collation column concurrently constraint create cross current_catalog current_date ' +
    'current_role current_schema current_time current_timestamp current_user dec decimal default deferrable desc distinct do ' +
    'else end except exists extract false fetch float for foreign freeze from full grant greatest group grouping having ilike in ' +
    'initially inner inout int integer intersect interval into is isnull join json json_array json_arrayagg json_exists ' +
    'json_object json_objectagg json_query json_scalar json_serialize json_table json_value lateral leading least left like ' +
    'limit localtime localtimestamp merge_action national natural nchar none normalize not notnull null nullif numeric offset on ' +
    'only or order out outer overlaps overlay placing position precision primary real references returning right row select ' +
    'session_user setof similar smallint some substring symmetric system_user table tablesample then time timestamp to trailing ' +
    'treat trim true union unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat ' +
    'xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable'
  ).split(' '),
);

/** Always quoted: `"a""b"`. For SQL tidemark runs (case, dots and keywords survive untouched). */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new Error('an identifier cannot contain a NUL byte');
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Quoted only when needed (PostgreSQL's quote_ident rule), for DDL a person reads: `users` → `users`,
 * `Users` → `"Users"`, `order` → `"order"`.
 */
export function ident(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && !KEYWORDS.has(name)) return name;
  return quoteIdent(name);
}

/** `"schema"."name"`, always quoted: for SQL tidemark runs. */
export function quoteQualified(q: QualifiedName): string {
  return `${quoteIdent(q.schema)}.${quoteIdent(q.name)}`;
}

/** `budgets` for public objects, `billing.invoices` otherwise, each part quoted when needed: for readable DDL. */
export function qualified(q: QualifiedName): string {
  return q.schema === 'public' ? ident(q.name) : `${ident(q.schema)}.${ident(q.name)}`;
}

/** A string literal: `'it''s'` (standard_conforming_strings is on in every supported server). */
export function literal(text: string): string {
  if (text.includes('\0')) throw new Error('a string literal cannot contain a NUL byte');
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * A table for pg_dump's `-t` (a pattern, not SQL): each part double-quoted so dots, capitals and the
 * wildcards `*` `?` in a name stay literal; `"` doubled as inside SQL quotes.
 */
export function dumpPattern(q: QualifiedName): string {
  const part = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return `${part(q.schema)}.${part(q.name)}`;
}

const JOINED_NAME = /^(?:([A-Za-z_][A-Za-z0-9_$]*)\.)?([A-Za-z_][A-Za-z0-9_$]*)$/;

/**
 * A name a config writes as one string of plain identifiers (an Alembic `versionTable`: `table` or
 * `schema.table`): the schema apart, undefined when not given (the search_path finds it, as Alembic
 * does); case kept as SQLAlchemy keeps it. Undefined when the text is not such a name (quoting,
 * more dots): a joined string is split here and nowhere else.
 */
export function parseJoinedName(text: string): { schema?: string; name: string } | undefined {
  const m = JOINED_NAME.exec(text);
  if (!m) return undefined;
  return m[1] === undefined ? { name: m[2] } : { schema: m[1], name: m[2] };
}

/**
 * A name for messages and terminals: `schema.name` with each part quoted when it needs it (so
 * `"a.b".c` and `a."b.c"` read differently), and control characters shown as `\x1b`, never raw.
 */
export function displayName(q: QualifiedName | string): string {
  const text = typeof q === 'string' ? ident(q) : q.schema === 'public' ? ident(q.name) : `${ident(q.schema)}.${ident(q.name)}`;
  // A name never holds a legitimate newline or tab: escape those too.
  return escapeControl(text).replace(/[\t\n]/g, (c) => (c === '\t' ? '\\t' : '\\n'));
}

/** Control characters (C0, DEL, C1) as `\xNN`, so a hostile name cannot drive the terminal. */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * `base` + `suffix` as a name PostgreSQL keeps whole: when it would pass 63 bytes (PostgreSQL would cut it,
 * maybe back to `base` itself), `base` is shortened at a character boundary and 8 hex digits of its hash
 * keep two long bases apart.
 */
export function fittedName(base: string, suffix: string): string {
  if (identifierBytes(base) + identifierBytes(suffix) <= MAX_IDENTIFIER_BYTES) return base + suffix;
  const tag = `_${createHash('sha256').update(base).digest('hex').slice(0, 8)}`;
  let kept = '';
  for (const ch of base) {
    if (identifierBytes(kept + ch) + identifierBytes(tag + suffix) > MAX_IDENTIFIER_BYTES) break;
    kept += ch;
  }
  return kept + tag + suffix;
}

/** A stable map key for a pair that cannot collide (a NUL cannot occur in an identifier). */
export function nameKey(q: QualifiedName): string {
  return `${q.schema}\0${q.name}`;
}

/** The UTF-8 length PostgreSQL checks against NAMEDATALEN. */
export function identifierBytes(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * Like displayName, but always schema-qualified (`public.users`, `"a.b".c`, `a."b.c"`): the label
 * backup, restore and validate results and messages use for a table, unambiguous and terminal-safe.
 */
export function displayQualified(q: QualifiedName): string {
  return escapeControl(`${ident(q.schema)}.${ident(q.name)}`).replace(/[\t\n]/g, (c) => (c === '\t' ? '\\t' : '\\n'));
}

/** System schemas no tidemark command writes into: pg_catalog, information_schema, pg_toast, pg_temp_N… (every `pg_` prefix). */
export function isSystemSchema(schema: string): boolean {
  return schema === 'information_schema' || schema.startsWith('pg_');
}
