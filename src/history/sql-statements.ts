import { TidemarkError } from '../errors.js';
import type { SqlSection } from './migration.js';
import { loadPgParser, type PgParser } from './pg-parser.js';

/** One statement of a SQL section, with the 1-based line of the file where it starts. */
export interface SqlStatement {
  text: string;
  line: number;
}

/** A parsed statement's node as libpg-query gives it: `{ IndexStmt: { … } }`. */
export type StatementNode = Record<string, unknown>;

export interface SplitOptions {
  /**
   * Called for every statement in file order with its parse-tree node, while the tree is at hand
   * (the trees are not kept: a 50 MB file would not fit). May throw to refuse the statement.
   */
  inspect?(node: StatementNode, statement: SqlStatement): void;
}

/** Sections are parsed in pieces of about this many characters, cut between statements. */
const CHUNK_CHARS = 256 * 1024;
/** One statement longer than this is refused: libpg-query's WASM heap is bounded. */
export const MAX_STATEMENT_CHARS = 64 * 1024 * 1024;

function countNewlines(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i !== -1 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function countNewlineBytes(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = bytes.indexOf(10, from); i !== -1 && i < to; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

const isIdentStart = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
const isIdentChar = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;

/**
 * The offsets just after every top-level `;` of `text`, in one linear pass: outside strings
 * ('…', E'…', "…"), dollar quotes, comments (nested /* *\/), parentheses, and the BEGIN … END body of
 * a SQL-standard `CREATE FUNCTION|PROCEDURE … BEGIN ATOMIC` (psql's own heuristic). Only used to cut a
 * section into pieces for the real parser, which then decides every statement boundary itself.
 */
export function topLevelSemicolons(text: string): number[] {
  const ends: number[] = [];
  const n = text.length;
  let paren = 0;
  let beginDepth = 0;
  let words: string[] = [];
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 45 /* - */ && text.charCodeAt(i + 1) === 45) {
      const nl = text.indexOf('\n', i + 2);
      i = nl === -1 ? n : nl + 1;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text.charCodeAt(i) === 47 && text.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (text.charCodeAt(i) === 42 && text.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === 39 /* ' */) {
      const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
      const escapes = (prev === 69 || prev === 101) && !(i > 1 && isIdentChar(text.charCodeAt(i - 2)));
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (escapes && d === 92 /* \ */) i += 2;
        else if (d === 39) {
          if (text.charCodeAt(i + 1) === 39) i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
    } else if (c === 34 /* " */) {
      i++;
      while (i < n) {
        if (text.charCodeAt(i) === 34) {
          if (text.charCodeAt(i + 1) === 34) i += 2;
          else {
            i++;
            break;
          }
        } else i++;
      }
    } else if (c === 36 /* $ */ && !(i > 0 && isIdentChar(text.charCodeAt(i - 1)))) {
      let j = i + 1;
      if (j < n && isIdentStart(text.charCodeAt(j))) {
        j++;
        while (j < n && isIdentChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 36) j++;
      }
      if (text.charCodeAt(j) === 36) {
        const tag = text.slice(i, j + 1);
        const close = text.indexOf(tag, j + 1);
        i = close === -1 ? n : close + tag.length;
      } else i = j; // $1, or a lone $
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      // `E'…'`: the E is the string's prefix, not a word (the quote branch reads it back).
      const stringPrefix = j === i + 1 && (c === 69 || c === 101) && text.charCodeAt(j) === 39;
      if (!stringPrefix) {
        const word = text.slice(i, j).toLowerCase();
        if (words.length < 4) words.push(word);
        const defines =
          words[0] === 'create' && (words[1] === 'function' || words[1] === 'procedure' || (words[1] === 'or' && words[2] === 'replace' && (words[3] === 'function' || words[3] === 'procedure')));
        if (defines && paren === 0) {
          if (word === 'begin') beginDepth++;
          else if (word === 'case' && beginDepth > 0) beginDepth++;
          else if (word === 'end' && beginDepth > 0) beginDepth--;
        }
      }
      i = j;
    } else if (c === 40 /* ( */) {
      paren++;
      i++;
    } else if (c === 41 /* ) */) {
      if (paren > 0) paren--;
      i++;
    } else if (c === 59 /* ; */) {
      i++;
      if (paren === 0 && beginDepth === 0) {
        ends.push(i);
        words = [];
      }
    } else i++;
  }
  return ends;
}

/**
 * Where the first top-level statement of `chunk` for which `bad` holds starts (after blank lines and `--`
 * comments), or -1: names the line of a statement too long or too deep to parse. Only on the error path.
 */
function badStatementStart(chunk: string, bad: (statement: string) => boolean): number {
  let from = 0;
  for (const end of [...topLevelSemicolons(chunk), chunk.length]) {
    if (end <= from) continue;
    const statement = chunk.slice(from, end);
    if (bad(statement)) return from + /^(?:\s|--[^\n]*)*/.exec(statement)![0].length;
    from = end;
  }
  return -1;
}

/** Whether the parser throws on `sql`. */
function fails(parseSync: PgParser['parseSync'], sql: string): boolean {
  try {
    parseSync(sql);
    return false;
  } catch {
    return true;
  }
}

function syntaxError(file: string, line: number, migrationId: string, message: string): TidemarkError {
  return new TidemarkError('migration-syntax', `${file}:${line}: ${migrationId}: ${message}.`, {
    kind: 'input',
    file,
    line,
    migration: migrationId,
    hint: 'Fix the SQL; nothing was applied.',
  });
}

/**
 * Splits a section into statements with the real PostgreSQL parser, so dollar quotes, strings and
 * comments are handled as the server does. A syntax error is bad input: it names file and line.
 *
 * Linear in the section's size: a lexer pass cuts the text into pieces of ~256 KiB between top-level
 * statements, each piece is parsed on its own (libpg-query's WASM heap stays small), and line numbers
 * are counted forward, never again from the start.
 */
export async function splitStatements(section: SqlSection, file: string, migrationId: string, options: SplitOptions = {}): Promise<SqlStatement[]> {
  const { parseSync } = await loadPgParser();
  const text = section.text;
  const statements: SqlStatement[] = [];
  const cuts: number[] = [];
  let last = 0;
  for (const end of topLevelSemicolons(text)) {
    if (end - last >= CHUNK_CHARS) {
      cuts.push(end);
      last = end;
    }
  }
  if (last < text.length) cuts.push(text.length);

  let chunkStart = 0;
  let chunkLine = section.line;
  for (const chunkEnd of cuts) {
    const chunk = text.slice(chunkStart, chunkEnd);
    let parsed: ReturnType<PgParser['parseSync']>;
    try {
      // A piece holds whole statements: it is longer than the limit only with a statement that is (or nearly).
      const tooLong = chunk.length > MAX_STATEMENT_CHARS ? badStatementStart(chunk, (st) => st.length > MAX_STATEMENT_CHARS) : -1;
      if (tooLong >= 0) {
        const line = chunkLine + countNewlines(chunk, 0, tooLong);
        throw new TidemarkError('migration-too-large', `${file}:${line}: ${migrationId}: a statement of more than ${MAX_STATEMENT_CHARS / 1024 / 1024} MiB cannot be parsed.`, {
          kind: 'input',
          file,
          line,
          migration: migrationId,
          hint: 'Split it into several statements, or load the data with COPY from a file; nothing was applied.',
        });
      }
      parsed = parseSync(chunk);
    } catch (err) {
      if (err instanceof TidemarkError) throw err;
      const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
      const cursor = e.sqlDetails?.cursorPosition;
      // A parse error carries sqlDetails; anything else (the WASM heap, a crash) is not about the SQL.
      if (!e.sqlDetails) {
        const line =
          chunkLine +
          countNewlines(
            chunk,
            0,
            Math.max(
              0,
              badStatementStart(chunk, (st) => fails(parseSync, st)),
            ),
          );
        throw new TidemarkError('migration-unparsable', `${file}:${line}: ${migrationId}: the SQL parser failed (${e.message ?? String(err)}).`, {
          kind: 'input',
          file,
          line,
          migration: migrationId,
          hint: 'Split the migration into smaller statements or files; nothing was applied.',
        });
      }
      // cursorPosition counts code points, not UTF-16 units.
      let units = 0;
      if (cursor !== undefined) {
        let points = 0;
        while (units < chunk.length && points < cursor) {
          const code = chunk.codePointAt(units)!;
          units += code > 0xffff ? 2 : 1;
          points++;
        }
      }
      throw syntaxError(file, chunkLine + countNewlines(chunk, 0, units), migrationId, e.message ?? 'syntax error');
    }
    const bytes = Buffer.from(chunk, 'utf8');
    let line = chunkLine;
    let counted = 0;
    for (const stmt of parsed.stmts ?? []) {
      // stmt_location and stmt_len are UTF-8 byte offsets; a location of 0 is omitted.
      const start = stmt.stmt_location ?? 0;
      const end = !stmt.stmt_len ? bytes.length : start + stmt.stmt_len;
      const raw = bytes.subarray(start, end).toString('utf8');
      const text = raw.trim();
      if (!text) continue;
      // The statement's first line: after the piece's leading blank lines and comments.
      let lead = 0;
      while (lead < raw.length && raw.charCodeAt(lead) <= 32) lead++;
      line += countNewlineBytes(bytes, counted, start);
      counted = start;
      const statement = { text, line: line + countNewlines(raw, 0, lead) };
      if (options.inspect && stmt.stmt) options.inspect(stmt.stmt as StatementNode, statement);
      statements.push(statement);
    }
    chunkLine = line + countNewlineBytes(bytes, counted, bytes.length);
    chunkStart = chunkEnd;
  }
  return statements;
}

/** The file line of a server error's `position` (1-based, in characters) inside a statement. */
export function lineOfPosition(statement: SqlStatement, position: number | string | undefined): number {
  const pos = Number(position);
  if (!Number.isFinite(pos) || pos < 1) return statement.line;
  const before = Array.from(statement.text)
    .slice(0, pos - 1)
    .join('');
  return statement.line + countNewlines(before);
}
