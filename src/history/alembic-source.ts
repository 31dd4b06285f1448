import { Buffer, isUtf8 } from 'node:buffer';
import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import type { QualifiedName } from '../sql/ident.js';
import type { EmbeddedSql, Revision, TableReference } from './revision.js';

/**
 * Reads an Alembic revision file WITHOUT running Python: a small tokenizer (strings of every form,
 * comments, brackets, continuations) and a reader for the module-level literal assignments Alembic
 * looks at (`revision`, `down_revision`, `branch_labels`, `depends_on`), plus best-effort table
 * references from `op.*` calls and SQL text from `*.execute(…)`. Pure; never throws.
 */
export interface AlembicSourceResult {
  revision?: Revision;
  tableReferences: TableReference[];
  embeddedSql: EmbeddedSql[];
  problems: Diagnostic[];
}

const RULE = 'alembic-file';

const enum T {
  Name = 1,
  Number,
  String,
  Op,
  Newline,
}

const F_BYTES = 1;
const F_RAW = 2;
const F_FORMAT = 4;
/** Unterminated: already reported, never evaluated. */
const F_BAD = 8;

/**
 * Tokens as parallel typed arrays, reused from call to call (parsing is synchronous), so that 10,000
 * files or one 1 MB file make almost no garbage. `code` is the char code of a one-character operator,
 * minus the first char's code for a longer one (`==` is -61, never `=`), 0 otherwise.
 */
class Tokens {
  n = 0;
  s = '';
  kind = new Uint8Array(1024);
  flags = new Uint8Array(1024);
  code = new Int32Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  line = new Int32Array(1024);
  col = new Int32Array(1024);
  /** For an opening bracket, the index of its closing one (-1 while unclosed), so no lookup rescans. */
  pair = new Int32Array(1024);

  reset(s: string): void {
    this.s = s;
    this.n = 0;
  }

  push(kind: T, start: number, end: number, line: number, col: number, flags: number, code: number): void {
    if (this.n === this.kind.length) this.grow();
    const k = this.n++;
    this.kind[k] = kind;
    this.start[k] = start;
    this.end[k] = end;
    this.line[k] = line;
    this.col[k] = col;
    this.flags[k] = flags;
    this.code[k] = code;
    this.pair[k] = -1;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const g = <A extends Uint8Array | Int32Array>(a: A): A => {
      const b = new (a.constructor as new (n: number) => A)(size);
      b.set(a);
      return b;
    };
    this.kind = g(this.kind);
    this.flags = g(this.flags);
    this.code = g(this.code);
    this.start = g(this.start);
    this.end = g(this.end);
    this.line = g(this.line);
    this.col = g(this.col);
    this.pair = g(this.pair);
  }

  text(k: number): string {
    return this.s.slice(this.start[k], this.end[k]);
  }

  isName(k: number, w: string): boolean {
    return k >= 0 && k < this.n && this.kind[k] === T.Name && this.end[k] - this.start[k] === w.length && this.s.startsWith(w, this.start[k]);
  }

  /** True when token k is the one-character operator with this char code. */
  isOp(k: number, c: number): boolean {
    return k >= 0 && k < this.n && this.code[k] === c;
  }
}

const TOKENS = new Tokens();

const C_LPAR = 40;
const C_RPAR = 41;
const C_LSQB = 91;
const C_RSQB = 93;
const C_LBRACE = 123;
const C_RBRACE = 125;
const C_COMMA = 44;
const C_DOT = 46;
const C_EQ = 61;
const C_COLON = 58;
const C_SEMI = 59;
const C_STAR = 42;

const isOpen = (c: number) => c === C_LPAR || c === C_LSQB || c === C_LBRACE;
const isClose = (c: number) => c === C_RPAR || c === C_RSQB || c === C_RBRACE;

/** A logical line starting with one of these is a compound statement: what follows `:` is not top level. */
const COMPOUND = new Set(['if', 'elif', 'else', 'for', 'while', 'with', 'def', 'class', 'try', 'except', 'finally', 'async', 'match', 'case']);
const TARGETS = new Set(['revision', 'down_revision', 'branch_labels', 'depends_on']);

interface Scan {
  /** Start line of each unterminated string; the file is not valid Python. */
  unterminated: { line: number; triple: boolean }[];
  unclosed?: { ch: string; line: number };
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}
function isNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57) || c >= 0x80;
}

/** Flags for a string prefix (r, u, b, f, t, br, rb, fr, rf, tr, rt in any case), or -1 when it is not one. */
function prefixFlags(s: string, i: number, j: number): number {
  if (j - i > 2) return -1;
  let flags = 0;
  for (let k = i; k < j; k++) {
    const c = s.charCodeAt(k) | 32;
    if (c === 114 /* r */) flags |= F_RAW;
    else if (c === 98 /* b */) flags |= F_BYTES;
    else if (c === 102 /* f */ || c === 116 /* t */) flags |= F_FORMAT;
    else if (c === 117 /* u */ && j - i === 1) continue;
    else return -1;
  }
  // b and f never combine; two of the same letter is no prefix.
  if (j - i === 2 && (!(flags & F_RAW) || (flags & F_BYTES && flags & F_FORMAT))) return -1;
  return flags;
}

/** Tokenizer state shared with the string scanner (a plain object: closures over locals are slow in V8). */
interface Lexer {
  s: string;
  n: number;
  t: Tokens;
  line: number;
  lineStart: number;
  /** > 0 inside an f-string's {…}: nested strings are not tokens of the file. */
  nested: number;
  unterminated: { line: number; triple: boolean }[];
}

/** Scans a string whose opening quote is at q; returns the index after its end. */
function scanString(lx: Lexer, q: number, flags: number, col: number): number {
  const s = lx.s;
  const n = lx.n;
  const quote = s.charCodeAt(q);
  const triple = s.charCodeAt(q + 1) === quote && s.charCodeAt(q + 2) === quote;
  const startLine = lx.line;
  const bodyStart = q + (triple ? 3 : 1);
  const format = (flags & F_FORMAT) !== 0;
  let j = bodyStart;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c === 92 /* \ */) {
      if (s.charCodeAt(j + 1) === 10) {
        lx.line++;
        lx.lineStart = j + 2;
      }
      j += 2;
    } else if (c === 10) {
      if (!triple) break;
      lx.line++;
      lx.lineStart = ++j;
    } else if (c === quote && (!triple || (s.charCodeAt(j + 1) === quote && s.charCodeAt(j + 2) === quote))) {
      if (lx.nested === 0) lx.t.push(T.String, bodyStart, j, startLine, col, flags, 0);
      return j + (triple ? 3 : 1);
    } else if (c === 123 /* { */ && format) {
      if (s.charCodeAt(j + 1) === 123) j += 2;
      else j = skipFormatExpression(lx, j + 1);
    } else j++;
  }
  // Unterminated: a one-line string stops at the newline (so later lines still tokenize), a triple one at EOF.
  if (j > n) j = n;
  if (lx.nested === 0) {
    if (lx.unterminated.length < 8) lx.unterminated.push({ line: startLine, triple }); // only the first is reported
    lx.t.push(T.String, bodyStart, j, startLine, col, flags | F_BAD, 0);
  }
  return j;
}

/** Skips an f-string's {…}: brackets and nested strings (Python 3.12 allows the same quote again). */
function skipFormatExpression(lx: Lexer, j: number): number {
  const s = lx.s;
  let depth = 0;
  lx.nested++;
  while (j < lx.n) {
    const c = s.charCodeAt(j);
    if (c === 39 || c === 34) {
      j = scanString(lx, j, 0, 0);
      continue;
    }
    if (c === 10) {
      lx.line++;
      lx.lineStart = j + 1;
    } else if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93) depth--;
    else if (c === 125) {
      if (depth === 0) {
        lx.nested--;
        return j + 1;
      }
      depth--;
    }
    j++;
  }
  lx.nested--;
  return j;
}

/** Tokenizes Python source (newlines already normalized to \n) into `t`. */
function tokenize(s: string, t: Tokens): Scan {
  t.reset(s);
  const n = s.length;
  const lx: Lexer = { s, n, t, line: 1, lineStart: 0, nested: 0, unterminated: [] };
  // Token index of each open bracket (its line and char are in the token arrays), in a reused typed array.
  let stack = OPEN_STACK;
  let depth = 0;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let lineHasTokens = false;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 10) {
      if (depth === 0 && lineHasTokens) {
        t.push(T.Newline, i, i, line, 0, 0, 0);
        lineHasTokens = false;
      }
      line++;
      lineStart = ++i;
      continue;
    }
    if (c === 32 || c === 9 || c === 12) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      const nl = s.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === 92 /* \ */) {
      // Line continuation: the logical line goes on.
      if (s.charCodeAt(i + 1) === 10) {
        line++;
        lineStart = i + 2;
      }
      i += 2;
      continue;
    }
    lineHasTokens = true;
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80) {
      let j = i + 1;
      let d = s.charCodeAt(j);
      while ((d >= 97 && d <= 122) || (d >= 65 && d <= 90) || d === 95 || (d >= 48 && d <= 57) || d >= 0x80) d = s.charCodeAt(++j);
      if (d === 39 || d === 34) {
        const flags = prefixFlags(s, i, j);
        if (flags >= 0) {
          lx.line = line;
          lx.lineStart = lineStart;
          i = scanString(lx, j, flags, i - lineStart);
          line = lx.line;
          lineStart = lx.lineStart;
          continue;
        }
      }
      t.push(T.Name, i, j, line, i - lineStart, 0, 0);
      i = j;
      continue;
    }
    if (c === 39 || c === 34) {
      lx.line = line;
      lx.lineStart = lineStart;
      i = scanString(lx, i, 0, i - lineStart);
      line = lx.line;
      lineStart = lx.lineStart;
      continue;
    }
    if ((c >= 48 && c <= 57) || (c === 46 && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57)) {
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (isNameChar(d) || d === 46) j++;
        else if ((d === 43 || d === 45) && (s.charCodeAt(j - 1) | 32) === 101 /* e */) j++;
        else break;
      }
      t.push(T.Number, i, j, line, i - lineStart, 0, 0);
      i = j;
      continue;
    }
    // Operators: only `=` must stay apart from `==`, `<=`, `:=`, `+=`, … for assignments to be found.
    let j = i + 1;
    if (c === C_LPAR || c === C_LSQB || c === C_LBRACE) {
      if (depth === stack.length) {
        const bigger = new Int32Array(stack.length * 2);
        bigger.set(stack);
        stack = OPEN_STACK = bigger;
      }
      stack[depth++] = t.n;
    } else if (c === C_RPAR || c === C_RSQB || c === C_RBRACE) {
      if (depth > 0) t.pair[stack[--depth]] = t.n;
    } else if (c !== C_COMMA && c !== C_DOT) {
      const d = s.charCodeAt(j);
      if ((c === 42 || c === 47 || c === 60 || c === 62) && d === c) j++; // ** // << >>
      else if (c === 45 && d === 62) j++; // ->
      if (s.charCodeAt(j) === 61 && ASSIGN_OPS.includes(s[i])) j++;
    }
    t.push(T.Op, i, j, line, i - lineStart, 0, j - i === 1 ? c : -c);
    i = j;
  }
  if (lineHasTokens) t.push(T.Newline, n, n, line, 0, 0, 0);
  return { unterminated: lx.unterminated, unclosed: depth > 0 ? { ch: String.fromCharCode(t.code[stack[0]]), line: t.line[stack[0]] } : undefined };
}

let OPEN_STACK = new Int32Array(256);

/** The first characters of `==`, `!=`, `<=`, `>=`, `:=`, `+=`, … */
const ASSIGN_OPS = '=!<>:+-*/%&|^@';

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
      if (Number.isNaN(code) || code > 0x10ffff) out += '\\' + e;
      else {
        out += String.fromCodePoint(code);
        i += len;
      }
    } else if (e >= '0' && e <= '7') {
      let oct = e;
      while (oct.length < 3 && body[i + 1] >= '0' && body[i + 1] <= '7') oct += body[++i];
      out += String.fromCharCode(parseInt(oct, 8));
    } else out += '\\' + e; // unknown escapes (and \N{…}) stay as written, like Python
  }
  return out;
}

/** Index of the bracket closing the one at `open` (before `end`), or -1. O(1): a rescan here made nested calls quadratic. */
function closing(t: Tokens, open: number, end = t.n): number {
  const k = t.pair[open];
  return k >= 0 && k < end ? k : -1;
}

/** Splits [a, b) on commas at bracket depth 0, jumping over nested brackets (linear over nested calls). */
function splitCommas(t: Tokens, a: number, b: number): [number, number][] {
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

type Value =
  | { kind: 'none' }
  | { kind: 'str'; value: string; line: number }
  | { kind: 'seq'; what: 'a tuple' | 'a list'; items: { value: string; line: number }[] }
  | { kind: 'bad'; what: string }
  /** Contains an unterminated string: reported already. */
  | { kind: 'broken' };

/** A run of plain string literals (implicit concatenation), or undefined. */
function literal(t: Tokens, a: number, b: number): { value: string; line: number } | undefined {
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
function evalAssigned(t: Tokens, a: number, b: number): Value {
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

interface Assignment {
  name: string;
  line: number;
  value: Value;
}

/** True when token k is one of the names Alembic reads (length first: most names are not). */
function isTarget(t: Tokens, k: number): boolean {
  if (t.kind[k] !== T.Name) return false;
  const len = t.end[k] - t.start[k];
  return (len === 8 || len === 10 || len === 13) && TARGETS.has(t.text(k));
}

/** Module-level (unindented) assignments to the names Alembic reads. */
function topLevelAssignments(t: Tokens): Assignment[] {
  const out: Assignment[] = [];
  const { kind, col, code } = t;
  let k = 0;
  while (k < t.n) {
    let end = k;
    let semicolon = false;
    while (end < t.n && kind[end] !== T.Newline) {
      if (code[end] === C_SEMI) semicolon = true;
      end++;
    }
    if (kind[k] === T.Name && col[k] === 0) {
      if (!semicolon) {
        if (isTarget(t, k)) {
          const a = statement(t, k, end);
          if (a) out.push(a);
        }
      } else if (!COMPOUND.has(t.text(k))) {
        // Simple statements separated by `;` are all top level.
        let depth = 0;
        let s = k;
        for (let j = k; j <= end; j++) {
          const c = j === end ? C_SEMI : code[j];
          if (c <= 0) continue;
          if (c === C_SEMI && depth === 0) {
            const a = isTarget(t, s) ? statement(t, s, j) : undefined;
            if (a) out.push(a);
            s = j + 1;
          } else if (isOpen(c)) depth++;
          else if (isClose(c)) depth--;
        }
      }
    }
    k = end + 1;
  }
  return out;
}

function statement(t: Tokens, s: number, e: number): Assignment | undefined {
  if (t.kind[s] !== T.Name || s + 1 >= e) return undefined;
  const name = t.text(s);
  if (!TARGETS.has(name)) return undefined;
  let valueStart: number;
  if (t.isOp(s + 1, C_EQ)) valueStart = s + 2;
  else if (t.isOp(s + 1, C_COLON)) {
    // Annotated: `down_revision: Union[str, Sequence[str], None] = …`; the annotation may hold brackets.
    let depth = 0;
    let eq = -1;
    for (let k = s + 2; k < e && eq < 0; k++) {
      const c = t.code[k];
      if (isOpen(c)) depth++;
      else if (isClose(c)) depth--;
      else if (c === C_EQ && depth === 0) eq = k;
    }
    if (eq < 0) return undefined; // a bare annotation assigns nothing
    valueStart = eq + 1;
  } else return undefined;
  // Chained `revision = rev = "x"`: the value is after the last `=`.
  let depth = 0;
  for (let k = valueStart; k < e; k++) {
    const c = t.code[k];
    if (isOpen(c)) depth++;
    else if (isClose(c)) depth--;
    else if (c === C_EQ && depth === 0) valueStart = k + 1;
  }
  return { name, line: t.line[s], value: evalAssigned(t, valueStart, e) };
}

/** op.<fn>(table_name, …): the table is the first argument. */
const FIRST_ARG = new Set(['create_table', 'drop_table', 'add_column', 'drop_column', 'alter_column', 'batch_alter_table', 'create_table_comment', 'drop_table_comment', 'rename_table']);
/** Alembic's signatures (constraint_or_index_name, table_name, …): the table is the second argument. */
const SECOND_ARG = new Set(['create_unique_constraint', 'create_check_constraint', 'create_primary_key', 'create_exclude_constraint', 'drop_constraint', 'create_index', 'drop_index', 'rename_table']);

interface Arg {
  kw?: string;
  a: number;
  b: number;
}

/** The arguments of the call whose `(` is at `open`. */
function callArgs(t: Tokens, open: number): { args: Arg[]; end: number } | undefined {
  const close = closing(t, open);
  if (close < 0) return undefined;
  const args: Arg[] = [];
  for (const [a, b] of splitCommas(t, open + 1, close)) {
    if (a === b) continue;
    if (t.kind[a] === T.Name && a + 1 < b && t.isOp(a + 1, C_EQ)) args.push({ kw: t.text(a), a: a + 2, b });
    else args.push({ a, b });
  }
  return { args, end: close };
}

/** The index-th positional argument, unless a `*args` before it makes positions unknowable. */
function nth(t: Tokens, args: Arg[], index: number): Arg | undefined {
  let n = 0;
  for (const arg of args) {
    if (arg.kw) return undefined;
    if (t.isOp(arg.a, C_STAR) || t.code[arg.a] === -C_STAR) return undefined;
    if (n === index) return arg;
    n++;
  }
  return undefined;
}

function keyword(args: Arg[], name: string): Arg | undefined {
  for (const x of args) if (x.kw === name) return x;
  return undefined;
}

/** `text("…")`, `sa.text("…")`, `sqlalchemy.sql.text("…")` (a trailing `.bindparams(…)` is fine): the literal. */
function textCall(t: Tokens, a: number, b: number): { value: string; line: number } | undefined {
  let k = a;
  while (k + 1 < b && t.kind[k] === T.Name && t.isOp(k + 1, C_DOT)) k += 2;
  if (!t.isName(k, 'text') || !t.isOp(k + 1, C_LPAR)) return undefined;
  const call = callArgs(t, k + 1);
  if (!call || call.end >= b) return undefined;
  const first = nth(t, call.args, 0);
  return first ? literal(t, first.a, first.b) : undefined;
}

/** The table part of `table.column` / `schema.table.column`. */
function tableOfColumn(ref: string): string | undefined {
  const dot = ref.lastIndexOf('.');
  return dot > 0 ? ref.slice(0, dot) : undefined;
}

/** The table of a foreign key's `schema.table.column` spec: the schema is everything before the last dot, as in SQLAlchemy. */
function fkTable(table: string): QualifiedName {
  const dot = table.lastIndexOf('.');
  return dot < 0 ? { schema: 'public', name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

interface OpCall {
  t: Tokens;
  args: Arg[];
  file: string;
  action: string;
  out: TableReference[];
}

/** Records the table named by `arg` (a literal), prefixed by the schema keyword when there is one. */
function opTable(r: OpCall, arg: Arg | undefined, schemaKw: string): void {
  if (!arg) return;
  const lit = literal(r.t, arg.a, arg.b);
  if (!lit || !lit.value) return;
  const s = keyword(r.args, schemaKw) ?? (schemaKw === 'source_schema' ? keyword(r.args, 'schema') : undefined);
  const schema = s && literal(r.t, s.a, s.b)?.value;
  r.out.push({ table: schema ? `${schema}.${lit.value}` : lit.value, name: { schema: schema || 'public', name: lit.value }, file: r.file, line: lit.line, via: 'op', action: r.action });
}

function scanReferences(t: Tokens, file: string, tableReferences: TableReference[], embeddedSql: EmbeddedSql[]): void {
  for (let k = 0; k < t.n; k++) {
    if (t.kind[k] !== T.Name || t.code[k + 1] !== C_LPAR) continue;
    const dotted = t.isOp(k - 1, C_DOT);
    if (dotted && t.isName(k, 'execute')) {
      // op.execute("…"), connection.execute(text("…")), op.get_bind().execute(sa.text("…"))
      const call = callArgs(t, k + 1);
      const first = call && nth(t, call.args, 0);
      if (!first) continue;
      const sql = literal(t, first.a, first.b) ?? textCall(t, first.a, first.b);
      if (sql) embeddedSql.push({ sql: sql.value, file, line: sql.line });
      continue;
    }
    if (dotted && t.isName(k - 2, 'op') && !t.isOp(k - 3, C_DOT)) {
      const fn = t.text(k);
      const first = FIRST_ARG.has(fn);
      const second = SECOND_ARG.has(fn);
      const fk = fn === 'create_foreign_key';
      if (!first && !second && !fk) continue; // op.f, op.get_bind, op.execute, op.bulk_insert(table_object, …)
      const call = callArgs(t, k + 1);
      if (!call) continue;
      const r: OpCall = { t, args: call.args, file, action: `op.${fn}`, out: tableReferences };
      if (first) opTable(r, nth(t, call.args, 0), 'schema');
      if (second) opTable(r, nth(t, call.args, 1), 'schema');
      if (fk) {
        opTable(r, nth(t, call.args, 1), 'source_schema');
        opTable(r, nth(t, call.args, 2), 'referent_schema');
      }
      opTable(r, keyword(call.args, 'table_name'), 'schema');
      opTable(r, keyword(call.args, 'source_table'), 'source_schema');
      opTable(r, keyword(call.args, 'referent_table'), 'referent_schema');
      continue;
    }
    if (t.isName(k, 'ForeignKey')) {
      const call = callArgs(t, k + 1);
      const first = call && (nth(t, call.args, 0) ?? keyword(call.args, 'column'));
      const lit = first && literal(t, first.a, first.b);
      const table = lit && tableOfColumn(lit.value);
      if (table) tableReferences.push({ table, name: fkTable(table), file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
      continue;
    }
    if (t.isName(k, 'ForeignKeyConstraint')) {
      const call = callArgs(t, k + 1);
      const refs = call && (nth(t, call.args, 1) ?? keyword(call.args, 'refcolumns'));
      if (!refs) continue;
      if (!(t.isOp(refs.a, C_LSQB) || t.isOp(refs.a, C_LPAR)) || closing(t, refs.a, refs.b) !== refs.b - 1) continue;
      const seen = new Set<string>();
      for (const [pa, pb] of splitCommas(t, refs.a + 1, refs.b - 1)) {
        const lit = literal(t, pa, pb);
        const table = lit && tableOfColumn(lit.value);
        if (table && !seen.has(table)) {
          seen.add(table);
          tableReferences.push({ table, name: fkTable(table), file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
        }
      }
    }
  }
}


/**
 * Parses one Alembic revision file. `text` may be the raw bytes (then invalid UTF-8 is reported) or
 * already-decoded text.
 */
export function parseAlembicSource(service: string, file: string, text: string | Uint8Array): AlembicSourceResult {
  const ctx: Ctx = { service, file, problems: [], broken: false };
  const result: AlembicSourceResult = { tableReferences: [], embeddedSql: [], problems: ctx.problems };
  try {
    const source = sourceText(ctx, text);
    if (source === undefined) return result;
    const t = TOKENS;
    const scan = tokenize(source, t);
    const first = scan.unterminated[0];
    // Only the first: Python stops at the first syntax error, and a later one is usually its tail.
    if (first) {
      report(ctx, first.line, `line ${first.line} starts a ${first.triple ? 'triple-quoted ' : ''}string that is never closed, so Python cannot import the file.`, `Close the string that starts on line ${first.line}.`);
    } else if (scan.unclosed) {
      const u = scan.unclosed;
      report(ctx, u.line, `line ${u.line} opens a "${u.ch}" that is never closed, so Python cannot import the file.`, `Close the bracket opened on line ${u.line}.`);
    }
    ctx.broken = first !== undefined || scan.unclosed !== undefined;
    result.revision = revisionOf(ctx, topLevelAssignments(t));
    scanReferences(t, file, result.tableReferences, result.embeddedSql);
  } catch (err) {
    // A bug here must not take the whole check down: report it against the file.
    report(ctx, undefined, `could not be read: ${(err as Error)?.message ?? String(err)}.`, 'Report this as a tidemark bug, with the file.');
  }
  return result;
}

interface Ctx {
  service: string;
  file: string;
  problems: Diagnostic[];
  /** Not valid Python (reported once): later findings would only be its echoes. */
  broken: boolean;
}

/** One problem; the message continues the file's name (`x.py line 3 …`). */
function report(ctx: Ctx, line: number | undefined, message: string, hint: string): void {
  const base = path.basename(ctx.file);
  ctx.problems.push({ rule: RULE, severity: 'error', service: ctx.service, file: ctx.file, ...(line ? { line } : {}), message: `${base} ${message}`, hint });
}

/** The text to tokenize: UTF-8 checked, NUL bytes refused, BOM dropped, newlines made \n. */
function sourceText(ctx: Ctx, text: string | Uint8Array): string | undefined {
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    // isUtf8 + toString (simdutf) is several times faster than a fatal TextDecoder.
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    if (!isUtf8(bytes)) {
      report(ctx, undefined, 'is not valid UTF-8 text, so it is not a Python revision file tidemark can read.', 'Remove the file from the versions directory, or save it as UTF-8.');
      return undefined;
    }
    source = bytes.toString('utf8');
  }
  const nul = source.indexOf('\0');
  if (nul >= 0) {
    const line = lineAt(source, nul);
    report(ctx, line, `contains a NUL byte at line ${line}, so it is binary, not a Python revision file.`, 'Remove the file from the versions directory (Python cannot import it either).');
    return undefined;
  }
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  if (source.includes('\r')) source = source.replace(/\r\n?/g, '\n'); // CRLF and old-Mac CR, as Python reads them
  return source;
}

/** The last assignment to `name`, as Python keeps it; two of them are a merge gone wrong, so both lines are named. */
function lastOf(ctx: Ctx, all: Assignment[], name: string): Assignment | undefined {
  let last: Assignment | undefined;
  let lines: number[] | undefined;
  for (const a of all) {
    if (a.name !== name) continue;
    if (last) (lines ??= [last.line]).push(a.line);
    last = a;
  }
  if (lines && last) {
    // A generated or corrupted file may repeat it thousands of times: name a few lines, not all.
    const head = lines.length > 6 ? [...lines.slice(0, 5), '…'] : lines.slice(0, -1);
    const shown = `lines ${head.join(', ')} and ${lines[lines.length - 1]}`;
    report(ctx, last.line, `assigns ${name} ${lines.length} times (${shown}); Python keeps only the last one.`, `Keep one \`${name} = …\` line in ${path.basename(ctx.file)}.`);
  }
  return last;
}

const EXAMPLES: Record<string, string> = { down_revision: '"1f4f4176aeb7"', depends_on: 'None', branch_labels: '("label",)' };

/** The ids of a down_revision / depends_on / branch_labels value (none when absent), or undefined when unreadable. */
function idsOf(ctx: Ctx, a: Assignment | undefined): { value: string; line: number }[] | undefined {
  if (!a) return [];
  const v = a.value;
  if (v.kind === 'none') return [];
  if (v.kind === 'str') return [{ value: v.value, line: v.line }];
  if (v.kind === 'seq') return v.items;
  if (v.kind === 'bad' && !ctx.broken) {
    report(
      ctx,
      a.line,
      `line ${a.line} sets ${a.name} to ${v.what}, not a string, None, or a tuple or list of strings that tidemark can read without running Python.`,
      `Write ${a.name} as a literal, e.g. ${a.name} = ${EXAMPLES[a.name]}.`,
    );
  }
  return undefined;
}

function revisionOf(ctx: Ctx, all: Assignment[]): Revision | undefined {
  const rev = lastOf(ctx, all, 'revision');
  const down = lastOf(ctx, all, 'down_revision');
  const labels = lastOf(ctx, all, 'branch_labels');
  const deps = lastOf(ctx, all, 'depends_on');
  const parents = idsOf(ctx, down);
  const dependsOn = idsOf(ctx, deps);
  const branchLabels = idsOf(ctx, labels);
  if (!rev) {
    if (!ctx.broken) {
      report(ctx, undefined, 'has no module-level `revision = "…"` assignment, so it is not a revision Alembic can load.', 'Add `revision = "<id>"` at the top level of the file, or move the file out of the versions directory.');
    }
    return undefined;
  }
  if (rev.value.kind !== 'str') {
    if (rev.value.kind !== 'broken' && !ctx.broken) {
      const what = rev.value.kind === 'none' ? 'None' : rev.value.what;
      report(ctx, rev.line, `line ${rev.line} sets revision to ${what}, not a string.`, 'Write the revision id as a string literal, e.g. revision = "ae1027a6acf".');
    }
    return undefined;
  }
  if (rev.value.value.trim() === '') {
    report(ctx, rev.line, `line ${rev.line} sets revision to an empty string.`, 'Give the revision an id, e.g. revision = "ae1027a6acf".');
    return undefined;
  }
  if (!down && !ctx.broken) {
    report(ctx, rev.line, 'has a revision but no module-level down_revision, so Alembic fails to load it.', 'Add `down_revision = None` for a first revision, or the id of its parent.');
  }
  const refLines: Record<string, number> = {};
  for (const list of [parents, dependsOn]) for (const x of list ?? []) if (!(x.value in refLines)) refLines[x.value] = x.line;
  const labelLines: Record<string, number> = {};
  for (const x of branchLabels ?? []) if (!(x.value in labelLines)) labelLines[x.value] = x.line;
  return {
    service: ctx.service,
    id: rev.value.value,
    file: ctx.file,
    line: rev.line,
    parents: (parents ?? []).map((x) => x.value),
    dependsOn: (dependsOn ?? []).map((x) => x.value),
    branchLabels: (branchLabels ?? []).map((x) => x.value),
    refLines,
    labelLines,
    format: 'alembic',
  };
}

function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i >= 0 && i < index; i = s.indexOf('\n', i + 1)) line++;
  return line;
}
