/**
 * Changes in plain words: the sentences `compareSnapshots` has always printed (rebaseline's and
 * baseline's `differences`, the API's compareSnapshots), one per Change, in the Changes' order.
 * `from` is called `labels.expected` (default `live`), `to` `labels.actual` (default `baseline`).
 *
 *   describeChanges(diff(live, shadow))
 *   → [{ object: 'column budgets.status', message: "column budgets.status: live default 'draft'::text, baseline gives 'open'::text" }]
 */
import type { ColumnInfo, ConstraintKind, IdentitySpec, SchemaDifference, SequenceInfo, SequenceOptions, TableInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import type { Change, ObjectId } from './change.js';
import { literal } from '../../sql/ident.js';

/** How the two sides are called in messages. Default: expected = `live`, actual = `baseline`. */
export interface CompareLabels {
  expected: string;
  actual: string;
}

export const DEFAULT_LABELS: CompareLabels = { expected: 'live', actual: 'baseline' };

export function describeChanges(changes: readonly Change[], labels: CompareLabels = DEFAULT_LABELS): SchemaDifference[] {
  const where = (label: string) => (label === 'live' ? 'live' : `in the ${label}`);
  const E = labels.expected;
  const A = labels.actual;
  return changes.map((ch): SchemaDifference => {
    if (ch.op !== 'alter') {
      const object = objectLabel(ch.id, 'whole');
      const [here, there] = ch.op === 'drop' ? [E, A] : [A, E];
      return { object, message: `${object} exists ${where(here)} but not ${where(there)}` };
    }
    if (ch.attribute === 'definition' && (ch.id.kind === 'function' || ch.id.kind === 'procedure')) {
      const object = objectLabel(ch.id, 'attribute');
      return { object, message: `${object}: the definition ${where(E)} differs from the one ${where(A)}` };
    }
    const identityOption = ch.attribute.startsWith('identitySequence.');
    const object = `${objectLabel(ch.id, 'attribute')}${identityOption ? ' identity sequence' : ''}`;
    const [what, show] = identityOption ? SEQUENCE_WORDS[ch.attribute.slice('identitySequence.'.length) as keyof SequenceOptions] : wordsFor(ch.id, ch.attribute);
    return { object, message: `${object}: ${E} ${what}${what ? ' ' : ''}${show(ch.before)}, ${A} gives ${show(ch.after)}` };
  });
}

/**
 * Changes as edits, for `tidemark diff`'s output and the comment at the top of a generated file:
 * `add column budgets.currency`, `drop index budgets_status_idx`, `column budgets.total: type numeric → numeric(12,2)`.
 */
export function describeEdits(changes: readonly Change[]): SchemaDifference[] {
  return changes.map((ch): SchemaDifference => {
    if (ch.op !== 'alter') {
      const object = objectLabel(ch.id, 'whole');
      return { object, message: `${ch.op} ${object}` };
    }
    const identityOption = ch.attribute.startsWith('identitySequence.');
    const object = `${objectLabel(ch.id, 'attribute')}${identityOption ? ' identity sequence' : ''}`;
    if (ch.attribute === 'definition' && (ch.id.kind === 'function' || ch.id.kind === 'procedure')) return { object, message: `${object}: new definition` };
    const [what, show] = identityOption ? SEQUENCE_WORDS[ch.attribute.slice('identitySequence.'.length) as keyof SequenceOptions] : wordsFor(ch.id, ch.attribute);
    return { object, message: `${object}: ${what}${what ? ' ' : ''}${show(ch.before)} → ${show(ch.after)}` };
  });
}

type Words = readonly [what: string, show: (v: unknown) => string];

const str = (v: unknown) => String(v);
const orNone = (none: string) => (v: unknown) => (v === undefined ? none : String(v));
const flag = (yes: string, no: string) => (v: unknown) => (v ? yes : no);
const list = (v: unknown) => `(${((v as string[] | undefined) ?? []).join(', ')})`;
const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

const COMMENT: Words = ['comment', (v) => (v === undefined ? '(none)' : JSON.stringify(v))];
const SQL: Words = ['', str];
const NOT_NULL: Words = ['', flag('NOT NULL', 'nullable')];

const SEQUENCE_WORDS: Record<keyof SequenceOptions, Words> = {
  dataType: ['type', str],
  start: ['start', str],
  increment: ['increment', str],
  min: ['minvalue', str],
  max: ['maxvalue', str],
  cache: ['cache', str],
  cycle: ['cycle', str],
};

const ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'enabled on replicas only', A: 'always enabled' };

/** Per kind, per attribute: the word before the values and how a value prints. */
const WORDS: Partial<Record<ObjectId['kind'], Record<string, Words>>> = {
  extension: { schema: ['in schema', str] },
  enum: { labels: ['labels', (v) => (v as string[]).map((label) => literal(label)).join(', ')] },
  domain: { baseType: ['base type', str], notNull: NOT_NULL, default: ['default', orNone('(none)')], collation: ['collation', orNone('default')] },
  composite: {
    attributes: ['attributes', (v) => `(${(v as { name: string; type: string; collation?: string }[]).map((x) => `${x.name} ${x.type}${x.collation ? ` COLLATE ${x.collation}` : ''}`).join(', ')})`],
  },
  sequence: {
    ...SEQUENCE_WORDS,
    ownedBy: [
      'owned by',
      (v) =>
        v
          ? `${displayName({ schema: (v as NonNullable<SequenceInfo['ownedBy']>).schema, name: (v as NonNullable<SequenceInfo['ownedBy']>).table })}.${(v as NonNullable<SequenceInfo['ownedBy']>).column}`
          : '(none)',
    ],
  },
  table: {
    unlogged: ['is', flag('UNLOGGED', 'logged')],
    options: ['storage options', list],
    rowSecurity: ['row level security', flag('enabled', 'disabled')],
    forceRowSecurity: ['row level security', flag('forced', 'not forced')],
    replicaIdentity: [
      'replica identity',
      (v) => {
        const r = v as TableInfo['replicaIdentity'];
        return r ? `${r.kind}${r.index !== undefined ? ` ${r.index}` : ''}` : 'default';
      },
    ],
    clusterOn: ['clustered on', orNone('(none)')],
  },
  column: {
    type: ['type', str],
    notNull: NOT_NULL,
    default: ['default', orNone('(none)')],
    generated: [
      '',
      (v) => {
        const g = v as ColumnInfo['generated'];
        return g ? `generated as (${g.expression}) ${g.kind}` : 'not generated';
      },
    ],
    identity: ['', (v) => (v ? `identity ${v as IdentitySpec['kind']}` : 'no identity')],
    identitySequence: ['identity sequence', (v) => displayName(v as { schema: string; name: string })],
    collation: ['collation', orNone('default')],
    storage: ['storage', orNone('default')],
    statistics: ['statistics target', orNone('default')],
    compression: ['compression', orNone('default')],
    options: ['options', list],
  },
  constraint: { definition: SQL },
  index: { definition: SQL },
  trigger: { definition: SQL, enabled: ['enabled', (v) => ENABLED[v as string]] },
  policy: {
    permissive: ['is', flag('PERMISSIVE', 'RESTRICTIVE')],
    command: ['command', str],
    roles: ['roles', (v) => (v as string[]).join(', ')],
    using: ['USING', orNone('(none)')],
    withCheck: ['WITH CHECK', orNone('(none)')],
  },
  view: { definition: ['query', (v) => (v as string).trim()], options: ['options', list] },
};
WORDS['materialized-view'] = WORDS.view;

function wordsFor(id: ObjectId, attribute: string): Words {
  if (attribute === 'comment') return COMMENT;
  if (attribute === 'kind') return ['is', (v) => `${article(v as string)} ${v as string}`];
  if (attribute === 'materialized') return ['is', flag('materialized', 'a plain view')];
  // Every attribute diff.ts reports has words; a hand-made Change still gets a plain sentence.
  return WORDS[id.kind]?.[attribute] ?? [attribute, (v) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v))];
}

/** What a constraint kind is called in a sentence (validate's sentences use the same words). */
export const CONSTRAINT_WORD: Record<ConstraintKind, string> = {
  'primary key': 'primary key',
  unique: 'unique constraint',
  check: 'check constraint',
  'foreign key': 'foreign key',
  exclusion: 'exclusion constraint',
};

const TYPE_WORD = { enum: 'enum', domain: 'domain', composite: 'type' } as const;

/** `table budgets`, `column budgets.status`; a view column's comment is `comment on column …` when it is added or dropped. */
function objectLabel(id: ObjectId, as: 'whole' | 'attribute'): string {
  const q = displayName({ schema: id.schema, name: id.name });
  const owner = id.table === undefined ? '' : displayName({ schema: id.schema, name: id.table });
  switch (id.kind) {
    case 'schema':
    case 'extension':
      return `${id.kind} ${id.name}`;
    case 'enum':
    case 'domain':
    case 'composite':
      return `${TYPE_WORD[id.kind]} ${q}`;
    case 'function':
    case 'procedure':
      return `${id.kind} ${q}(${id.args ?? ''})`;
    case 'sequence':
    case 'table':
    case 'view':
      return `${id.kind} ${q}`;
    case 'materialized-view':
      return `materialized view ${q}`;
    case 'column':
      return `column ${owner}.${id.name}`;
    case 'comment':
      return `${as === 'whole' ? 'comment on ' : ''}column ${owner}.${id.name}`;
    case 'constraint':
      return id.parent === 'domain' ? `check ${id.name} on domain ${owner}` : `${CONSTRAINT_WORD[id.type as ConstraintKind]} ${id.name} on ${owner}`;
    case 'index':
    case 'trigger':
    case 'policy':
      return `${id.kind} ${id.name} on ${owner}`;
    case 'unsupported':
      return `${id.type} ${id.name}`;
  }
}
