/**
 * The table part of diff.ts: a table's own attributes, then its columns, constraints, indexes,
 * triggers and policies, each list in `from`'s order then what only `to` has. Hazards: dropping a
 * column loses data; a type change rewrites the table unless it is a known widening (hazards.ts);
 * SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock; adding a column whose value is computed
 * per row (a volatile default, an identity, a stored generated column) rewrites the table; adding an
 * EXCLUDE constraint builds its index under that lock, and has no NOT VALID or USING INDEX form.
 */
import { nameKey } from '../../sql/ident.js';
import { normalizeIndexDef, normalizeSql } from '../normalize.js';
import type { ColumnInfo, ConstraintInfo, IdentitySpec, SequenceOptions, TableInfo } from '../snapshot.js';
import type { Hazard, ObjectId } from './change.js';
import { attr, type Collect, match, sameList, sameText } from './collect.js';
import { typeChangeRewrites, volatileDefault } from './hazards.js';

const sameSql = (a: string | undefined, b: string | undefined) => sameText(a, b, normalizeSql);

export function diffTable(c: Collect, f: TableInfo, t: TableInfo): void {
  const id: ObjectId = { kind: 'table', schema: f.schema, name: f.name };
  attr(c, id, 'unlogged', f.unlogged, t.unlogged);
  attr(c, id, 'options', f.options, t.options, sameList);
  attr(c, id, 'rowSecurity', f.rowSecurity, t.rowSecurity);
  attr(c, id, 'forceRowSecurity', f.forceRowSecurity, t.forceRowSecurity);
  const ri = (x: TableInfo) => (x.replicaIdentity ? `${x.replicaIdentity.kind}\0${x.replicaIdentity.index ?? ''}` : '');
  if (ri(f) !== ri(t)) c.alter(id, 'replicaIdentity', f.replicaIdentity, t.replicaIdentity);
  attr(c, id, 'clusterOn', f.clusterOn, t.clusterOn);
  attr(c, id, 'comment', f.comment, t.comment);

  const on = (kind: ObjectId['kind'], name: string, type?: string): ObjectId => ({ kind, schema: f.schema, name, table: f.name, ...(type ? { type } : {}) });
  match(
    f.columns,
    t.columns,
    (x) => x.name,
    (fc, tc) => diffColumn(c, on('column', fc.name), fc, tc),
    (x) => c.drop(on('column', x.name), x, ['data-loss']),
    (x) => c.add(on('column', x.name), x, addedColumnRewrites(x) ? ['table-rewrite'] : []),
  );
  match(
    f.constraints,
    t.constraints,
    (x) => x.name,
    (fc, tc) => {
      const cid = on('constraint', fc.name, fc.kind);
      if (fc.kind !== tc.kind || !sameSql(fc.definition, tc.definition)) c.alter(cid, 'definition', fc.definition, tc.definition, exclusionHazard(tc));
      attr(c, cid, 'comment', fc.comment, tc.comment);
    },
    (x) => c.drop(on('constraint', x.name, x.kind), x),
    (x) => c.add(on('constraint', x.name, x.kind), x, exclusionHazard(x)),
  );
  match(
    f.indexes,
    t.indexes,
    (x) => x.name,
    (fi, ti) => {
      const same = (a: string, b: string) => normalizeIndexDef(a, fi.name, f.schema, f.name) === normalizeIndexDef(b, ti.name, t.schema, t.name);
      attr(c, on('index', fi.name), 'definition', fi.definition, ti.definition, same);
      attr(c, on('index', fi.name), 'comment', fi.comment, ti.comment);
    },
    (x) => c.drop(on('index', x.name), x),
    (x) => c.add(on('index', x.name), x),
  );
  match(
    f.triggers,
    t.triggers,
    (x) => x.name,
    (ft, tt) => {
      attr(c, on('trigger', ft.name), 'definition', ft.definition, tt.definition, sameSql);
      attr(c, on('trigger', ft.name), 'enabled', ft.enabled, tt.enabled);
      attr(c, on('trigger', ft.name), 'comment', ft.comment, tt.comment);
    },
    (x) => c.drop(on('trigger', x.name), x),
    (x) => c.add(on('trigger', x.name), x),
  );
  match(
    f.policies,
    t.policies,
    (x) => x.name,
    (fp, tp) => {
      const pid = on('policy', fp.name);
      attr(c, pid, 'permissive', fp.permissive, tp.permissive);
      attr(c, pid, 'command', fp.command, tp.command);
      attr(c, pid, 'roles', fp.roles, tp.roles, sameList);
      attr(c, pid, 'using', fp.using, tp.using, sameSql);
      attr(c, pid, 'withCheck', fp.withCheck, tp.withCheck, sameSql);
      attr(c, pid, 'comment', fp.comment, tp.comment);
    },
    (x) => c.drop(on('policy', x.name), x),
    (x) => c.add(on('policy', x.name), x),
  );
}

/** An EXCLUDE constraint added blocks writes while its index is built: no safe form exists. */
function exclusionHazard(x: ConstraintInfo): Hazard[] {
  return x.kind === 'exclusion' ? ['blocks-writes'] : [];
}

/** ADD COLUMN writes every row when each row gets its own value. */
function addedColumnRewrites(x: ColumnInfo): boolean {
  return volatileDefault(x.default) || x.identity !== undefined || x.generated?.kind === 'stored';
}

function diffColumn(c: Collect, id: ObjectId, f: ColumnInfo, t: ColumnInfo): void {
  attr(c, id, 'type', f.type, t.type, Object.is, typeChangeRewrites(f.type, t.type) ? ['table-rewrite'] : []);
  attr(c, id, 'notNull', f.notNull, t.notNull, Object.is, t.notNull ? ['blocks-writes'] : []);
  attr(c, id, 'default', f.default, t.default, sameSql);
  if (!sameSql(f.generated?.expression, t.generated?.expression) || f.generated?.kind !== t.generated?.kind) {
    c.alter(id, 'generated', f.generated, t.generated, t.generated?.kind === 'stored' ? ['table-rewrite'] : []);
  }
  diffIdentity(c, id, f.identity, t.identity);
  attr(c, id, 'collation', f.collation, t.collation);
  attr(c, id, 'storage', f.storage, t.storage);
  attr(c, id, 'statistics', f.statistics, t.statistics);
  attr(c, id, 'compression', f.compression, t.compression);
  attr(c, id, 'options', f.options, t.options, sameList);
  attr(c, id, 'comment', f.comment, t.comment);
}

/** `identity` is its kind (`always`, `by default`, or absent); its sequence's name and options follow when both have one. */
function diffIdentity(c: Collect, id: ObjectId, f: IdentitySpec | undefined, t: IdentitySpec | undefined): void {
  if (!f || !t) {
    if (f || t) c.alter(id, 'identity', f?.kind, t?.kind);
    return;
  }
  attr(c, id, 'identity', f.kind, t.kind);
  if (nameKey(f.sequence) !== nameKey(t.sequence)) c.alter(id, 'identitySequence', { schema: f.sequence.schema, name: f.sequence.name }, { schema: t.sequence.schema, name: t.sequence.name });
  diffSequenceOptions(c, id, 'identitySequence.', f.sequence, t.sequence);
}

/** The sequence options in the order they are compared (and printed). */
const SEQUENCE_OPTIONS: readonly (keyof SequenceOptions)[] = ['dataType', 'start', 'increment', 'min', 'max', 'cache', 'cycle'];

/** A sequence's options; `prefix` is `identitySequence.` for an identity column's sequence. */
export function diffSequenceOptions(c: Collect, id: ObjectId, prefix: string, f: SequenceOptions, t: SequenceOptions): void {
  for (const k of SEQUENCE_OPTIONS) if (String(f[k]) !== String(t[k])) c.alter(id, `${prefix}${k}`, f[k], t[k]);
}
