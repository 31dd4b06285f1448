/**
 * `diff(from, to)`: the Changes that turn one Snapshot into another (pure). Objects are matched by
 * name (functions by name and arguments); text is compared after src/schema/normalize.ts; column
 * order, OIDs, sequence values, creation order and references are not compared. Walk order: schemas,
 * extensions, types, functions, sequences, tables (each with its columns, constraints, indexes,
 * triggers, policies), views, unsupported objects; inside each, `from`'s order then what only `to`
 * has — the order compareSnapshots has always printed.
 *
 *   diff(live, shadow) → [{ op: 'alter', id: { kind: 'column', schema: 'public', table: 'budgets', name: 'status' },
 *                          attribute: 'default', before: "'draft'::text", after: "'open'::text", hazards: [] }]
 */
import { nameKey } from '../../sql/ident.js';
import { normalizeFunctionDef, normalizeIndexDef, normalizeSql } from '../normalize.js';
import type { CompositeType, DomainType, EnumType, SequenceInfo, Snapshot, TypeInfo, ViewInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import type { Change, Hazard, ObjectId } from './change.js';
import { attr, type Collect, collector, match, sameList, sameText } from './collect.js';
import { diffSequenceOptions, diffTable } from './diff-tables.js';

const qkey = (x: { schema: string; name: string }) => nameKey(x);
const sameSql = (a: string | undefined, b: string | undefined) => sameText(a, b, normalizeSql);

/** The Changes from `from` to `to`; [] when they are equal. */
export function diff(from: Snapshot, to: Snapshot): Change[] {
  const out: Change[] = [];
  const c = collector(out);
  // What other services hang on an object of `from` (introspect.ts describeDependents): dropping it breaks them.
  const hung = new Set((from.dependents ?? []).map((r) => r.object));
  const breaks = (...labels: string[]): Hazard[] => (labels.some((l) => hung.has(l)) ? ['breaks-dependents'] : []);

  const schemaId = (s: string): ObjectId => ({ kind: 'schema', schema: '', name: s });
  match(
    from.schemas,
    to.schemas,
    (s) => s,
    () => {},
    (s) => c.drop(schemaId(s), s),
    (s) => c.add(schemaId(s), s),
  );

  const extId = (name: string): ObjectId => ({ kind: 'extension', schema: '', name });
  match(
    from.extensions,
    to.extensions,
    (x) => x.name,
    (f, t) => attr(c, extId(f.name), 'schema', f.schema, t.schema),
    (x) => c.drop(extId(x.name), x),
    (x) => c.add(extId(x.name), x),
  );

  const typeId = (t: TypeInfo): ObjectId => ({ kind: t.kind, schema: t.schema, name: t.name });
  match(
    from.types,
    to.types,
    qkey,
    (f, t) => diffType(c, f, t),
    (t) => c.drop(typeId(t), t, breaks(`type ${displayName(t)}`)),
    (t) => c.add(typeId(t), t),
  );

  const fnId = (f: Snapshot['functions'][number]): ObjectId => ({ kind: f.kind, schema: f.schema, name: f.name, args: f.arguments });
  match(
    from.functions,
    to.functions,
    (f) => `${qkey(f)}(${f.arguments})`,
    (f, t) => {
      attr(c, fnId(f), 'definition', f.definition, t.definition, (a, b) => normalizeFunctionDef(a) === normalizeFunctionDef(b));
      attr(c, fnId(f), 'comment', f.comment, t.comment);
    },
    (f) => c.drop(fnId(f), f, breaks(`function ${displayName(f)}(${f.arguments})`)),
    (f) => c.add(fnId(f), f),
  );

  const seqId = (s: SequenceInfo): ObjectId => ({ kind: 'sequence', schema: s.schema, name: s.name });
  const owned = (s: SequenceInfo) => (s.ownedBy ? `${s.ownedBy.schema}\0${s.ownedBy.table}\0${s.ownedBy.column}` : '');
  match(
    from.sequences,
    to.sequences,
    qkey,
    (f, t) => {
      diffSequenceOptions(c, seqId(f), '', f, t);
      if (owned(f) !== owned(t)) c.alter(seqId(f), 'ownedBy', f.ownedBy, t.ownedBy);
      attr(c, seqId(f), 'comment', f.comment, t.comment);
    },
    (s) => c.drop(seqId(s), s, breaks(`sequence ${displayName(s)}`)),
    (s) => c.add(seqId(s), s),
  );

  match(
    from.tables,
    to.tables,
    qkey,
    (f, t) => diffTable(c, f, t),
    (t) => c.drop({ kind: 'table', schema: t.schema, name: t.name }, t, ['data-loss', ...breaks(`table ${displayName(t)}`)]),
    (t) => c.add({ kind: 'table', schema: t.schema, name: t.name }, t),
  );

  const viewId = (v: ViewInfo): ObjectId => ({ kind: v.materialized ? 'materialized-view' : 'view', schema: v.schema, name: v.name });
  match(
    from.views,
    to.views,
    qkey,
    (f, t) => diffView(c, viewId(f), f, t),
    (v) => c.drop(viewId(v), v, breaks(`view ${displayName(v)}`, `materialized view ${displayName(v)}`)),
    (v) => c.add(viewId(v), v),
  );

  const unsupportedId = (u: Snapshot['unsupported'][number]): ObjectId => ({ kind: 'unsupported', schema: '', name: u.name, type: u.kind });
  match(
    from.unsupported,
    to.unsupported,
    (u) => `${u.kind} ${u.name}`,
    () => {},
    (u) => c.drop(unsupportedId(u), u),
    (u) => c.add(unsupportedId(u), u),
  );
  return out;
}

function diffType(c: Collect, f: TypeInfo, t: TypeInfo): void {
  const id: ObjectId = { kind: f.kind, schema: f.schema, name: f.name };
  // A type that changed kind is one change: its other attributes do not compare.
  if (f.kind !== t.kind) {
    c.alter(id, 'kind', f.kind, t.kind);
    return;
  }
  if (f.kind === 'enum') {
    attr(c, id, 'labels', f.labels, (t as EnumType).labels, (a, b) => a.join('\0') === b.join('\0'));
  } else if (f.kind === 'domain') {
    const d = t as DomainType;
    attr(c, id, 'baseType', f.baseType, d.baseType);
    attr(c, id, 'notNull', f.notNull, d.notNull);
    attr(c, id, 'default', f.default, d.default, sameSql);
    attr(c, id, 'collation', f.collation, d.collation);
    const conId = (x: { name: string }): ObjectId => ({ kind: 'constraint', schema: f.schema, name: x.name, table: f.name, parent: 'domain', type: 'check' });
    match(
      f.constraints,
      d.constraints,
      (x) => x.name,
      (fc, tc) => attr(c, conId(fc), 'definition', fc.definition, tc.definition, sameSql),
      (x) => c.drop(conId(x), x),
      (x) => c.add(conId(x), x),
    );
  } else {
    const show = (list: CompositeType['attributes']) => list.map((x) => `${x.name} ${x.type}${x.collation ? ` COLLATE ${x.collation}` : ''}`).join(', ');
    attr(c, id, 'attributes', f.attributes, (t as CompositeType).attributes, (a, b) => show(a) === show(b));
  }
  attr(c, id, 'comment', f.comment, t.comment);
}

function diffView(c: Collect, id: ObjectId, f: ViewInfo, t: ViewInfo): void {
  // A view that became materialized (or the reverse) is one change.
  if (f.materialized !== t.materialized) {
    c.alter(id, 'materialized', f.materialized, t.materialized);
    return;
  }
  // The parse-tree hash, when both sides have one, already ignores what 15 and 16+ print differently.
  const sameQuery = f.queryHash !== undefined && t.queryHash !== undefined ? f.queryHash === t.queryHash : sameSql(f.definition, t.definition);
  if (!sameQuery) c.alter(id, 'definition', f.definition, t.definition);
  attr(c, id, 'options', f.options, t.options, sameList);
  const parent = id.kind as 'view' | 'materialized-view';
  const idxId = (i: { name: string }): ObjectId => ({ kind: 'index', schema: f.schema, name: i.name, table: f.name, parent });
  match(
    f.indexes,
    t.indexes,
    (i) => i.name,
    (fi, ti) => {
      attr(c, idxId(fi), 'definition', fi.definition, ti.definition, (a, b) => normalizeIndexDef(a, fi.name, f.schema, f.name) === normalizeIndexDef(b, ti.name, t.schema, t.name));
      attr(c, idxId(fi), 'comment', fi.comment, ti.comment);
    },
    (i) => c.drop(idxId(i), i),
    (i) => c.add(idxId(i), i),
  );
  const colId = (x: { column: string }): ObjectId => ({ kind: 'comment', schema: f.schema, name: x.column, table: f.name, parent });
  match(
    f.columnComments,
    t.columnComments,
    (x) => x.column,
    (fc, tc) => attr(c, colId(fc), 'comment', fc.comment, tc.comment),
    (x) => c.drop(colId(x), x),
    (x) => c.add(colId(x), x),
  );
  attr(c, id, 'comment', f.comment, t.comment);
}
