/**
 * Find, read and validate tidemark.config.* (DESIGN §2, §7: src/config).
 *
 * Every failure is a TidemarkError of kind 'input' whose message is one sentence per problem,
 * prefixed with the config file (and line when we can find it), and naming the service or field.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { TidemarkError, type ErrorCode } from '../errors.js';
import { escapeControl } from '../sql/ident.js';
import { ownershipConflict, parseOwns, type OwnsClaim } from './owns.js';
import type { ColumnRef } from '../sql/ident.js';
import { parseColumnRef } from './column-ref.js';
import type { ResolvedSoftRelation, Service, TidemarkConfig, Workspace } from './types.js';

export { ownerOf } from './owns.js';

/** Looked for in this order in each directory. */
export const CONFIG_FILE_NAMES = [
  'tidemark.config.ts',
  'tidemark.config.mjs',
  'tidemark.config.js',
  'tidemark.config.json',
] as const;

const SERVICE_NAME = /^[a-z][a-z0-9_]*$/;

export interface LoadOptions {
  /** Where the lookup starts and what relative paths in options are resolved from. Default: process.cwd(). */
  cwd?: string;
  /** Explicit config file (`--config`); no parent-directory lookup then. */
  configFile?: string;
  /** A config passed as a value instead of a file. */
  config?: TidemarkConfig;
  /** Directory that relative `migrations` paths are resolved from. Default: the config file's directory, else cwd. */
  root?: string;
}

/** The first tidemark.config.{ts,mjs,js,json} in `cwd` or one of its parents, or undefined. */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Find (or take) the config, read it and validate it into a Workspace. */
export async function loadWorkspace(options: LoadOptions = {}): Promise<Workspace> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const explicitFile = options.configFile === undefined ? undefined : path.resolve(cwd, options.configFile);

  if (options.config !== undefined) {
    const root = path.resolve(cwd, options.root ?? (explicitFile ? path.dirname(explicitFile) : '.'));
    return validateConfig(options.config, { root, cwd, configFile: explicitFile });
  }

  let file: string | undefined;
  if (explicitFile) {
    if (!isFile(explicitFile)) {
      throw new TidemarkError('config-not-found', `Config file ${displayPath(explicitFile, cwd)} does not exist.`, {
        kind: 'input',
        file: explicitFile,
        hint: 'check the --config path, or run `tidemark init`',
      });
    }
    file = explicitFile;
  } else {
    file = findConfigFile(cwd);
    if (!file) {
      throw new TidemarkError(
        'config-not-found',
        `No tidemark.config.ts, .mjs, .js or .json in ${cwd} or any parent directory.`,
        { kind: 'input', hint: 'run `tidemark init`' },
      );
    }
  }

  const raw = await readConfigFile(file, cwd);
  const root = options.root !== undefined ? path.resolve(cwd, options.root) : path.dirname(file);
  return validateConfig(raw, { root, cwd, configFile: file });
}

/** The named services and, transitively, the tidemark services they require (declaration-independent order). */
export function withRequiredServices(workspace: Workspace, names: readonly string[]): string[] {
  const out = new Set<string>();
  const visit = (name: string) => {
    if (out.has(name)) return;
    const s = workspace.services.find((x) => x.name === name);
    if (!s || s.format !== 'tidemark') return;
    out.add(name);
    s.requires.forEach(visit);
  };
  names.forEach(visit);
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Reading

async function readConfigFile(file: string, cwd: string): Promise<unknown> {
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
      throw new TidemarkError(
        'config-invalid',
        `${label}: unsupported config file type ${ext || '(none)'}; use .ts, .mjs, .js or .json.`,
        { kind: 'input', file },
      );
    }
    // `export default (async () => ({ ... }))()` is allowed.
    if (value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function') value = await value;
  } catch (err) {
    throw loadFailure(err, file, label);
  }
  if (value === undefined) {
    throw new TidemarkError(
      'config-invalid',
      `${label} has no default export; write \`export default defineConfig({ services: { … } })\`.`,
      { kind: 'input', file },
    );
  }
  return value;
}

/** dist/src/index.js of this package, from dist/src/config/load.js. */
const TIDEMARK_ENTRY = fileURLToPath(new URL('../index.js', import.meta.url));

function readJson(file: string, label: string): unknown {
  let text = fs.readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = cleanJsonMessage(err instanceof Error ? err.message : String(err));
    // V8's messages in Node 20 do not always carry a position, so find it ourselves.
    let offset = jsonErrorOffset(text);
    if (offset < 0) offset = Number(/at position (\d+)/.exec(String((err as Error)?.message))?.[1] ?? -1);
    const line = offset >= 0 ? lineAt(text, offset) : undefined;
    throw new TidemarkError(
      'config-syntax',
      `${label}${line ? `:${line}` : ''}: invalid JSON: ${reason}.`,
      { kind: 'input', file, line },
    );
  }
}

function cleanJsonMessage(message: string): string {
  return message
    .replace(/, (?:\.\.\.)?".*is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ \(line \d+ column \d+\)$/, '')
    .replace(/\.$/, '');
}

/** Offset of the first syntax error in `s`, or -1 if it is valid JSON. Only runs after JSON.parse failed. */
function jsonErrorOffset(s: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      if (i >= s.length) fail();
      const c = s[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c < ' ') fail();
      if (c === '\\') {
        i++;
        if (s[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) fail();
          i += 5;
        } else if (s[i] !== undefined && '"\\/bfnrt'.includes(s[i])) i++;
        else fail();
      } else i++;
    }
  };
  const number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') return str();
    for (const word of ['true', 'false', 'null']) {
      if (s.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    number.lastIndex = i;
    if (number.test(s)) {
      i = number.lastIndex;
      return;
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return -1;
  } catch (e) {
    if (typeof e === 'number') return Math.min(e, s.length);
    throw e;
  }
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

// ---------------------------------------------------------------------------------------------
// Validation

const serviceSchema = z.strictObject({
  migrations: z.string().min(1),
  owns: z.array(z.string()).optional(),
  requires: z.array(z.string()).optional(),
  format: z.enum(['tidemark', 'alembic']).optional(),
  versionTable: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/).optional(),
  recursive: z.boolean().optional(),
});

const configSchema = z.strictObject({
  // Lets JSON configs point editors at a JSON schema.
  $schema: z.string().optional(),
  database: z.string().optional(),
  services: z.record(z.string(), serviceSchema),
  protected: z.array(z.string()).optional(),
  softRelations: z.array(z.strictObject({ from: z.string(), to: z.string() })).optional(),
});

interface Problem {
  code: ErrorCode;
  message: string;
  service?: string;
  hint?: string;
  line?: number;
}

export interface ValidateOptions {
  /** Directory relative paths are resolved from. */
  root: string;
  /** Absolute path of the config file, for messages; undefined for a config passed as a value. */
  configFile?: string;
  /** For shortening paths in messages. Default: process.cwd(). */
  cwd?: string;
}

/**
 * Validate a config value (what a config file exports) into a Workspace. Throws one TidemarkError of kind
 * 'input'; with several problems its message lists them one per line and its code is the first one's.
 */
export function validateConfig(raw: unknown, options: ValidateOptions): Workspace {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const root = path.resolve(cwd, options.root);
  const file = options.configFile;
  const label = file ? displayPath(file, cwd) : 'config';
  let source: string | undefined | null = null; // read lazily, only to put line numbers on problems
  const lineOf = (...keys: string[]): number | undefined => {
    if (!file) return undefined;
    if (source === null) source = safeRead(file);
    return source === undefined ? undefined : findKeyLine(source, keys);
  };

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail([{ code: 'config-invalid', message: `${label} must export an object with \`services\`, got ${describe(raw)}.` }], file);
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    fail(shapeProblems(parsed.error.issues, raw as Record<string, unknown>, label, lineOf), file);
  }
  const config = parsed.data;
  const problems: Problem[] = [];
  const at = (line: number | undefined) => `${label}${line ? `:${line}` : ''}`;
  const names = Object.keys(config.services);

  if (names.length === 0) {
    problems.push({ code: 'config-invalid', line: lineOf('services'),
        message: `${at(lineOf('services'))}: \`services\` declares no service.` });
  }

  if (config.database !== undefined && !/^(postgres|postgresql):\/\/|^pglite:/.test(config.database)) {
    // Only the scheme is shown: the URL may hold a password.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(config.database)?.[1];
    problems.push({
      code: 'config-invalid',
      line: lineOf('database'),
      message: `${at(lineOf('database'))}: \`database\` must be a postgres:// URL, pglite:./path or pglite:memory${scheme ? `, got a ${scheme}: URL` : ''}.`,
    });
  }

  for (const name of names) {
    if (!SERVICE_NAME.test(name)) {
      problems.push({
        code: 'config-invalid',
        service: name,
        line: lineOf('services', name),
        message: `${at(lineOf('services', name))}: service name ${JSON.stringify(name)} is invalid: use lowercase letters, digits and _, starting with a letter (it prefixes migration file names).`,
      });
    }
  }

  // requires: unknown services, self-references, cycles.
  const declared = new Set(names);
  const edges = new Map<string, string[]>();
  for (const name of names) {
    const requires = config.services[name].requires ?? [];
    const valid: string[] = [];
    for (const required of requires) {
      if (required === name) {
        problems.push({
          code: 'requires-cycle',
          service: name,
          line: lineOf('services', name, 'requires'),
          message: `${at(lineOf('services', name, 'requires'))}: service ${name} requires itself.`,
        });
      } else if (!declared.has(required)) {
        const guess = closest(required, names.filter((n) => n !== name));
        problems.push({
          code: 'unknown-required-service',
          service: name,
          line: lineOf('services', name, 'requires'),
          message: `${at(lineOf('services', name, 'requires'))}: service ${name} requires ${required}, which is not declared (declared: ${names.join(', ')})${guess ? `; did you mean ${guess}?` : ''}.`,
        });
      } else if (!valid.includes(required)) valid.push(required);
    }
    edges.set(name, valid);
  }
  for (const cycle of findCycles(names, edges)) {
    problems.push({
      code: 'requires-cycle',
      service: cycle[0],
      line: lineOf('services', cycle[0], 'requires'),
      message: `${at(lineOf('services', cycle[0], 'requires'))}: services require each other in a cycle: ${cycle.join(' → ')}.`,
      hint: 'a service may only require services that do not require it back; move the shared objects to one of them',
    });
  }

  // owns: entry syntax, then conflicts between services.
  const owned: OwnsClaim[] = [];
  for (const name of names) {
    for (const entry of config.services[name].owns ?? []) {
      const parsed = parseOwns(entry);
      if (!parsed.ok) {
        problems.push({
          code: 'config-invalid',
          service: name,
          line: lineOf('services', name, 'owns'),
          message: `${at(lineOf('services', name, 'owns'))}: service ${name} owns \`${escapeControl(entry)}\`, which ${parsed.error.message}.`,
          hint: parsed.error.hint ?? 'an entry is a table name, `schema.table`, a glob like `budget_*`, or `schema:<name>`; quote names with dots, spaces or capitals: "sales.orders"',
        });
        continue;
      }
      owned.push({ service: name, entry, pattern: parsed.pattern });
    }
  }
  const reported = new Set<string>();
  for (let i = 0; i < owned.length; i++) {
    for (let j = i + 1; j < owned.length; j++) {
      const a = owned[i];
      const b = owned[j];
      if (a.service === b.service) continue;
      const message = ownershipConflict(a, b);
      if (!message) continue;
      const key = `${a.service}\0${a.entry}\0${b.service}\0${b.entry}`;
      if (reported.has(key)) continue;
      reported.add(key);
      problems.push({
        code: 'owned-twice',
        service: b.service,
        line: lineOf('services', b.service, 'owns'),
        message: `${at(lineOf('services', b.service, 'owns'))}: ${message}.`,
        hint: 'each table belongs to exactly one service; remove it from one `owns` list or narrow the glob',
      });
    }
  }

  const softRelations: ResolvedSoftRelation[] = [];
  (config.softRelations ?? []).forEach((relation, index) => {
    const refs: Partial<Record<'from' | 'to', ColumnRef>> = {};
    for (const side of ['from', 'to'] as const) {
      const parsed = parseColumnRef(relation[side]);
      if (parsed.ok) {
        // Unqualified means public, as for owns.
        refs[side] = { table: parsed.ref.table, column: parsed.ref.column };
        continue;
      }
      problems.push({
        code: 'config-invalid',
        line: lineOf('softRelations'),
        message: `${at(lineOf('softRelations'))}: softRelations[${index}].${side} must be \`table.column\` or \`schema.table.column\`, got ${JSON.stringify(relation[side])}: it ${parsed.error.message}.`,
        hint: parsed.error.hint ?? 'quote a name with dots, spaces or capitals as in psql: "a.b".c.user_id',
      });
    }
    if (refs.from && refs.to) softRelations.push({ from: relation.from, to: relation.to, fromColumn: refs.from, toColumn: refs.to });
  });

  const services: Service[] = names.map((name) => {
    const s = config.services[name];
    return {
      name,
      migrationsDir: path.resolve(root, s.migrations),
      owns: [...(s.owns ?? [])],
      requires: [...(s.requires ?? [])],
      format: s.format ?? 'tidemark',
      versionTable: s.versionTable ?? 'alembic_version',
      recursive: s.recursive ?? false,
    };
  });

  // Both formats read an existing directory; a missing one is nearly always a wrong path or a skipped init.
  for (const service of services) {
    const written = config.services[service.name].migrations;
    const shown = path.isAbsolute(written) || written.startsWith('.') ? written : `./${written}`;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(service.migrationsDir);
    } catch {
      stat = undefined;
    }
    if (!stat?.isDirectory()) {
      problems.push({
        code: 'missing-migrations-dir',
        service: service.name,
        line: lineOf('services', service.name, 'migrations'),
        message: `${at(lineOf('services', service.name, 'migrations'))}: service ${service.name}: directory ${shown} ${stat ? 'is not a directory' : 'does not exist'}.`,
        hint: `run \`tidemark init\`, or create ${path.relative(cwd, service.migrationsDir) || '.'}`,
      });
    }
  }

  if (problems.length > 0) fail(problems, file);

  return {
    root,
    configFile: file,
    database: config.database,
    services,
    protected: [...(config.protected ?? [])],
    softRelations,
  };
}

function fail(problems: Problem[], file: string | undefined): never {
  const first = problems[0];
  const message = problems.length === 1 ? first.message : problems.map((p) => p.message).join('\n');
  throw new TidemarkError(first.code, message, {
    file,
    line: problems.length === 1 ? first.line : undefined,
    service: first.service,
    hint: first.hint,
  });
}

type Issue = z.core.$ZodIssue;

function shapeProblems(
  issues: Issue[],
  raw: Record<string, unknown>,
  label: string,
  lineOf: (...keys: string[]) => number | undefined,
): Problem[] {
  // A typo such as `migration:` shows up twice (unknown key + missing `migrations`); say it once.
  const suggested = new Set<string>();
  const problems: Problem[] = [];
  const unknownFirst = [...issues].sort(
    (a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'),
  );
  for (const issue of unknownFirst) {
    const p = issue.path.map(String);
    const service = p[0] === 'services' && p.length >= 2 ? p[1] : undefined;
    const fieldPath = service ? p.slice(2) : p;
    const owner = service ? `service ${service}` : fieldPath.length ? formatPath(fieldPath) : label;
    const line = lineOf(...p.filter((k) => !/^\d+$/.test(k)));
    const where = `${label}${line ? `:${line}` : ''}`;
    let text: string;

    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(p);
      let guessed = 0;
      const parts = issue.keys.map((key) => {
        const guess = closest(key, allowed);
        if (guess) {
          guessed++;
          suggested.add([...p, guess].join('\0'));
        }
        return `\`${key}\`${guess ? ` (did you mean \`${guess}\`?)` : ''}`;
      });
      // Point at the unknown key itself rather than at the object holding it.
      const keyLine = lineOf(...p.filter((k) => !/^\d+$/.test(k)), issue.keys[0]) ?? line;
      const subject = `${label}${keyLine ? `:${keyLine}` : ''}: ${owner === label ? 'the config' : owner}`;
      const known = guessed === parts.length ? '' : ` (allowed: ${allowed.join(', ')})`;
      text = `${subject} has unknown ${parts.length > 1 ? 'keys' : 'key'} ${parts.join(', ')}${known}`;
      problems.push({ code: 'config-invalid', service, line: keyLine, message: `${text}.` });
      continue;
    }

    const value = valueAt(raw, issue.path);
    if (value === undefined && suggested.has(p.join('\0'))) continue;
    const field = service ? (fieldPath.length ? `\`${formatPath(fieldPath)}\`` : '') : `\`${formatPath(fieldPath)}\``;
    const prefix = service ? `${where}: service ${service}${field ? `: ${field}` : ''}` : `${where}: ${field}`;

    if (issue.code === 'invalid_type') {
      text =
        value === undefined
          ? service && fieldPath.length === 1
            ? `${where}: service ${service} is missing ${field}`
            : `${where}: ${field} is missing`
          : `${prefix} must be ${article(issue.expected)}, got ${describe(value)}`;
    } else if (issue.code === 'invalid_value') {
      text = `${prefix} must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(value)}`;
    } else if (issue.code === 'too_small' && typeof value === 'string') {
      text = `${prefix} must not be empty`;
    } else {
      text = `${prefix}: ${issue.message}`;
    }
    problems.push({ code: 'config-invalid', service, line, message: `${text}.` });
  }
  return problems;
}

function allowedKeys(objectPath: string[]): string[] {
  if (objectPath.length === 0) return Object.keys(configSchema.shape).filter((k) => k !== '$schema');
  if (objectPath[0] === 'services') return Object.keys(serviceSchema.shape);
  if (objectPath[0] === 'softRelations') return ['from', 'to'];
  return [];
}

function formatPath(p: string[]): string {
  return p.map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

function valueAt(raw: unknown, p: PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function article(expected: string): string {
  if (expected === 'record' || expected === 'object') return 'an object';
  if (expected === 'array') return 'a list';
  return `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value}`.replace('a object', 'an object');
}

/** Cycles among `requires`, each once, as `a → b → a`. */
function findCycles(names: string[], edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'active') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        // Same cycle reached from another entry point: compare as a set of edges.
        const key = cycle.slice(0, -1).map((n, i) => `${n}>${cycle[i + 1]}`).sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const name of names) if (!state.has(name)) visit(name);
  return cycles;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function safeRead(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function isModuleNamespace(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Module' &&
    !('services' in value)
  );
}

/** Relative to cwd when that is shorter, so messages read `tidemark.config.ts` or `../tidemark.config.ts`. */
function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !path.isAbsolute(rel) && rel.length < file.length ? rel : file;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
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

/** A declared name within edit distance 2 of `word`, for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}
