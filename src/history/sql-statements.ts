import { TidemarkError } from '../errors.js';
import type { SqlSection } from './migration.js';
import { loadPgParser, type PgParser } from './pg-parser.js';

/** One statement of a SQL section, with the 1-based line of the file where it starts. */
export interface SqlStatement {
  text: string;
  line: number;
}


function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Splits a section into statements with the real PostgreSQL parser, so dollar quotes, strings and
 * comments are handled as the server does. A syntax error is bad input: it names file and line.
 */
export async function splitStatements(section: SqlSection, file: string, migrationId: string): Promise<SqlStatement[]> {
  const { parseSync } = await loadPgParser();
  let parsed: ReturnType<PgParser['parseSync']>;
  try {
    parsed = parseSync(section.text);
  } catch (err) {
    const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const cursor = e.sqlDetails?.cursorPosition;
    // cursorPosition counts code points, not UTF-16 units.
    const before = cursor === undefined ? '' : Array.from(section.text).slice(0, cursor).join('');
    const line = section.line + countNewlines(before);
    throw new TidemarkError('migration-syntax', `${file}:${line}: ${migrationId}: ${e.message ?? 'syntax error'}.`, {
      kind: 'input',
      file,
      line,
      migration: migrationId,
      hint: 'Fix the SQL; nothing was applied.',
    });
  }
  const bytes = Buffer.from(section.text, 'utf8');
  const statements: SqlStatement[] = [];
  for (const stmt of parsed.stmts ?? []) {
    // stmt_location and stmt_len are UTF-8 byte offsets; a location of 0 is omitted.
    const start = stmt.stmt_location ?? 0;
    const end = !stmt.stmt_len ? bytes.length : start + stmt.stmt_len;
    const text = bytes.subarray(start, end).toString('utf8').trim();
    if (!text) continue;
    statements.push({ text, line: section.line + countNewlines(bytes.subarray(0, start).toString('utf8')) });
  }
  return statements;
}

/** The file line of a server error's `position` (1-based, in characters) inside a statement. */
export function lineOfPosition(statement: SqlStatement, position: number | string | undefined): number {
  const pos = Number(position);
  if (!Number.isFinite(pos) || pos < 1) return statement.line;
  const before = Array.from(statement.text).slice(0, pos - 1).join('');
  return statement.line + countNewlines(before);
}
