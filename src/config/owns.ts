/**
 * The ownership language of `owns` (DESIGN §2, §7; issue 11 §3): parse an entry, match a table, tell
 * whether two entries of different services can own the same table, and write the entry for a name.
 *
 * An entry is `table`, `schema.table` or `schema:<schema>`, each part a name pattern in psql's and
 * pg_dump's pattern syntax: unquoted text folds to lower case, double quotes keep case and make `.`,
 * `*` and `?` literal, `""` inside quotes is one `"`; outside quotes `*` is any run of characters and
 * `?` exactly one. `"sales.orders"` is ONE table (in public) named with a dot; `"a.b".c` and
 * `a."b.c"` are two different tables; `"My Schema".*` and `schema:"My Schema"` own a schema with a
 * space and capitals in its name.
 *
 * Two rules keep old configs from silently changing meaning: tidemark used to match unquoted names
 * case-sensitively, so an unquoted capital letter is an error that suggests the quoted form; and a part
 * that could only match a name longer than PostgreSQL's 63 bytes is an error, not a silent non-match.
 *
 * Matching takes a `QualifiedName` pair, never a joined string. Wildcards and literal characters are
 * kept apart in the parsed pattern, so a quoted `*` can never act as a wildcard. One hand-written glob
 * matcher: picomatch (and minimatch) treat `/` as a path separator, hide names starting with `.`,
 * give `[`, `{`, `!`, `+(`, `\` special meanings — all legal identifier characters here — and cannot
 * answer "can two globs match a common name", which the overlap check needs.
 */
import { MAX_IDENTIFIER_BYTES, identifierBytes, type QualifiedName } from '../sql/ident.js';
import type { Service } from './types.js';

/** A wildcard of a name pattern: `*` (any run of characters, empty included) or `?` (one character). */
export interface Wildcard {
  readonly wildcard: '*' | '?';
}
/** One literal character (a whole code point), or a wildcard. */
export type PatternUnit = string | Wildcard;
/** One part (schema or table) of an entry. */
export type NamePattern = readonly PatternUnit[];

export type OwnsPattern = { readonly kind: 'schema'; readonly schema: NamePattern } | { readonly kind: 'table'; readonly schema: NamePattern; readonly table: NamePattern };

export const STAR: Wildcard = Object.freeze({ wildcard: '*' });
export const ONE: Wildcard = Object.freeze({ wildcard: '?' });

const SCHEMA_PREFIX = 'schema:';
const PUBLIC: NamePattern = [...'public'];

/** Why an entry does not parse: one sentence (without the service or file), and what to write instead. */
export interface OwnsSyntaxError {
  message: string;
  hint?: string;
}

export type ParsedOwns = { ok: true; pattern: OwnsPattern } | { ok: false; error: OwnsSyntaxError };

/** Parses one `owns` entry. Never throws. */
export function parseOwns(entry: string): ParsedOwns {
  const fail = (message: string, hint?: string): ParsedOwns => ({ ok: false, error: { message, ...(hint ? { hint } : {}) } });
  const isSchema = entry.startsWith(SCHEMA_PREFIX);
  const body = isSchema ? entry.slice(SCHEMA_PREFIX.length) : entry;
  const parts: PatternUnit[][] = [];
  let current: PatternUnit[] = [];
  // The same entry with its unquoted capitals folded: what the lower-case suggestion shows.
  const foldedParts: PatternUnit[][] = [];
  let folded: PatternUnit[] = [];
  let touched = false; // a quoted "" makes a part non-empty in the text, but it is still an empty name
  let capitals = false;
  const chars = [...body];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '"') {
      touched = true;
      let closed = false;
      for (i++; i < chars.length; i++) {
        if (chars[i] === '"') {
          if (chars[i + 1] === '"') {
            current.push('"');
            folded.push('"');
            i++;
            continue;
          }
          closed = true;
          break;
        }
        if (chars[i] === '\0') return fail('holds a NUL character, which no PostgreSQL name can contain');
        current.push(chars[i]);
        folded.push(chars[i]);
      }
      if (!closed) return fail('has a double quote that is never closed', 'close it, and write "" for a double quote inside a quoted name');
      continue;
    }
    if (c === '.') {
      if (current.length === 0) return fail(touched ? 'has an empty quoted name' : 'has an empty name around a dot', 'quote a name that contains a dot: "sales.orders"');
      parts.push(current);
      foldedParts.push(folded);
      current = [];
      folded = [];
      touched = false;
      continue;
    }
    touched = true;
    if (c === '*' || c === '?') {
      current.push(c === '*' ? STAR : ONE);
      folded.push(c === '*' ? STAR : ONE);
    } else if (/\s/u.test(c)) return fail('has an unquoted space', 'quote a name with spaces: "My Schema".orders');
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f-\u009f]/.test(c)) return fail('has an unquoted control character', 'quote the name');
    else if (c === ':') return fail('has a `:` outside quotes', 'write `schema:<name>` for a whole schema, or quote a name that contains a colon');
    else {
      if (c >= 'A' && c <= 'Z') capitals = true;
      current.push(c);
      folded.push(c >= 'A' && c <= 'Z' ? c.toLowerCase() : c);
    }
  }
  if (current.length === 0) {
    if (entry === '') return fail('is empty');
    return fail(touched ? 'has an empty quoted name' : isSchema ? 'names no schema' : 'has an empty name around a dot');
  }
  parts.push(current);
  foldedParts.push(folded);
  if (isSchema && parts.length > 1) {
    return fail(
      'has a dot in a schema name',
      `quote it: schema:${formatPart(
        parts.flatMap((p, i) => (i ? ['.', ...p] : p)),
        'needed',
      )}`,
    );
  }
  if (parts.length > 2) {
    return fail('has more than one unquoted dot', 'an entry is `table` or `schema.table`; quote a name that contains a dot: "a.b".c or a."b.c"');
  }
  const build = (ps: PatternUnit[][]): OwnsPattern =>
    isSchema ? { kind: 'schema', schema: ps[0] } : ps.length === 1 ? { kind: 'table', schema: PUBLIC, table: ps[0] } : { kind: 'table', schema: ps[0], table: ps[1] };
  const pattern = build(parts);
  if (capitals) {
    // The quoted form keeps today's meaning (tidemark matched case-sensitively): never a silent change.
    const quoted = formatOwns(pattern, 'needed', parts.length === 2);
    const lower = formatOwns(build(foldedParts), 'needed', parts.length === 2);
    return fail('has capital letters outside quotes; unquoted names fold to lower case (as in psql and SQL)', `write ${quoted} for the name with capitals, or ${lower} for the lower-case one`);
  }
  for (const part of isSchema ? [parts[0]] : parts) {
    const bytes = minBytes(part);
    if (bytes > MAX_IDENTIFIER_BYTES) {
      return fail(
        `${part.some(isWildcard) ? `only matches names of ${bytes} bytes or more` : `names a table or schema of ${bytes} bytes`}, longer than PostgreSQL's limit of ${MAX_IDENTIFIER_BYTES}, so it could never match`,
        'PostgreSQL truncates longer names when it creates them: write the name as the catalog holds it (its first 63 bytes)',
      );
    }
  }
  return { ok: true, pattern };
}

function isWildcard(u: PatternUnit): u is Wildcard {
  return typeof u !== 'string';
}

/** The fewest UTF-8 bytes a name matching this part can have. */
function minBytes(part: NamePattern): number {
  let n = 0;
  for (const u of part) n += typeof u === 'string' ? identifierBytes(u) : u.wildcard === '?' ? 1 : 0;
  return n;
}

/** True when the part has no wildcard: it names exactly one name. */
function isLiteral(part: NamePattern): boolean {
  return !part.some(isWildcard);
}

/** The name a literal part stands for. */
function literalText(part: NamePattern): string {
  return part.map((u) => (typeof u === 'string' ? u : u.wildcard)).join('');
}

const BARE = /^[a-z0-9_$]$/;

/**
 * The text of a part: literal runs bare when every character is `[a-z0-9_$]` (`'needed'`), else
 * double-quoted with `"` doubled; `'always'` quotes every literal run.
 */
export function formatPart(part: NamePattern, quote: 'needed' | 'always' = 'needed'): string {
  let out = '';
  let run: string[] = [];
  const flush = () => {
    if (!run.length) return;
    out += quote === 'needed' && run.every((c) => BARE.test(c)) ? run.join('') : `"${run.join('').replaceAll('"', '""')}"`;
    run = [];
  };
  for (const u of part) {
    if (typeof u === 'string') run.push(u);
    else {
      flush();
      out += u.wildcard;
    }
  }
  flush();
  return out;
}

/** The entry text of a pattern; `parseOwns(formatOwns(p))` gives `p` back. */
export function formatOwns(p: OwnsPattern, quote: 'needed' | 'always' = 'needed', qualify = false): string {
  if (p.kind === 'schema') return `${SCHEMA_PREFIX}${formatPart(p.schema, quote)}`;
  const inPublic = p.schema.length === PUBLIC.length && p.schema.every((u, i) => u === PUBLIC[i]);
  return inPublic && !qualify ? formatPart(p.table, quote) : `${formatPart(p.schema, quote)}.${formatPart(p.table, quote)}`;
}

/** The entry that owns exactly this table (quoted where needed, or always). */
export function ownsEntryFor(q: QualifiedName, quote: 'needed' | 'always' = 'needed'): string {
  return formatOwns({ kind: 'table', schema: [...q.schema], table: [...q.name] }, quote);
}

/** Parses a table name given on the command line (`--table`): the owns grammar without wildcards. */
export function parseTableName(text: string): { ok: true; name: QualifiedName } | { ok: false; error: OwnsSyntaxError } {
  if (text.startsWith(SCHEMA_PREFIX)) return { ok: false, error: { message: 'names a schema, not a table' } };
  const parsed = parseOwns(text);
  if (!parsed.ok) return parsed;
  const p = parsed.pattern as Extract<OwnsPattern, { kind: 'table' }>;
  if (!isLiteral(p.schema) || !isLiteral(p.table)) {
    return { ok: false, error: { message: 'has a wildcard (* or ?)', hint: 'name one table; quote a name that contains * or ?: "a*b"' } };
  }
  return { ok: true, name: { schema: literalText(p.schema), name: literalText(p.table) } };
}

// Matching

/** Whether a name matches a part: `*` any run, `?` one character (code point), the rest literal. */
function matchPart(part: NamePattern, name: string): boolean {
  const text = [...name];
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const u = part[p];
    if (p < part.length && (typeof u === 'string' ? u === text[t] : u.wildcard === '?')) {
      p++;
      t++;
    } else if (p < part.length && typeof u !== 'string' && u.wildcard === '*') {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else return false;
  }
  while (p < part.length && typeof part[p] !== 'string' && (part[p] as Wildcard).wildcard === '*') p++;
  return p === part.length;
}

/** 0 = no match; 3 an exact table, 2 a table glob, 1 a `schema:` entry (the more specific wins). */
export function matchRank(p: OwnsPattern, q: QualifiedName): number {
  if (p.kind === 'schema') return matchPart(p.schema, q.schema) ? 1 : 0;
  if (!matchPart(p.schema, q.schema) || !matchPart(p.table, q.name)) return 0;
  return isLiteral(p.schema) && isLiteral(p.table) ? 3 : 2;
}

const cache = new Map<string, OwnsPattern | null>();

/** The parsed entry (cached), or undefined when it does not parse (validation reports those). */
export function ownsPattern(entry: string): OwnsPattern | undefined {
  let p = cache.get(entry);
  if (p === undefined) {
    const parsed = parseOwns(entry);
    p = parsed.ok ? parsed.pattern : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(entry, p);
  }
  return p ?? undefined;
}

/** Whether one service's `owns` covers a table, and how specifically (0 = not at all). */
function ownsRank(owns: readonly string[], q: QualifiedName): number {
  let best = 0;
  for (const entry of owns) {
    const p = ownsPattern(entry);
    if (p) best = Math.max(best, matchRank(p, q));
  }
  return best;
}

/**
 * Whether the service owns a schema as a whole: a `schema:` entry of its `owns` matches the name
 * (`schema:crm`, `schema:tenant_*`). Only such a schema is the service's to drop (reset).
 */
export function ownsWholeSchema(owns: readonly string[], schema: string): boolean {
  return owns.some((entry) => {
    const p = ownsPattern(entry);
    return p?.kind === 'schema' && matchPart(p.schema, schema);
  });
}

/**
 * The service that owns a table, or undefined. The most specific entry wins: an exact name over a
 * glob, a glob over `schema:`. Takes the (schema, name) pair as the catalog spells it.
 */
export function ownerOf<S extends { readonly owns: readonly string[] } = Service>(workspace: { readonly services: readonly S[] }, q: QualifiedName): S | undefined {
  let best: S | undefined;
  let bestRank = 0;
  for (const service of workspace.services) {
    const rank = ownsRank(service.owns, q);
    if (rank > bestRank) {
      best = service;
      bestRank = rank;
    }
  }
  return best;
}

// Overlap between services

/** Whether some name matches both parts. */
function partsOverlap(a: NamePattern, b: NamePattern): boolean {
  const memo = new Map<number, boolean>();
  const star = (u: PatternUnit | undefined) => u !== undefined && typeof u !== 'string' && u.wildcard === '*';
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (star(a[i])) r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (star(b[j])) r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else if (i === a.length || j === b.length) r = false;
    else r = (a[i] === b[j] || typeof a[i] !== 'string' || typeof b[j] !== 'string') && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

function samePart(a: NamePattern, b: NamePattern): boolean {
  return a.length === b.length && a.every((u, i) => u === b[i] || (typeof u !== 'string' && typeof b[i] !== 'string' && u.wildcard === (b[i] as Wildcard).wildcard));
}

export interface OwnsClaim {
  service: string;
  entry: string;
  pattern: OwnsPattern;
}

/** Why two services' entries can own the same table (one sentence without the file), or undefined. */
export function ownershipConflict(a: OwnsClaim, b: OwnsClaim): string | undefined {
  const pa = a.pattern;
  const pb = b.pattern;
  const both = `both ${a.service} and ${b.service}`;
  if (pa.kind === 'schema' && pb.kind === 'schema') {
    if (samePart(pa.schema, pb.schema)) return `\`${a.entry}\` is owned by ${both}`;
    return partsOverlap(pa.schema, pb.schema) ? `\`${a.entry}\` (${a.service}) and \`${b.entry}\` (${b.service}) overlap, so some schemas would be owned by both` : undefined;
  }
  if (pa.kind === 'table' && pb.kind === 'table') {
    const litA = isLiteral(pa.schema) && isLiteral(pa.table);
    const litB = isLiteral(pb.schema) && isLiteral(pb.table);
    if (litA && litB) {
      if (!samePart(pa.schema, pb.schema) || !samePart(pa.table, pb.table)) return undefined;
      const same = a.entry === b.entry;
      return `table ${a.entry} is owned by ${same ? both : `both ${a.service} (\`${a.entry}\`) and ${b.service} (\`${b.entry}\`)`}`;
    }
    if (litA || litB) {
      const [lit, glob] = litA ? [a, b] : [b, a];
      const l = lit.pattern as Extract<OwnsPattern, { kind: 'table' }>;
      const g = glob.pattern as Extract<OwnsPattern, { kind: 'table' }>;
      if (!matchPart(g.schema, literalText(l.schema)) || !matchPart(g.table, literalText(l.table))) return undefined;
      return `table ${lit.entry} is owned by both ${lit.service} and ${glob.service} (through \`${glob.entry}\`)`;
    }
    if (samePart(pa.schema, pb.schema) && samePart(pa.table, pb.table)) return `\`${a.entry}\` is owned by ${both}`;
    return partsOverlap(pa.schema, pb.schema) && partsOverlap(pa.table, pb.table)
      ? `\`${a.entry}\` (${a.service}) and \`${b.entry}\` (${b.service}) overlap, so some tables would be owned by both`
      : undefined;
  }
  // A schema: entry against a table entry.
  const [sch, tab] = pa.kind === 'schema' ? [a, b] : [b, a];
  const s = (sch.pattern as Extract<OwnsPattern, { kind: 'schema' }>).schema;
  const t = tab.pattern as Extract<OwnsPattern, { kind: 'table' }>;
  if (isLiteral(t.schema) && isLiteral(t.table)) {
    if (!matchPart(s, literalText(t.schema))) return undefined;
    return `table ${formatOwns(t, 'needed', true)} is owned by both ${tab.service} and ${sch.service} (through \`${sch.entry}\`)`;
  }
  return partsOverlap(s, t.schema) ? `\`${tab.entry}\` (${tab.service}) and \`${sch.entry}\` (${sch.service}) overlap, so some tables would be owned by both` : undefined;
}

// Text search (the doctor's cheap pre-filter)

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * A regular expression source that finds, case-insensitively, any spelling of a name matching the
 * part in SQL text (bare or double-quoted with `""`). A pre-filter: it may find too much, never too
 * little.
 */
export function partSearchSource(part: NamePattern): string {
  return part.map((u) => (typeof u !== 'string' ? (u.wildcard === '*' ? '[^]*?' : '[^]{1,2}?') : u === '"' ? '"{1,2}' : escapeRe(u))).join('');
}
