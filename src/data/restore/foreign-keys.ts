/** Foreign keys of big tables held during the load and checked in one pass after it. */
import type { Session } from '../../db/database.js';
import { TidemarkError } from '../../errors.js';
import { foreignKeys, orphanCount } from '../../schema/catalog.js';
import { displayName, literal, quoteIdent, type QualifiedName } from '../../sql/ident.js';
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
  /** The table, as a pair (its own rows are checked: a key does not see inheritance children). */
  child: QualifiedName;
  /** The referenced table's label. */
  references: string;
  /** The referenced table, and whether to read its own rows only (an ordinary table: not its inheritance children). */
  parent: QualifiedName;
  parentOnly: boolean;
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
export async function holdForeignKeys(db: Session, big: TablePlan[], restored: TablePlan[], notes: string[]): Promise<HeldForeignKey[]> {
  if (!big.length) return [];
  const byOid = new Map(big.map((p) => [p.oid, p]));
  const keys = await foreignKeys(
    db,
    big.map((p) => p.oid),
    restored.map((p) => p.oid),
  );
  const candidates: HeldForeignKey[] = [];
  for (const k of keys) {
    const ref = k.references;
    // Declared on an ordinary table (a partition's keys are its parent's), by a role that may alter it and reference the parent.
    if (!ref || k.inherited || k.tableKind !== 'r' || k.tableIsPartition || !k.ownedByRole || !ref.canReference) continue;
    const p = byOid.get(k.tableOid)!;
    const parent: QualifiedName = { schema: ref.schema, name: ref.name };
    candidates.push({
      table: p.label,
      qualified: p.qualified,
      child: { schema: p.m.schema, name: p.m.name },
      name: k.name,
      def: k.definition,
      comment: k.comment,
      columns: k.columns,
      references: displayName(parent),
      parent,
      // ownRows: a partitioned table is read whole, any other with ONLY.
      parentOnly: ref.kind !== 'p',
      referencedColumns: ref.columns,
      validated: k.validated,
      matchFull: ref.matchType === 'f',
    });
  }
  if (!candidates.length) return [];
  const previous = (await db.query<{ t: string }>(`SELECT current_setting('lock_timeout') AS t`)).rows[0].t;
  const held: HeldForeignKey[] = [];
  let busy: HeldForeignKey[] = [];
  await db.exec(`SET LOCAL lock_timeout = '${HOLD_LOCK_TIMEOUT}'`);
  for (const [i, k] of candidates.entries()) {
    try {
      // A savepoint each: a key whose tables are busy stays, and the restore goes on.
      await db.transaction((sp) => sp.exec(`ALTER TABLE ${k.qualified} DROP CONSTRAINT ${quoteIdent(k.name)}`));
      held.push(k);
    } catch (err) {
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
export async function restoreForeignKeys(db: Session, held: HeldForeignKey[]): Promise<void> {
  for (const k of held) {
    try {
      // In a savepoint: after a failure the transaction can still count the orphans.
      await db.transaction((sp) => sp.exec(`ALTER TABLE ${k.qualified} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`));
    } catch (err) {
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

/** Rows of the table the key rejects (MATCH SIMPLE passes a key with any NULL, MATCH FULL only an all-NULL one): schema/catalog.ts. */
function orphans(db: Session, k: HeldForeignKey): Promise<number> {
  return orphanCount(db, { child: k.child, columns: k.columns, parent: k.parent, referencedColumns: k.referencedColumns, childOnly: true, parentOnly: k.parentOnly, matchFull: k.matchFull });
}

function orphanError(k: HeldForeignKey, n: number): TidemarkError {
  return new TidemarkError(
    'restore-foreign-key',
    `Restored rows of ${k.table} break its foreign key ${displayName(k.name)} (${k.columns.map(displayName).join(', ')} → ${k.references}(${k.referencedColumns.map(displayName).join(', ')})): ${n || 'some'} row${n === 1 ? '' : 's'} reference no row there; rolled back, nothing restored.`,
    { kind: 'input', hint: `Restore ${k.references} from the same backup too, or fix those rows in the backup's source and back up again.` },
  );
}
