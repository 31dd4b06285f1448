/**
 * Renames (issue 13): a desired schema's `-- tidemark:renamed-from <old>` comment, accepted, turns a drop +
 * add into a RENAME; a likely one found in the Changes is offered with the line to add, never applied
 * silently (Atlas's `renamed_from`; Alembic guesses nothing, Prisma drops).
 *
 * applyRenames edits the `from` Snapshot the way PostgreSQL's own RENAME would leave the catalog, so a
 * later diff(from', to) sees no drop + add: the object's name, and every text the diff compares that
 * prints it (foreign keys' REFERENCES, index and trigger heads, column lists, defaults, view queries).
 * The text is rewritten token by token (string literals skipped), not parsed: catalog-printed SQL only.
 * Over 300 lines because the rewriting of each kind's dependents belongs with the rename it follows.
 */
import { TidemarkError } from '../../errors.js';
import { ident, identifierBytes, MAX_IDENTIFIER_BYTES, nameKey, type QualifiedName, qualified } from '../../sql/ident.js';
import { normalizeIndexDef } from '../normalize.js';
import type { Statement } from '../render/statement.js';
import type { ColumnInfo, ConstraintInfo, IndexInfo, Snapshot, TableInfo } from '../snapshot.js';
import { displayName, objectKey } from '../snapshot.js';
import type { Change } from './change.js';

/** An accepted rename, from a `-- tidemark:renamed-from` comment at `file`:`line`. */
export interface Rename {
  kind: 'table' | 'column' | 'index' | 'constraint' | 'view' | 'type' | 'sequence';
  schema: string;
  /** The table of a column, index or constraint. */
  table?: string;
  /** As written in the comment: SQL, so `"Odd"` keeps its case, a bare name folds to lower case; `schema.name` moves it. */
  from: string;
  to: string;
  file: string;
  line: number;
}

/** A drop + add that looks like a rename (same type and position, or the same columns), and the comment that accepts it. */
export interface RenameSuggestion {
  kind: Rename['kind'];
  object: string;
  old: string;
  new: string;
  /** The exact comment line to add above the new definition. */
  line: string;
}

/** Tables, views, types and sequences first: a column, index or constraint rename names its table by its new name. */
const RANK: Record<Rename['kind'], number> = { table: 0, view: 0, type: 0, sequence: 0, column: 1, constraint: 1, index: 1 };

/** `from` with the renames done (a copy), and the RENAME statements that do them on a database, in run order. */
export function applyRenames(from: Snapshot, renames: readonly Rename[]): { from: Snapshot; statements: Statement[] } {
  const s = structuredClone(from);
  const sql: string[] = [];
  for (const r of [...renames].sort((a, b) => RANK[a.kind] - RANK[b.kind])) {
    const old = parseOld(r);
    const done = RENAMERS[r.kind](s, r, old, sql);
    if (done === 'unknown') {
      throw new TidemarkError(
        'renamed-from-unknown',
        `${r.file}:${r.line}: renamed-from ${r.from}: neither ${r.kind} ${displayName(old)} nor ${displayName({ schema: r.schema, name: r.to })} is in the schema diffed from.`,
        {
          file: r.file,
          line: r.line,
        },
      );
    }
  }
  return { from: s, statements: sql.map((text) => ({ sql: text, phase: 'main', changes: [], hazards: [] })) };
}

type Outcome = 'renamed' | 'already' | 'unknown';
type Renamer = (s: Snapshot, r: Rename, old: QualifiedName, sql: string[]) => Outcome;

const RENAMERS: Record<Rename['kind'], Renamer> = {
  table(s, r, old, sql) {
    const t = s.tables.find((x) => x.schema === old.schema && x.name === old.name);
    if (!t) return presence(s.tables.some((x) => x.schema === r.schema && x.name === r.to));
    const next = { schema: r.schema, name: r.to };
    moveStatements('TABLE', old, next, sql);
    renameRelation(s, 'table', old, next);
    Object.assign(t, { schema: next.schema, name: next.name }); // QualifiedName is read-only to callers
    for (const x of s.sequences) {
      if (x.ownedBy?.schema !== old.schema || x.ownedBy.table !== old.name) continue;
      x.ownedBy = { ...x.ownedBy, schema: next.schema, table: next.name };
      if (x.schema === next.schema) continue;
      const was = { schema: x.schema, name: x.name }; // SET SCHEMA moves the table's sequences with it
      Object.assign(x, { schema: next.schema });
      renameKey(s, 'sequence', was, x);
      renameSequenceUses(s, was, x);
    }
    for (const c of t.columns) if (c.identity) Object.assign(c.identity.sequence, { schema: next.schema });
    implicitNames(s, t, old.name, sql);
    return 'renamed';
  },
  view(s, r, old, sql) {
    const v = s.views.find((x) => x.schema === old.schema && x.name === old.name);
    if (!v) return presence(s.views.some((x) => x.schema === r.schema && x.name === r.to));
    const next = { schema: r.schema, name: r.to };
    moveStatements(v.materialized ? 'MATERIALIZED VIEW' : 'VIEW', old, next, sql);
    renameRelation(s, 'view', old, next);
    for (const w of s.views) w.dependsOn = w.dependsOn.map((d) => (d === `${old.schema}.${old.name}` ? `${next.schema}.${next.name}` : d));
    Object.assign(v, { schema: next.schema, name: next.name }); // QualifiedName is read-only to callers
    return 'renamed';
  },
  type(s, r, old, sql) {
    const t = s.types.find((x) => x.schema === old.schema && x.name === old.name);
    if (!t) return presence(s.types.some((x) => x.schema === r.schema && x.name === r.to));
    const next = { schema: r.schema, name: r.to };
    moveStatements('TYPE', old, next, sql);
    renameKey(s, 'type', old, next);
    Object.assign(t, { schema: next.schema, name: next.name }); // QualifiedName is read-only to callers
    // format_type prints a type `schema.name`, or bare when the search path finds it.
    const retype = (text: string) => rewriteIdents(text, (tk, i) => qualifiedAt(tk, i, old, next) ?? (isNamed(tk, i, old) ? ident(next.name) : undefined));
    for (const tb of s.tables) for (const c of tb.columns) c.type = retype(c.type);
    for (const x of s.types) {
      if (x.kind === 'domain') x.baseType = retype(x.baseType);
      if (x.kind === 'composite') for (const a of x.attributes) a.type = retype(a.type);
    }
    // Casts in expressions (`'draft'::status`): only after `::`, so a column of the same name is left alone.
    const casts = (text: string) =>
      rewriteIdents(text, (tk, i) => qualifiedAt(tk, i, old, next) ?? (isNamed(tk, i, old) && tk[i - 1]?.text === ':' && tk[i - 2]?.text === ':' ? ident(next.name) : undefined));
    for (const tb of s.tables) {
      for (const c of tb.columns) if (c.default) c.default = casts(c.default);
      for (const c of tb.constraints) c.definition = casts(c.definition);
      for (const i of tb.indexes) i.definition = casts(i.definition);
    }
    for (const v of s.views) {
      const text = casts(v.definition);
      if (text !== v.definition) Object.assign(v, { definition: text, queryHash: undefined });
    }
    return 'renamed';
  },
  sequence(s, r, old, sql) {
    const q = s.sequences.find((x) => x.schema === old.schema && x.name === old.name);
    if (!q) return presence(s.sequences.some((x) => x.schema === r.schema && x.name === r.to));
    const next = { schema: r.schema, name: r.to };
    moveStatements('SEQUENCE', old, next, sql);
    renameKey(s, 'sequence', old, next);
    Object.assign(q, { schema: next.schema, name: next.name }); // QualifiedName is read-only to callers
    renameSequenceUses(s, old, next);
    return 'renamed';
  },
  column(s, r, _old, sql) {
    const t = tableOf(s, r);
    const from = parseName(r.from);
    const c = t?.columns.find((x) => x.name === from);
    if (!t || !c) return presence(t?.columns.some((x) => x.name === r.to) ?? false);
    sql.push(`ALTER TABLE ${qualified(t)} RENAME COLUMN ${ident(from)} TO ${ident(r.to)};`);
    c.name = r.to;
    renameColumnUses(s, t, from, r.to);
    return 'renamed';
  },
  constraint(s, r, _old, sql) {
    const t = tableOf(s, r);
    const from = parseName(r.from);
    const c = t?.constraints.find((x) => x.name === from);
    if (!t || !c) return presence(t?.constraints.some((x) => x.name === r.to) ?? false);
    sql.push(`ALTER TABLE ${qualified(t)} RENAME CONSTRAINT ${ident(from)} TO ${ident(r.to)};`);
    renameIndexUses(t, from, r.to); // a key's index is renamed with it
    c.name = r.to;
    return 'renamed';
  },
  index(s, r, _old, sql) {
    const from = parseName(r.from);
    const owners: { name: string; indexes: IndexInfo[] }[] = [...s.tables, ...s.views].filter((x) => x.schema === r.schema && (r.table === undefined || x.name === r.table));
    const owner = owners.find((x) => x.indexes.some((i) => i.name === from));
    if (!owner) return presence(owners.some((x) => x.indexes.some((i) => i.name === r.to)));
    sql.push(`ALTER INDEX ${qualified({ schema: r.schema, name: from })} RENAME TO ${ident(r.to)};`);
    const t = s.tables.find((x) => x === owner);
    if (t) renameIndexUses(t, from, r.to);
    for (const i of owner.indexes) if (i.name === from) renameIndexEntry(i, r.to);
    return 'renamed';
  },
};

/** Old name absent: the rename already ran when the new one is there, else the comment names nothing. */
const presence = (newThere: boolean): Outcome => (newThere ? 'already' : 'unknown');

function tableOf(s: Snapshot, r: Rename): TableInfo | undefined {
  return s.tables.find((x) => x.schema === r.schema && x.name === r.table);
}

/** SET SCHEMA when the old name is in another schema, then RENAME TO when the name differs. */
function moveStatements(word: string, old: QualifiedName, next: QualifiedName, sql: string[]): void {
  if (old.schema !== next.schema) sql.push(`ALTER ${word} ${qualified(old)} SET SCHEMA ${ident(next.schema)};`);
  if (old.name !== next.name) sql.push(`ALTER ${word} ${qualified({ schema: next.schema, name: old.name })} RENAME TO ${ident(next.name)};`);
}

function renameKey(s: Snapshot, kind: 'table' | 'view' | 'type' | 'sequence', old: QualifiedName, next: QualifiedName): void {
  if (s.createOrder) s.createOrder = s.createOrder.map((k) => (k === objectKey(kind, old) ? objectKey(kind, next) : k));
}

/** A table or view renamed: the texts that print it (REFERENCES, index and trigger heads, views), creation order, dependents. */
function renameRelation(s: Snapshot, kind: 'table' | 'view', old: QualifiedName, next: QualifiedName): void {
  renameKey(s, kind, old, next);
  const label = (q: QualifiedName) => `${kind} ${displayName(q)}`;
  for (const d of s.dependents ?? []) if (d.object === label(old)) d.object = label(next);
  const rel = (text: string) => rewriteIdents(text, (tk, i) => qualifiedAt(tk, i, old, next) ?? (isNamed(tk, i, old) && relationSpot(tk, i) ? ident(next.name) : undefined));
  for (const t of s.tables) {
    for (const c of t.constraints) {
      if (!c.references || nameKey(c.references) !== nameKey(old)) continue;
      c.references = { ...next };
      const at = c.definition.indexOf(' REFERENCES ');
      if (at >= 0) c.definition = c.definition.slice(0, at) + rel(c.definition.slice(at));
    }
    const own = t.schema === old.schema && t.name === old.name;
    if (!own) continue;
    for (const i of t.indexes) i.definition = rel(i.definition);
    for (const tr of t.triggers) tr.definition = rel(tr.definition);
  }
  for (const v of s.views) {
    const text = rel(v.definition);
    if (text !== v.definition) {
      v.definition = text;
      v.queryHash = undefined; // the hash was of the old text; the diff compares the text instead
    }
    if (v.schema === old.schema && v.name === old.name) for (const i of v.indexes) i.definition = rel(i.definition);
  }
}

/** PostgreSQL's names of a table's keys, indexes and serial sequences, built from the table name: renamed with it. */
function implicitNames(s: Snapshot, t: TableInfo, oldName: string, sql: string[]): void {
  if (oldName === t.name) return; // only moved to another schema
  const rename = (name: string, suffix: string): string | undefined => {
    if (!name.startsWith(`${oldName}_`) || !name.endsWith(suffix)) return undefined;
    const next = `${t.name}${name.slice(oldName.length)}`;
    return identifierBytes(next) <= MAX_IDENTIFIER_BYTES ? next : undefined;
  };
  for (const c of t.constraints) {
    const next = implicitConstraint(c, oldName) || implicitCheck(c, t, oldName) ? rename(c.name, '') : undefined;
    if (!next) continue;
    sql.push(`ALTER TABLE ${qualified(t)} RENAME CONSTRAINT ${ident(c.name)} TO ${ident(next)};`);
    renameIndexUses(t, c.name, next);
    c.name = next;
  }
  for (const i of t.indexes) {
    const cols = indexColumns(i.definition);
    if (!cols || i.name !== `${oldName}_${cols.join('_')}_idx`) continue;
    const next = rename(i.name, '_idx');
    if (!next) continue;
    sql.push(`ALTER INDEX ${qualified({ schema: t.schema, name: i.name })} RENAME TO ${ident(next)};`);
    renameIndexUses(t, i.name, next);
    renameIndexEntry(i, next);
  }
  for (const q of s.sequences) {
    const o = q.ownedBy;
    if (!o || o.schema !== t.schema || o.table !== t.name) continue;
    const next = q.name === `${oldName}_${o.column}_seq` ? rename(q.name, '_seq') : undefined;
    if (!next) continue;
    const old = { schema: q.schema, name: q.name };
    sql.push(`ALTER SEQUENCE ${qualified(old)} RENAME TO ${ident(next)};`);
    Object.assign(q, { name: next });
    renameKey(s, 'sequence', old, q);
    renameSequenceUses(s, old, q);
  }
  for (const c of t.columns) {
    const seq = c.identity?.sequence;
    if (!seq || seq.name !== `${oldName}_${c.name}_seq`) continue;
    const next = rename(seq.name, '_seq');
    if (!next) continue;
    sql.push(`ALTER SEQUENCE ${qualified(seq)} RENAME TO ${ident(next)};`);
    Object.assign(seq, { name: next });
  }
}

/** Whether a constraint's name is the one PostgreSQL gives it on table `table`: `_pkey`, `_<cols>_key`, `_<cols>_fkey`. */
function implicitConstraint(c: ConstraintInfo, table: string): boolean {
  if (c.kind === 'primary key') return c.name === `${table}_pkey`;
  const cols = parenList(c.definition);
  if (!cols) return false;
  if (c.kind === 'unique') return c.name === `${table}_${cols.join('_')}_key`;
  if (c.kind === 'foreign key') return c.name === `${table}_${cols.join('_')}_fkey`;
  return false;
}

/** A CHECK's PostgreSQL name: `<table>_<first column it reads>_check`, or `<table>_check` when it reads none. */
function implicitCheck(c: ConstraintInfo, t: TableInfo, table: string): boolean {
  if (c.kind !== 'check') return false;
  const first = tokenize(c.definition).find((k) => k.value !== undefined && t.columns.some((col) => col.name === k.value));
  return c.name === (first ? `${table}_${first.value}_check` : `${table}_check`);
}

/** The plain column names of an index (`… USING btree (a, b DESC)` → [a, b]); undefined when an element is an expression. */
function indexColumns(def: string): string[] | undefined {
  const m = / USING \w+ \((.*)\)/.exec(def);
  return m ? parenList(`(${m[1]})`, true) : undefined;
}

/** The names in the first parenthesised list, `(a, "B")` → [a, B]; undefined when an element is not a name. */
function parenList(text: string, allowTrailingWords = false): string[] | undefined {
  const toks = tokenize(text);
  const open = toks.findIndex((t) => t.text === '(');
  if (open < 0) return undefined;
  const out: string[] = [];
  let expectName = true;
  for (let i = open + 1; i < toks.length; i++) {
    const t = toks[i];
    if (t.text === ')') return out;
    if (t.text === ',') {
      expectName = true;
      continue;
    }
    if (expectName && t.value !== undefined) out.push(t.value);
    else if (!(allowTrailingWords && t.value !== undefined && /^[a-z_]+$/.test(t.text))) return undefined; // ASC, DESC, an opclass
    expectName = false;
  }
  return undefined;
}

/** An index (or the index of a key) renamed on table `t`: what names it there. */
function renameIndexUses(t: TableInfo, from: string, to: string): void {
  if (t.replicaIdentity?.index === from) t.replicaIdentity.index = to;
  if (t.clusterOn === from) t.clusterOn = to;
}

function renameIndexEntry(i: IndexInfo, to: string): void {
  i.name = to;
  i.definition = i.definition.replace(/^(CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?)(?:"(?:[^"]|"")*"|\S+)/, `$1${ident(to)}`);
}

/** Column defaults `nextval('seq'::regclass)` print the sequence's current name. */
function renameSequenceUses(s: Snapshot, old: QualifiedName, next: QualifiedName): void {
  const lit = (q: QualifiedName) => `'${qualified(q).replaceAll("'", "''")}'::regclass`;
  for (const t of s.tables) for (const c of t.columns) if (c.default?.includes(lit(old))) c.default = c.default.replaceAll(lit(old), lit(next));
}

/** A column renamed: its table's constraint, index, policy and generated texts, and foreign keys onto it. */
function renameColumnUses(s: Snapshot, t: TableInfo, from: string, to: string): void {
  const bare = (text: string) => rewriteIdents(text, (tk, i) => (tk[i].value === from && tk[i - 1]?.text !== '.' && tk[i + 1]?.text !== '(' && tk[i + 1]?.text !== '.' ? ident(to) : undefined));
  const refList = (def: string) => {
    const at = def.indexOf(' REFERENCES ');
    const paren = def.indexOf('(', at);
    const close = def.indexOf(')', paren);
    return paren < 0 || close < 0 ? def : def.slice(0, paren) + bare(def.slice(paren, close + 1)) + def.slice(close + 1);
  };
  for (const c of t.constraints) {
    const at = c.kind === 'foreign key' ? c.definition.indexOf(' REFERENCES ') : -1;
    c.definition = at < 0 ? bare(c.definition) : bare(c.definition.slice(0, at)) + c.definition.slice(at);
  }
  for (const u of s.tables) {
    for (const c of u.constraints) if (c.kind === 'foreign key' && c.references && nameKey(c.references) === nameKey(t)) c.definition = refList(c.definition);
  }
  for (const i of t.indexes) {
    const at = i.definition.indexOf(' USING ');
    if (at >= 0) i.definition = i.definition.slice(0, at) + bare(i.definition.slice(at));
  }
  for (const p of t.policies) {
    if (p.using) p.using = bare(p.using);
    if (p.withCheck) p.withCheck = bare(p.withCheck);
  }
  for (const c of t.columns as ColumnInfo[]) if (c.generated) c.generated.expression = bare(c.generated.expression);
  for (const q of s.sequences) if (q.ownedBy && q.ownedBy.schema === t.schema && q.ownedBy.table === t.name && q.ownedBy.column === from) q.ownedBy.column = to;
}

// ---- text: catalog-printed SQL as tokens ----

interface Token {
  text: string;
  /** The identifier it spells (quoted ones unquoted), for names only. */
  value?: string;
  start: number;
  end: number;
}

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const start = i;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      i++;
      while (i < sql.length && !(sql[i] === "'" && sql[i + 1] !== "'")) i += sql[i] === "'" ? 2 : 1;
      i++;
      out.push({ text: sql.slice(start, i), start, end: i });
    } else if (ch === '"') {
      i++;
      while (i < sql.length && !(sql[i] === '"' && sql[i + 1] !== '"')) i += sql[i] === '"' ? 2 : 1;
      i++;
      out.push({ text: sql.slice(start, i), value: sql.slice(start + 1, i - 1).replaceAll('""', '"'), start, end: i });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i])) i++;
      const text = sql.slice(start, i);
      out.push({ text, value: text.toLowerCase(), start, end: i });
    } else {
      i++;
      out.push({ text: ch, start, end: i });
    }
  }
  return out;
}

/** `sql` with each name token `pick` returns a replacement for replaced. */
function rewriteIdents(sql: string, pick: (toks: Token[], i: number) => string | undefined): string {
  const toks = tokenize(sql);
  let out = '';
  let at = 0;
  toks.forEach((t, i) => {
    if (t.value === undefined) return;
    const next = pick(toks, i);
    if (next === undefined) return;
    out += sql.slice(at, t.start) + next;
    at = t.end;
  });
  return out + sql.slice(at);
}

/** Token i is `old`'s name, not qualified by another name. */
function isNamed(tk: Token[], i: number, old: QualifiedName): boolean {
  return tk[i].value === old.name && tk[i - 1]?.text !== '.';
}

/** Token i is the schema or the name part of `old.schema . old.name`: its new text. */
function qualifiedAt(tk: Token[], i: number, old: QualifiedName, next: QualifiedName): string | undefined {
  if (tk[i].value === old.schema && tk[i + 1]?.text === '.' && tk[i + 2]?.value === old.name) return ident(next.schema);
  if (tk[i - 2]?.value === old.schema && tk[i - 1]?.text === '.' && tk[i].value === old.name) return ident(next.name);
  return undefined;
}

/** Where a bare name is a relation: after ON, FROM, JOIN, REFERENCES, or as a column's qualifier (`t.c`). */
function relationSpot(tk: Token[], i: number): boolean {
  const before = tk[i - 1]?.value;
  return tk[i + 1]?.text === '.' || tk[i + 1]?.text === '(' || ['on', 'only', 'from', 'join', 'references'].includes(before ?? '');
}

/** The old name of a rename: `name` in the rename's schema, or `schema.name`. */
function parseOld(r: Rename): QualifiedName {
  const names = tokenize(r.from).filter((t) => t.value !== undefined);
  const parts = names.map((t) => (t.text.startsWith('"') ? (t.value as string) : t.text.toLowerCase()));
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { schema: r.schema, name: parts[parts.length - 1] ?? r.from };
}

function parseName(text: string): string {
  return parseOld({ from: text, schema: '' } as Rename).name;
}

// ---- suggestions ----

/** Drops + adds in `changes` that look like renames: columns of one type at one position, tables of one column list, indexes of one definition. */
export function suggestRenames(changes: readonly Change[]): RenameSuggestion[] {
  const out: RenameSuggestion[] = [];
  const used = new Set<Change>();
  const drops = changes.filter((c): c is Change & { op: 'drop' } => c.op === 'drop');
  for (const add of changes) {
    if (add.op !== 'add') continue;
    const drop = drops.find((d) => !used.has(d) && d.id.kind === add.id.kind && d.id.schema === add.id.schema && d.id.table === add.id.table && looksRenamed(d, add));
    if (!drop || !['column', 'table', 'index'].includes(add.id.kind)) continue;
    used.add(drop);
    const kind = add.id.kind as 'column' | 'table' | 'index';
    const owner = add.id.table === undefined ? '' : displayName({ schema: add.id.schema, name: add.id.table });
    const object = kind === 'table' ? `table ${displayName(add.id)}` : kind === 'column' ? `column ${owner}.${ident(add.id.name)}` : `index ${ident(add.id.name)} on ${owner}`;
    out.push({ kind, object, old: drop.id.name, new: add.id.name, line: `-- tidemark:renamed-from ${ident(drop.id.name)}` });
  }
  return out;
}

function looksRenamed(drop: Change & { op: 'drop' }, add: Change & { op: 'add' }): boolean {
  if (add.id.kind === 'column') {
    const [a, b] = [drop.before as ColumnInfo, add.after as ColumnInfo];
    return a.type === b.type && a.position === b.position;
  }
  if (add.id.kind === 'table') {
    const cols = (t: TableInfo) =>
      [...t.columns]
        .sort((x, y) => x.position - y.position)
        .map((c) => `${c.name} ${c.type}`)
        .join(', ');
    return cols(drop.before as TableInfo) === cols(add.after as TableInfo);
  }
  if (add.id.kind === 'index') {
    const [a, b] = [drop.before as IndexInfo, add.after as IndexInfo];
    const table = add.id.table ?? '';
    return normalizeIndexDef(a.definition, a.name, add.id.schema, table) === normalizeIndexDef(b.definition, b.name, add.id.schema, table);
  }
  return false;
}
