// schema.sql: each table described from the catalog, written as informational DDL.
import type { Queryable } from '../../db/database.js';
import { tableConstraints } from '../../schema/catalog.js';
import { literal, quoteIdent, quoteQualified } from '../../sql/ident.js';
import type { ManifestColumn, ManifestForeignKey } from '../manifest.js';

export interface TableInfo {
  columns: (ManifestColumn & { default?: string; expression?: string })[];
  primaryKey: string[];
  foreignKeys: ManifestForeignKey[];
  ddl: string;
  fkDdl: string[];
  enums: [string, string][];
}

export async function describeTable(db: Queryable, oid: number): Promise<TableInfo> {
  const cols = await db.query<{
    name: string;
    type: string;
    notnull: boolean;
    identity: string;
    generated: string;
    expr: string | null;
    typtype: string;
    elemtyptype: string | null;
    typoid: number;
    elemoid: number | null;
  }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            a.attidentity::text AS identity, a.attgenerated::text AS generated,
            pg_get_expr(d.adbin, d.adrelid) AS expr, ty.typtype::text AS typtype,
            el.typtype::text AS elemtyptype, ty.oid::int8::float8 AS typoid, el.oid::int8::float8 AS elemoid
       FROM pg_attribute a
       JOIN pg_type ty ON ty.oid = a.atttypid
       LEFT JOIN pg_type el ON el.oid = ty.typelem AND ty.typcategory = 'A'
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const cons = await tableConstraints(db, [oid]);
  const rel = (
    await db.query<{ schema: string; name: string }>(`SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::int8::oid`, [oid])
  ).rows[0];

  // Enum types the columns use (directly or as arrays), so schema.sql reads on its own.
  const enumOids = [...new Set(cols.rows.flatMap((c) => [c.typtype === 'e' ? c.typoid : null, c.elemtyptype === 'e' ? c.elemoid : null]).filter((x): x is number => x !== null))];
  const enums: [string, string][] = [];
  for (const typoid of enumOids) {
    const e = (
      await db.query<{ name: string; labels: string[] }>(
        `SELECT format_type(t.oid, NULL) AS name, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
           FROM pg_type t WHERE t.oid = $1::int8::oid`,
        [typoid],
      )
    ).rows[0];
    enums.push([e.name, `CREATE TYPE ${e.name} AS ENUM (${e.labels.map(literal).join(', ')});`]);
  }

  const columns: TableInfo['columns'] = cols.rows.map((c) => {
    const identity = c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : undefined;
    const generated = c.generated === 's' ? 'stored' : c.generated === 'v' ? 'virtual' : undefined;
    return {
      name: c.name,
      type: c.type,
      nullable: !c.notnull,
      ...(identity ? { identity } : {}),
      ...(generated ? { generated, expression: c.expr ?? undefined } : c.expr !== null ? { default: c.expr } : {}),
    } as TableInfo['columns'][number];
  });
  const pk = cons.find((c) => c.type === 'p');
  const foreignKeys: ManifestForeignKey[] = cons
    .filter((c) => c.type === 'f')
    .map((c) => ({ name: c.name, columns: c.columns, references: { schema: c.references?.schema ?? '', name: c.references?.name ?? '' }, referencedColumns: c.references?.columns ?? [] }));

  const qualified = quoteQualified(rel);
  const lines = columns.map((c) => {
    let line = `  ${quoteIdent(c.name)} ${c.type}`;
    if (c.generated) line += ` GENERATED ALWAYS AS (${c.expression}) ${c.generated === 'virtual' ? 'VIRTUAL' : 'STORED'}`;
    if (c.identity) line += ` GENERATED ${c.identity === 'always' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`;
    if (c.default !== undefined) line += ` DEFAULT ${c.default}`;
    if (!c.nullable) line += ' NOT NULL';
    return line;
  });
  for (const con of cons.filter((c) => c.type !== 'f')) lines.push(`  CONSTRAINT ${quoteIdent(con.name)} ${con.definition}`);
  // Foreign keys after every table, so the file's order does not matter.
  const fks = cons.filter((c) => c.type === 'f').map((c) => `ALTER TABLE ${qualified} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition};`);
  const ddl = `CREATE TABLE ${qualified} (\n${lines.join(',\n')}\n);`;
  return { columns, primaryKey: pk?.columns ?? [], foreignKeys, ddl, fkDdl: fks, enums };
}

export function renderSchemaSql(database: string, serverVersion: string, enums: string[], tables: string[], fks: string[]): string {
  return [
    `-- tidemark backup of database ${database} (PostgreSQL ${serverVersion})`,
    '-- INFORMATIONAL: the backed-up tables as the catalog described them (columns, types, defaults,',
    '-- NOT NULL, identity/generated, primary key, unique, check and foreign key constraints). Indexes,',
    '-- triggers, sequences, policies and grants are not included: restore loads into the schema your',
    '-- migrations build, not from this file.',
    '',
    ...(enums.length ? [...enums, ''] : []),
    ...tables.flatMap((t) => [t, '']),
    ...(fks.length ? [...fks, ''] : []),
  ].join('\n');
}
