/**
 * The enum, domain and composite type part of renderChanges (pure), ranked as tables.ts does: 3 types
 * created and altered (before the functions and tables that use them), 7 comments, 8 types dropped
 * (after what used them). An enum's new label is an `enum-values` statement: changes.ts keeps it in
 * that phase only when a later statement uses the label. A label removed or moved (so the down of
 * every ADD VALUE) rebuilds the enum: enum-rebuild.ts, which also covers labels added with it. What
 * needs a domain or composite rebuilt (another base type, an attribute moved) is refused here.
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import type { CompositeType, Snapshot, TypeInfo } from '../snapshot.js';
import { type RebuildHazard, renderEnumRebuild } from './enum-rebuild.js';
import { renderType } from './objects.js';
import type { Phase } from './statement.js';
import type { RankedSql } from './tables.js';

/** A ranked statement with its phase when it is not `main`; `label` is the enum label it adds, as a literal. */
export interface TypeSql extends RankedSql {
  phase?: Phase;
  label?: string;
}

export interface TypeRendering {
  statements: TypeSql[];
  /** Hazards the rendering itself finds (an enum rebuild's), beyond the Change's own. */
  hazards?: RebuildHazard[];
  refused?: string;
}

const RANK_TYPE = [3, 0];
const RANK_TYPE_ALTER = [3, 1];
const RANK_COMMENT = [7, 4];
const RANK_DROP_TYPE = [8, 2];

const at = ([rank, sub]: number[], sql: string): TypeSql => ({ rank, sub, sql });
const commentSql = (target: string, comment: unknown) => `COMMENT ON ${target} IS ${typeof comment === 'string' ? literal(comment) : 'NULL'};`;
const REBUILD = 'needs a type rebuild';

/** The kinds this file renders: the types and a domain's constraints. */
export function isTypeChange(c: Change): boolean {
  const { kind, parent } = c.id;
  return kind === 'enum' || kind === 'domain' || kind === 'composite' || (kind === 'constraint' && parent === 'domain');
}

/** `from` and `to` are the snapshots of this direction (the down swaps them): an enum rebuild reads their tables. */
export function renderTypeChange(c: Change, from: Snapshot, to: Snapshot, options: { labelsByRebuild?: boolean } = {}): TypeRendering {
  const id = c.id;
  if (id.kind === 'constraint') return renderDomainConstraint(c);
  const name = qualified(id);
  const word = id.kind === 'domain' ? 'DOMAIN' : 'TYPE';
  if (c.op === 'add') {
    const t = c.after as TypeInfo;
    const out = [at(RANK_TYPE, renderType(t))];
    if (t.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`${word} ${name}`, t.comment)));
    return { statements: out };
  }
  if (c.op === 'drop') return { statements: [at(RANK_DROP_TYPE, `DROP ${word} ${name};`)] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(`${word} ${name}`, c.after))] };
  if (c.attribute === 'kind') return { statements: [], refused: `it became a ${c.after}: ${REBUILD}` };
  if (id.kind === 'enum' && c.attribute === 'labels') return (options.labelsByRebuild ? undefined : enumLabels(name, c.before as string[], c.after as string[])) ?? renderEnumRebuild(c, { from, to });
  if (id.kind === 'composite' && c.attribute === 'attributes') return compositeAttributes(name, c.before as CompositeType['attributes'], c.after as CompositeType['attributes']);
  if (id.kind === 'domain') return domainAttribute(name, c);
  return { statements: [], refused: `${id.kind} attribute ${c.attribute} is not rendered` };
}

/** New labels, each placed next to its neighbour in `after`; undefined when a label is removed or moved (a rebuild). */
function enumLabels(name: string, before: string[], after: string[]): TypeRendering | undefined {
  const kept = after.filter((l) => before.includes(l));
  if (kept.length !== before.length || kept.some((l, i) => l !== before[i])) return undefined;
  const present = new Set(before);
  const out: TypeSql[] = [];
  after.forEach((label, i) => {
    if (present.has(label)) return;
    // After the label before it (kept or just added); a new first label goes BEFORE the first kept one.
    const next = after.slice(i + 1).find((l) => present.has(l));
    const place = i > 0 ? ` AFTER ${literal(after[i - 1])}` : next !== undefined ? ` BEFORE ${literal(next)}` : '';
    out.push({ ...at(RANK_TYPE_ALTER, `ALTER TYPE ${name} ADD VALUE ${literal(label)}${place};`), phase: 'enum-values', label: literal(label) });
    present.add(label);
  });
  return { statements: out };
}

type Attribute = CompositeType['attributes'][number];
const attributeType = (a: Attribute) => `${a.type}${a.collation ? ` COLLATE ${a.collation}` : ''}`;

/** ADD ATTRIBUTE appends: attributes kept must stay in order with the new ones after them, or it is a rebuild. */
function compositeAttributes(name: string, before: Attribute[], after: Attribute[]): TypeRendering {
  const names = (l: Attribute[]) => l.map((a) => a.name);
  const kept = names(after).filter((n) => names(before).includes(n));
  const keptFirst = names(after).slice(0, kept.length);
  if (
    kept.join('\0') !== keptFirst.join('\0') ||
    kept.join('\0') !==
      names(before)
        .filter((n) => kept.includes(n))
        .join('\0')
  ) {
    return { statements: [], refused: `attributes reordered: ${REBUILD}` };
  }
  const out: TypeSql[] = [];
  const alter = (action: string) => out.push(at(RANK_TYPE_ALTER, `ALTER TYPE ${name} ${action};`));
  for (const a of before) if (!kept.includes(a.name)) alter(`DROP ATTRIBUTE ${ident(a.name)}`);
  for (const a of after) {
    const old = before.find((b) => b.name === a.name);
    if (!old) alter(`ADD ATTRIBUTE ${ident(a.name)} ${attributeType(a)}`);
    else if (attributeType(old) !== attributeType(a)) alter(`ALTER ATTRIBUTE ${ident(a.name)} TYPE ${attributeType(a)}`);
  }
  return { statements: out };
}

function domainAttribute(name: string, c: Change & { op: 'alter' }): TypeRendering {
  const d = `ALTER DOMAIN ${name}`;
  switch (c.attribute) {
    case 'notNull':
      return { statements: [at(RANK_TYPE_ALTER, `${d} ${c.after ? 'SET' : 'DROP'} NOT NULL;`)] };
    case 'default':
      return { statements: [at(RANK_TYPE_ALTER, c.after === undefined ? `${d} DROP DEFAULT;` : `${d} SET DEFAULT ${c.after};`)] };
    case 'baseType':
    case 'collation':
      return { statements: [], refused: `another ${c.attribute === 'baseType' ? 'base type' : 'collation'}: ${REBUILD}` };
    default:
      return { statements: [], refused: `domain attribute ${c.attribute} is not rendered` };
  }
}

function renderDomainConstraint(c: Change): TypeRendering {
  const id = c.id;
  const d = `ALTER DOMAIN ${qualified({ schema: id.schema, name: id.table ?? '' })}`;
  const drop = at(RANK_TYPE_ALTER, `${d} DROP CONSTRAINT ${ident(id.name)};`);
  const add = (definition: unknown) => at(RANK_TYPE_ALTER, `${d} ADD CONSTRAINT ${ident(id.name)} ${definition};`);
  if (c.op === 'add') return { statements: [add((c.after as { definition: string }).definition)] };
  if (c.op === 'drop') return { statements: [drop] };
  if (c.attribute === 'definition') return { statements: [drop, add(c.after)] };
  return { statements: [], refused: `domain constraint attribute ${c.attribute} is not rendered` };
}
