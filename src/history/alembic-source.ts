import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
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
  Name,
  Number,
  String,
  Op,
  Newline,
}

const F_BYTES = 1;
const F_RAW = 2;
const F_FORMAT = 4;
/** Unterminated: already reported, never evaluated again. */
const F_BAD = 8;

interface Tok {
  t: T;
  /** Name/op/number text; for a string, the raw body between the quotes (decoded lazily). */
  v: string;
  line: number;
  col: number;
  flags: number;
}

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'tr', 'rt']);
/** A logical line starting with one of these is a compound statement: what follows `:` is not top level. */
const COMPOUND = new Set(['if', 'elif', 'else', 'for', 'while', 'with', 'def', 'class', 'try', 'except', 'finally', 'async', 'match', 'case', 'del', 'global', 'nonlocal', 'lambda', 'return', 'assert', 'import', 'from', 'raise', 'pass']);
const TARGETS = new Set(['revision', 'down_revision', 'branch_labels', 'depends_on']);

interface Scan {
  toks: Tok[];
  /** Start line of each unterminated string; the file is not valid Python. */
  unterminated: { line: number; triple: boolean }[];
  unclosed?: { ch: string; line: number };
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}
function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57);
}

/** Tokenizes Python source (newlines already normalized to \n). */
function tokenize(s: string): Scan {
  const toks: Tok[] = [];
  const unterminated: Scan['unterminated'] = [];
  const n = s.length;
  const stack: { ch: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let lineHasTokens = false;

  // Scans a string whose opening quote is at q; returns the index after the closing quote.
  const scanString = (q: number, flags: number): number => {
    const quote = s.charCodeAt(q);
    const triple = s.charCodeAt(q + 1) === quote && s.charCodeAt(q + 2) === quote;
    const startLine = line;
    const startCol = q - lineStart;
    const bodyStart = q + (triple ? 3 : 1);
    let j = bodyStart;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 92 /* \ */) {
        if (s.charCodeAt(j + 1) === 10) {
          line++;
          lineStart = j + 2;
        }
        j += 2;
        continue;
      }
      if (c === 10) {
        if (!triple) break;
        line++;
        lineStart = j + 1;
        j++;
        continue;
      }
      if (c === quote && (!triple || (s.charCodeAt(j + 1) === quote && s.charCodeAt(j + 2) === quote))) {
        toks.push({ t: T.String, v: s.slice(bodyStart, j), line: startLine, col: startCol, flags });
        return j + (triple ? 3 : 1);
      }
      if (c === 123 /* { */ && flags & F_FORMAT) {
        if (s.charCodeAt(j + 1) === 123) {
          j += 2;
          continue;
        }
        j = skipFormatExpression(j + 1);
        continue;
      }
      j++;
    }
    // Unterminated: a one-line string stops at the newline (so later lines still tokenize), a triple one at EOF.
    unterminated.push({ line: startLine, triple });
    toks.push({ t: T.String, v: s.slice(bodyStart, Math.min(j, n)), line: startLine, col: startCol, flags: flags | F_BAD });
    return Math.min(j, n);
  };

  // Inside an f-string's {…}: brackets and nested strings (Python 3.12 allows the same quote again).
  const skipFormatExpression = (j: number): number => {
    let depth = 0;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 39 || c === 34) {
        const before = toks.length;
        j = scanString(j, 0);
        toks.length = before; // nested strings are not tokens of the file
        continue;
      }
      if (c === 10) {
        line++;
        lineStart = j + 1;
      } else if (c === 40 || c === 91 || c === 123) depth++;
      else if (c === 41 || c === 93) depth--;
      else if (c === 125) {
        if (depth === 0) return j + 1;
        depth--;
      }
      j++;
    }
    return j;
  };

  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = ++i;
      if (stack.length === 0 && lineHasTokens) {
        toks.push({ t: T.Newline, v: '', line: line - 1, col: 0, flags: 0 });
        lineHasTokens = false;
      }
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
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNameChar(s.charCodeAt(j))) j++;
      const word = s.slice(i, j);
      const q = s.charCodeAt(j);
      if ((q === 39 || q === 34) && j - i <= 2 && STRING_PREFIXES.has(word.toLowerCase())) {
        const p = word.toLowerCase();
        const flags = (p.includes('b') ? F_BYTES : 0) | (p.includes('r') ? F_RAW : 0) | (p.includes('f') || p.includes('t') ? F_FORMAT : 0);
        const col = i - lineStart;
        const at = toks.length;
        i = scanString(j, flags);
        if (toks[at]) toks[at].col = col;
        continue;
      }
      toks.push({ t: T.Name, v: word, line, col: i - lineStart, flags: 0 });
      i = j;
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
      toks.push({ t: T.Number, v: s.slice(i, j), line, col: i - lineStart, flags: 0 });
      i = j;
      continue;
    }
    if (c === 39 || c === 34) {
      i = scanString(i, 0);
      continue;
    }
    // Operators: only `=` must stay apart from `==`, `<=`, `:=`, `+=`, … for assignments to be found.
    let j = i + 1;
    const ch = s[i];
    if ('([{'.includes(ch)) stack.push({ ch, line });
    else if (')]}'.includes(ch)) stack.pop();
    else {
      const d = s[j];
      if ((ch === '*' || ch === '/' || ch === '<' || ch === '>') && d === ch) j++;
      else if (ch === '-' && d === '>') j++;
      if (s[j] === '=' && '=!<>:+-*/%&|^@'.includes(ch)) j++;
    }
    toks.push({ t: T.Op, v: s.slice(i, j), line, col: i - lineStart, flags: 0 });
    i = j;
  }
  if (lineHasTokens) toks.push({ t: T.Newline, v: '', line, col: 0, flags: 0 });
  return { toks, unterminated, unclosed: stack[0] };
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

/** The value of a string token's body, escapes applied as Python does (raw strings keep them). */
function decode(tok: Tok): string {
  const body = tok.v;
  if (tok.flags & F_RAW || !body.includes('\\')) return body;
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
    else if (e === 'x' || (!(tok.flags & F_BYTES) && (e === 'u' || e === 'U'))) {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === len ? parseInt(hex, 16) : NaN;
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

/** Index of the bracket closing the one at `open`, or -1. */
function closing(toks: Tok[], open: number, end = toks.length): number {
  let depth = 0;
  for (let k = open; k < end; k++) {
    const t = toks[k];
    if (t.t !== T.Op) continue;
    const v = t.v;
    if (v === '(' || v === '[' || v === '{') depth++;
    else if (v === ')' || v === ']' || v === '}') {
      if (--depth === 0) return k;
    }
  }
  return -1;
}

/** Splits [a, b) on commas at bracket depth 0. */
function splitCommas(toks: Tok[], a: number, b: number): [number, number][] {
  const parts: [number, number][] = [];
  let depth = 0;
  let start = a;
  for (let k = a; k < b; k++) {
    const t = toks[k];
    if (t.t !== T.Op) continue;
    const v = t.v;
    if (v === '(' || v === '[' || v === '{') depth++;
    else if (v === ')' || v === ']' || v === '}') depth--;
    else if (v === ',' && depth === 0) {
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
function literal(toks: Tok[], a: number, b: number): { value: string; line: number } | undefined {
  if (a >= b) return undefined;
  let value = '';
  for (let k = a; k < b; k++) {
    const t = toks[k];
    if (t.t !== T.String || t.flags & (F_BYTES | F_FORMAT | F_BAD)) return undefined;
    value += decode(t);
  }
  return { value, line: toks[a].line };
}

function describe(toks: Tok[], a: number, b: number): string {
  const t = toks[a];
  if (b - a === 1) {
    if (t.t === T.Number) return `a number (${t.v})`;
    if (t.t === T.Name) return t.v === 'True' || t.v === 'False' ? `a boolean (${t.v})` : `a variable (${t.v})`;
    if (t.t === T.String) return t.flags & F_BYTES ? 'a bytes literal' : t.flags & F_FORMAT ? 'an f-string' : 'a string';
  }
  if (toks.slice(a, b).every((x) => x.t === T.String)) {
    return toks.slice(a, b).some((x) => x.flags & F_BYTES) ? 'a bytes literal' : 'an f-string';
  }
  if (t.t === T.Op && t.v === '{') return 'a set or dict';
  if (t.t === T.Name && toks[a + 1]?.v === '(' && closing(toks, a + 1, b) === b - 1) return `a call to ${t.v}()`;
  return 'an expression';
}

function evalValue(toks: Tok[], a: number, b: number): Value {
  for (let k = a; k < b; k++) if (toks[k].flags & F_BAD) return { kind: 'broken' };
  if (a >= b) return { kind: 'bad', what: 'empty' };
  const parts = splitCommas(toks, a, b);
  if (parts.length > 1) return evalSeq(toks, parts, 'a tuple'); // bare tuple: `x = "a", "b"`
  const t = toks[a];
  if (b - a === 1 && t.t === T.Name && t.v === 'None') return { kind: 'none' };
  const lit = literal(toks, a, b);
  if (lit) return { kind: 'str', ...lit };
  if (t.t === T.Op && (t.v === '(' || t.v === '[') && closing(toks, a, b) === b - 1) {
    const inner = splitCommas(toks, a + 1, b - 1);
    if (t.v === '[') return evalSeq(toks, inner, 'a list');
    if (inner.length === 1 && inner[0][0] === inner[0][1]) return { kind: 'seq', what: 'a tuple', items: [] };
    if (inner.length === 1) return evalValue(toks, a + 1, b - 1); // parenthesized expression
    return evalSeq(toks, inner, 'a tuple');
  }
  return { kind: 'bad', what: describe(toks, a, b) };
}

function evalSeq(toks: Tok[], parts: [number, number][], what: 'a tuple' | 'a list'): Value {
  // A trailing comma leaves an empty last part.
  if (parts.length > 0 && parts[parts.length - 1][0] === parts[parts.length - 1][1]) parts = parts.slice(0, -1);
  const items: { value: string; line: number }[] = [];
  for (const [pa, pb] of parts) {
    if (pa === pb) return { kind: 'bad', what: `${what} with an empty element` };
    const v = evalValue(toks, pa, pb);
    if (v.kind === 'str') items.push({ value: v.value, line: v.line });
    else if (v.kind === 'broken') return v;
    else return { kind: 'bad', what: `${what} containing ${v.kind === 'none' ? 'None' : v.kind === 'seq' ? v.what : v.what}` };
  }
  return { kind: 'seq', what, items };
}

interface Assignment {
  name: string;
  line: number;
  value: Value;
}

/** Module-level (unindented) assignments to the names Alembic reads. */
function topLevelAssignments(toks: Tok[]): Assignment[] {
  const out: Assignment[] = [];
  let k = 0;
  while (k < toks.length) {
    let end = k;
    while (end < toks.length && toks[end].t !== T.Newline) end++;
    const first = toks[k];
    if (first && first.col === 0 && first.t === T.Name && !COMPOUND.has(first.v)) {
      // Simple statements separated by `;` are all top level.
      let depth = 0;
      let s = k;
      for (let j = k; j <= end; j++) {
        const t = toks[j];
        if (j === end || (t.t === T.Op && t.v === ';' && depth === 0)) {
          const a = statement(toks, s, j);
          if (a) out.push(a);
          s = j + 1;
        } else if (t.t === T.Op) {
          if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
          else if (t.v === ')' || t.v === ']' || t.v === '}') depth--;
        }
      }
    }
    k = end + 1;
  }
  return out;
}

function statement(toks: Tok[], s: number, e: number): Assignment | undefined {
  const name = toks[s];
  if (!name || name.t !== T.Name || !TARGETS.has(name.v) || s + 1 >= e) return undefined;
  const op = toks[s + 1];
  if (op.t !== T.Op) return undefined;
  let valueStart: number;
  if (op.v === '=') valueStart = s + 2;
  else if (op.v === ':') {
    // Annotated: `down_revision: Union[str, Sequence[str], None] = …`; the annotation may hold brackets.
    let depth = 0;
    let eq = -1;
    for (let k = s + 2; k < e; k++) {
      const t = toks[k];
      if (t.t !== T.Op) continue;
      if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
      else if (t.v === ')' || t.v === ']' || t.v === '}') depth--;
      else if (t.v === '=' && depth === 0) {
        eq = k;
        break;
      }
    }
    if (eq < 0) return undefined; // a bare annotation assigns nothing
    valueStart = eq + 1;
  } else return undefined;
  // Chained `revision = rev = "x"`: the value is after the last `=`.
  let depth = 0;
  for (let k = valueStart; k < e; k++) {
    const t = toks[k];
    if (t.t !== T.Op) continue;
    if (t.v === '(' || t.v === '[' || t.v === '{') depth++;
    else if (t.v === ')' || t.v === ']' || t.v === '}') depth--;
    else if (t.v === '=' && depth === 0) valueStart = k + 1;
  }
  return { name: name.v, line: name.line, value: evalValue(toks, valueStart, e) };
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
function callArgs(toks: Tok[], open: number): { args: Arg[]; end: number } | undefined {
  const close = closing(toks, open);
  if (close < 0) return undefined;
  const args: Arg[] = [];
  for (const [a, b] of splitCommas(toks, open + 1, close)) {
    if (a === b) continue;
    if (toks[a].t === T.Name && toks[a + 1]?.t === T.Op && toks[a + 1].v === '=' && a + 1 < b) args.push({ kw: toks[a].v, a: a + 2, b });
    else args.push({ a, b });
  }
  return { args, end: close };
}

function nth(toks: Tok[], args: Arg[], index: number): Arg | undefined {
  let n = 0;
  for (const arg of args) {
    if (arg.kw) return undefined;
    const t = toks[arg.a];
    if (t.t === T.Op && (t.v === '*' || t.v === '**')) return undefined;
    if (n === index) return arg;
    n++;
  }
  return undefined;
}

function keyword(args: Arg[], name: string): Arg | undefined {
  return args.find((x) => x.kw === name);
}

/** `text("…")`, `sa.text("…")`, `sqlalchemy.sql.text("…")` (a trailing `.bindparams(…)` is fine): the literal. */
function textCall(toks: Tok[], a: number, b: number): { value: string; line: number } | undefined {
  let k = a;
  while (k + 1 < b && toks[k].t === T.Name && toks[k + 1].t === T.Op && toks[k + 1].v === '.') k += 2;
  if (toks[k]?.t !== T.Name || toks[k].v !== 'text' || toks[k + 1]?.v !== '(') return undefined;
  const call = callArgs(toks, k + 1);
  if (!call || call.end >= b) return undefined;
  const first = nth(toks, call.args, 0);
  return first ? literal(toks, first.a, first.b) : undefined;
}

/** The table part of `table.column` / `schema.table.column`. */
function tableOfColumn(ref: string): string | undefined {
  const dot = ref.lastIndexOf('.');
  return dot > 0 ? ref.slice(0, dot) : undefined;
}

function scanReferences(toks: Tok[], file: string): { tableReferences: TableReference[]; embeddedSql: EmbeddedSql[] } {
  const tableReferences: TableReference[] = [];
  const embeddedSql: EmbeddedSql[] = [];
  const isOp = (k: number, v: string) => toks[k]?.t === T.Op && toks[k].v === v;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.t !== T.Name || !isOp(k + 1, '(')) continue;
    const dotted = isOp(k - 1, '.');
    if (t.v === 'execute' && dotted) {
      // op.execute("…"), connection.execute(text("…")), op.get_bind().execute(sa.text("…"))
      const call = callArgs(toks, k + 1);
      const first = call && nth(toks, call.args, 0);
      if (!first) continue;
      const sql = literal(toks, first.a, first.b) ?? textCall(toks, first.a, first.b);
      if (sql) embeddedSql.push({ sql: sql.value, file, line: sql.line });
      continue;
    }
    if (dotted && toks[k - 2]?.t === T.Name && toks[k - 2].v === 'op' && !isOp(k - 3, '.')) {
      const call = callArgs(toks, k + 1);
      if (!call) continue;
      const action = `op.${t.v}`;
      const add = (arg: Arg | undefined, schemaKw: string[]) => {
        if (!arg) return;
        const lit = literal(toks, arg.a, arg.b);
        if (!lit || !lit.value) return;
        let schema: string | undefined;
        for (const kw of schemaKw) {
          const s = keyword(call.args, kw);
          const sl = s && literal(toks, s.a, s.b);
          if (sl?.value) {
            schema = sl.value;
            break;
          }
        }
        tableReferences.push({ table: schema ? `${schema}.${lit.value}` : lit.value, file, line: lit.line, via: 'op', action });
      };
      if (FIRST_ARG.has(t.v)) add(nth(toks, call.args, 0), ['schema']);
      if (SECOND_ARG.has(t.v)) add(nth(toks, call.args, 1), ['schema']);
      if (t.v === 'create_foreign_key') {
        add(nth(toks, call.args, 1), ['source_schema']);
        add(nth(toks, call.args, 2), ['referent_schema']);
      }
      add(keyword(call.args, 'table_name'), ['schema']);
      add(keyword(call.args, 'source_table'), ['source_schema', 'schema']);
      add(keyword(call.args, 'referent_table'), ['referent_schema']);
      continue;
    }
    if (t.v === 'ForeignKey') {
      const call = callArgs(toks, k + 1);
      const first = call && (nth(toks, call.args, 0) ?? keyword(call.args, 'column'));
      const lit = first && literal(toks, first.a, first.b);
      const table = lit && tableOfColumn(lit.value);
      if (table) tableReferences.push({ table, file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
      continue;
    }
    if (t.v === 'ForeignKeyConstraint') {
      const call = callArgs(toks, k + 1);
      const refs = call && (nth(toks, call.args, 1) ?? keyword(call.args, 'refcolumns'));
      if (!refs) continue;
      const open = toks[refs.a];
      if (open.t !== T.Op || (open.v !== '[' && open.v !== '(') || closing(toks, refs.a, refs.b) !== refs.b - 1) continue;
      const seen = new Set<string>();
      for (const [pa, pb] of splitCommas(toks, refs.a + 1, refs.b - 1)) {
        const lit = literal(toks, pa, pb);
        const table = lit && tableOfColumn(lit.value);
        if (table && !seen.has(table)) {
          seen.add(table);
          tableReferences.push({ table, file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
        }
      }
    }
  }
  return { tableReferences, embeddedSql };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses one Alembic revision file. `text` may be the raw bytes (then invalid UTF-8 is reported) or
 * already-decoded text.
 */
export function parseAlembicSource(service: string, file: string, text: string | Uint8Array): AlembicSourceResult {
  const base = path.basename(file);
  const problems: Diagnostic[] = [];
  const result: AlembicSourceResult = { tableReferences: [], embeddedSql: [], problems };
  const problem = (line: number | undefined, message: string, hint: string) =>
    problems.push({ rule: RULE, severity: 'error', service, file, ...(line ? { line } : {}), message, hint });
  try {
    let source: string;
    if (typeof text === 'string') source = text;
    else {
      try {
        source = decoder.decode(text);
      } catch {
        problem(undefined, `${base} is not valid UTF-8 text, so it is not a Python revision file tidemark can read.`, 'Remove the file from the versions directory, or save it as UTF-8.');
        return result;
      }
    }
    const nul = source.indexOf('\0');
    if (nul >= 0) {
      const line = lineAt(source, nul);
      problem(line, `${base} contains a NUL byte at line ${line}, so it is binary, not a Python revision file.`, 'Remove the file from the versions directory (Python cannot import it either).');
      return result;
    }
    if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
    if (source.includes('\r')) source = source.replace(/\r\n?/g, '\n'); // CRLF and old-Mac CR, as Python reads them

    const scan = tokenize(source);
    for (const u of scan.unterminated) {
      problem(
        u.line,
        `${base} line ${u.line} starts a ${u.triple ? 'triple-quoted ' : ''}string that is never closed, so Python cannot import the file.`,
        `Close the string that starts on line ${u.line}.`,
      );
    }
    if (scan.unclosed && scan.unterminated.length === 0) {
      problem(scan.unclosed.line, `${base} line ${scan.unclosed.line} opens a "${scan.unclosed.ch}" that is never closed, so Python cannot import the file.`, `Close the bracket opened on line ${scan.unclosed.line}.`);
    }
    const broken = scan.unterminated.length > 0 || scan.unclosed !== undefined;

    const byName = new Map<string, Assignment[]>();
    for (const a of topLevelAssignments(scan.toks)) {
      const list = byName.get(a.name) ?? [];
      list.push(a);
      byName.set(a.name, list);
    }
    // Python keeps the last assignment; two of them are a merge gone wrong, so name both lines.
    const last = (name: string): Assignment | undefined => {
      const list = byName.get(name);
      if (!list) return undefined;
      if (list.length > 1) {
        const lines = list.map((a) => a.line);
        const shown = lines.length === 2 ? `lines ${lines[0]} and ${lines[1]}` : `lines ${lines.slice(0, -1).join(', ')} and ${lines[lines.length - 1]}`;
        problem(lines[lines.length - 1], `${base} assigns ${name} ${lines.length} times (${shown}); Python keeps only the last one.`, `Keep one \`${name} = …\` line in ${base}.`);
      }
      return list[list.length - 1];
    };
    const ids = (a: Assignment | undefined, allowNone: boolean): { values: string[]; lines: number[] } | undefined => {
      if (!a) return { values: [], lines: [] };
      const v = a.value;
      if (v.kind === 'broken') return undefined;
      if (v.kind === 'none' && allowNone) return { values: [], lines: [] };
      if (v.kind === 'str') return { values: [v.value], lines: [v.line] };
      if (v.kind === 'seq') return { values: v.items.map((x) => x.value), lines: v.items.map((x) => x.line) };
      const what = v.kind === 'none' ? 'None' : v.kind === 'bad' ? v.what : 'invalid';
      problem(
        a.line,
        `${base} line ${a.line} sets ${a.name} to ${what}, not a string, None, or a tuple or list of strings that tidemark can read without running Python.`,
        `Write ${a.name} as a literal, e.g. ${a.name} = ${a.name === 'down_revision' ? '"1f4f4176aeb7"' : a.name === 'depends_on' ? 'None' : '("label",)'}.`,
      );
      return undefined;
    };

    const rev = last('revision');
    const down = last('down_revision');
    const labels = last('branch_labels');
    const deps = last('depends_on');
    let id: string | undefined;
    if (!rev) {
      if (!broken) {
        problem(undefined, `${base} has no module-level \`revision = "…"\` assignment, so it is not a revision Alembic can load.`, 'Add `revision = "<id>"` at the top level of the file, or move the file out of the versions directory.');
      }
    } else if (rev.value.kind === 'str') {
      if (rev.value.value.trim() === '') problem(rev.line, `${base} line ${rev.line} sets revision to an empty string.`, 'Give the revision an id, e.g. revision = "ae1027a6acf".');
      else id = rev.value.value;
    } else if (rev.value.kind !== 'broken') {
      const what = rev.value.kind === 'none' ? 'None' : rev.value.kind === 'seq' ? rev.value.what : rev.value.what;
      problem(rev.line, `${base} line ${rev.line} sets revision to ${what}, not a string.`, 'Write the revision id as a string literal, e.g. revision = "ae1027a6acf".');
    }
    const parents = ids(down, true);
    const dependsOn = ids(deps, true);
    const branchLabels = ids(labels, true);
    if (id !== undefined && !down && !broken) {
      problem(rev!.line, `${base} has a revision but no module-level down_revision, so Alembic fails to load it.`, 'Add `down_revision = None` for a first revision, or the id of its parent.');
    }
    if (id !== undefined) {
      const refLines: Record<string, number> = {};
      for (const r of [parents, dependsOn]) {
        r?.values.forEach((v, i) => {
          if (!(v in refLines)) refLines[v] = r.lines[i];
        });
      }
      result.revision = {
        service,
        id,
        file,
        line: rev!.line,
        parents: parents?.values ?? [],
        dependsOn: dependsOn?.values ?? [],
        branchLabels: branchLabels?.values ?? [],
        refLines,
        format: 'alembic',
      };
    }
    const refs = scanReferences(scan.toks, file);
    result.tableReferences = refs.tableReferences;
    result.embeddedSql = refs.embeddedSql;
  } catch (err) {
    // A bug here must not take the whole check down: report it against the file.
    problem(undefined, `${base} could not be read: ${(err as Error)?.message ?? String(err)}.`, 'Report this as a tidemark bug, with the file.');
  }
  return result;
}

function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i >= 0 && i < index; i = s.indexOf('\n', i + 1)) line++;
  return line;
}
