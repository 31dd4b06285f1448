/** Loading: COPY (in pieces on PGlite), staging tables, INSERT … SELECT, sequences past the restored maximum. */
import type { Queryable, Session } from '../../db/database.js';
import { literal, quoteIdent } from '../../sql/ident.js';
import { copyPieces } from '../copy-pieces.js';
import type { RestoreTableResult, TablePlan } from './types.js';

const NDJSON_COPY_OPTIONS = `(FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;

/** PGlite's COPY holds its whole input in memory as one Blob: pieces this big keep a restore's memory flat. */
export const PGLITE_COPY_PIECE_BYTES = 8 * 1024 * 1024;

/**
 * One COPY … FROM STDIN of `input` (csv with its header, or ndjson lines), returning the rows copied.
 * On a server it is one stream. On PGlite, whose COPY takes its whole input as one Blob, the same
 * statement runs once per piece cut at record ends (copy-pieces.ts), in the caller's transaction.
 */
export async function copyIn(db: Session, sql: string, input: AsyncIterable<Uint8Array>, format: 'ndjson' | 'csv', pieceBytes: number): Promise<number> {
  if (db.backend !== 'pglite') return db.copyIn(sql, input);
  let rows = 0;
  for await (const piece of copyPieces(input, { format, maxBytes: pieceBytes })) rows += await db.copyIn(sql, piece);
  return rows;
}

export async function stage(db: Session, p: TablePlan, staging: string, input: AsyncIterable<Uint8Array>, format: 'ndjson' | 'csv', pieceBytes: number): Promise<void> {
  if (format === 'ndjson') {
    await db.exec(`CREATE TEMP TABLE ${staging} (j json) ON COMMIT DROP`);
    await copyIn(db, `COPY ${staging} (j) FROM STDIN WITH ${NDJSON_COPY_OPTIONS}`, input, 'ndjson', pieceBytes);
  } else {
    const cols = p.m.columns.map((c) => `${quoteIdent(c.name)} ${p.stagingTypes.get(c.name)}`).join(', ');
    await db.exec(`CREATE TEMP TABLE ${staging} (${cols}) ON COMMIT DROP`);
    const list = p.m.columns.map((c) => quoteIdent(c.name)).join(', ');
    // HEADER MATCH: the file's header must name exactly the manifest's columns, in order (none: an empty line).
    await copyIn(db, `COPY ${staging}${list ? ` (${list})` : ''} FROM STDIN WITH (FORMAT csv, HEADER MATCH)`, input, 'csv', pieceBytes);
  }
}

/** The staging rows typed as the backup typed them, as a FROM item (for digests). */
export function stagingSource(p: TablePlan, staging: string, format: 'ndjson' | 'csv'): string {
  if (format === 'csv') return staging;
  const defs = p.m.columns.map((c) => `${quoteIdent(c.name)} ${p.stagingTypes.get(c.name)}`).join(', ');
  return `(SELECT x.* FROM ${staging} AS s, pg_catalog.json_to_record(s.j) AS x(${defs}))`;
}

export function insertSql(p: TablePlan, staging: string, format: 'ndjson' | 'csv'): string {
  const byName = new Map(p.target.map((c) => [c.name, c]));
  const cols = [...p.mapped.map(quoteIdent), ...p.fillExprs.map((f) => quoteIdent(f.column))];
  const exprs = [
    ...p.mapped.map((c) => {
      if (format === 'ndjson') return `r.${quoteIdent(c)}`;
      const t = byName.get(c)!.type;
      return p.stagingTypes.get(c) === t ? `r.${quoteIdent(c)}` : `CAST(r.${quoteIdent(c)} AS ${t})`;
    }),
    ...p.fillExprs.map((f) => f.expr),
  ];
  const overriding = p.mapped.some((c) => byName.get(c)!.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
  const from = format === 'ndjson' ? `${staging} AS s, pg_catalog.json_populate_record(NULL::${p.qualified}, s.j) AS r` : `${staging} AS r`;
  // A backup without columns (and nothing to fill): one row of defaults per staged row.
  if (!cols.length) return `INSERT INTO ${p.qualified} SELECT FROM ${from}`;
  return `INSERT INTO ${p.qualified} (${cols.join(', ')})${overriding} SELECT ${exprs.join(', ')} FROM ${from}`;
}

export async function bumpSequences(db: Queryable, p: TablePlan): Promise<RestoreTableResult['sequences']> {
  const out: RestoreTableResult['sequences'] = [];
  for (const c of p.target) {
    if (!p.mapped.includes(c.name)) continue;
    const seq = (await db.query<{ seq: string | null }>(`SELECT pg_catalog.pg_get_serial_sequence($1, $2) AS seq`, [p.qualified, c.name])).rows[0].seq;
    if (!seq) continue;
    // Never back: setval outlives a ROLLBACK (or a killed process), and the rows the sequence handed
    // out before may still be there. Its last value as pg_sequences reads it (NULL before first use).
    const lit = literal(seq);
    const last = `CASE WHEN pg_catalog.has_sequence_privilege(${lit}, 'SELECT,USAGE') THEN pg_catalog.pg_sequence_last_value(${lit}::pg_catalog.regclass) END`;
    const r = await db.query<{ v: string }>(
      `SELECT pg_catalog.setval(${lit}::pg_catalog.regclass, GREATEST(s.m, ${last}))::pg_catalog.text AS v FROM (SELECT pg_catalog.max(t.${quoteIdent(c.name)})::pg_catalog.int8 AS m FROM ${p.qualified} AS t) AS s WHERE s.m IS NOT NULL`,
    );
    if (r.rows.length) out.push({ column: c.name, sequence: seq, value: r.rows[0].v });
  }
  return out;
}
