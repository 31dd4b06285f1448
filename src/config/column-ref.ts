/**
 * `table.column` / `schema.table.column` as the config (`softRelations`) and `restore --fill` write
 * a column: the owns grammar's names (src/config/owns.ts) — unquoted text folds to lower case,
 * double quotes keep case and make `.` literal, `""` is one `"` — without wildcards. `"a.b".c.col`
 * (table c of schema a.b) and `a."b.c".col` (table b.c of schema a) are two different columns; the
 * old unquoted spelling (`budgets.user_id`, `billing.invoices.user_id`) reads as it always did.
 */
import type { ColumnRef } from '../sql/ident.js';
import { formatPart, ownsEntryFor, parseTableName, type OwnsSyntaxError } from './owns.js';

export interface ParsedColumnRef extends ColumnRef {
  /** False for `table.column`: no schema was written (the config reads it as public). */
  readonly qualified: boolean;
}

/** Parses a column reference. Never throws. */
export function parseColumnRef(text: string): { ok: true; ref: ParsedColumnRef } | { ok: false; error: OwnsSyntaxError } {
  // The dots outside double quotes separate the parts; `""` inside quotes toggles twice, so it stays inside.
  const dots: number[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '.' && !quoted) dots.push(i);
  }
  if (dots.length === 0) return { ok: false, error: { message: 'names no column', hint: 'write table.column or schema.table.column' } };
  if (dots.length > 2) {
    return { ok: false, error: { message: 'has more than two unquoted dots', hint: 'write table.column or schema.table.column; quote a name that contains a dot: "a.b".c.col' } };
  }
  const last = dots[dots.length - 1];
  const table = parseTableName(text.slice(0, last));
  if (!table.ok) return table;
  const column = parseTableName(text.slice(last + 1));
  if (!column.ok) return { ok: false, error: { ...column.error, message: `column: ${column.error.message}` } };
  return { ok: true, ref: { table: table.name, column: column.name.name, qualified: dots.length === 2 } };
}

/** The text of a column reference that parses back to it: schema written unless it is public. */
export function formatColumnRef(ref: ColumnRef): string {
  return `${ownsEntryFor(ref.table)}.${formatPart([...ref.column])}`;
}
