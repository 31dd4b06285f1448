/**
 * Reading a config file into a plain value: jiti for .ts, Node's import for .mjs/.js, JSON.parse for .json
 * (jsonc-parser only on the error path, for the position). Every failure is a TidemarkError of kind 'input'
 * that names the file and, when it can be found, the line.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TidemarkError } from '../errors.js';

/** The value a config file exports (or holds, for JSON); not validated yet. */
export async function readConfigFile(file: string, cwd: string): Promise<unknown> {
  const label = displayPath(file, cwd);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json') return readJson(file, label);

  let value: unknown;
  try {
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
      // jiti (and its Babel) costs ~100 ms cold, so only .ts configs pay for it.
      const { createJiti } = await import('jiti');
      const jiti = createJiti(import.meta.url, {
        // A config's `import { defineConfig } from 'tidemark'` resolves to this very copy, even where
        // tidemark is not installed in the user's project (npx, global install).
        alias: { tidemark: TIDEMARK_ENTRY },
      });
      value = await jiti.import(file, { default: true });
      if (isModuleNamespace(value)) value = undefined; // no default export: jiti handed back the namespace
    } else if (ext === '.mjs' || ext === '.js' || ext === '.cjs') {
      // The mtime query makes a long-lived process see an edited file instead of the cached module.
      const url = `${pathToFileURL(file).href}?mtime=${Math.trunc(fs.statSync(file).mtimeMs)}`;
      const mod = (await import(url)) as Record<string, unknown>;
      // ESM `export default`, or CommonJS `module.exports` (which Node exposes as `default`).
      value = mod.default;
    } else {
      throw new TidemarkError('config-invalid', `${label}: unsupported config file type ${ext || '(none)'}; use .ts, .mjs, .js or .json.`, { kind: 'input', file });
    }
    // `export default (async () => ({ ... }))()` is allowed.
    if (value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function') value = await value;
  } catch (err) {
    throw loadFailure(err, file, label);
  }
  if (value === undefined) {
    throw new TidemarkError('config-invalid', `${label} has no default export; write \`export default defineConfig({ services: { … } })\`.`, { kind: 'input', file });
  }
  return value;
}

/** dist/src/index.js of this package, from dist/src/config/read.js. */
const TIDEMARK_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));

async function readJson(file: string, label: string): Promise<unknown> {
  let text = fs.readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    // The fast path: V8's parser; jsonc-parser is loaded only to place an error.
    return JSON.parse(text);
  } catch (err) {
    const reason = cleanJsonMessage(err instanceof Error ? err.message : String(err));
    // V8's messages in Node 20 do not always carry a position; jsonc-parser's scanner always does.
    let offset = await jsonErrorOffset(text);
    if (offset < 0) offset = Number(/at position (\d+)/.exec(String((err as Error)?.message))?.[1] ?? -1);
    const line = offset >= 0 ? lineAt(text, offset) : undefined;
    throw new TidemarkError('config-syntax', `${label}${line ? `:${line}` : ''}: invalid JSON: ${reason}.`, {
      kind: 'input',
      file,
      line,
    });
  }
}

function cleanJsonMessage(message: string): string {
  return (
    message
      .replace(/, (?:\.\.\.)?".*is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '')
      // "Unexpected non-whitespace character after JSON at position 22": the line says where.
      .replace(/ at position \d+.*$/s, '')
      .replace(/ \(line \d+ column \d+\)$/, '')
      .replace(/\.$/, '')
  );
}

/**
 * Offset of the first syntax error in `text` as strict JSON (no comments, no trailing commas), or -1 when
 * jsonc-parser finds none (it is more lenient than V8 in a few corners, e.g. leading zeros).
 */
async function jsonErrorOffset(text: string): Promise<number> {
  const { parse } = await import('jsonc-parser');
  const errors: { offset: number }[] = [];
  parse(text, errors as Parameters<typeof parse>[1], { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  return errors.length ? Math.min(errors[0].offset, text.length) : -1;
}

function loadFailure(err: unknown, file: string, label: string): TidemarkError {
  if (err instanceof TidemarkError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: string }).code;
  const firstLine = (e.message.split('\n').find((l) => l.trim() !== '') ?? 'unknown error').trim();
  // jiti reports Babel's parse errors as plain Errors whose message starts with `ParseError:`.
  const syntax = e instanceof SyntaxError || /^ParseError:/.test(firstLine);
  const reason = firstLine.replace(/^ParseError:\s*/, '').replace(/\.$/, '');
  let line = errorLine(String(e.stack ?? e.message), file);
  if (line === undefined && e instanceof SyntaxError) line = syntaxErrorLine(file);
  const where = `${label}${line ? `:${line}` : ''}`;
  if (syntax) {
    return new TidemarkError('config-syntax', `${where}: syntax error: ${reason}.`, { kind: 'input', file, line });
  }
  let hint: string | undefined;
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]tidemark['"]/.test(e.message)) {
    hint = 'install tidemark in this project (npm i -D tidemark), or name the config tidemark.config.ts';
  }
  return new TidemarkError('config-load-failed', `${where} could not be loaded: ${reason}.`, {
    kind: 'input',
    file,
    line,
    hint,
  });
}

/** The line in `file` that an error's text (stack, or `node --check` output) points at, if any. */
function errorLine(text: string, file: string): number | undefined {
  for (const name of [pathToFileURL(file).href, file]) {
    const at = text.indexOf(name);
    if (at < 0) continue;
    const m = /^(?:\?[^:\s]*)?:(\d+)/.exec(text.slice(at + name.length));
    if (m) return Number(m[1]);
  }
  return undefined;
}

/**
 * Node 20 keeps an ES module's syntax error location out of the error object, so ask `node --check`,
 * which prints `file:line` first. Only runs on the error path.
 */
function syntaxErrorLine(file: string): number | undefined {
  try {
    const result = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 5000 });
    return errorLine(String(result.stderr ?? ''), file);
  } catch {
    return undefined;
  }
}

function isModuleNamespace(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module' && !('services' in value);
}

/** Relative to cwd when that is shorter, so messages read `tidemark.config.ts` or `../tidemark.config.ts`. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !path.isAbsolute(rel) && rel.length < file.length ? rel : file;
}

/** 1-based line of `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * `lineOf(...keys)` for messages: the line of a key path in `file`, the file read once and only when asked
 * (problems are rare); always undefined for a config passed as a value.
 */
export function keyLineFinder(file: string | undefined): (...keys: string[]) => number | undefined {
  let source: string | undefined | null = null;
  return (...keys) => {
    if (!file) return undefined;
    if (source === null) source = safeRead(file);
    return source === undefined ? undefined : findKeyLine(source, keys);
  };
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Best effort: the line of the last of `keys`, each searched after the previous one (e.g. services → budget →
 * owns). Works for JSON and for plain object literals in .ts/.js; returns undefined when unsure.
 */
function findKeyLine(source: string, keys: string[]): number | undefined {
  let from = 0;
  let found = -1;
  for (const key of keys) {
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`(^|[\\s{,])(["'\`]?)${escaped}\\2\\s*:`, 'gm');
    re.lastIndex = from;
    const m = re.exec(source);
    if (!m) return found >= 0 ? lineAt(source, found) : undefined;
    found = m.index + m[1].length;
    from = re.lastIndex;
  }
  return found >= 0 ? lineAt(source, found) : undefined;
}
