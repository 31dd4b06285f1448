/**
 * Validation of a config value into a Workspace: the zod shape first, then the checks that need the whole
 * config (service names, `requires`, `owns` conflicts, soft relations, migration directories). Every
 * problem becomes one sentence naming the file, the line when it can be found, and the service or field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TidemarkError, type ErrorCode } from '../errors.js';
import { escapeControl } from '../sql/ident.js';
import type { ColumnRef } from '../sql/ident.js';
import { parseColumnRef } from './column-ref.js';
import { ownershipConflict, parseOwns, type OwnsClaim } from './owns.js';
import { displayPath, keyLineFinder } from './read.js';
import { findCycles } from './services.js';
import type { ResolvedSoftRelation, Service, Workspace } from './types.js';

const SERVICE_NAME = /^[a-z][a-z0-9_]*$/;

const serviceSchema = z.strictObject({
  migrations: z.string().min(1),
  owns: z.array(z.string()).optional(),
  requires: z.array(z.string()).optional(),
  format: z.enum(['tidemark', 'alembic']).optional(),
  versionTable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/)
    .optional(),
  recursive: z.boolean().optional(),
  schema: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1, { error: 'must name at least one file or directory' })], {
      error: 'must be a path (a .sql file or a directory) or a list of paths',
    })
    .optional(),
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
  const lineOf = keyLineFinder(file);

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
    problems.push({ code: 'config-invalid', line: lineOf('services'), message: `${at(lineOf('services'))}: \`services\` declares no service.` });
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
        const guess = closest(
          required,
          names.filter((n) => n !== name),
        );
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
      // Need not exist yet: `tidemark baseline --schema` writes it.
      ...(s.schema === undefined ? {} : { schema: (typeof s.schema === 'string' ? [s.schema] : s.schema).map((p) => path.resolve(root, p)) }),
    };
  });

  for (const service of services) {
    if (service.schema && service.format === 'alembic') {
      const line = lineOf('services', service.name, 'schema');
      problems.push({
        code: 'config-invalid',
        service: service.name,
        line,
        message: `${at(line)}: service ${service.name}: \`schema\` is for tidemark services; ${service.name} is still kept by Alembic.`,
        hint: `adopt it first (tidemark adopt --service ${service.name}), or remove \`schema\``,
      });
    }
  }

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

function shapeProblems(issues: Issue[], raw: Record<string, unknown>, label: string, lineOf: (...keys: string[]) => number | undefined): Problem[] {
  // A typo such as `migration:` shows up twice (unknown key + missing `migrations`); say it once.
  const suggested = new Set<string>();
  const problems: Problem[] = [];
  const unknownFirst = [...issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'));
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
