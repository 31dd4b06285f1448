#!/usr/bin/env node
// Deterministic demo data for the CRM Ditual example (users, budgets, budget_items).
//
// The rows are generated server-side with generate_series: every value is an expression of the row
// number alone (no random(), no now()), so the same counts give byte-identical data on PostgreSQL 15
// and 18 (PGlite), whatever the batch size, and millions of rows load at INSERT … SELECT speed.
// Plain JavaScript, no dependencies, no build step: the demo, the tests and the benchmarks import it.
//
//   node examples/crm-ditual/data.mjs --users 1000 --sql | psql -h 127.0.0.1 -U postgres mydb

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The example's tables, parents before children (load order; drop in reverse). */
export const CRM_TABLES = Object.freeze(['users', 'budgets', 'budget_items']);

const DEFAULTS = Object.freeze({ users: 10000, budgetsPerUser: 5, itemsPerBudget: 4, batchSize: 1000000 });

// Small fixed vocabularies, indexed by modulo. Names carry accents and other scripts; the e-mail
// slugs stay ASCII so that nothing depends on the database's locale (lower()/upper() on non-ASCII).
const FIRST_NAMES = [
  ['Ana', 'ana'], ['João', 'joao'], ['Maria José', 'maria.jose'], ['Conceição', 'conceicao'],
  ['Zoë', 'zoe'], ['Łukasz', 'lukasz'], ['Renée', 'renee'], ['Ömer', 'omer'], ['Siân', 'sian'],
  ['美咲', 'misaki'],
];
const LAST_NAMES = [
  ['Silva', 'silva'], ['Gonçalves', 'goncalves'], ['Müller', 'muller'], ['Nguyễn', 'nguyen'],
  ["O'Brien", 'obrien'], ['Dvořák', 'dvorak'], ['Ibáñez', 'ibanez'], ['Sørensen', 'sorensen'],
  ['Kowalczyk', 'kowalczyk'], ['山田', 'yamada'], ['Fernández-López', 'fernandez.lopez'],
];
const DOMAINS = ['ditual.com.br', 'example.com', 'cliente.com.br'];
const ROLES = ['sales', 'manager', 'sales', 'viewer', 'sales']; // 'admin' for id % 50 = 1
const STATUSES = ['draft', 'sent', 'approved', 'approved', 'rejected', 'cancelled', 'sent'];
const PRODUCTS = [
  'Instalação elétrica', 'Manutenção preventiva', 'Consultoria fiscal', 'Licenças de software',
  'Reforma da fachada', 'Café & pão de queijo para evento', 'Frete São Paulo → Curitiba',
  'Treinamento “CRM avançado”',
];
// Item descriptions include a quote, a backslash, a tab, a newline and an emoji on purpose:
// they are the characters that break naive CSV/NDJSON/COPY handling in backups and restores.
const DESCRIPTIONS = [
  'Hora técnica', 'Cabo 2,5 mm² (rolo 100 m)', 'Parafuso sextavado 3/8"', 'Taxa de deslocamento',
  'Licença anual — 10 usuários', 'Pasta C:\\Clientes\\Ditual', 'Linha 1\nLinha 2',
  'Coluna A\tColuna B', '50% de entrada, 50% na entrega', 'Entrega expressa 🚚',
];

const BASE_TS = "TIMESTAMPTZ '2023-01-02 08:00:00+00'";

/** SQL text literal (standard_conforming_strings: only the quote needs doubling). */
function lit(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

function arr(items) {
  return `(ARRAY[${items.map(lit).join(', ')}]::text[])`;
}

/** `array[1 + expr % n]` with an int subscript. */
function pick(items, expr) {
  return `${arr(items)}[1 + ((${expr}) % ${items.length})::int]`;
}

function capitalize(slug) {
  return slug.charAt(0).toUpperCase() + slug.slice(1);
}

// Timestamps, from the row number only; make_interval takes integers, so there is no float arithmetic.
// Users are created within ~694 days of BASE_TS; budgets after day 730, so always after their owner.
const userCreated = (i) => `${BASE_TS} + make_interval(mins => ((${i} * 7919) % 1000003)::int)`;
const budgetCreated = (b) =>
  `${BASE_TS} + make_interval(days => 730, mins => ((${b} * 104723) % 525949)::int)`;
const budgetTouched = (b) => `make_interval(hours => (${b} % 720)::int)`;
// Prices in cents, so sums are exact: item p of budget b costs base(b) + 12.50 * p.
const baseCents = (b) => `((${b} * 7919) % 99991)`;

function normalize(opts) {
  const o = { ...DEFAULTS };
  for (const [key, value] of Object.entries(opts ?? {})) {
    if (!(key in DEFAULTS)) throw new TypeError(`crm data: unknown option '${key}'`);
    if (value === undefined) continue;
    const min = key === 'batchSize' ? 1 : 0;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`crm data: ${key} must be an integer >= ${min}, got ${String(value)}`);
    }
    o[key] = value;
  }
  return o;
}

/**
 * Expected row counts per table for the given options.
 * @param {{ users?: number, budgetsPerUser?: number, itemsPerBudget?: number }} [opts]
 * @returns {{ users: number, budgets: number, budget_items: number }}
 */
export function crmCounts(opts = {}) {
  const o = normalize(opts);
  const budgets = o.users * o.budgetsPerUser;
  return { users: o.users, budgets, budget_items: budgets * o.itemsPerBudget };
}

/** `[from, to]` ranges of at most `size` row numbers covering 1..total. */
function batches(total, size) {
  const out = [];
  for (let from = 1; from <= total; from += size) out.push([from, Math.min(total, from + size - 1)]);
  return out;
}

function setval(table) {
  // Past the max id, so the next default id does not collide; an empty table restarts at 1.
  return `SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST(max(id), 1), max(id) IS NOT NULL) FROM ${table}`;
}

/**
 * SQL statements (without trailing semicolons) that insert the demo rows into the example's empty
 * tables and move the identity sequences past the inserted ids. Run them in order, in one
 * transaction or not. Each INSERT covers at most `batchSize` rows; the data does not depend on it.
 * @param {{ users?: number, budgetsPerUser?: number, itemsPerBudget?: number, batchSize?: number }} [opts]
 * @returns {string[]}
 */
export function crmDataStatements(opts = {}) {
  const o = normalize(opts);
  const counts = crmCounts(o);
  const K = o.budgetsPerUser;
  const M = o.itemsPerBudget;
  const out = [];

  const firsts = FIRST_NAMES.map(([name]) => name);
  const lasts = LAST_NAMES.map(([name]) => name);
  const firstSlugs = FIRST_NAMES.map(([, slug]) => slug);
  const lastSlugs = LAST_NAMES.map(([, slug]) => slug);
  const nF = FIRST_NAMES.length;
  for (const [from, to] of batches(counts.users, o.batchSize)) {
    out.push(`INSERT INTO users (id, email, name, role, is_active, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT i,
  CASE WHEN i % 9 = 0 THEN ${pick(firstSlugs.map(capitalize), 'i')} ELSE ${pick(firstSlugs, 'i')} END
    || '.' || ${pick(lastSlugs, `i / ${nF}`)} || '.' || i || '@' || ${pick(DOMAINS, 'i')},
  ${pick(firsts, 'i')} || ' ' || ${pick(lasts, `i / ${nF}`)},
  CASE WHEN i % 50 = 1 THEN 'admin' ELSE ${pick(ROLES, 'i')} END,
  i % 17 <> 0,
  c,
  c + make_interval(mins => ((i * 104729) % 43200)::int)
FROM (SELECT i, ${userCreated('i')} AS c
      FROM generate_series(${from}::bigint, ${to}::bigint) AS i) AS s`);
  }
  out.push(setval('users'));

  for (const [from, to] of batches(counts.budgets, o.batchSize)) {
    out.push(`INSERT INTO budgets (id, user_id, title, status, total_amount, commission_percentage_actual, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT b,
  (b - 1) / ${K} + 1,
  'Orçamento ' || lpad(b::text, 6, '0') || ' — ' || ${pick(PRODUCTS, 'b')},
  ${pick(STATUSES, 'b')},
  (${M} * ${baseCents('b')} + ${625 * M * (M + 1)})::numeric / 100,
  CASE WHEN b % 6 = 0 THEN NULL ELSE ((b * 397) % 1501)::numeric / 100 END,
  c,
  c + ${budgetTouched('b')}
FROM (SELECT b, ${budgetCreated('b')} AS c
      FROM generate_series(${from}::bigint, ${to}::bigint) AS b) AS s`);
  }
  out.push(setval('budgets'));

  for (const [from, to] of batches(counts.budget_items, o.batchSize)) {
    out.push(`INSERT INTO budget_items (id, budget_id, description, unit_price, position, created_at, updated_at)
OVERRIDING SYSTEM VALUE
SELECT n,
  b,
  ${pick(DESCRIPTIONS, 'b * 7 + p')},
  (${baseCents('b')} + 1250 * p)::numeric / 100,
  p::int,
  c,
  c + ${budgetTouched('b')}
FROM (SELECT n, b, p, ${budgetCreated('b')} + make_interval(mins => p::int) AS c
      FROM (SELECT n, (n - 1) / ${M} + 1 AS b, (n - 1) % ${M} + 1 AS p
            FROM generate_series(${from}::bigint, ${to}::bigint) AS n) AS g) AS s`);
  }
  out.push(setval('budget_items'));
  return out;
}

/**
 * One query returning `{ table, rows, digest }` per example table. The digest is an md5 over the row
 * count and two 64-bit sums of the md5 of every row's text form (a multiset hash): equal data gives
 * equal digests whatever the physical row order, and it needs no ordered aggregate, so it runs in one
 * (parallel) scan and has no size limit (string_agg of a table's rows fails past 1 GB, e.g. the
 * 20M budget_items of 1M users). The text form of timestamptz follows the session's TimeZone and
 * DateStyle: compare digests taken with the same settings (e.g. TimeZone 'UTC').
 * @returns {string}
 */
export function crmDigestSql() {
  const half = (from) => `coalesce(sum(('x' || substr(h, ${from}, 16))::bit(64)::bigint::numeric), 0)`;
  return CRM_TABLES.map(
    (t) =>
      `SELECT '${t}' AS table, count(*)::bigint AS rows, ` +
      `md5(count(*) || ':' || ${half(1)} || ':' || ${half(17)}) AS digest ` +
      `FROM (SELECT md5(t::text) AS h FROM ${t} AS t) AS s`,
  ).join('\nUNION ALL\n');
}

const USAGE = `Usage: node examples/crm-ditual/data.mjs --users N [--budgets-per-user K] [--items-per-budget M]
                                         [--batch-size B] --sql

Prints SQL that inserts deterministic CRM Ditual demo data into the example's empty tables
(users, budgets, budget_items): N users, K budgets per user (default ${DEFAULTS.budgetsPerUser}), M items per budget
(default ${DEFAULTS.itemsPerBudget}), at most B rows per INSERT (default ${DEFAULTS.batchSize}).
Apply the example's migrations first, e.g. with \`tidemark up\`.

  node examples/crm-ditual/data.mjs --users 1000 --sql | psql -h 127.0.0.1 -U postgres mydb
`;

const FLAGS = {
  '--users': 'users',
  '--budgets-per-user': 'budgetsPerUser',
  '--items-per-budget': 'itemsPerBudget',
  '--batch-size': 'batchSize',
};

/** @returns {number} exit code */
function main(argv) {
  const opts = {};
  let sql = false;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === '--sql') sql = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE);
      return 0;
    } else if (arg.split('=')[0] in FLAGS) {
      const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, argv[++k]];
      if (inline === undefined || !/^\d+$/.test(inline)) {
        process.stderr.write(`data.mjs: ${flag} needs a non-negative integer\n`);
        return 2;
      }
      opts[FLAGS[flag]] = Number(inline);
    } else {
      process.stderr.write(`data.mjs: unknown argument '${arg}'\n\n${USAGE}`);
      return 2;
    }
  }
  if (!sql || opts.users === undefined) {
    process.stdout.write(USAGE);
    return 0;
  }
  let statements;
  try {
    statements = crmDataStatements(opts);
  } catch (err) {
    process.stderr.write(`data.mjs: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const c = crmCounts(opts);
  process.stdout.write(
    `-- CRM Ditual demo data: ${c.users} users, ${c.budgets} budgets, ${c.budget_items} budget_items\n` +
      statements.map((s) => `${s};\n`).join('\n'),
  );
  return 0;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
