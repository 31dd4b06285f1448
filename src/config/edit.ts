/**
 * Rewrites one service's entry in the TEXT of a config file, for `tidemark adopt --write`: the service
 * leaves Alembic (`format`, `versionTable` and `recursive` go), its `migrations` points at the new
 * directory, and optionally it gets a new name and more `requires`. Pure: text in, text out.
 *
 * - `.json`: edited in place through jsonc-parser, so the file's layout stays (a file written on one line
 *   comes back with 2-space indentation, as before).
 * - `.js`/`.mjs`/`.ts`: a careful edit of the service's object literal only. The file is tokenized
 *   (strings, template literals, comments and regular expressions skipped properly), so braces inside
 *   them do not count; every byte outside the edited properties stays as it was. A shape that cannot be
 *   edited with certainty — computed keys, a spread, the service built by a function call — is refused
 *   with `{ error }`, and the caller prints the change for the user to make by hand.
 */

import { applyEdits, findNodeAtLocation, type FormattingOptions, type JSONPath, modify, parseTree } from 'jsonc-parser';
import { jsString } from './entry-text.js';

export interface SwitchServiceOptions {
  /** The service's name from now on (its key, and every other service's `requires` that names it). */
  rename?: string;
  /** Services to add to its `requires` (those already there are kept once). */
  addRequires?: readonly string[];
  /** The file's name for messages (default `tidemark.config<ext>`). */
  file?: string;
}

export type ConfigEdit = { text: string; changed: boolean; diff: string } | { error: string };

const DROPPED_KEYS = ['format', 'versionTable', 'recursive'];

export function switchServiceToTidemark(
  configText: string,
  fileExt: '.json' | '.mjs' | '.js' | '.ts',
  service: string,
  newMigrationsDir: string,
  options: SwitchServiceOptions = {},
): ConfigEdit {
  const file = options.file ?? `tidemark.config${fileExt}`;
  const name = options.rename ?? service;
  const byHand = `change it by hand: in services.${service}${name !== service ? ` (renamed ${name})` : ''} set migrations to ${jsString(newMigrationsDir)}${
    options.addRequires?.length ? `, add ${options.addRequires.map((r) => jsString(r)).join(', ')} to requires` : ''
  } and remove format, versionTable and recursive`;
  try {
    const text = fileExt === '.json' ? editJson(configText, service, newMigrationsDir, options) : editScript(configText, service, newMigrationsDir, options);
    return { text, changed: text !== configText, diff: renderServiceChange(configText, text) };
  } catch (err) {
    if (err instanceof Unsafe) return { error: `cannot edit ${file} safely: ${err.message}; ${byHand}` };
    throw err;
  }
}

class Unsafe extends Error {}

// ---------------------------------------------------------------------------------------------
// JSON

function editJson(text: string, service: string, dir: string, options: SwitchServiceOptions): string {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new Unsafe(`it is not valid JSON (${(err as Error).message})`);
  }
  const services = isObject(config) ? config.services : undefined;
  if (!isObject(services)) throw new Unsafe('it has no "services" object');
  const entry = services[service];
  if (!isObject(entry)) throw new Unsafe(`services has no object "${service}"`);
  const name = options.rename ?? service;
  if (name !== service && name in services) throw new Unsafe(`services already has an entry ${name}`);

  // Edits through jsonc-parser keep every byte outside the changed values: layout, key order, line endings.
  const formattingOptions = jsonLayout(text);
  const set = (t: string, p: JSONPath, value: unknown, isArrayInsertion = false) =>
    applyEdits(t, modify(t, p, value, { formattingOptions, isArrayInsertion }));
  let out = set(text, ['services', service, 'migrations'], dir);
  const present = Array.isArray(entry.requires) ? (entry.requires as unknown[]) : undefined;
  const add = [...new Set(options.addRequires ?? [])].filter((r) => !present?.includes(r));
  if (add.length && present) for (const r of add) out = set(out, ['services', service, 'requires', -1], r, true);
  else if (add.length) out = set(out, ['services', service, 'requires'], add);
  for (const key of DROPPED_KEYS) if (key in entry) out = set(out, ['services', service, key], undefined);
  if (name !== service) out = renameJsonService(out, service, name);
  // A file written on one line was machine-written: it is laid out with 2-space indentation, as it always was.
  if (!/[\r\n]\s*\S/.test(text.trimEnd())) return JSON.stringify(JSON.parse(out), null, 2) + (text.endsWith('\n') ? '\n' : '');
  return out;
}

/** The key of services.<service>, and every string naming it in another service's `requires` array. */
function renameJsonService(text: string, service: string, name: string): string {
  const tree = parseTree(text);
  const servicesNode = tree && findNodeAtLocation(tree, ['services']);
  const replacements: Array<{ offset: number; length: number; content: string }> = [];
  for (const property of servicesNode?.children ?? []) {
    const [key, value] = property.children ?? [];
    if (key?.value === service) replacements.push({ offset: key.offset, length: key.length, content: JSON.stringify(name) });
    else if (value?.type === 'object') {
      const requires = findNodeAtLocation(value, ['requires']);
      if (requires?.type !== 'array') continue;
      for (const item of requires.children ?? []) {
        if (item.type === 'string' && item.value === service) replacements.push({ offset: item.offset, length: item.length, content: JSON.stringify(name) });
      }
    }
  }
  return applyEdits(text, replacements);
}

/** The file's own indentation and line ending, for what jsonc-parser inserts. */
function jsonLayout(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.startsWith('\t'), tabSize: indent.startsWith('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript: tokens

type TokenType = 'ident' | 'string' | 'template' | 'number' | 'regex' | 'punct';

interface Token {
  type: TokenType;
  start: number;
  end: number;
  /** Identifier name, string value (simple escapes decoded), or the punctuation itself. */
  value: string;
  /** Index of the matching bracket, for ( [ { and ) ] }. */
  match?: number;
}

const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSE = new Set([')', ']', '}']);

/** Tokens of a JS/TS file; comments and whitespace are skipped. Throws Unsafe on unbalanced input. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  const regexAllowed = () => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.type === 'punct') return !CLOSE.has(prev.value);
    return prev.type === 'ident' && ['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await'].includes(prev.value);
  };
  while (i < n) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Unsafe('a block comment is not closed');
      i = end + 2;
    } else if (c === '"' || c === "'") {
      const start = i;
      i = skipString(text, i);
      tokens.push({ type: 'string', start, end: i, value: decodeString(text.slice(start + 1, i - 1)) });
    } else if (c === '`') {
      const start = i;
      i = skipTemplate(text, i);
      tokens.push({ type: 'template', start, end: i, value: text.slice(start + 1, i - 1) });
    } else if (c === '/' && regexAllowed()) {
      const start = i;
      i = skipRegex(text, i);
      tokens.push({ type: 'regex', start, end: i, value: text.slice(start, i) });
    } else if (/[A-Za-z_$\u00a0-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[\w$\u00a0-\uffff]/.test(text[i])) i++;
      tokens.push({ type: 'ident', start, end: i, value: text.slice(start, i) });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      while (i < n && /[\w.]/.test(text[i])) i++;
      tokens.push({ type: 'number', start, end: i, value: text.slice(start, i) });
    } else if (text.startsWith('...', i)) {
      tokens.push({ type: 'punct', start: i, end: i + 3, value: '...' });
      i += 3;
    } else {
      tokens.push({ type: 'punct', start: i, end: i + 1, value: c });
      i++;
    }
  }
  const stack: number[] = [];
  tokens.forEach((t, k) => {
    if (t.type !== 'punct') return;
    if (OPEN[t.value]) stack.push(k);
    else if (CLOSE.has(t.value)) {
      const open = stack.pop();
      if (open === undefined || OPEN[tokens[open].value] !== t.value) throw new Unsafe(`a "${t.value}" does not match its opening bracket`);
      tokens[open].match = k;
      t.match = open;
    }
  });
  if (stack.length) throw new Unsafe(`a "${tokens[stack[stack.length - 1]].value}" is never closed`);
  return tokens;
}

function skipString(text: string, i: number): number {
  const quote = text[i];
  for (i++; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i + 1;
    else if (text[i] === '\n') break;
  }
  throw new Unsafe('a string is not closed on its line');
}

/** A template literal, with `${ … }` holding code (strings, comments, nested templates) of its own. */
function skipTemplate(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '`') return i + 1;
    else if (text[i] === '$' && text[i + 1] === '{') i = skipCode(text, i + 2) - 1;
  }
  throw new Unsafe('a template literal is not closed');
}

/** Code up to the `}` that closes a `${`; returns the index after it. */
function skipCode(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (c === '"' || c === "'") i = skipString(text, i);
    else if (c === '`') i = skipTemplate(text, i);
    else if (c === '{') {
      depth++;
      i++;
    } else if (c === '}') {
      if (depth === 0) return i + 1;
      depth--;
      i++;
    } else i++;
  }
  throw new Unsafe('a template literal is not closed');
}

function skipRegex(text: string, i: number): number {
  let inClass = false;
  for (i++; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      i++;
      while (i < text.length && /[a-z]/i.test(text[i])) i++;
      return i;
    } else if (c === '\n') break;
  }
  throw new Unsafe('a regular expression is not closed on its line');
}

function decodeString(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_m, e: string) => {
    if (e[0] === 'u' && e[1] === '{') return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e[0] === 'u' && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0', '\n': '' } as Record<string, string>)[e] ?? e;
  });
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript: object literals

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
    throw new Unsafe(
      odd
        ? `the service ${service} is not written as \`${service}: { … }\` in services (it holds ${describeShape(odd)})`
        : `services has no entry ${service}`,
    );
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

function editScript(original: string, service: string, dir: string, options: SwitchServiceOptions): string {
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
      const present = tokens.slice(req.valueFirst + 1, req.valueLast).filter((t) => t.type === 'string').map((t) => t.value);
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

// ---------------------------------------------------------------------------------------------
// A short diff to print

/**
 * The changed lines of `after` against `before`, with one line of context, `-`/`+` prefixed:
 *
 *       user_service: {
 *   -     format: 'alembic',
 *   -     migrations: 'services/user_service/alembic/versions',
 *   +     migrations: 'migrations/user',
 *         owns: ['users'],
 */
export function renderServiceChange(before: string, after: string, context = 1): string {
  const a = before.split('\n');
  const b = after.split('\n');
  // LCS table (config files are small)
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i] });
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] > lcs[i + 1][j])) {
      ops.push({ op: '+', line: b[j++] });
    } else {
      ops.push({ op: '-', line: a[i++] });
    }
  }
  const keep = ops.map((o, k) => o.op !== ' ' || ops.slice(Math.max(0, k - context), k + context + 1).some((x) => x.op !== ' '));
  const out: string[] = [];
  let gap = false;
  ops.forEach((o, k) => {
    if (!keep[k]) {
      gap = true;
      return;
    }
    if (gap && out.length) out.push('  …');
    gap = false;
    out.push(`${o.op} ${o.line}`.trimEnd());
  });
  return out.join('\n');
}
