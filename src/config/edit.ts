/**
 * Rewrites one service's entry in the TEXT of a config file, for `tidemark adopt --write`: the service
 * leaves Alembic (`format`, `versionTable` and `recursive` go), its `migrations` points at the new
 * directory, and optionally it gets a new name and more `requires`. Pure: text in, text out.
 *
 * - `.json`: edited in place through jsonc-parser, so the file's layout stays (a file written on one line
 *   comes back with 2-space indentation, as before).
 * - `.js`/`.mjs`/`.ts`: a careful edit of the service's object literal only (src/config/script-edit/). The file is tokenized
 *   (strings, template literals, comments and regular expressions skipped properly), so braces inside
 *   them do not count; every byte outside the edited properties stays as it was. A shape that cannot be
 *   edited with certainty — computed keys, a spread, the service built by a function call — is refused
 *   with `{ error }`, and the caller prints the change for the user to make by hand.
 */

import { applyEdits, findNodeAtLocation, type FormattingOptions, type JSONPath, modify, parseTree } from 'jsonc-parser';
import { jsString } from './entry-text.js';
import { DROPPED_KEYS, editScript } from './script-edit/edit-script.js';
import { Unsafe } from './script-edit/tokenize.js';

export { tokenize } from './script-edit/tokenize.js';

export interface SwitchServiceOptions {
  /** The service's name from now on (its key, and every other service's `requires` that names it). */
  rename?: string;
  /** Services to add to its `requires` (those already there are kept once). */
  addRequires?: readonly string[];
  /** The file's name for messages (default `tidemark.config<ext>`). */
  file?: string;
}

export type ConfigEdit = { text: string; changed: boolean; diff: string } | { error: string };

export function switchServiceToTidemark(configText: string, fileExt: '.json' | '.mjs' | '.js' | '.ts', service: string, newMigrationsDir: string, options: SwitchServiceOptions = {}): ConfigEdit {
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
  const set = (t: string, p: JSONPath, value: unknown, isArrayInsertion = false) => applyEdits(t, modify(t, p, value, { formattingOptions, isArrayInsertion }));
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
