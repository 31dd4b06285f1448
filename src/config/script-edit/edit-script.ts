/**
 * Editing one service's object literal in a .js/.mjs/.ts config, for `tidemark adopt --write`
 * (src/config/edit.ts is the entry point). Every byte outside the edited properties stays as it was.
 *
 * Kept hand-written on purpose: an AST printer (magicast/recast was measured) re-prints what it touches,
 * drops a trailing comment of a removed property, adds trailing commas and splits one-line objects, so
 * the byte-exact fixtures of test/unit/config-edit.test.ts do not survive it.
 */
import { jsString } from '../entry-text.js';
import type { SwitchServiceOptions } from '../edit.js';
import { OPEN, type Token, tokenize, Unsafe } from './tokenize.js';

/** What leaves a service with Alembic. */
export const DROPPED_KEYS = ['format', 'versionTable', 'recursive'];

interface Member {
  kind: 'property' | 'shorthand' | 'spread' | 'computed' | 'method';
  /** The key's name (property, shorthand, method). */
  key?: string;
  keyToken: number;
  /** First and last token of the value (property). */
  valueFirst: number;
  valueLast: number;
  /** The comma after the member, if any. */
  comma?: number;
}

/** The members of the object literal whose `{` is tokens[open]. */
function membersOf(tokens: Token[], open: number): Member[] {
  const close = tokens[open].match!;
  const members: Member[] = [];
  let k = open + 1;
  while (k < close) {
    const first = k;
    // the member runs to the next comma at this depth, or to the closing brace
    let end = k;
    while (end < close && !(tokens[end].type === 'punct' && tokens[end].value === ',')) {
      end = tokens[end].match !== undefined && OPEN[tokens[end].value] ? tokens[end].match! + 1 : end + 1;
    }
    const last = end - 1;
    const comma = end < close ? end : undefined;
    const t = tokens[first];
    const next = tokens[first + 1];
    const isKey = t.type === 'ident' || t.type === 'string' || t.type === 'number';
    if (t.type === 'punct' && t.value === '...') members.push({ kind: 'spread', keyToken: first, valueFirst: first + 1, valueLast: last, comma });
    else if (t.type === 'punct' && t.value === '[') members.push({ kind: 'computed', keyToken: first, valueFirst: first, valueLast: last, comma });
    else if (isKey && next && first + 1 <= last && next.type === 'punct' && next.value === ':') {
      if (first + 2 > last) throw new Unsafe(`the property ${t.value} has no value`);
      members.push({ kind: 'property', key: t.value, keyToken: first, valueFirst: first + 2, valueLast: last, comma });
    } else if (t.type === 'ident' && first === last) members.push({ kind: 'shorthand', key: t.value, keyToken: first, valueFirst: first, valueLast: last, comma });
    else members.push({ kind: 'method', key: t.value, keyToken: first, valueFirst: first, valueLast: last, comma });
    k = comma !== undefined ? comma + 1 : close;
  }
  return members;
}

function isPunct(t: Token | undefined, value: string): boolean {
  return t !== undefined && t.type === 'punct' && t.value === value;
}

/** The `{` token of `services: { … }`: the one holding the service, when a file has several. */
function findServices(tokens: Token[], service: string): number {
  const candidates: number[] = [];
  let shapes = 0;
  tokens.forEach((t, k) => {
    if ((t.type === 'ident' || t.type === 'string') && t.value === 'services' && isPunct(tokens[k + 1], ':')) {
      // `services:` as a key: not `a ? services : b`, nor a type annotation `services: Record<…>`
      const before = tokens[k - 1];
      if (before && !(isPunct(before, '{') || isPunct(before, ','))) return;
      shapes++;
      if (isPunct(tokens[k + 2], '{')) candidates.push(k + 2);
    }
  });
  if (candidates.length === 0) {
    throw new Unsafe(shapes ? '`services` is not written as an object literal (`services: { … }`)' : 'no `services: { … }` object was found');
  }
  if (candidates.length === 1) return candidates[0];
  const holding = candidates.filter((open) => membersOf(tokens, open).some((m) => m.key === service && m.kind === 'property'));
  if (holding.length !== 1) throw new Unsafe('there is more than one `services: { … }` object');
  return holding[0];
}

interface Located {
  tokens: Token[];
  servicesOpen: number;
  services: Member[];
  entry: Member;
  /** The `{` of the service's own object literal. */
  open: number;
  members: Member[];
}

function locate(text: string, service: string): Located {
  const tokens = tokenize(text);
  const servicesOpen = findServices(tokens, service);
  const services = membersOf(tokens, servicesOpen);
  const entries = services.filter((m) => m.key === service && m.kind === 'property');
  if (entries.length === 0) {
    const odd = services.find((m) => m.kind === 'spread' || m.kind === 'computed' || (m.kind === 'shorthand' && m.key === service));
    throw new Unsafe(odd ? `the service ${service} is not written as \`${service}: { … }\` in services (it holds ${describeShape(odd)})` : `services has no entry ${service}`);
  }
  if (entries.length > 1) throw new Unsafe(`services.${service} is written twice`);
  const entry = entries[0];
  if (!isPunct(tokens[entry.valueFirst], '{') || tokens[entry.valueFirst].match !== entry.valueLast) {
    throw new Unsafe(`services.${service} is ${describeValue(text, tokens, entry)}, not an object literal`);
  }
  const members = membersOf(tokens, entry.valueFirst);
  const odd = members.find((m) => m.kind !== 'property');
  if (odd) throw new Unsafe(`services.${service} holds ${describeShape(odd)}`);
  return { tokens, servicesOpen, services, entry, open: entry.valueFirst, members };
}

function describeShape(m: Member): string {
  if (m.kind === 'spread') return 'a spread (`...`)';
  if (m.kind === 'computed') return 'a computed key (`[…]:`)';
  if (m.kind === 'shorthand') return `a shorthand property (\`${m.key}\`)`;
  return `a method or accessor (\`${m.key}\`)`;
}

function describeValue(text: string, tokens: Token[], m: Member): string {
  const first = tokens[m.valueFirst];
  if (first.type === 'ident' && isPunct(tokens[m.valueFirst + 1], '(')) return `built by a function call (${first.value}(…))`;
  if (first.type === 'ident' && m.valueFirst === m.valueLast) return `a variable (${first.value})`;
  return `an expression (${text.slice(first.start, tokens[m.valueLast].end).slice(0, 40)})`;
}

/** Quote style to write: that of the first string in the given token range, else in the file, else single quotes. */
function quoteOf(text: string, tokens: Token[], from = 0, to = tokens.length): string {
  const inRange = tokens.slice(from, to).find((t) => t.type === 'string');
  const any = inRange ?? tokens.find((t) => t.type === 'string');
  return any ? text[any.start] : "'";
}

function quote(value: string, q: string): string {
  return jsString(value, q === '"' ? '"' : "'");
}

function isIdentifier(name: string): boolean {
  return /^[A-Za-z_$][\w$]*$/.test(name);
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function lineStartOf(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** The file's own line ending, for inserted lines. */
function newlineOf(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

function indentOf(text: string, at: number): string {
  const start = lineStartOf(text, at);
  const prefix = text.slice(start, at);
  return /^[ \t]*$/.test(prefix) ? prefix : '';
}

/** Removes one property, its comma and, when it stood alone on its line, the line. */
function removeMember(text: string, tokens: Token[], members: Member[], index: number): string {
  const m = members[index];
  const start = tokens[m.keyToken].start;
  if (m.comma !== undefined) {
    let end = tokens[m.comma].end;
    const lineStart = lineStartOf(text, start);
    const eol = text.indexOf('\n', end);
    const rest = text.slice(end, eol < 0 ? text.length : eol);
    if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t\r]*$/.test(rest)) return splice(text, lineStart, eol < 0 ? text.length : eol + 1, '');
    while (text[end] === ' ' || text[end] === '\t') end++;
    return splice(text, start, end, '');
  }
  // The last member, with no comma: take the previous member's comma with it.
  const prev = members[index - 1];
  if (prev?.comma === undefined) return splice(text, start, tokens[m.valueLast].end, '');
  return splice(text, tokens[prev.comma].start, tokens[m.valueLast].end, '');
}

/** Inserts `key: value` as the object's last property, in the object's own layout. */
function appendMember(text: string, tokens: Token[], open: number, members: Member[], property: string): string {
  const close = tokens[open].match!;
  const last = members[members.length - 1];
  if (!last) return splice(text, tokens[open].end, tokens[close].start, ` ${property} `);
  const multiline = text.slice(tokens[open].end, tokens[last.keyToken].start).includes('\n');
  if (multiline) {
    const indent = newlineOf(text) + indentOf(text, tokens[last.keyToken].start);
    if (last.comma !== undefined) return splice(text, tokens[last.comma].end, tokens[last.comma].end, `${indent}${property},`);
    const at = tokens[last.valueLast].end;
    return splice(text, at, at, `,${indent}${property}`);
  }
  const at = last.comma !== undefined ? tokens[last.comma].end : tokens[last.valueLast].end;
  return splice(text, at, at, last.comma !== undefined ? ` ${property},` : `, ${property}`);
}

/** Appends string elements to the array literal whose `[` is tokens[open]. */
function appendToArray(text: string, tokens: Token[], open: number, values: string[], q: string): string {
  const close = tokens[open].match!;
  const items = values.map((v) => quote(v, q));
  if (close === open + 1) return splice(text, tokens[open].end, tokens[close].start, items.join(', '));
  const lastTok = tokens[close - 1];
  const trailingComma = isPunct(lastTok, ',');
  const lastItem = trailingComma ? tokens[close - 2] : lastTok;
  const firstItem = tokens[open + 1];
  if (text.slice(tokens[open].end, firstItem.start).includes('\n')) {
    const indent = newlineOf(text) + indentOf(text, firstItem.start);
    const at = trailingComma ? lastTok.end : lastItem.end;
    return splice(text, at, at, (trailingComma ? '' : ',') + items.map((s) => `${indent}${s}`).join(',') + (trailingComma ? ',' : ''));
  }
  const at = trailingComma ? lastTok.end : lastItem.end;
  return splice(text, at, at, trailingComma ? ` ${items.join(', ')},` : `, ${items.join(', ')}`);
}

export function editScript(original: string, service: string, dir: string, options: SwitchServiceOptions): string {
  let text = original;
  const name = options.rename ?? service;

  // Checked up front, before any edit: with a rename, every other service's `requires` must be readable.
  if (name !== service) {
    const { tokens, services } = locate(text, service);
    if (services.some((m) => m.key === name)) throw new Unsafe(`services already has an entry ${name}`);
    for (const other of services) {
      if (other.key === service) continue;
      if (other.kind !== 'property') throw new Unsafe(`services holds ${describeShape(other)}, which may require ${service}`);
      if (!isPunct(tokens[other.valueFirst], '{')) throw new Unsafe(`services.${other.key} is ${describeValue(text, tokens, other)}, which may require ${service}`);
      const req = membersOf(tokens, other.valueFirst).find((m) => m.key === 'requires' || m.kind !== 'property');
      if (req && (req.kind !== 'property' || !isPunct(tokens[req.valueFirst], '['))) {
        throw new Unsafe(`the requires of services.${other.key} is not an array literal, and may name ${service}`);
      }
    }
  }

  // 1. migrations → the new directory
  {
    const { tokens, open, members } = locate(text, service);
    const m = members.find((x) => x.key === 'migrations');
    if (!m) throw new Unsafe(`services.${service} has no \`migrations\` property`);
    const own = tokens[m.valueFirst];
    const q = own.type === 'string' ? text[own.start] : quoteOf(text, tokens, open, tokens[open].match);
    text = splice(text, tokens[m.valueFirst].start, tokens[m.valueLast].end, quote(dir, q));
  }

  // 2. requires += addRequires
  const add = [...new Set(options.addRequires ?? [])];
  if (add.length) {
    const { tokens, open, members } = locate(text, service);
    const req = members.find((x) => x.key === 'requires');
    const q = req ? quoteOf(text, tokens, req.valueFirst, req.valueLast + 1) : quoteOf(text, tokens, open, tokens[open].match);
    if (req) {
      if (!isPunct(tokens[req.valueFirst], '[') || tokens[req.valueFirst].match !== req.valueLast) {
        throw new Unsafe(`the requires of services.${service} is not an array literal`);
      }
      const present = tokens
        .slice(req.valueFirst + 1, req.valueLast)
        .filter((t) => t.type === 'string')
        .map((t) => t.value);
      const missing = add.filter((r) => !present.includes(r));
      if (missing.length) text = appendToArray(text, tokens, req.valueFirst, missing, q);
    } else {
      text = appendMember(text, tokens, open, members, `requires: [${add.map((r) => quote(r, q)).join(', ')}]`);
    }
  }

  // 3. format, versionTable, recursive go (one at a time: positions move)
  for (const key of DROPPED_KEYS) {
    for (;;) {
      const { tokens, members } = locate(text, service);
      const index = members.findIndex((m) => m.key === key);
      if (index < 0) break;
      text = removeMember(text, tokens, members, index);
    }
  }

  // 4. the new name: the key, and every other service's requires that names it
  if (name !== service) {
    const { tokens, services, entry } = locate(text, service);
    const edits: Array<[number, number, string]> = [];
    const keyTok = tokens[entry.keyToken];
    const keyText = keyTok.type === 'string' ? quote(name, text[keyTok.start]) : isIdentifier(name) ? name : quote(name, "'");
    edits.push([keyTok.start, keyTok.end, keyText]);
    for (const other of services) {
      if (other === entry || !isPunct(tokens[other.valueFirst], '{')) continue;
      const req = membersOf(tokens, other.valueFirst).find((m) => m.key === 'requires');
      if (!req) continue;
      for (let k = req.valueFirst + 1; k < req.valueLast; k++) {
        const t = tokens[k];
        if (t.type === 'string' && t.value === service) edits.push([t.start, t.end, quote(name, text[t.start])]);
      }
    }
    edits.sort((a, b) => b[0] - a[0]);
    for (const [start, end, insert] of edits) text = splice(text, start, end, insert);
  }

  // The result must read back as intended, or nothing is written.
  const check = locate(text, name);
  const migrations = check.members.find((m) => m.key === 'migrations');
  if (
    !migrations ||
    check.tokens[migrations.valueFirst].value !== dir ||
    check.members.some((m) => DROPPED_KEYS.includes(m.key ?? '')) ||
    (add.length > 0 && !add.every((r) => check.tokens.slice(check.members.find((m) => m.key === 'requires')!.valueFirst).some((t) => t.type === 'string' && t.value === r)))
  ) {
    throw new Unsafe('the edited entry did not read back as intended');
  }
  return text;
}
