// Values of Python literals from tokens: strings (escapes applied), None, tuples and lists of strings, and
// words for what is not one of those ("a call to foo()").
import { C_COMMA, C_LBRACE, C_LPAR, C_LSQB, F_BAD, F_BYTES, F_FORMAT, F_RAW, isOpen, T, type Tokens } from './tokenize.js';

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

/** The value of string token k, escapes applied as Python does (raw strings keep them). */
function decode(t: Tokens, k: number): string {
  const body = t.text(k);
  const flags = t.flags[k];
  if (flags & F_RAW || !body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) break;
    if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
    else if (e === 'x' || (!(flags & F_BYTES) && (e === 'u' || e === 'U'))) {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      const code = hex.length === len && /^[0-9a-fA-F]+$/.test(hex) ? parseInt(hex, 16) : NaN;
      if (Number.isNaN(code) || code > 0x10ffff) out += `\\${e}`;
      else {
        out += String.fromCodePoint(code);
        i += len;
      }
    } else if (e >= '0' && e <= '7') {
      let oct = e;
      while (oct.length < 3 && body[i + 1] >= '0' && body[i + 1] <= '7') oct += body[++i];
      out += String.fromCharCode(parseInt(oct, 8));
    } else out += `\\${e}`; // unknown escapes (and \N{…}) stay as written, like Python
  }
  return out;
}

/** Index of the bracket closing the one at `open` (before `end`), or -1. O(1): a rescan here made nested calls quadratic. */
export function closing(t: Tokens, open: number, end = t.n): number {
  const k = t.pair[open];
  return k >= 0 && k < end ? k : -1;
}

/** Splits [a, b) on commas at bracket depth 0, jumping over nested brackets (linear over nested calls). */
export function splitCommas(t: Tokens, a: number, b: number): [number, number][] {
  const parts: [number, number][] = [];
  const code = t.code;
  let start = a;
  for (let k = a; k < b; k++) {
    const c = code[k];
    if (c <= 0) continue;
    if (isOpen(c)) {
      const close = t.pair[k];
      if (close < 0 || close >= b) break; // unclosed within the range: no comma after it is at depth 0
      k = close;
    } else if (c === C_COMMA) {
      parts.push([start, k]);
      start = k + 1;
    }
  }
  parts.push([start, b]);
  return parts;
}

export type Value =
  | { kind: 'none' }
  | { kind: 'str'; value: string; line: number }
  | { kind: 'seq'; what: 'a tuple' | 'a list'; items: { value: string; line: number }[] }
  | { kind: 'bad'; what: string }
  /** Contains an unterminated string: reported already. */
  | { kind: 'broken' };

/** A run of plain string literals (implicit concatenation), or undefined. */
export function literal(t: Tokens, a: number, b: number): { value: string; line: number } | undefined {
  if (a >= b) return undefined;
  let value = '';
  for (let k = a; k < b; k++) {
    if (t.kind[k] !== T.String || t.flags[k] & (F_BYTES | F_FORMAT | F_BAD)) return undefined;
    value += decode(t, k);
  }
  return { value, line: t.line[a] };
}

function describe(t: Tokens, a: number, b: number): string {
  const kind = t.kind[a];
  if (b - a === 1) {
    const v = t.text(a);
    if (kind === T.Number) return `a number (${v})`;
    if (kind === T.Name) return v === 'True' || v === 'False' ? `a boolean (${v})` : `a variable (${v})`;
  }
  let strings = true;
  let bytes = false;
  for (let k = a; k < b; k++) {
    if (t.kind[k] !== T.String) strings = false;
    else if (t.flags[k] & F_BYTES) bytes = true;
  }
  if (strings) return bytes ? 'a bytes literal' : 'an f-string';
  if (t.isOp(a, C_LBRACE)) return 'a set or dict';
  if (kind === T.Name && t.isOp(a + 1, C_LPAR) && closing(t, a + 1, b) === b - 1) return `a call to ${t.text(a)}()`;
  return 'an expression';
}

/** The value of an assignment's right-hand side [a, b). */
export function evalAssigned(t: Tokens, a: number, b: number): Value {
  // Checked once here, not per nested level: that was quadratic on deeply nested brackets.
  for (let k = a; k < b; k++) if (t.flags[k] & F_BAD) return { kind: 'broken' };
  return evalValue(t, a, b);
}

function evalValue(t: Tokens, a: number, b: number): Value {
  // A loop, not recursion, through redundant parentheses: `((("x")))` nested 100,000 deep must not overflow the stack.
  for (;;) {
    if (a >= b) return { kind: 'bad', what: 'nothing' };
    const parts = splitCommas(t, a, b);
    if (parts.length > 1) return evalSeq(t, parts, 'a tuple'); // bare tuple: `x = "a", "b"`
    if (b - a === 1 && t.isName(a, 'None')) return { kind: 'none' };
    const lit = literal(t, a, b);
    if (lit) return { kind: 'str', ...lit };
    if (!((t.isOp(a, C_LPAR) || t.isOp(a, C_LSQB)) && closing(t, a, b) === b - 1)) return { kind: 'bad', what: describe(t, a, b) };
    const inner = splitCommas(t, a + 1, b - 1);
    if (t.isOp(a, C_LSQB)) return evalSeq(t, inner, 'a list');
    if (inner.length === 1 && inner[0][0] === inner[0][1]) return { kind: 'seq', what: 'a tuple', items: [] };
    if (inner.length > 1) return evalSeq(t, inner, 'a tuple');
    a++; // parenthesized expression
    b--;
  }
}

function evalSeq(t: Tokens, parts: [number, number][], what: 'a tuple' | 'a list'): Value {
  // A trailing comma leaves an empty last part; `[]` is one empty part.
  const last = parts[parts.length - 1];
  if (last && last[0] === last[1]) parts = parts.slice(0, -1);
  const items: { value: string; line: number }[] = [];
  for (const [pa, pb] of parts) {
    if (pa === pb) return { kind: 'bad', what: `${what} with an empty element` };
    if (pb - pa === 1 && t.kind[pa] === T.String && !(t.flags[pa] & (F_BYTES | F_FORMAT | F_BAD))) {
      items.push({ value: decode(t, pa), line: t.line[pa] }); // the common case, without the general path's allocations
      continue;
    }
    const v = evalValue(t, pa, pb);
    if (v.kind === 'str') items.push({ value: v.value, line: v.line });
    else if (v.kind === 'broken') return v;
    else return { kind: 'bad', what: `${what} containing ${v.kind === 'none' ? 'None' : v.what}` };
  }
  return { kind: 'seq', what, items };
}
