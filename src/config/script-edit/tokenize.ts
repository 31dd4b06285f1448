/**
 * A JavaScript/TypeScript tokenizer just good enough to find object literals with certainty: strings,
 * template literals (with code inside `${ … }`), comments and regular expressions are skipped properly,
 * and every bracket knows its match. Anything it cannot read with certainty throws Unsafe.
 */

/** A file shape the editor will not touch; the message says why, and the caller asks for a hand edit. */
export class Unsafe extends Error {}

type TokenType = 'ident' | 'string' | 'template' | 'number' | 'regex' | 'punct';

export interface Token {
  type: TokenType;
  start: number;
  end: number;
  /** Identifier name, string value (simple escapes decoded), or the punctuation itself. */
  value: string;
  /** Index of the matching bracket, for ( [ { and ) ] }. */
  match?: number;
}

export const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
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
