/**
 * Catalog text made comparable across PostgreSQL 15 and 18 (a live server may be 15 while the shadow
 * database is PGlite, PostgreSQL 18). Applied to BOTH sides before comparing, conservatively:
 * - whitespace runs collapse to one space, and none is kept just inside parentheses;
 * - `::text` casts are removed (15 and 18 do not always agree on where they print them);
 * - the schema qualification `public.` / `"public".` is removed;
 * - an index definition's own name and table become placeholders (the name is the key it is compared under).
 * src/data/structure.ts (`tidemark validate`) uses the same functions.
 */

import { quoteIdent } from '../sql/ident.js';
import type { Snapshot } from './snapshot.js';

/** Text the catalog prints, made comparable across PostgreSQL 15 and 18. */
export function normalizeSql(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/::text\b/g, '')
    .replace(/(^|[\s(,])"?public"?\./g, '$1')
    .replace(/\(\s+/g, '(')
    .replace(/\s+\)/g, ')')
    .trim();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING …` → `CREATE [UNIQUE] INDEX <index> ON <table> USING …`, normalized. */
export function normalizeIndexDef(def: string, name: string, schema: string, table: string): string {
  // The name as the catalog prints it: bare, or quoted by the one quoting rule of src/sql/ident.ts.
  const ident = (s: string) => `(?:${escapeRe(s)}|${escapeRe(quoteIdent(s))})`;
  const head = new RegExp(`^(CREATE (?:UNIQUE )?INDEX )${ident(name)}( ON (?:ONLY )?)(?:${ident(schema)}\\.)?${ident(table)}( )`);
  return normalizeSql(def.replace(head, '$1<index>$2<table>$3'));
}

/**
 * A function definition (pg_get_functiondef) made comparable: whitespace runs collapse, and trailing
 * whitespace inside the body does not count. The body's text is otherwise compared as written.
 */
export function normalizeFunctionDef(def: string): string {
  return normalizeSql(def.replace(/\s+\$(\w*)\$/g, ' $$$1$$').replace(/\$(\w*)\$\s+/g, '$$$1$$ '));
}

/** The parts of libpg-query this module uses. */
export interface QueryParser {
  parseSync(sql: string): unknown;
}

/**
 * A view's query made comparable across PostgreSQL 15 and 16+: pg_get_viewdef on 15 qualifies every
 * column (`SELECT t.id FROM t`), 16+ leaves columns bare where only one relation is visible
 * (`SELECT id FROM t`). The query is parsed, node locations dropped, and a column's qualifier dropped
 * exactly where 16+ would drop it: in a SELECT whose FROM is one relation and that sees no outer one.
 * Returns the canonical JSON text of the parse tree, or undefined when the text does not parse.
 */
export function canonicalQuery(sql: string, parser: QueryParser): string | undefined {
  let tree: { stmts: { stmt: unknown }[] };
  try {
    tree = parser.parseSync(sql) as { stmts: { stmt: unknown }[] };
  } catch {
    return undefined;
  }
  return JSON.stringify(tree.stmts.map((s) => walk(s.stmt, null, 0)));
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function walk(node: unknown, strip: Set<string> | null, outer: number): Json {
  if (Array.isArray(node)) return node.map((n) => walk(n, strip, outer));
  if (node === null || typeof node !== 'object') return node as Json;
  const obj = node as Record<string, unknown>;
  if ('SelectStmt' in obj) return { SelectStmt: select(obj.SelectStmt as Record<string, unknown>, outer) };
  if ('ColumnRef' in obj && strip) {
    const ref = obj.ColumnRef as { fields: { String?: { sval: string } }[] };
    if (ref.fields.length === 2 && ref.fields[0].String && strip.has(ref.fields[0].String.sval)) {
      return { ColumnRef: { fields: [walk(ref.fields[1], null, outer)] } };
    }
  }
  const out: Record<string, Json> = {};
  for (const key of Object.keys(obj).sort()) {
    if (key === 'location' || key === 'stmt_location' || key === 'stmt_len') continue;
    out[key] = walk(obj[key], strip, outer);
  }
  return out;
}

function select(sel: Record<string, unknown>, outer: number): Json {
  const from = (sel.fromClause as Record<string, Record<string, unknown>>[] | undefined) ?? [];
  const single = from.length === 1 && ('RangeVar' in from[0] || 'RangeSubselect' in from[0]) ? from[0] : undefined;
  const own = single ? 1 : from.length === 0 ? 0 : 2;
  const visible = outer + own;
  let strip: Set<string> | null = null;
  if (single && visible === 1) {
    const rv = (single.RangeVar ?? single.RangeSubselect) as { relname?: string; alias?: { aliasname?: string } };
    const name = rv.alias?.aliasname ?? rv.relname;
    if (name) strip = new Set([name]);
  }
  const out: Record<string, Json> = {};
  for (const key of Object.keys(sel).sort()) {
    if (key === 'location') continue;
    const value = sel[key];
    if (key === 'larg' || key === 'rarg') out[key] = select(value as Record<string, unknown>, outer);
    else if (key === 'fromClause' || key === 'withClause') out[key] = walk(value, null, 0);
    else out[key] = walk(value, strip, visible);
  }
  return out;
}

/**
 * The snapshot with everything the diff (diff/diff.ts) ignores taken out: SQL text normalized (normalize.ts),
 * columns by name with no position, no server version, view queries by their parse-tree hash. Two
 * snapshots of equal schemas are deep-equal after this, whichever PostgreSQL printed them.
 */
export function normalizeSnapshot(snapshot: Snapshot): Snapshot {
  const s: Snapshot = structuredClone(snapshot);
  s.serverVersion = 0;
  // How to create it, and what other services hang on it, are not part of the schema's equality.
  delete s.createOrder;
  delete s.dependents;
  const sql = (text: string | undefined) => (text === undefined ? undefined : normalizeSql(text));
  const setSql = <T extends object, K extends keyof T>(o: T, k: K) => {
    if (o[k] !== undefined) (o as Record<K, unknown>)[k] = normalizeSql(o[k] as string);
  };
  for (const t of s.types) {
    if (t.kind === 'domain') {
      setSql(t, 'default');
      for (const c of t.constraints) c.definition = normalizeSql(c.definition);
    }
  }
  for (const f of s.functions) f.definition = normalizeFunctionDef(f.definition);
  for (const t of s.tables) {
    t.columns.sort((a, b) => a.name.localeCompare(b.name));
    for (const c of t.columns) {
      c.position = 0;
      setSql(c, 'default');
      if (c.generated) c.generated.expression = sql(c.generated.expression) as string;
    }
    for (const c of t.constraints) c.definition = normalizeSql(c.definition);
    for (const i of t.indexes) i.definition = normalizeIndexDef(i.definition, i.name, t.schema, t.name);
    for (const tr of t.triggers) tr.definition = normalizeSql(tr.definition);
    for (const p of t.policies) {
      setSql(p, 'using');
      setSql(p, 'withCheck');
    }
  }
  for (const v of s.views) {
    v.definition = v.queryHash !== undefined ? '' : normalizeSql(v.definition);
    for (const i of v.indexes) i.definition = normalizeIndexDef(i.definition, i.name, v.schema, v.name);
  }
  return s;
}
