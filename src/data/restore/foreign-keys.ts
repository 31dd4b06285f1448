/** Foreign keys of big tables held during the load and checked in one pass after it. */
import type { Queryable } from '../../db/database.js';
import { TidemarkError } from '../../errors.js';
import { displayName, literal, quoteIdent, type QualifiedName } from '../../sql/ident.js';
import { ownRows } from '../digest.js';
import type { TablePlan } from './types.js';

/**
 * From this many backup rows a table's foreign keys are dropped before its load and added back after
 * every table is loaded, in the same transaction: PostgreSQL then checks each in one join instead of
 * one lookup (and one row lock on the parent) per row — the bulk-load advice of its manual
 * ("Populating a Database"). Only keys between tables this restore loads (a table and itself
 * included): dropping a key locks BOTH its tables ACCESS EXCLUSIVE until COMMIT, which must never
 * reach a table the restore does not load (another service's, in a shared database). Small tables
 * keep their keys: the per-row cost is small.
 */
export const BULK_FOREIGN_KEY_ROWS = 10_000;

/** How long a key's drop may wait for readers of its two tables before the key stays row by row. */
const HOLD_LOCK_TIMEOUT = '5s';

interface HeldForeignKey {
  /** The table's label (displayQualified) and quoted. */
  table: string;
  qualified: string;
  name: string;
  /** pg_get_constraintdef: columns, reference, actions, MATCH, DEFERRABLE, NOT VALID — all of it. */
  def: string;
  comment: string | null;
  columns: string[];
  /** The referenced table's label. */
  references: string;
  /** The referenced table's own rows (a key sees neither inheritance children nor, for a child, its parent). */
  referencedRows: string;
  referencedColumns: string[];
  /** From the catalog, not the definition's text (a column may be called "NOT VALID"). */
  validated: boolean;
  matchFull: boolean;
}

/**
 * Drops the foreign keys declared ON the big tables (ordinary tables, not partitions or partitioned
 * ones, whose keys are inherited) that point at a table this restore loads, and returns them to be
 * added back. Kept row by row instead: keys to other tables, keys whose table the user does not own
 * or whose parent it may not reference (ALTER TABLE and ADD FOREIGN KEY need those), and keys whose
 * tables are in use for longer than HOLD_LOCK_TIMEOUT. Keys pointing at these tables from tables the
 * restore does not load are not touched.
 */
export async function holdForeignKeys(db: Queryable, big: TablePlan[], restored: TablePlan[], notes: string[]): Promise<HeldForeignKey[]> {
  if (!big.length) return [];
  const byOid = new Map(big.map((p) => [p.oid, p]));
  const r = await db.query<{
    rel: number;
    name: string;
    def: string;
    comment: string | null;
    cols: string[];
    ref_schema: string;
    ref_name: string;
    refcols: string[];
    validated: boolean;
    matchtype: string;
    refkind: string;
  }>(
    `SELECT con.conrelid::int8::float8 AS rel, con.conname AS name, pg_get_constraintdef(con.oid) AS def,
            obj_description(con.oid, 'pg_constraint') AS comment,
            ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS cols,
            rn.nspname AS ref_schema, rc.relname AS ref_name,
            ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS refcols,
            con.convalidated AS validated, con.confmatchtype::text AS matchtype,
            (SELECT relkind::text FROM pg_class WHERE oid = con.confrelid) AS refkind
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
       JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
      WHERE con.contype = 'f' AND con.conrelid = ANY($1::int8[]::oid[]) AND con.confrelid = ANY($2::int8[]::oid[])
        AND con.conparentid = 0 AND c.relkind = 'r' AND NOT c.relispartition
        AND pg_has_role(c.relowner, 'USAGE') AND has_table_privilege(con.confrelid, 'REFERENCES')
      ORDER BY con.conrelid, con.conname`,
    [big.map((p) => p.oid), restored.map((p) => p.oid)],
  );
  const candidates: HeldForeignKey[] = r.rows.map((k) => {
    const p = byOid.get(Number(k.rel))!;
    const ref: QualifiedName = { schema: k.ref_schema, name: k.ref_name };
    return {
      table: p.label,
      qualified: p.qualified,
      name: k.name,
      def: k.def,
      comment: k.comment,
      columns: k.cols,
      references: displayName(ref),
      referencedRows: ownRows(ref, k.refkind),
      referencedColumns: k.refcols,
      validated: k.validated,
      matchFull: k.matchtype === 'f',
    };
  });
  if (!candidates.length) return [];
  const previous = (await db.query<{ t: string }>(`SELECT current_setting('lock_timeout') AS t`)).rows[0].t;
  const held: HeldForeignKey[] = [];
  let busy: HeldForeignKey[] = [];
  await db.exec(`SET LOCAL lock_timeout = '${HOLD_LOCK_TIMEOUT}'`);
  for (const [i, k] of candidates.entries()) {
    await db.exec('SAVEPOINT tidemark_hold_key');
    try {
      await db.exec(`ALTER TABLE ${k.qualified} DROP CONSTRAINT ${quoteIdent(k.name)}`);
      await db.exec('RELEASE SAVEPOINT tidemark_hold_key');
      held.push(k);
    } catch (err) {
      await db.exec('ROLLBACK TO SAVEPOINT tidemark_hold_key');
      if ((err as { code?: string }).code !== '55P03') throw err;
      // Readers of these tables: wait no longer, the rest stay row by row too.
      busy = candidates.slice(i);
      break;
    }
  }
  await db.query(`SELECT set_config('lock_timeout', $1, true)`, [previous]);
  if (busy.length) {
    notes.push(`Checked ${busy.map((k) => `${displayName(k.name)} of ${k.table}`).join(', ')} row by row: other sessions were using the tables (no lock within ${HOLD_LOCK_TIMEOUT}).`);
  }
  return held;
}

/**
 * Adds the held keys back exactly as they were (definition and comment). A key the restored rows
 * break is reported with its table, columns and how many rows reference nothing; the caller rolls back.
 */
export async function restoreForeignKeys(db: Queryable, held: HeldForeignKey[]): Promise<void> {
  for (const k of held) {
    await db.exec('SAVEPOINT tidemark_foreign_key');
    try {
      await db.exec(`ALTER TABLE ${k.qualified} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`);
      await db.exec('RELEASE SAVEPOINT tidemark_foreign_key');
    } catch (err) {
      await db.exec('ROLLBACK TO SAVEPOINT tidemark_foreign_key');
      if ((err as { code?: string }).code !== '23503') throw err;
      throw orphanError(k, await orphans(db, k));
    }
    // NOT VALID spares the rows that were there, never new ones: row by row every restored row would
    // have been checked, so they are checked here too.
    if (!k.validated) {
      const n = await orphans(db, k);
      if (n > 0) throw orphanError(k, n);
    }
    if (k.comment !== null) await db.exec(`COMMENT ON CONSTRAINT ${quoteIdent(k.name)} ON ${k.qualified} IS ${literal(k.comment)}`);
  }
}

/** Rows of the table the key rejects: MATCH SIMPLE passes a key with any NULL, MATCH FULL only an all-NULL one. */
async function orphans(db: Queryable, k: HeldForeignKey): Promise<number> {
  const cols = k.columns.map((c) => `c.${quoteIdent(c)}`);
  const parent = `EXISTS (SELECT 1 FROM ${k.referencedRows} AS p WHERE ${k.referencedColumns.map((rc, i) => `p.${quoteIdent(rc)} = ${cols[i]}`).join(' AND ')})`;
  const allSet = cols.map((c) => `${c} IS NOT NULL`).join(' AND ');
  const where = k.matchFull
    ? `NOT (${cols.map((c) => `${c} IS NULL`).join(' AND ')}) AND NOT (${allSet} AND ${parent})`
    : `${allSet} AND NOT ${parent}`;
  return Number((await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ONLY ${k.qualified} AS c WHERE ${where}`)).rows[0].n);
}

function orphanError(k: HeldForeignKey, n: number): TidemarkError {
  return new TidemarkError(
    'restore-foreign-key',
    `Restored rows of ${k.table} break its foreign key ${displayName(k.name)} (${k.columns.map(displayName).join(', ')} → ${k.references}(${k.referencedColumns.map(displayName).join(', ')})): ${n || 'some'} row${n === 1 ? '' : 's'} reference no row there; rolled back, nothing restored.`,
    { kind: 'input', hint: `Restore ${k.references} from the same backup too, or fix those rows in the backup's source and back up again.` },
  );
}
