// Best-effort table references (`op.create_table("t")`, `ForeignKey("s.t.c")`) and SQL text
// (`op.execute("…")`, `conn.execute(text("…"))`) from a revision file's tokens.
import type { QualifiedName } from '../../sql/ident.js';
import type { EmbeddedSql, TableReference } from '../revision.js';
import { closing, literal, splitCommas } from './evaluate.js';
import { C_DOT, C_EQ, C_LPAR, C_LSQB, C_STAR, T, type Tokens } from './tokenize.js';

/** op.<fn>(table_name, …): the table is the first argument. */
const FIRST_ARG = new Set(['create_table', 'drop_table', 'add_column', 'drop_column', 'alter_column', 'batch_alter_table', 'create_table_comment', 'drop_table_comment', 'rename_table']);
/** Alembic's signatures (constraint_or_index_name, table_name, …): the table is the second argument. */
const SECOND_ARG = new Set(['create_unique_constraint', 'create_check_constraint', 'create_primary_key', 'create_exclude_constraint', 'drop_constraint', 'create_index', 'drop_index', 'rename_table']);

interface Arg {
  kw?: string;
  a: number;
  b: number;
}

/** The arguments of the call whose `(` is at `open`. */
function callArgs(t: Tokens, open: number): { args: Arg[]; end: number } | undefined {
  const close = closing(t, open);
  if (close < 0) return undefined;
  const args: Arg[] = [];
  for (const [a, b] of splitCommas(t, open + 1, close)) {
    if (a === b) continue;
    if (t.kind[a] === T.Name && a + 1 < b && t.isOp(a + 1, C_EQ)) args.push({ kw: t.text(a), a: a + 2, b });
    else args.push({ a, b });
  }
  return { args, end: close };
}

/** The index-th positional argument, unless a `*args` before it makes positions unknowable. */
function nth(t: Tokens, args: Arg[], index: number): Arg | undefined {
  let n = 0;
  for (const arg of args) {
    if (arg.kw) return undefined;
    if (t.isOp(arg.a, C_STAR) || t.code[arg.a] === -C_STAR) return undefined;
    if (n === index) return arg;
    n++;
  }
  return undefined;
}

function keyword(args: Arg[], name: string): Arg | undefined {
  for (const x of args) if (x.kw === name) return x;
  return undefined;
}

/** `text("…")`, `sa.text("…")`, `sqlalchemy.sql.text("…")` (a trailing `.bindparams(…)` is fine): the literal. */
function textCall(t: Tokens, a: number, b: number): { value: string; line: number } | undefined {
  let k = a;
  while (k + 1 < b && t.kind[k] === T.Name && t.isOp(k + 1, C_DOT)) k += 2;
  if (!t.isName(k, 'text') || !t.isOp(k + 1, C_LPAR)) return undefined;
  const call = callArgs(t, k + 1);
  if (!call || call.end >= b) return undefined;
  const first = nth(t, call.args, 0);
  return first ? literal(t, first.a, first.b) : undefined;
}

/** The table part of `table.column` / `schema.table.column`. */
function tableOfColumn(ref: string): string | undefined {
  const dot = ref.lastIndexOf('.');
  return dot > 0 ? ref.slice(0, dot) : undefined;
}

/** The table of a foreign key's `schema.table.column` spec: the schema is everything before the last dot, as in SQLAlchemy. */
function fkTable(table: string): QualifiedName {
  const dot = table.lastIndexOf('.');
  return dot < 0 ? { schema: 'public', name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}

interface OpCall {
  t: Tokens;
  args: Arg[];
  file: string;
  action: string;
  out: TableReference[];
}

/** Records the table named by `arg` (a literal), prefixed by the schema keyword when there is one. */
function opTable(r: OpCall, arg: Arg | undefined, schemaKw: string): void {
  if (!arg) return;
  const lit = literal(r.t, arg.a, arg.b);
  if (!lit?.value) return;
  const s = keyword(r.args, schemaKw) ?? (schemaKw === 'source_schema' ? keyword(r.args, 'schema') : undefined);
  const schema = s && literal(r.t, s.a, s.b)?.value;
  r.out.push({ table: schema ? `${schema}.${lit.value}` : lit.value, name: { schema: schema || 'public', name: lit.value }, file: r.file, line: lit.line, via: 'op', action: r.action });
}

export function scanReferences(t: Tokens, file: string, tableReferences: TableReference[], embeddedSql: EmbeddedSql[]): void {
  for (let k = 0; k < t.n; k++) {
    if (t.kind[k] !== T.Name || t.code[k + 1] !== C_LPAR) continue;
    const dotted = t.isOp(k - 1, C_DOT);
    if (dotted && t.isName(k, 'execute')) {
      // op.execute("…"), connection.execute(text("…")), op.get_bind().execute(sa.text("…"))
      const call = callArgs(t, k + 1);
      const first = call && nth(t, call.args, 0);
      if (!first) continue;
      const sql = literal(t, first.a, first.b) ?? textCall(t, first.a, first.b);
      if (sql) embeddedSql.push({ sql: sql.value, file, line: sql.line });
      continue;
    }
    if (dotted && t.isName(k - 2, 'op') && !t.isOp(k - 3, C_DOT)) {
      const fn = t.text(k);
      const first = FIRST_ARG.has(fn);
      const second = SECOND_ARG.has(fn);
      const fk = fn === 'create_foreign_key';
      if (!first && !second && !fk) continue; // op.f, op.get_bind, op.execute, op.bulk_insert(table_object, …)
      const call = callArgs(t, k + 1);
      if (!call) continue;
      const r: OpCall = { t, args: call.args, file, action: `op.${fn}`, out: tableReferences };
      if (first) opTable(r, nth(t, call.args, 0), 'schema');
      if (second) opTable(r, nth(t, call.args, 1), 'schema');
      if (fk) {
        opTable(r, nth(t, call.args, 1), 'source_schema');
        opTable(r, nth(t, call.args, 2), 'referent_schema');
      }
      opTable(r, keyword(call.args, 'table_name'), 'schema');
      opTable(r, keyword(call.args, 'source_table'), 'source_schema');
      opTable(r, keyword(call.args, 'referent_table'), 'referent_schema');
      continue;
    }
    if (t.isName(k, 'ForeignKey')) {
      const call = callArgs(t, k + 1);
      const first = call && (nth(t, call.args, 0) ?? keyword(call.args, 'column'));
      const lit = first && literal(t, first.a, first.b);
      const table = lit && tableOfColumn(lit.value);
      if (table) tableReferences.push({ table, name: fkTable(table), file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
      continue;
    }
    if (t.isName(k, 'ForeignKeyConstraint')) {
      const call = callArgs(t, k + 1);
      const refs = call && (nth(t, call.args, 1) ?? keyword(call.args, 'refcolumns'));
      if (!refs) continue;
      if (!(t.isOp(refs.a, C_LSQB) || t.isOp(refs.a, C_LPAR)) || closing(t, refs.a, refs.b) !== refs.b - 1) continue;
      const seen = new Set<string>();
      for (const [pa, pb] of splitCommas(t, refs.a + 1, refs.b - 1)) {
        const lit = literal(t, pa, pb);
        const table = lit && tableOfColumn(lit.value);
        if (table && !seen.has(table)) {
          seen.add(table);
          tableReferences.push({ table, name: fkTable(table), file, line: lit.line, via: 'foreign-key', action: 'REFERENCES' });
        }
      }
    }
  }
}
