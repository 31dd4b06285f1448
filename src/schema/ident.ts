/**
 * Identifiers in generated DDL, quoted only when needed (the rule of PostgreSQL's quote_ident): a
 * name of lower-case letters, digits, `_` and `$` that does not start with a digit or `$` and is not
 * a keyword (other than an unreserved one) stays bare; anything else is double-quoted.
 */

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

/** `users` → `users`, `Users` → `"Users"`, `order` → `"order"`. */
export function ident(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && !KEYWORDS.has(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

/** `budgets` for public objects, `billing.invoices` otherwise (each part quoted when needed). */
export function qualified(q: { schema: string; name: string }): string {
  return q.schema === 'public' ? ident(q.name) : `${ident(q.schema)}.${ident(q.name)}`;
}

/** A string literal: `'it''s'`. */
export function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
