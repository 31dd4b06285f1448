/** Planning: which tables, how each backup column maps onto the target, `fill`, and the load order. Reads only. */
import { formatColumnRef, parseColumnRef } from '../../config/column-ref.js';
import type { Queryable } from '../../db/database.js';
import { TidemarkError } from '../../errors.js';
import { shellWord } from '../../paths.js';
import { displayName, displayQualified, literal, quoteQualified } from '../../sql/ident.js';
import { ownRows } from '../digest.js';
import type { Manifest, ManifestTable } from '../manifest.js';
import { isArrayDelimiter, type CsvColumn } from '../ndjson-csv.js';
import type { FilledColumn, TablePlan, TargetColumn } from './types.js';

export function pickTables(manifest: Manifest, services: string[] | undefined): ManifestTable[] {
  if (!services?.length) return manifest.tables;
  const known = new Set(manifest.tables.map((t) => t.service).filter((s): s is string => !!s));
  for (const s of services) {
    if (!known.has(s)) {
      throw new TidemarkError('unknown-service', `The backup holds no table of service ${s}.`, {
        kind: 'usage',
        hint: `Services in this backup: ${[...known].sort().join(', ') || 'none'}.`,
      });
    }
  }
  return manifest.tables.filter((t) => t.service && services.includes(t.service));
}

export async function planTable(db: Queryable, m: ManifestTable): Promise<TablePlan> {
  const qualified = quoteQualified(m);
  const label = displayQualified(m);
  // Looked up as the pair it is (never a text to parse); what kind of relation it is decides.
  const rel = (
    await db.query<{ oid: number; kind: string; persistence: string }>(
      `SELECT c.oid::int8::float8 AS oid, c.relkind::text AS kind, c.relpersistence::text AS persistence
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [m.schema, m.name],
    )
  ).rows[0];
  if (!rel) {
    throw new TidemarkError('restore-no-table', `Table ${label} is in the backup but not in the database: nothing restored.`, {
      kind: 'input',
      hint: 'Restore loads into the current schema: run the migrations first (tidemark up), or restore other services with --service.',
    });
  }
  if ((rel.kind !== 'r' && rel.kind !== 'p') || rel.persistence === 't') {
    const what = rel.persistence === 't' ? 'a temporary table' : (RELKINDS[rel.kind] ?? `a relation of kind ${rel.kind}`);
    throw new TidemarkError('restore-not-a-table', `${label} is ${what} here, not a table: restore writes only into ordinary and partitioned tables, nothing restored.`, {
      kind: 'input',
    });
  }
  const target = (
    await db.query<TargetColumn>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
              a.attidentity::text AS identity, a.attgenerated::text AS generated, a.atthasdef AS "hasDefault"
         FROM pg_attribute a
        WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [rel.oid],
    )
  ).rows;
  const byName = new Map(target.map((c) => [c.name, c]));
  const backupCols = m.columns.map((c) => c.name);
  const backupSet = new Set(backupCols);
  const mapped = backupCols.filter((c) => byName.has(c) && !byName.get(c)!.generated);
  const skipped = backupCols.filter((c) => !byName.has(c));
  const filled: FilledColumn[] = [];
  for (const c of target) {
    if (backupSet.has(c.name)) continue;
    if (c.generated) filled.push({ column: c.name, from: 'generated' });
    else if (c.identity) filled.push({ column: c.name, from: 'identity' });
    else if (c.hasDefault) filled.push({ column: c.name, from: 'default' });
    else if (!c.notnull) filled.push({ column: c.name, from: 'null' });
    // NOT NULL, no default: needs a fill value (checked after applyFill)
  }
  // Compared: common columns, in the backup's (digest) order, except ones that became generated here.
  const generatedInBackup = new Set(m.columns.filter((c) => c.generated).map((c) => c.name));
  const compared = m.digestColumns.filter((c) => byName.has(c) && (!byName.get(c)!.generated || generatedInBackup.has(c)));

  const stagingTypes = new Map<string, string>();
  for (const c of m.columns) {
    const ok = (await db.query<{ t: string | null }>(`SELECT to_regtype($1)::text AS t`, [c.type])).rows[0].t;
    stagingTypes.set(c.name, ok ? c.type : 'text');
  }
  const csvColumns = m.format === 'ndjson' ? await classifyColumns(db, m) : undefined;
  return {
    m,
    label,
    qualified,
    rowsFrom: ownRows(m, rel.kind),
    oid: rel.oid,
    ...(csvColumns ? { csvColumns } : {}),
    target,
    mapped,
    skipped,
    filled,
    fillExprs: [],
    compared,
    stagingTypes,
    result: { table: label, schema: m.schema, name: m.name, rows: 0, skippedColumns: skipped, filledColumns: filled, comparedColumns: compared, digestMatched: false, sequences: [] },
  };
}

const RELKINDS: Record<string, string> = {
  v: 'a view',
  m: 'a materialized view',
  f: 'a foreign table',
  S: 'a sequence',
  i: 'an index',
  I: 'a partitioned index',
  c: 'a composite type',
  t: 'a TOAST table',
};

const JSON_OID = 114;
const JSONB_OID = 3802;
const FIRST_NORMAL_OID = 16384;

/**
 * How row_to_json wrote each backup column (by its type, resolved HERE: domains to their base type),
 * so ndjson-csv can turn it into COPY csv input: json/jsonb → raw JSON text; arrays (array_in input)
 * of plain elements → array literals; enums, ranges and other base types → scalar text. Undefined —
 * the table then goes through the json staging path — when any column's type is missing here, is
 * composite, is an array of json/jsonb, composites or domains, or of elements whose array delimiter
 * the CSV literal cannot use (json_populate_record reads such an array from its JSON array instead),
 * or (a non-built-in type) has its own cast to json (row_to_json would have written an object or array).
 */
async function classifyColumns(db: Queryable, m: ManifestTable): Promise<CsvColumn[] | undefined> {
  const out: CsvColumn[] = [];
  for (const c of m.columns) {
    const r = (
      await db.query<{ oid: number; typtype: string; typcategory: string; input: string; eoid: number | null; etyptype: string | null; edelim: string | null; bcast: boolean; ecast: boolean }>(
        `WITH RECURSIVE d(oid, depth) AS (
           SELECT to_regtype($1)::oid, 0
           UNION ALL
           SELECT t.typbasetype, d.depth + 1 FROM d JOIN pg_type t ON t.oid = d.oid WHERE t.typtype = 'd' AND d.depth < 50
         )
         SELECT b.oid::int8::float8 AS oid, b.typtype::text AS typtype, b.typcategory::text AS typcategory, b.typinput::text AS input,
                e.oid::int8::float8 AS eoid, e.typtype::text AS etyptype, e.typdelim::text AS edelim,
                EXISTS (SELECT 1 FROM pg_cast k WHERE k.castsource = b.oid AND k.casttarget = 'json'::regtype) AS bcast,
                EXISTS (SELECT 1 FROM pg_cast k WHERE k.castsource = e.oid AND k.casttarget = 'json'::regtype) AS ecast
           FROM (SELECT oid FROM d ORDER BY depth DESC LIMIT 1) x
           JOIN pg_type b ON b.oid = x.oid
           LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typinput = 'array_in'::regproc`,
        [c.type],
      )
    ).rows[0];
    if (!r) return undefined; // the type does not exist here
    const oid = Number(r.oid);
    const plain = (typtype: string | null, typeOid: number, cast: boolean) =>
      (typtype === 'b' || typtype === 'e' || typtype === 'r' || typtype === 'm') && typeOid !== JSON_OID && typeOid !== JSONB_OID && !(typeOid >= FIRST_NORMAL_OID && cast);
    if (oid === JSON_OID || oid === JSONB_OID) out.push({ name: c.name, kind: 'json' });
    else if (r.input === 'array_in' && r.eoid !== null) {
      if (!plain(r.etyptype, Number(r.eoid), r.ecast) || !r.edelim || !isArrayDelimiter(r.edelim)) return undefined;
      out.push({ name: c.name, kind: 'array', delimiter: r.edelim });
    } else if (r.typcategory !== 'A' && plain(r.typtype, oid, r.bcast)) out.push({ name: c.name, kind: 'scalar' });
    else return undefined;
  }
  return out;
}

/**
 * `table.col` or `schema.table.col` in the owns grammar (src/config/column-ref.ts: `"a.b".c.col` and
 * `a."b.c".col` are two tables) → the plan and column it names, if any. Without a schema, the one
 * restored table of that name, whatever its schema (two of them: none is chosen).
 */
function resolveFillKey(key: string, plans: TablePlan[]): { plan: TablePlan; column: string } | undefined {
  const parsed = parseColumnRef(key);
  if (!parsed.ok) return undefined;
  const { table, column, qualified } = parsed.ref;
  const hits = plans.filter((p) => p.m.name === table.name && (!qualified || p.m.schema === table.schema));
  return hits.length === 1 ? { plan: hits[0], column } : undefined;
}

export function refuseUnusedFill(fill: Record<string, string> | undefined, plans: TablePlan[]): void {
  for (const key of Object.keys(fill ?? {})) {
    const parsed = parseColumnRef(key);
    if (!parsed.ok) {
      throw new TidemarkError('bad-fill', `--fill ${key}: the column ${parsed.error.message}.`, { kind: 'usage', hint: parsed.error.hint ?? 'Write --fill table.column=value.' });
    }
    const hit = resolveFillKey(key, plans);
    const col = hit?.plan.target.find((c) => c.name === hit.column);
    if (!hit || !col) {
      throw new TidemarkError('bad-fill', `--fill ${key}: no such column among the tables restored.`, { kind: 'usage', hint: 'Write --fill table.column=value.' });
    }
    if (hit.plan.m.columns.some((c) => c.name === hit.column)) {
      throw new TidemarkError('bad-fill', `--fill ${key}: the backup has values for ${hit.plan.label}.${displayName(hit.column)}; --fill is only for columns it lacks.`, { kind: 'usage' });
    }
    if (col.generated) throw new TidemarkError('bad-fill', `--fill ${key}: ${hit.plan.label}.${displayName(hit.column)} is a generated column.`, { kind: 'usage' });
  }
}

export function applyFill(fill: Record<string, string> | undefined, plans: TablePlan[]): void {
  for (const [key, value] of Object.entries(fill ?? {})) {
    const { plan, column } = resolveFillKey(key, plans)!;
    const col = plan.target.find((c) => c.name === column)!;
    plan.fillExprs.push({ column, expr: `CAST(${literal(value)} AS ${col.type})` });
    const i = plan.filled.findIndex((f) => f.column === column);
    if (i >= 0) plan.filled.splice(i, 1);
    plan.filled.push({ column, from: 'fill', value });
  }
}

export function refuseMissing(plans: TablePlan[]): void {
  const missing: { label: string; fill: string }[] = [];
  for (const p of plans) {
    const backupSet = new Set(p.m.columns.map((c) => c.name));
    for (const c of p.target) {
      if (!backupSet.has(c.name) && !p.filled.some((f) => f.column === c.name)) {
        missing.push({ label: `${p.label}.${displayName(c.name)}`, fill: formatColumnRef({ table: { schema: p.m.schema, name: p.m.name }, column: c.name }) });
      }
    }
  }
  if (missing.length) {
    throw new TidemarkError('restore-missing-column', `The backup has no values for ${missing.map((m) => m.label).join(', ')} (NOT NULL, no default): nothing restored.`, {
      kind: 'input',
      hint: `Give values with ${missing.map((m) => `--fill ${shellWord(`${m.fill}=value`)}`).join(' ')}, or add a DEFAULT in a migration.`,
    });
  }
}

/** Parents first (the target's foreign keys among the restored tables); a cycle in manifest order. */
export async function loadOrder(db: Queryable, plans: TablePlan[]): Promise<{ ordered: TablePlan[]; cycle: string[] }> {
  const byOid = new Map(plans.map((p) => [p.oid, p]));
  const fks = (
    await db.query<{ child: number; parent: number }>(
      `SELECT conrelid::int8::float8 AS child, confrelid::int8::float8 AS parent FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY($1::int8[]::oid[]) AND confrelid = ANY($1::int8[]::oid[])`,
      [plans.map((p) => p.oid)],
    )
  ).rows.filter((r) => r.child !== r.parent);
  const parents = new Map<number, Set<number>>(plans.map((p) => [p.oid, new Set()]));
  for (const fk of fks) if (byOid.has(fk.child) && byOid.has(fk.parent)) parents.get(fk.child)!.add(fk.parent);
  const done = new Set<number>();
  const ordered: TablePlan[] = [];
  let progress = true;
  while (progress) {
    progress = false;
    for (const p of plans) {
      if (done.has(p.oid)) continue;
      if ([...parents.get(p.oid)!].every((o) => done.has(o))) {
        done.add(p.oid);
        ordered.push(p);
        progress = true;
      }
    }
  }
  const rest = plans.filter((p) => !done.has(p.oid));
  return { ordered: [...ordered, ...rest], cycle: rest.map((p) => p.label) };
}
