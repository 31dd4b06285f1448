/**
 * ndjson → CSV, streaming, for restore (issue 4): each `row_to_json` line of a backup becomes one CSV
 * record in the backup's column order, so the server runs a plain `COPY … (FORMAT csv)` (as for a
 * csv backup) instead of parsing JSON in SQL, while Node converts on the other core.
 *
 * Values are never turned into JavaScript numbers: the JSON is tokenized and each value's text kept.
 * - numbers, `true`/`false`: their JSON text as is (numeric/bigint keep every digit; `-0`, `1e400`);
 * - strings: unescaped (`\n`, `\"`, `\uXXXX`, surrogate pairs) — dates, uuids, enums, bytea's `\x…`,
 *   ranges and the non-finite `"NaN"`/`"Infinity"` are strings in row_to_json, and valid COPY input;
 * - json/jsonb columns (`kind: 'json'`): the raw JSON text exactly as row_to_json emitted it, i.e. the
 *   column's own text (a `json` value's spaces and key order included);
 * - arrays (`kind: 'array'`): the JSON array rewritten as a PostgreSQL array literal (`{…}`, nested for
 *   several dimensions, strings double-quoted with `\` and `"` escaped, `null` → NULL), using the
 *   element type's delimiter (`,`, or another printable ASCII character but `" \ { }`: box uses `;`;
 *   see `isArrayDelimiter`);
 * - `null` → NULL (an unquoted empty CSV field); every other value is quoted, so '' stays ''.
 * A json/jsonb column holding the JSON literal `null` is indistinguishable from SQL NULL in
 * row_to_json's output; it comes back as NULL (as on the json staging path) and the digest says so.
 *
 * Composite values, arrays of json/jsonb or composites, arrays whose element type has another
 * delimiter (a base type made with `CREATE TYPE … DELIMITER = ' '`), and types with their own cast to
 * json are NOT converted: restore keeps the json staging path for tables having such columns (see classifyColumns
 * in restore.ts). A line that does not have the expected shape throws, naming file and line.
 *
 * Pure logic, no I/O (the stream helper only transforms an iterable it is given).
 */
import { TidemarkError } from '../errors.js';

export type CsvColumnKind = 'scalar' | 'json' | 'array';

export interface CsvColumn {
  name: string;
  kind: CsvColumnKind;
  /** Array element delimiter (pg_type.typdelim of the element type, one ASCII character); default ','. */
  delimiter?: string;
}

// It works on UTF-8 bytes, never decoding to JS strings: JSON's structural characters are ASCII, and
// the bytes of a string's text are copied as they are (only escapes are rewritten).
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const NEWLINE = 0x0a;

class LineError extends Error {}

/**
 * Whether an array of an element type with this delimiter (pg_type.typdelim) can be written as a CSV
 * array literal here: one printable ASCII character other than `"`, `\`, `{` and `}`, which the literal
 * itself uses (a space or a control character would also be taken for the whitespace array_in skips).
 */
export function isArrayDelimiter(delimiter: string): boolean {
  if (delimiter.length !== 1) return false;
  const d = delimiter.charCodeAt(0);
  return d > 0x20 && d < 0x7f && d !== QUOTE && d !== BACKSLASH && d !== LBRACE && d !== RBRACE;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** Converts ndjson lines into CSV records written into a growing output buffer. */
class NdjsonToCsv {
  /** Each column's name as row_to_json writes the key (`"name"`, JSON-escaped), for a byte compare. */
  private readonly keys: Buffer[];
  private readonly index = new Map<string, number>();
  private readonly delimiters: number[];
  /** Per column of the current line: the [start, end) of its CSV field in `out`, by column index. */
  private readonly fieldStart: Int32Array;
  private readonly fieldEnd: Int32Array;
  private readonly seenAt: Int32Array;
  private lineNo = 0;
  private s: Uint8Array = new Uint8Array(0);
  private p = 0;
  private end = 0;
  /** Output: complete records in [0, outLen); the current line is written at [outLen, w). */
  out: Buffer = Buffer.allocUnsafe(1 << 20);
  outLen = 0;
  private w = 0;
  /** Only for a line whose keys come out of column order (never from row_to_json): its fields, reordered. */
  private reorder: Buffer = Buffer.allocUnsafe(0);

  constructor(private readonly columns: readonly CsvColumn[]) {
    this.keys = columns.map((c) => Buffer.from(JSON.stringify(c.name), 'utf8'));
    columns.forEach((c, i) => this.index.set(c.name, i));
    this.delimiters = columns.map((c) => {
      // restore sends a table with any other delimiter through the json staging path (classifyColumns)
      if (!isArrayDelimiter(c.delimiter ?? ',')) {
        throw new TidemarkError('unexpected', `Array delimiter ${JSON.stringify(c.delimiter)} of column ${c.name} cannot be written as CSV (a bug in the caller).`);
      }
      return (c.delimiter ?? ',').charCodeAt(0);
    });
    this.fieldStart = new Int32Array(columns.length);
    this.fieldEnd = new Int32Array(columns.length);
    this.seenAt = new Int32Array(columns.length);
  }

  /** The CSV header line (quoted column names), with its newline. */
  header(): Buffer {
    return Buffer.from(`${this.columns.map((c) => `"${c.name.replaceAll('"', '""')}"`).join(',')}\n`, 'utf8');
  }

  /** Converts the line s[start, end) (no newline) and appends its CSV record to `out`. */
  line(s: Uint8Array, start: number, end: number): void {
    this.lineNo++;
    this.s = s;
    this.p = start;
    this.end = end;
    // Worst case per byte: a `"` becomes `""` (or `\""` inside an array, from `\"`): 2x, plus quotes.
    this.w = this.outLen;
    this.reserve(2 * (end - start) + 4 * this.columns.length + 16);
    const n = this.columns.length;
    this.seenAt.fill(-1);
    this.ws();
    this.expect(LBRACE);
    this.ws();
    let seen = 0;
    let inOrder = true;
    if (this.peek() === RBRACE) {
      this.p++;
    } else {
      for (;;) {
        this.ws();
        if (this.peek() !== QUOTE) throw new LineError(`expected a column name at byte ${this.p - start + 1}`);
        // Keys come in the manifest's order: compare with the expected column's bytes first.
        let i = seen < n && this.matchKey(this.keys[seen]) ? seen : -1;
        if (i < 0) {
          const key = this.decodeString();
          const found = this.index.get(key);
          if (found === undefined) throw new LineError(`column ${JSON.stringify(key)} is not in the manifest`);
          i = found;
        }
        if (this.seenAt[i] >= 0) throw new LineError(`column ${this.columns[i].name} appears twice`);
        this.seenAt[i] = seen;
        this.ws();
        this.expect(COLON);
        if (seen) this.put(COMMA);
        this.fieldStart[i] = this.w;
        this.value(i);
        this.fieldEnd[i] = this.w;
        if (i !== seen) inOrder = false;
        seen++;
        this.ws();
        const c = this.peek();
        this.p++;
        if (c === COMMA) continue;
        if (c === RBRACE) break;
        throw new LineError(`expected , or } at byte ${this.p - start}`);
      }
    }
    this.ws();
    if (this.p !== end) throw new LineError(`unexpected text after the object at byte ${this.p - start + 1}`);
    if (seen !== n) {
      const missing = this.columns.filter((_, i) => this.seenAt[i] < 0).map((c) => c.name);
      throw new LineError(`missing column${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`);
    }
    if (!inOrder) {
      // Put the fields in the manifest's column order.
      const lineStart = this.outLen;
      const len = this.w - lineStart;
      if (this.reorder.length < len) this.reorder = Buffer.allocUnsafe(len);
      this.out.copy(this.reorder, 0, lineStart, this.w);
      let o = lineStart;
      for (let i = 0; i < n; i++) {
        if (i) this.out[o++] = COMMA;
        o += this.reorder.copy(this.out, o, this.fieldStart[i] - lineStart, this.fieldEnd[i] - lineStart);
      }
      this.w = o;
    }
    this.put(NEWLINE);
    this.outLen = this.w;
  }

  /** The output so far, and starts a new one. */
  take(): Buffer {
    const b = this.out.subarray(0, this.outLen);
    this.out = Buffer.allocUnsafe(this.out.length); // handed over, not reused
    this.outLen = 0;
    return b;
  }

  // ---- one column's value → its CSV field at w (nothing written is NULL) ----

  private value(i: number): void {
    const kind = this.columns[i].kind;
    if (kind === 'json') {
      // Raw bytes from just after ':' to just before the ',' or '}' that ends the value: row_to_json
      // writes no separator spaces, so any space there is the json column's own text.
      const start = this.p;
      this.ws();
      this.skipValue();
      this.ws();
      const s = this.s;
      if (this.p - start === 4 && s[start] === 0x6e && s[start + 1] === 0x75 && s[start + 2] === 0x6c && s[start + 3] === 0x6c) return; // null
      this.quotedRaw(start, this.p);
      return;
    }
    this.ws();
    const c = this.peek();
    if (c === QUOTE) {
      if (kind === 'array') throw new LineError(`column ${this.columns[i].name}: expected an array, found a string`);
      this.stringField();
      return;
    }
    if (c === LBRACKET) {
      if (kind !== 'array') throw new LineError(`column ${this.columns[i].name}: an array where a plain value was expected`);
      this.put(QUOTE);
      this.arrayLiteral(this.delimiters[i]);
      this.put(QUOTE);
      return;
    }
    if (c === LBRACE) throw new LineError(`column ${this.columns[i].name}: an object where a plain value was expected`);
    const start = this.p;
    const isNull = this.skipBare();
    if (isNull) return;
    if (kind === 'array') throw new LineError(`column ${this.columns[i].name}: expected an array`);
    // A number, true or false: no quote, comma or newline in them, so no CSV quoting needed.
    this.copy(start, this.p);
  }

  /** `[…]` → `{…}` (inside a quoted CSV field: array_in's `"` are written `""`). */
  private arrayLiteral(delimiter: number): void {
    this.expect(LBRACKET);
    this.put(LBRACE);
    this.ws();
    if (this.peek() === RBRACKET) {
      this.p++;
      this.put(RBRACE);
      return;
    }
    for (let first = true; ; first = false) {
      if (!first) this.put(delimiter);
      this.ws();
      const c = this.peek();
      if (c === LBRACKET) {
        this.arrayLiteral(delimiter);
      } else if (c === QUOTE) {
        this.put(QUOTE);
        this.put(QUOTE);
        this.stringBody(true);
        this.put(QUOTE);
        this.put(QUOTE);
      } else if (c === LBRACE) {
        throw new LineError('an object inside an array');
      } else {
        const start = this.p;
        if (this.skipBare()) {
          this.put(0x4e); // NULL
          this.put(0x55);
          this.put(0x4c);
          this.put(0x4c);
        } else {
          this.copy(start, this.p);
        }
      }
      this.ws();
      const d = this.peek();
      this.p++;
      if (d === COMMA) continue;
      if (d === RBRACKET) break;
      throw new LineError('expected , or ] in an array');
    }
    this.put(RBRACE);
  }

  /** A JSON string at p → a quoted CSV field. */
  private stringField(): void {
    this.put(QUOTE);
    this.stringBody(false);
    this.put(QUOTE);
  }

  /**
   * The text of the JSON string at p, unescaped, written for a quoted CSV field (`"` → `""`); inside
   * an array element also for array_in (`"` → `\""`, `\` → `\\`). Leaves p after the closing quote.
   */
  private stringBody(inArray: boolean): void {
    const s = this.s;
    const end = this.end;
    let i = this.p + 1;
    let from = i;
    for (;;) {
      if (i >= end) throw new LineError('unterminated string');
      const c = s[i];
      if (c === QUOTE) break;
      if (c !== BACKSLASH) {
        i++;
        continue;
      }
      this.copy(from, i);
      const e = s[i + 1];
      i += 2;
      switch (e) {
        case QUOTE:
          if (inArray) this.put(BACKSLASH);
          this.put(QUOTE);
          this.put(QUOTE);
          break;
        case BACKSLASH:
          if (inArray) this.put(BACKSLASH);
          this.put(BACKSLASH);
          break;
        case 0x2f: // \/
          this.put(0x2f);
          break;
        case 0x62: // b
          this.put(0x08);
          break;
        case 0x66: // f
          this.put(0x0c);
          break;
        case 0x6e: // n
          this.put(0x0a);
          break;
        case 0x72: // r
          this.put(0x0d);
          break;
        case 0x74: // t
          this.put(0x09);
          break;
        case 0x75: {
          // \uXXXX, a surrogate pair as two of them: written as UTF-8.
          let code = this.hex4(i);
          i += 4;
          if (code >= 0xd800 && code <= 0xdbff && s[i] === BACKSLASH && s[i + 1] === 0x75) {
            const low = this.hex4(i + 2);
            if (low >= 0xdc00 && low <= 0xdfff) {
              code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
              i += 6;
            }
          }
          if (code === 0) throw new LineError('\\u0000 in a string: PostgreSQL text cannot hold it');
          if (code >= 0xd800 && code <= 0xdfff) throw new LineError('a lone surrogate in a string');
          this.utf8(code, inArray);
          break;
        }
        default:
          throw new LineError('bad escape in a string');
      }
      from = i;
    }
    this.copy(from, i);
    this.p = i + 1;
  }

  private hex4(i: number): number {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const c = this.s[i + k];
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0 || i + k >= this.end) throw new LineError('bad \\u escape');
      v = (v << 4) | d;
    }
    return v;
  }

  private utf8(code: number, inArray: boolean): void {
    if (code < 0x80) {
      if (code === QUOTE) {
        if (inArray) this.put(BACKSLASH);
        this.put(QUOTE);
        this.put(QUOTE);
      } else if (code === BACKSLASH) {
        if (inArray) this.put(BACKSLASH);
        this.put(BACKSLASH);
      } else {
        this.put(code);
      }
    } else if (code < 0x800) {
      this.put(0xc0 | (code >> 6));
      this.put(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      this.put(0xe0 | (code >> 12));
      this.put(0x80 | ((code >> 6) & 0x3f));
      this.put(0x80 | (code & 0x3f));
    } else {
      this.put(0xf0 | (code >> 18));
      this.put(0x80 | ((code >> 12) & 0x3f));
      this.put(0x80 | ((code >> 6) & 0x3f));
      this.put(0x80 | (code & 0x3f));
    }
  }

  /** s[from, to) as a quoted CSV field, `"` doubled (json columns' raw text). */
  private quotedRaw(from: number, to: number): void {
    this.put(QUOTE);
    const s = this.s;
    let start = from;
    for (let q = s.indexOf(QUOTE, from); q >= 0 && q < to; q = s.indexOf(QUOTE, q + 1)) {
      this.copy(start, q + 1);
      this.put(QUOTE);
      start = q + 1;
    }
    this.copy(start, to);
    this.put(QUOTE);
  }

  /** The key at p (a JSON string), decoded: only when it is not the expected column's. */
  private decodeString(): string {
    const start = this.p;
    this.skipString();
    try {
      return JSON.parse(Buffer.from(this.s.buffer, this.s.byteOffset + start, this.p - start).toString('utf8')) as string;
    } catch {
      throw new LineError('a column name that is not a JSON string');
    }
  }

  private matchKey(key: Buffer): boolean {
    const s = this.s;
    const p = this.p;
    const n = key.length;
    if (p + n > this.end) return false;
    for (let k = 0; k < n; k++) if (s[p + k] !== key[k]) return false;
    this.p = p + n;
    return true;
  }

  /** Skips any JSON value (json columns). */
  private skipValue(): void {
    const c = this.peek();
    if (c === QUOTE) {
      this.skipString();
    } else if (c === LBRACE || c === LBRACKET) {
      let depth = 0;
      const s = this.s;
      for (;;) {
        if (this.p >= this.end) throw new LineError('unterminated json value');
        const d = s[this.p];
        if (d === QUOTE) {
          this.skipString(); // strings may hold brackets
          continue;
        }
        this.p++;
        if (d === LBRACE || d === LBRACKET) depth++;
        else if (d === RBRACE || d === RBRACKET) {
          depth--;
          if (depth === 0) return;
        }
      }
    } else {
      this.skipBare();
    }
  }

  private skipString(): void {
    const s = this.s;
    let i = this.p + 1;
    for (;;) {
      if (i >= this.end) throw new LineError('unterminated string');
      const c = s[i];
      if (c === QUOTE) break;
      i += c === BACKSLASH ? 2 : 1;
    }
    this.p = i + 1;
  }

  /** A number, true, false or null at p; returns true for null. */
  private skipBare(): boolean {
    const s = this.s;
    const start = this.p;
    let i = start;
    const end = this.end;
    while (i < end) {
      const c = s[i];
      if (c === COMMA || c === RBRACE || c === RBRACKET || isSpace(c)) break;
      i++;
    }
    this.p = i;
    const n = i - start;
    const c0 = s[start];
    if (n === 4 && c0 === 0x6e && s[start + 1] === 0x75 && s[start + 2] === 0x6c && s[start + 3] === 0x6c) return true; // null
    if (n === 4 && c0 === 0x74 && s[start + 1] === 0x72 && s[start + 2] === 0x75 && s[start + 3] === 0x65) return false; // true
    if (n === 5 && c0 === 0x66 && s[start + 1] === 0x61 && s[start + 2] === 0x6c && s[start + 3] === 0x73 && s[start + 4] === 0x65) return false; // false
    if (!isJsonNumber(s, start, i)) throw new LineError(`not a JSON value at byte ${start + 1}`);
    return false;
  }

  private ws(): void {
    const s = this.s;
    while (this.p < this.end && isSpace(s[this.p])) this.p++;
  }

  private peek(): number {
    return this.p < this.end ? this.s[this.p] : -1;
  }

  private expect(code: number): void {
    if (this.peek() !== code) throw new LineError(`expected ${String.fromCharCode(code)} at byte ${this.p + 1}`);
    this.p++;
  }

  // ---- writing into out ----

  private put(b: number): void {
    if (this.w >= this.out.length) this.reserve(1);
    this.out[this.w++] = b;
  }

  private copy(from: number, to: number): void {
    const n = to - from;
    if (n <= 0) return;
    if (this.w + n > this.out.length) this.reserve(n);
    const out = this.out;
    const s = this.s;
    if (n < 64) {
      let w = this.w;
      for (let k = from; k < to; k++) out[w++] = s[k];
      this.w = w;
    } else {
      out.set(s.subarray(from, to), this.w);
      this.w += n;
    }
  }

  /** Room for `extra` more bytes at w. */
  private reserve(extra: number): void {
    if (this.w + extra <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.w + extra));
    this.out.copy(bigger, 0, 0, this.w);
    this.out = bigger;
  }

  /** For error messages: the number of lines converted (or attempted) so far. */
  get lines(): number {
    return this.lineNo;
  }
}

/** JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
function isJsonNumber(s: Uint8Array, start: number, end: number): boolean {
  let i = start;
  const digit = (k: number) => k < end && s[k] >= 0x30 && s[k] <= 0x39;
  if (s[i] === 0x2d) i++;
  if (!digit(i)) return false;
  if (s[i] === 0x30) i++;
  else while (digit(i)) i++;
  if (i < end && s[i] === 0x2e) {
    i++;
    if (!digit(i)) return false;
    while (digit(i)) i++;
  }
  if (i < end && (s[i] === 0x65 || s[i] === 0x45)) {
    i++;
    if (i < end && (s[i] === 0x2b || s[i] === 0x2d)) i++;
    if (!digit(i)) return false;
    while (digit(i)) i++;
  }
  return i === end;
}

/** One line of text → its CSV record (tests, and small inputs). */
export function ndjsonLineToCsv(columns: readonly CsvColumn[], text: string): string {
  const conv = new NdjsonToCsv(columns);
  const b = Buffer.from(text, 'utf8');
  try {
    conv.line(b, 0, b.length);
  } catch (err) {
    if (err instanceof LineError) throw new TidemarkError('restore-bad-ndjson', `line 1: ${err.message}.`, { kind: 'input' });
    throw err;
  }
  return conv.take().toString('utf8');
}

/**
 * Streams ndjson chunks → CSV chunks (header first), one output chunk per input chunk. `label` names
 * the file in errors: `data/public.users.ndjson line 12: column "x" …; nothing restored.`
 */
export async function* ndjsonToCsv(source: AsyncIterable<Uint8Array>, columns: readonly CsvColumn[], label: string): AsyncGenerator<Buffer> {
  const conv = new NdjsonToCsv(columns);
  const convert = (buf: Uint8Array, start: number, end: number) => {
    try {
      conv.line(buf, start, end);
    } catch (err) {
      if (err instanceof LineError) {
        throw new TidemarkError('restore-bad-ndjson', `${label} line ${conv.lines}: ${err.message}; nothing restored.`, { kind: 'input' });
      }
      throw err;
    }
  };
  yield conv.header();
  let rest: Buffer | undefined;
  for await (const chunk of source) {
    const buf: Uint8Array = rest ? Buffer.concat([rest, chunk]) : chunk;
    rest = undefined;
    let from = 0;
    for (let nl = buf.indexOf(NEWLINE); nl >= 0; nl = buf.indexOf(NEWLINE, from)) {
      convert(buf, from, nl);
      from = nl + 1;
    }
    if (from < buf.length) rest = Buffer.from(buf.subarray(from)); // a partial line: kept for the next chunk
    if (conv.outLen) yield conv.take();
  }
  if (rest?.length) {
    convert(rest, 0, rest.length); // a last line without its newline
    yield conv.take();
  }
}
