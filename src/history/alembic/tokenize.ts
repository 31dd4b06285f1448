// A Python tokenizer over typed arrays, just enough of Python's lexical rules (strings of every
// form, comments, brackets, continuations) to find module-level assignments and calls. Hot: it reads every
// revision file on each `tidemark check --alembic`.

// biome-ignore lint/suspicious/noConstEnum: tsc inlines it into this hot loop; the build is tsc, not an isolated-modules transpiler
export const enum T {
  Name = 1,
  Number,
  String,
  Op,
  Newline,
}

export const F_BYTES = 1;
export const F_RAW = 2;
export const F_FORMAT = 4;
/** Unterminated: already reported, never evaluated. */
export const F_BAD = 8;

/**
 * Tokens as parallel typed arrays, reused from call to call (parsing is synchronous), so that 10,000
 * files or one 1 MB file make almost no garbage. `code` is the char code of a one-character operator,
 * minus the first char's code for a longer one (`==` is -61, never `=`), 0 otherwise.
 */
export class Tokens {
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

export const TOKENS = new Tokens();

export const C_LPAR = 40;
const C_RPAR = 41;
export const C_LSQB = 91;
const C_RSQB = 93;
export const C_LBRACE = 123;
const C_RBRACE = 125;
export const C_COMMA = 44;
export const C_DOT = 46;
export const C_EQ = 61;
export const C_COLON = 58;
export const C_SEMI = 59;
export const C_STAR = 42;

export const isOpen = (c: number) => c === C_LPAR || c === C_LSQB || c === C_LBRACE;
export const isClose = (c: number) => c === C_RPAR || c === C_RSQB || c === C_RBRACE;

export interface Scan {
  /** Start line of each unterminated string; the file is not valid Python. */
  unterminated: { line: number; triple: boolean }[];
  unclosed?: { ch: string; line: number };
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
export function tokenize(s: string, t: Tokens): Scan {
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
      if ((c === 42 || c === 47 || c === 60 || c === 62) && d === c)
        j++; // ** // << >>
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
