// pyproject.toml's [tool.alembic] table (Alembic ≥ 1.16 keeps script_location and version_locations there).
import path from 'node:path';
import { locationError, readText, statOf } from './location.js';

/**
 * A value of pyproject.toml's [tool.alembic] that tidemark reads; anything else is `other`: a number as
 * written, a date in ISO form, a table as `a table`.
 */
export type TomlValue = string | boolean | TomlValue[] | { other: string };

type Parsed = Record<string, unknown>;

const isTable = (v: unknown): v is Parsed => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

function tomlValue(v: unknown): TomlValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(tomlValue);
  if (isTable(v)) return { other: 'a table' };
  return { other: v instanceof Date ? v.toISOString() : String(v) };
}

/** The table a line sits in: the last `[header]` above it (`[[array]]` headers are never ours), spaces and quotes dropped. */
function tableAt(lines: string[], line: number): string {
  for (let i = line - 2; i >= 0; i--) {
    const m = /^\s*(\[\[?)([^\]]*)\]/.exec(lines[i]);
    if (!m) continue;
    const name = m[2]
      .split('.')
      .map((p) => p.trim().replace(/^(["'])(.*)\1$/, '$2'))
      .join('.');
    return m[1] === '[[' ? `[[${name}]]` : name;
  }
  return '';
}

/** The few smol-toml reasons worth plainer words; the rest are its own. */
function reason(message: string, lines: string[], line: number, column: number): string {
  const why = message.split('\n')[0].replace(/^Invalid TOML document: /, '');
  const atEnd = column > (lines[line - 1] ?? '').replace(/\r$/, '').length; // the newline itself
  if (why === 'unfinished string' || (why === 'control characters are not allowed in strings' && atEnd)) return 'a string is never closed';
  return why;
}

/**
 * The keys of pyproject.toml's `[tool.alembic]` table (Alembic ≥ 1.16 keeps script_location and
 * version_locations there, and its pyproject template leaves them out of alembic.ini), or undefined when
 * the file has no such table. Read with smol-toml, loaded only here: `tidemark check` on a tidemark
 * workspace never pays for it. A syntax error inside the table throws, naming file and line; elsewhere in
 * the file it is not ours, so that line is left out and the rest read again (as the earlier reader did).
 */
export async function parseToolAlembic(text: string, file = 'pyproject.toml'): Promise<Map<string, TomlValue> | undefined> {
  const s = text.replace(/^\uFEFF/, '');
  if (!s.includes('alembic')) return undefined; // most pyproject.toml files: no parser to load
  const { parse, TomlError } = await import('smol-toml');
  const lines = s.split('\n');
  let doc: Parsed | undefined;
  while (!doc) {
    try {
      doc = parse(lines.join('\n'));
    } catch (err) {
      if (!(err instanceof TomlError)) throw err;
      const table = tableAt(lines, err.line);
      // No progress is possible on a line already blanked: the error is the file's, not a line's.
      const stuck = lines[err.line - 1] === undefined || lines[err.line - 1].trim() === '';
      if (table === 'tool.alembic' || table.startsWith('tool.alembic.') || stuck) {
        throw locationError(
          `${file} line ${err.line}: ${reason(err.message, lines, err.line, err.column)}, so its [tool.alembic] table cannot be read.`,
          'Fix the TOML syntax there (it is what Alembic reads too).',
          file,
        );
      }
      lines[err.line - 1] = '';
    }
  }
  const tool = doc.tool;
  const alembic = isTable(tool) ? tool.alembic : undefined;
  if (!isTable(alembic)) return undefined;
  return new Map(Object.entries(alembic).map(([k, v]) => [k, tomlValue(v)]));
}

/** pyproject.toml's [tool.alembic] in `dir`, when there is one. */
export async function toolAlembicIn(dir: string): Promise<{ file: string; table: Map<string, TomlValue> } | undefined> {
  const file = path.join(dir, 'pyproject.toml');
  if (!(await statOf(file))?.isFile()) return undefined;
  const table = await parseToolAlembic(await readText(file), file);
  return table ? { file, table } : undefined;
}
