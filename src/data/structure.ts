/**
 * The structure of tables as the catalog describes it (columns, constraints, indexes), read the same
 * way from the live database and from a shadow database where the migrations were replayed, and
 * compared in plain words (`tidemark validate`, check (a)).
 *
 * The live server may be PostgreSQL 15 while the shadow is PGlite (PostgreSQL 18), so the text the
 * catalog returns is normalized on BOTH sides before comparing, conservatively:
 * - whitespace runs collapse to one space, and none is kept just inside parentheses;
 * - `::text` casts are removed from defaults, generated expressions, constraint and index definitions
 *   (15 and 18 do not always agree on where they print them);
 * - the schema qualification `public.` / `"public".` is removed, and an index definition's own name
 *   and table are replaced by a placeholder (the name is the key the definitions are compared under);
 * - NOT NULL constraints, which 18 lists in pg_constraint (contype 'n') and 15 does not, are left out:
 *   nullability is compared through the columns' attnotnull instead;
 * - column order is ignored (a column added by ALTER TABLE lands last in both).
 * The normalization itself lives in src/schema/normalize.ts (shared with the schema snapshots).
 * Anything else (types via format_type, nullability, identity, generated, constraint kinds and
 * definitions, index definitions) must match exactly.
 */
import type { Queryable } from '../db/database.js';
import { displayName, displayQualified, nameKey, type QualifiedName } from '../sql/ident.js';
import { normalizeIndexDef, normalizeSql } from '../schema/normalize.js';

export { normalizeSql };

export interface ColumnStructure {
  name: string;
  /** format_type(), e.g. `character varying(320)`. */
  type: string;
  notNull: boolean;
  /** Normalized default expression, if any. */
  default?: string;
  /** `always` | `by default` for identity columns. */
  identity?: string;
  /** Normalized generation expression of a generated column. */
  generated?: string;
}

export interface ConstraintStructure {
  name: string;
  /** p, u, c, f, x. */
  type: string;
  /** Normalized pg_get_constraintdef(). */
  definition: string;
}

export interface IndexStructure {
  name: string;
  /** Normalized pg_get_indexdef(), with its own name and table replaced by `<index>` / `<table>`. */
  definition: string;
}

export interface TableStructure {
  /** The table's label (displayQualified: `public.users`, `"a.b".c`). */
  table: string;
  columns: ColumnStructure[];
  constraints: ConstraintStructure[];
  indexes: IndexStructure[];
}

export interface StructureDifference {
  /** The table's label (TableStructure.table). */
  table: string;
  message: string;
}

/**
 * Reads the structure of the given tables, keyed by nameKey (the pair). Tables that do not exist are
 * absent from the map.
 */
export async function readTableStructure(db: Queryable, tables: readonly QualifiedName[]): Promise<Map<string, TableStructure>> {
  const out = new Map<string, TableStructure>();
  for (const q of tables) {
    const { schema, name: table } = q;
    const rel = await db.query<{ oid: number }>(
      `SELECT c.oid::int8::float8 AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [schema, table],
    );
    if (rel.rows.length === 0) continue;
    const oid = Number(rel.rows[0].oid);
    const cols = await db.query<{ name: string; type: string; notnull: boolean; identity: string; generated: string; expr: string | null }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
              a.attidentity::text AS identity, a.attgenerated::text AS generated,
              pg_get_expr(d.adbin, d.adrelid) AS expr
         FROM pg_attribute a
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attname`,
      [oid],
    );
    const cons = await db.query<{ name: string; type: string; def: string }>(
      `SELECT con.conname AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS def
         FROM pg_constraint con
        WHERE con.conrelid = $1::int8::oid AND con.contype IN ('p', 'u', 'c', 'f', 'x')
        ORDER BY con.conname`,
      [oid],
    );
    const idx = await db.query<{ name: string; def: string }>(
      `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1::int8::oid
        ORDER BY ic.relname`,
      [oid],
    );
    out.set(nameKey(q), {
      table: displayQualified(q),
      columns: cols.rows.map((c) => {
        const column: ColumnStructure = { name: c.name, type: c.type, notNull: Boolean(c.notnull) };
        if (c.identity === 'a') column.identity = 'always';
        else if (c.identity === 'd') column.identity = 'by default';
        if (c.generated && c.generated !== '' && c.expr !== null) column.generated = normalizeSql(c.expr);
        else if (c.expr !== null) column.default = normalizeSql(c.expr);
        return column;
      }),
      constraints: cons.rows.map((c) => ({ name: c.name, type: c.type, definition: normalizeSql(c.def) })),
      indexes: idx.rows.map((i) => ({ name: i.name, definition: normalizeIndexDef(i.def, i.name, schema, table) })),
    });
  }
  return out;
}

/** The label without `public.` (labels quote each part where needed, so `public.` is the schema). */
function short(table: string): string {
  return table.startsWith('public.') ? table.slice('public.'.length) : table;
}

const CONSTRAINT_KIND: Record<string, string> = { p: 'primary key', u: 'unique constraint', c: 'check constraint', f: 'foreign key', x: 'exclusion constraint' };

/**
 * Differences between the live structure and the one the migrations give, in plain words, one per
 * difference, tables in the order of `expected` then live-only tables.
 */
export function compareStructures(live: ReadonlyMap<string, TableStructure>, expected: ReadonlyMap<string, TableStructure>): StructureDifference[] {
  const diffs: StructureDifference[] = [];
  for (const [name, exp] of expected) {
    const t = short(exp.table);
    const add = (message: string) => diffs.push({ table: exp.table, message });
    const got = live.get(name);
    if (!got) {
      add(`table ${t} missing live (the migrations create it)`);
      continue;
    }
    const liveCols = new Map(got.columns.map((c) => [c.name, c]));
    const expCols = new Map(exp.columns.map((c) => [c.name, c]));
    for (const e of exp.columns) {
      const l = liveCols.get(e.name);
      const col = `${t}.${displayName(e.name)}`;
      if (!l) {
        add(`column ${col} missing live (the migrations give ${e.type})`);
        continue;
      }
      if (l.type !== e.type) add(`${col}: live type ${l.type}, migrations give ${e.type}`);
      if (l.notNull !== e.notNull) add(`${col}: live ${l.notNull ? 'NOT NULL' : 'nullable'}, migrations give ${e.notNull ? 'NOT NULL' : 'nullable'}`);
      if (l.identity !== e.identity) add(`${col}: live ${l.identity ? `identity ${l.identity}` : 'no identity'}, migrations give ${e.identity ? `identity ${e.identity}` : 'no identity'}`);
      if (l.generated !== e.generated) {
        add(`${col}: live ${l.generated ? `generated as (${l.generated})` : 'not generated'}, migrations give ${e.generated ? `generated as (${e.generated})` : 'not generated'}`);
      }
      if (l.default !== e.default) add(`${col}: live default ${l.default ?? '(none)'}, migrations give ${e.default ?? '(none)'}`);
    }
    for (const l of got.columns) if (!expCols.has(l.name)) add(`column ${t}.${displayName(l.name)} (${l.type}) exists live but not in the migrations`);

    const liveCons = new Map(got.constraints.map((c) => [c.name, c]));
    const expCons = new Map(exp.constraints.map((c) => [c.name, c]));
    for (const e of exp.constraints) {
      const l = liveCons.get(e.name);
      if (!l) add(`${CONSTRAINT_KIND[e.type] ?? 'constraint'} ${displayName(e.name)} on ${t} missing live (${e.definition})`);
      else if (l.definition !== e.definition) add(`constraint ${displayName(e.name)} on ${t}: live ${l.definition}, migrations give ${e.definition}`);
    }
    for (const l of got.constraints) {
      if (!expCons.has(l.name)) add(`${CONSTRAINT_KIND[l.type] ?? 'constraint'} ${displayName(l.name)} on ${t} exists live but not in the migrations (${l.definition})`);
    }

    const liveIdx = new Map(got.indexes.map((i) => [i.name, i]));
    const expIdx = new Map(exp.indexes.map((i) => [i.name, i]));
    for (const e of exp.indexes) {
      const l = liveIdx.get(e.name);
      if (!l) add(`index ${displayName(e.name)} on ${t} missing live (${e.definition.replace('<index> ', '').replace('<table>', t)})`);
      else if (l.definition !== e.definition) {
        add(`index ${displayName(e.name)} on ${t}: live ${l.definition.replace('<index> ', '').replace('<table>', t)}, migrations give ${e.definition.replace('<index> ', '').replace('<table>', t)}`);
      }
    }
    for (const l of got.indexes) {
      if (!expIdx.has(l.name)) add(`index ${displayName(l.name)} on ${t} exists live but not in the migrations (${l.definition.replace('<index> ', '').replace('<table>', t)})`);
    }
  }
  for (const [name, got] of live) {
    if (!expected.has(name)) diffs.push({ table: got.table, message: `table ${short(got.table)} exists live but the migrations do not create it` });
  }
  return diffs;
}
