// pyproject.toml's [tool.alembic] table (Alembic ≥ 1.16 keeps script_location and version_locations there).
import path from 'node:path';
import { locationError, readText, statOf } from './location.js';

/** A value of pyproject.toml's [tool.alembic] that tidemark reads; anything else (numbers, tables) is `other`. */
export type TomlValue = string | boolean | TomlValue[] | { other: string };

/**
 * The keys of pyproject.toml's `[tool.alembic]` table (Alembic ≥ 1.16 keeps script_location and
 * version_locations there, and its pyproject template leaves them out of alembic.ini), or undefined when
 * the file has no such table. A small TOML reader: strings of the four kinds, arrays, booleans; other
 * values are skipped. A syntax error outside the table skips that line; inside it, it throws.
 */
export function parseToolAlembic(text: string, file = 'pyproject.toml'): Map<string, TomlValue> | undefined {
  const s = text.replace(/^\uFEFF/, '');
  let i = 0;
  let table = '';
  let found = false;
  const out = new Map<string, TomlValue>();
  const lineOf = (at: number): number => s.slice(0, at).split('\n').length;
  const fail = (why: string): never => {
    throw new Error(why);
  };
  const inline = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  // Blanks, newlines and comments (between statements, and inside arrays).
  const blanks = () => {
    for (;;) {
      inline();
      if (s[i] === '\n' || s[i] === '\r') i++;
      else if (s[i] === '#') while (i < s.length && s[i] !== '\n') i++;
      else return;
    }
  };
  const basic = (multi: boolean): string => {
    let v = '';
    for (;;) {
      if (i >= s.length) fail('a string is never closed');
      const c = s[i];
      if (multi ? s.startsWith('"""', i) && s[i + 3] !== '"' : c === '"') {
        i += multi ? 3 : 1;
        return v;
      }
      if (!multi && c === '\n') fail('a string is never closed');
      if (c !== '\\') {
        v += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
      if (e in simple) {
        v += simple[e];
        i += 2;
      } else if (e === 'u' || e === 'U' || e === 'x') {
        const len = e === 'u' ? 4 : e === 'U' ? 8 : 2;
        const hex = s.slice(i + 2, i + 2 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len || parseInt(hex, 16) > 0x10ffff) fail(`bad escape \\${e}${hex}`);
        v += String.fromCodePoint(parseInt(hex, 16));
        i += 2 + len;
      } else if (multi && /[ \t\r\n]/.test(e ?? '')) {
        i++; // a line-ending backslash eats the whitespace and newlines after it
        while (/[ \t\r\n]/.test(s[i] ?? '')) i++;
      } else fail(`bad escape \\${e ?? ''}`);
    }
  };
  const literalString = (multi: boolean): string => {
    const close = multi ? "\'\'\'" : "\'";
    let j = s.indexOf(close, i);
    if (multi) while (s[j + 3] === "\'") j++; // up to two quotes may end the body
    const nl = s.indexOf('\n', i);
    if (j < 0 || (!multi && nl >= 0 && nl < j)) fail('a string is never closed');
    const v = s.slice(i, j);
    i = j + close.length;
    return v;
  };
  const str = (): string => {
    if (s.startsWith('"""', i) || s.startsWith("\'\'\'", i)) {
      const q = s[i];
      i += 3;
      if (s[i] === '\n') i++; // a newline right after the opening quotes is trimmed
      else if (s.startsWith('\r\n', i)) i += 2;
      return q === '"' ? basic(true) : literalString(true);
    }
    return s[i++] === '"' ? basic(false) : literalString(false);
  };
  const key = (end: string): string => {
    const parts: string[] = [];
    for (;;) {
      inline();
      if (s[i] === '"' || s[i] === "\'") parts.push(str());
      else {
        const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i, i + 200));
        if (!m) fail('a key is expected');
        parts.push(m![0]);
        i += m![0].length;
      }
      inline();
      if (s[i] !== '.') break;
      i++;
    }
    if (!s.startsWith(end, i)) fail(`"${end}" is expected after ${parts.join('.')}`);
    i += end.length;
    return parts.join('.');
  };
  const value = (): TomlValue => {
    const c = s[i];
    if (c === '"' || c === "\'") return str();
    if (c === '[') {
      i++;
      const items: TomlValue[] = [];
      for (;;) {
        blanks();
        if (s[i] === ']') break;
        items.push(value());
        blanks();
        if (s[i] === ',') i++;
        else if (s[i] !== ']') fail('"," or "]" is expected in an array');
      }
      i++;
      return items;
    }
    if (c === '{') {
      // An inline table: skipped, strings inside it included.
      const from = i++;
      for (let depth = 1; depth > 0; ) {
        if (i >= s.length || s[i] === '\n') fail('an inline table is never closed');
        if (s[i] === '"' || s[i] === "\'") str();
        else if (s[i++] === '{') depth++;
        else if (s[i - 1] === '}') depth--;
      }
      return { other: s.slice(from, i) };
    }
    const m = /^[^\s,\]#]+/.exec(s.slice(i, i + 100));
    if (!m) fail('a value is expected');
    i += m![0].length;
    return m![0] === 'true' ? true : m![0] === 'false' ? false : { other: m![0] };
  };
  while (i < s.length) {
    blanks();
    if (i >= s.length) break;
    const at = i;
    try {
      if (s[i] === '[') {
        const array = s[i + 1] === '[';
        i += array ? 2 : 1;
        const name = key(array ? ']]' : ']');
        table = array ? `[[${name}]]` : name; // keys under [[tool.alembic.post_write_hooks]] are not ours
        if (name === 'tool.alembic' && !array) found = true;
      } else {
        const k = key('=');
        inline();
        const v = value();
        const full = table ? `${table}.${k}` : k;
        if (full.startsWith('tool.alembic.')) {
          found = true;
          out.set(full.slice('tool.alembic.'.length), v);
        }
      }
      inline();
      if (s[i] === '#') while (i < s.length && s[i] !== '\n') i++;
      if (i < s.length && s[i] !== '\n' && s[i] !== '\r') fail('the line goes on after its value');
    } catch (err) {
      if (table === 'tool.alembic' || table.startsWith('tool.alembic.')) {
        throw locationError(
          `${file} line ${lineOf(at)}: ${(err as Error).message}, so its [tool.alembic] table cannot be read.`,
          'Fix the TOML syntax there (it is what Alembic reads too).',
          file,
        );
      }
      // Elsewhere in the file: not ours; go on from the next line.
      const nl = s.indexOf('\n', Math.max(i, at));
      i = nl < 0 ? s.length : nl + 1;
    }
  }
  return found ? out : undefined;
}

/** pyproject.toml's [tool.alembic] in `dir`, when there is one. */
export async function toolAlembicIn(dir: string): Promise<{ file: string; table: Map<string, TomlValue> } | undefined> {
  const file = path.join(dir, 'pyproject.toml');
  if (!(await statOf(file))?.isFile()) return undefined;
  const table = parseToolAlembic(await readText(file), file);
  return table ? { file, table } : undefined;
}
