/**
 * Changes in `tidemark validate`'s words (check (a), today src/data/structure.ts `compareStructures`):
 * only what validate compares — tables, their columns' type, nullability, identity kind, generation
 * expression and default, their constraints' and indexes' definitions — with SQL text printed
 * normalized (normalize.ts), as validate prints it.
 *
 * Input: `diff(live, migrations)` (the snapshot the migrations give as `to`), so a drop exists live
 * only and an add is missing live. Order, as validate prints it: the tables the migrations create, by
 * name (each: its columns by name, then live-only columns, constraints likewise, indexes likewise),
 * then the tables only live has, by name.
 */
import { displayName, displayQualified } from '../../sql/ident.js';
import { normalizeIndexDef, normalizeSql } from '../normalize.js';
import type { ColumnInfo, ConstraintInfo, ConstraintKind, IndexInfo } from '../snapshot.js';
import type { Change } from './change.js';
import { CONSTRAINT_WORD } from './words.js';

export interface StructureDifference {
  /** The table's label (displayQualified: `public.users`, `"a.b".c`). */
  table: string;
  message: string;
}

/** The column attributes validate compares, in the order it prints them. */
const COLUMN_ATTRIBUTES = ['type', 'notNull', 'identity', 'generated', 'default'];
const SECTION = { column: 0, constraint: 1, index: 2 } as const;

interface Line {
  /** section, live-only (1) or not (0), object name, attribute rank. */
  sort: [number, number, string, number];
  message: string;
}

interface Group {
  schema: string;
  name: string;
  liveOnly: boolean;
  lines: Line[];
}

export function describeStructure(changes: readonly Change[]): StructureDifference[] {
  const groups = new Map<string, Group>();
  const group = (schema: string, name: string): Group => {
    const key = `${schema}\0${name}`;
    const found = groups.get(key);
    if (found) return found;
    const g: Group = { schema, name, liveOnly: false, lines: [] };
    groups.set(key, g);
    return g;
  };
  for (const ch of changes) {
    const { id } = ch;
    if (id.kind === 'table') {
      if (ch.op === 'alter') continue;
      const g = group(id.schema, id.name);
      const t = displayName({ schema: id.schema, name: id.name });
      g.liveOnly = ch.op === 'drop';
      g.lines.push({ sort: [-1, 0, '', 0], message: ch.op === 'add' ? `table ${t} missing live (the migrations create it)` : `table ${t} exists live but the migrations do not create it` });
      continue;
    }
    if ((id.kind !== 'column' && id.kind !== 'constraint' && id.kind !== 'index') || id.table === undefined || id.parent !== undefined) continue;
    const t = displayName({ schema: id.schema, name: id.table });
    const line = sentence(ch, t, id.schema, id.table);
    if (line) group(id.schema, id.table).lines.push(line);
  }
  const ordered = [...groups.values()].sort((a, b) => Number(a.liveOnly) - Number(b.liveOnly) || byCodeUnit(a.schema, b.schema) || byCodeUnit(a.name, b.name));
  const out: StructureDifference[] = [];
  for (const g of ordered) {
    g.lines.sort((a, b) => a.sort[0] - b.sort[0] || a.sort[1] - b.sort[1] || byCodeUnit(a.sort[2], b.sort[2]) || a.sort[3] - b.sort[3]);
    const table = displayQualified({ schema: g.schema, name: g.name });
    for (const l of g.lines) out.push({ table, message: l.message });
  }
  return out;
}

/** Names as the catalog's C-collation ORDER BY sorts them. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sentence(ch: Change, t: string, schema: string, table: string): Line | undefined {
  const { id } = ch;
  const kind = id.kind as keyof typeof SECTION;
  const name = displayName(id.name);
  const sort = (liveOnly: boolean, rank = 0): Line['sort'] => [SECTION[kind], liveOnly ? 1 : 0, id.name, rank];
  const index = (def: string) => normalizeIndexDef(def, id.name, schema, table).replace('<index> ', '').replace('<table>', t);
  if (kind === 'column') {
    const col = `${t}.${name}`;
    if (ch.op === 'add') return { sort: sort(false), message: `column ${col} missing live (the migrations give ${(ch.after as ColumnInfo).type})` };
    if (ch.op === 'drop') return { sort: sort(true), message: `column ${col} (${(ch.before as ColumnInfo).type}) exists live but not in the migrations` };
    const rank = COLUMN_ATTRIBUTES.indexOf(ch.attribute);
    if (rank < 0) return undefined;
    const [l, e] = [ch.before, ch.after];
    // The word (`type`, `default`) is said once, before the live value.
    const say = (what: (v: unknown) => string, word = '') => ({ sort: sort(false, rank), message: `${col}: live ${word}${what(l)}, migrations give ${what(e)}` });
    switch (ch.attribute) {
      case 'type':
        return say((v) => v as string, 'type ');
      case 'notNull':
        return say((v) => (v ? 'NOT NULL' : 'nullable'));
      case 'identity':
        return say((v) => (v ? `identity ${v as string}` : 'no identity'));
      case 'generated': {
        // validate compares the expression only: a stored/virtual switch alone is not its difference.
        const expr = (v: unknown) => (v === undefined ? undefined : normalizeSql((v as NonNullable<ColumnInfo['generated']>).expression));
        if (expr(l) === expr(e)) return undefined;
        return say((v) => (expr(v) === undefined ? 'not generated' : `generated as (${expr(v)})`));
      }
      default:
        return say((v) => (v === undefined ? '(none)' : normalizeSql(v as string)), 'default ');
    }
  }
  if (kind === 'constraint') {
    const word = `${CONSTRAINT_WORD[id.type as ConstraintKind] ?? 'constraint'} ${name} on ${t}`;
    if (ch.op === 'add') return { sort: sort(false), message: `${word} missing live (${normalizeSql((ch.after as ConstraintInfo).definition)})` };
    if (ch.op === 'drop') return { sort: sort(true), message: `${word} exists live but not in the migrations (${normalizeSql((ch.before as ConstraintInfo).definition)})` };
    if (ch.attribute !== 'definition') return undefined;
    return { sort: sort(false), message: `constraint ${name} on ${t}: live ${normalizeSql(ch.before as string)}, migrations give ${normalizeSql(ch.after as string)}` };
  }
  if (ch.op === 'add') return { sort: sort(false), message: `index ${name} on ${t} missing live (${index((ch.after as IndexInfo).definition)})` };
  if (ch.op === 'drop') return { sort: sort(true), message: `index ${name} on ${t} exists live but not in the migrations (${index((ch.before as IndexInfo).definition)})` };
  if (ch.attribute !== 'definition') return undefined;
  return { sort: sort(false), message: `index ${name} on ${t}: live ${index(ch.before as string)}, migrations give ${index(ch.after as string)}` };
}
