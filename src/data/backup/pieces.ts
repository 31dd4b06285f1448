// Reading a table in pieces: ctid ranges, one after another (PGlite) or two halves at once (server).
import type { Queryable, Session } from '../../db/database.js';
import type { LiveTable } from '../../schema/catalog.js';
import type { DataFormat } from '../manifest.js';
import { copySql } from './copy.js';

/** How a table is read: as one COPY, in page ranges one after another, or in two halves at once. */
interface ReadPlan {
  /** Upper page bounds of the pieces, in order; the last piece is open-ended (`ctid >= last bound`). */
  bounds: number[];
  parallel: boolean;
}

const PGLITE_PIECE_PAGES = 1024; // 8 MiB of heap: PGlite hands each COPY back as one blob in memory
const SPLIT_MIN_PAGES = 8192; // 64 MiB: below that a second COPY costs more than it saves

/**
 * Pieces are ctid ranges (a TID range scan reads just those pages, PostgreSQL 14+): complementary
 * predicates, so every row is in exactly one piece whatever the bounds, and rows added to new pages
 * after the snapshot are invisible to it anyway. Partitioned tables are read whole (their pages are
 * their partitions').
 */
export async function readPlan(db: Session, t: LiveTable, piecePages: number | undefined): Promise<ReadPlan> {
  const r = await db.query<{ pages: number; kind: string }>(
    `SELECT (pg_relation_size(c.oid) / current_setting('block_size')::int)::float8 AS pages, c.relkind::text AS kind FROM pg_class c WHERE c.oid = $1::int8::oid`,
    [t.oid],
  );
  const pages = Number(r.rows[0]?.pages ?? 0);
  if (r.rows[0]?.kind !== 'r') return { bounds: [], parallel: false };
  if (db.backend === 'pglite') {
    const step = piecePages ?? PGLITE_PIECE_PAGES;
    const bounds: number[] = [];
    for (let b = step; b < pages; b += step) bounds.push(b);
    return { bounds, parallel: false };
  }
  const min = piecePages ?? SPLIT_MIN_PAGES;
  return pages >= min && pages >= 2 ? { bounds: [Math.floor(pages / 2)], parallel: true } : { bounds: [], parallel: false };
}

/** The COPY statements of a plan, in file order; `parallel` false when no second connection was had. */
export function readPieces(plan: ReadPlan, format: DataFormat, t: LiveTable, columns: string[], helper: boolean): { sql: string[]; parallel: boolean } {
  // Two halves need the second connection; without it, one COPY (the server streams it anyway).
  if (!plan.bounds.length || (plan.parallel && !helper)) return { sql: [copySql(format, t, columns)], parallel: false };
  const sql: string[] = [];
  let from = 0;
  for (const to of [...plan.bounds, undefined]) {
    const where = [from > 0 ? `t.ctid >= '(${from},0)'::tid` : '', to !== undefined ? `t.ctid < '(${to},0)'::tid` : ''].filter(Boolean).join(' AND ');
    sql.push(copySql(format, t, columns, where, from === 0));
    if (to !== undefined) from = to;
  }
  return { sql, parallel: plan.parallel };
}

/** The planner's row estimate (0 when never analyzed): only for the progress bar's total. */
export async function estimatedRows(db: Queryable, oid: number): Promise<number> {
  const r = await db.query<{ n: number }>(`SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = $1::int8::oid`, [oid]);
  return Math.round(Number(r.rows[0]?.n ?? 0));
}
