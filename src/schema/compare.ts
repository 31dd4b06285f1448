/**
 * Two Snapshots compared, differences in plain words (pure). Objects are matched by name; SQL text is
 * compared after src/schema/normalize.ts (what only differs between PostgreSQL 15 and 18 printing);
 * column order, OIDs and sequence current values are not compared (a Snapshot holds none of them).
 *
 *   compareSnapshots(live, shadow)
 *   → [{ object: 'column budgets.status', message: "column budgets.status: live default 'draft'::text, baseline gives 'open'::text" },
 *      { object: 'trigger users_touch on users', message: 'trigger users_touch on users exists live but not in the baseline' }]
 */
import { normalizeFunctionDef, normalizeIndexDef, normalizeSql } from './normalize.js';
import type {
  ColumnInfo,
  CompositeType,
  DomainType,
  EnumType,
  IdentitySpec,
  SchemaDifference,
  SequenceOptions,
  Snapshot,
  TableInfo,
  TypeInfo,
  ViewInfo,
} from './snapshot.js';
import { displayName } from './snapshot.js';
import { nameKey } from '../sql/ident.js';

/** How the two sides are called in messages. Default: expected = `live`, actual = `baseline`. */
export interface CompareLabels {
  expected: string;
  actual: string;
}

const DEFAULT_LABELS: CompareLabels = { expected: 'live', actual: 'baseline' };

/** Differences between two snapshots, in plain words; [] when they are equal. */
export function compareSnapshots(expected: Snapshot, actual: Snapshot, labels: CompareLabels = DEFAULT_LABELS): SchemaDifference[] {
  const diffs: SchemaDifference[] = [];
  const where = (label: string) => (label === 'live' ? 'live' : `in the ${label}`);
  const E = labels.expected;
  const A = labels.actual;
  const onlyExpected = (object: string) => diffs.push({ object, message: `${object} exists ${where(E)} but not ${where(A)}` });
  const onlyActual = (object: string) => diffs.push({ object, message: `${object} exists ${where(A)} but not ${where(E)}` });
  /** One attribute of an object: `object: live what X, baseline gives Y`. */
  const differ = (object: string, what: string, e: string, a: string): void => {
    diffs.push({ object, message: `${object}: ${E} ${what}${what ? ' ' : ''}${e}, ${A} gives ${a}` });
  };
  const text = (v: string | undefined, none = '(none)') => (v === undefined ? none : v);
  const sameSql = (a: string | undefined, b: string | undefined) => (a === undefined || b === undefined ? a === b : normalizeSql(a) === normalizeSql(b));
  const commentDiff = (object: string, e: string | undefined, a: string | undefined) => {
    if (e !== a) differ(object, 'comment', e === undefined ? '(none)' : JSON.stringify(e), a === undefined ? '(none)' : JSON.stringify(a));
  };

  /** Matches two named lists; calls both/onlyE/onlyA. */
  function match<T>(es: readonly T[], as: readonly T[], key: (x: T) => string, both: (e: T, a: T) => void, label: (x: T) => string): void {
    const am = new Map(as.map((x) => [key(x), x]));
    const em = new Map(es.map((x) => [key(x), x]));
    for (const e of es) {
      const a = am.get(key(e));
      if (a === undefined) onlyExpected(label(e));
      else both(e, a);
    }
    for (const a of as) if (!em.has(key(a))) onlyActual(label(a));
  }
  const qkey = (x: { schema: string; name: string }) => nameKey(x);

  match(expected.schemas, actual.schemas, (s) => s, () => {}, (s) => `schema ${s}`);
  match(expected.extensions, actual.extensions, (x) => x.name, (e, a) => {
    if (e.schema !== a.schema) differ(`extension ${e.name}`, 'in schema', e.schema, a.schema);
  }, (x) => `extension ${x.name}`);

  match(expected.types, actual.types, qkey, (e, a) => compareType(e, a), typeLabel);

  function compareType(e: TypeInfo, a: TypeInfo): void {
    const object = typeLabel(e);
    if (e.kind !== a.kind) return differ(object, 'is', `${article(e.kind)} ${e.kind}`, `${article(a.kind)} ${a.kind}`);
    if (e.kind === 'enum') {
      const al = (a as EnumType).labels;
      if (e.labels.join('\0') !== al.join('\0')) differ(object, 'labels', e.labels.map(quote).join(', '), al.map(quote).join(', '));
    } else if (e.kind === 'domain') {
      const ad = a as DomainType;
      if (e.baseType !== ad.baseType) differ(object, 'base type', e.baseType, ad.baseType);
      if (e.notNull !== ad.notNull) differ(object, '', e.notNull ? 'NOT NULL' : 'nullable', ad.notNull ? 'NOT NULL' : 'nullable');
      if (!sameSql(e.default, ad.default)) differ(object, 'default', text(e.default), text(ad.default));
      if (e.collation !== ad.collation) differ(object, 'collation', text(e.collation, 'default'), text(ad.collation, 'default'));
      match(e.constraints, ad.constraints, (c) => c.name, (ec, ac) => {
        if (!sameSql(ec.definition, ac.definition)) differ(`check ${ec.name} on ${object}`, '', ec.definition, ac.definition);
      }, (c) => `check ${c.name} on ${object}`);
    } else {
      const ac = (a as CompositeType).attributes;
      const show = (list: CompositeType['attributes']) => list.map((x) => `${x.name} ${x.type}${x.collation ? ` COLLATE ${x.collation}` : ''}`).join(', ');
      if (show(e.attributes) !== show(ac)) differ(object, 'attributes', `(${show(e.attributes)})`, `(${show(ac)})`);
    }
    commentDiff(object, e.comment, a.comment);
  }

  match(expected.functions, actual.functions, (f) => `${qkey(f)}(${f.arguments})`, (e, a) => {
    const object = `${e.kind} ${displayName(e)}(${e.arguments})`;
    if (normalizeFunctionDef(e.definition) !== normalizeFunctionDef(a.definition)) {
      diffs.push({ object, message: `${object}: the definition ${where(E)} differs from the one ${where(A)}` });
    }
    commentDiff(object, e.comment, a.comment);
  }, (f) => `${f.kind} ${displayName(f)}(${f.arguments})`);

  match(expected.sequences, actual.sequences, qkey, (e, a) => {
    const object = `sequence ${displayName(e)}`;
    compareSequenceOptions(object, e, a);
    const owned = (s: typeof e) => (s.ownedBy ? `${displayName({ schema: s.ownedBy.schema, name: s.ownedBy.table })}.${s.ownedBy.column}` : '(none)');
    if (owned(e) !== owned(a)) differ(object, 'owned by', owned(e), owned(a));
    commentDiff(object, e.comment, a.comment);
  }, (s) => `sequence ${displayName(s)}`);

  function compareSequenceOptions(object: string, e: SequenceOptions, a: SequenceOptions): void {
    const keys: (keyof SequenceOptions)[] = ['dataType', 'start', 'increment', 'min', 'max', 'cache', 'cycle'];
    const words: Record<keyof SequenceOptions, string> = { dataType: 'type', start: 'start', increment: 'increment', min: 'minvalue', max: 'maxvalue', cache: 'cache', cycle: 'cycle' };
    for (const k of keys) if (String(e[k]) !== String(a[k])) differ(object, words[k], String(e[k]), String(a[k]));
  }

  match(expected.tables, actual.tables, qkey, compareTable, (t) => `table ${displayName(t)}`);

  function compareTable(e: TableInfo, a: TableInfo): void {
    const t = displayName(e);
    const object = `table ${t}`;
    if (e.unlogged !== a.unlogged) differ(object, 'is', e.unlogged ? 'UNLOGGED' : 'logged', a.unlogged ? 'UNLOGGED' : 'logged');
    if (e.options.join(',') !== a.options.join(',')) differ(object, 'storage options', `(${e.options.join(', ')})`, `(${a.options.join(', ')})`);
    if (e.rowSecurity !== a.rowSecurity) differ(object, 'row level security', e.rowSecurity ? 'enabled' : 'disabled', a.rowSecurity ? 'enabled' : 'disabled');
    if (e.forceRowSecurity !== a.forceRowSecurity) differ(object, 'row level security', e.forceRowSecurity ? 'forced' : 'not forced', a.forceRowSecurity ? 'forced' : 'not forced');
    const ri = (x: TableInfo) => (x.replicaIdentity ? `${x.replicaIdentity.kind}${x.replicaIdentity.index !== undefined ? ` ${x.replicaIdentity.index}` : ''}` : 'default');
    if (ri(e) !== ri(a)) differ(object, 'replica identity', ri(e), ri(a));
    if (e.clusterOn !== a.clusterOn) differ(object, 'clustered on', text(e.clusterOn), text(a.clusterOn));
    commentDiff(object, e.comment, a.comment);

    match(e.columns, a.columns, (c) => c.name, (ec, ac) => compareColumn(`${t}.${ec.name}`, ec, ac), (c) => `column ${t}.${c.name}`);

    match(e.constraints, a.constraints, (c) => c.name, (ec, ac) => {
      const o = `${ec.kind === 'check' ? 'check constraint' : ec.kind === 'exclusion' ? 'exclusion constraint' : ec.kind === 'unique' ? 'unique constraint' : ec.kind} ${ec.name} on ${t}`;
      if (ec.kind !== ac.kind || !sameSql(ec.definition, ac.definition)) differ(o, '', ec.definition, ac.definition);
      commentDiff(o, ec.comment, ac.comment);
    }, (c) => `${c.kind === 'check' ? 'check constraint' : c.kind === 'exclusion' ? 'exclusion constraint' : c.kind === 'unique' ? 'unique constraint' : c.kind} ${c.name} on ${t}`);

    match(e.indexes, a.indexes, (i) => i.name, (ei, ai) => {
      const o = `index ${ei.name} on ${t}`;
      if (normalizeIndexDef(ei.definition, ei.name, e.schema, e.name) !== normalizeIndexDef(ai.definition, ai.name, a.schema, a.name)) {
        differ(o, '', ei.definition, ai.definition);
      }
      commentDiff(o, ei.comment, ai.comment);
    }, (i) => `index ${i.name} on ${t}`);

    match(e.triggers, a.triggers, (x) => x.name, (et, at) => {
      const o = `trigger ${et.name} on ${t}`;
      if (!sameSql(et.definition, at.definition)) differ(o, '', et.definition, at.definition);
      if (et.enabled !== at.enabled) differ(o, 'enabled', ENABLED[et.enabled], ENABLED[at.enabled]);
      commentDiff(o, et.comment, at.comment);
    }, (x) => `trigger ${x.name} on ${t}`);

    match(e.policies, a.policies, (x) => x.name, (ep, ap) => {
      const o = `policy ${ep.name} on ${t}`;
      if (ep.permissive !== ap.permissive) differ(o, 'is', ep.permissive ? 'PERMISSIVE' : 'RESTRICTIVE', ap.permissive ? 'PERMISSIVE' : 'RESTRICTIVE');
      if (ep.command !== ap.command) differ(o, 'command', ep.command, ap.command);
      if (ep.roles.join(',') !== ap.roles.join(',')) differ(o, 'roles', ep.roles.join(', '), ap.roles.join(', '));
      if (!sameSql(ep.using, ap.using)) differ(o, 'USING', text(ep.using), text(ap.using));
      if (!sameSql(ep.withCheck, ap.withCheck)) differ(o, 'WITH CHECK', text(ep.withCheck), text(ap.withCheck));
      commentDiff(o, ep.comment, ap.comment);
    }, (x) => `policy ${x.name} on ${t}`);
  }

  function compareColumn(name: string, e: ColumnInfo, a: ColumnInfo): void {
    const object = `column ${name}`;
    if (e.type !== a.type) differ(object, 'type', e.type, a.type);
    if (e.notNull !== a.notNull) differ(object, '', e.notNull ? 'NOT NULL' : 'nullable', a.notNull ? 'NOT NULL' : 'nullable');
    if (!sameSql(e.default, a.default)) differ(object, 'default', text(e.default), text(a.default));
    const gen = (c: ColumnInfo) => (c.generated ? `generated as (${c.generated.expression}) ${c.generated.kind}` : 'not generated');
    if (!sameSql(e.generated?.expression, a.generated?.expression) || e.generated?.kind !== a.generated?.kind) differ(object, '', gen(e), gen(a));
    compareIdentity(object, e.identity, a.identity);
    if (e.collation !== a.collation) differ(object, 'collation', text(e.collation, 'default'), text(a.collation, 'default'));
    if (e.storage !== a.storage) differ(object, 'storage', text(e.storage, 'default'), text(a.storage, 'default'));
    if (e.statistics !== a.statistics) differ(object, 'statistics target', text(e.statistics?.toString(), 'default'), text(a.statistics?.toString(), 'default'));
    if (e.compression !== a.compression) differ(object, 'compression', text(e.compression, 'default'), text(a.compression, 'default'));
    if ((e.options ?? []).join(',') !== (a.options ?? []).join(',')) differ(object, 'options', `(${(e.options ?? []).join(', ')})`, `(${(a.options ?? []).join(', ')})`);
    commentDiff(object, e.comment, a.comment);
  }

  function compareIdentity(object: string, e: IdentitySpec | undefined, a: IdentitySpec | undefined): void {
    if (!e || !a) {
      if (e || a) differ(object, '', e ? `identity ${e.kind}` : 'no identity', a ? `identity ${a.kind}` : 'no identity');
      return;
    }
    if (e.kind !== a.kind) differ(object, '', `identity ${e.kind}`, `identity ${a.kind}`);
    if (qkey(e.sequence) !== qkey(a.sequence)) differ(object, 'identity sequence', displayName(e.sequence), displayName(a.sequence));
    compareSequenceOptions(`${object} identity sequence`, e.sequence, a.sequence);
  }

  match(expected.views, actual.views, qkey, compareView, viewLabel);

  function compareView(e: ViewInfo, a: ViewInfo): void {
    const object = viewLabel(e);
    if (e.materialized !== a.materialized) return differ(object, 'is', e.materialized ? 'materialized' : 'a plain view', a.materialized ? 'materialized' : 'a plain view');
    const sameQuery = e.queryHash !== undefined && a.queryHash !== undefined ? e.queryHash === a.queryHash : sameSql(e.definition, a.definition);
    if (!sameQuery) differ(object, 'query', e.definition.trim(), a.definition.trim());
    if (e.options.join(',') !== a.options.join(',')) differ(object, 'options', `(${e.options.join(', ')})`, `(${a.options.join(', ')})`);
    match(e.indexes, a.indexes, (i) => i.name, (ei, ai) => {
      const o = `index ${ei.name} on ${displayName(e)}`;
      if (normalizeIndexDef(ei.definition, ei.name, e.schema, e.name) !== normalizeIndexDef(ai.definition, ai.name, a.schema, a.name)) differ(o, '', ei.definition, ai.definition);
      commentDiff(o, ei.comment, ai.comment);
    }, (i) => `index ${i.name} on ${displayName(e)}`);
    match(e.columnComments, a.columnComments, (c) => c.column, (ec, ac) => commentDiff(`column ${displayName(e)}.${ec.column}`, ec.comment, ac.comment), (c) => `comment on column ${displayName(e)}.${c.column}`);
    commentDiff(object, e.comment, a.comment);
  }

  match(expected.unsupported, actual.unsupported, (u) => `${u.kind} ${u.name}`, () => {}, (u) => `${u.kind} ${u.name}`);

  return diffs;
}

const ENABLED: Record<string, string> = { O: 'enabled', D: 'disabled', R: 'enabled on replicas only', A: 'always enabled' };

function typeLabel(t: TypeInfo): string {
  return `${t.kind === 'domain' ? 'domain' : t.kind === 'enum' ? 'enum' : 'type'} ${displayName(t)}`;
}

function viewLabel(v: ViewInfo): string {
  return `${v.materialized ? 'materialized view' : 'view'} ${displayName(v)}`;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * The snapshot with everything compareSnapshots ignores taken out: SQL text normalized (normalize.ts),
 * columns by name with no position, no server version, view queries by their parse-tree hash. Two
 * snapshots of equal schemas are deep-equal after this, whichever PostgreSQL printed them.
 */
export function normalizeSnapshot(snapshot: Snapshot): Snapshot {
  const s: Snapshot = structuredClone(snapshot);
  s.serverVersion = 0;
  // How to create it, and what other services hang on it, are not part of the schema's equality.
  delete s.createOrder;
  delete s.dependents;
  const sql = (text: string | undefined) => (text === undefined ? undefined : normalizeSql(text));
  const setSql = <T extends object, K extends keyof T>(o: T, k: K) => {
    if (o[k] !== undefined) (o as Record<K, unknown>)[k] = normalizeSql(o[k] as string);
  };
  for (const t of s.types) {
    if (t.kind === 'domain') {
      setSql(t, 'default');
      for (const c of t.constraints) c.definition = normalizeSql(c.definition);
    }
  }
  for (const f of s.functions) f.definition = normalizeFunctionDef(f.definition);
  for (const t of s.tables) {
    t.columns.sort((a, b) => a.name.localeCompare(b.name));
    for (const c of t.columns) {
      c.position = 0;
      setSql(c, 'default');
      if (c.generated) c.generated.expression = sql(c.generated.expression) as string;
    }
    for (const c of t.constraints) c.definition = normalizeSql(c.definition);
    for (const i of t.indexes) i.definition = normalizeIndexDef(i.definition, i.name, t.schema, t.name);
    for (const tr of t.triggers) tr.definition = normalizeSql(tr.definition);
    for (const p of t.policies) {
      setSql(p, 'using');
      setSql(p, 'withCheck');
    }
  }
  for (const v of s.views) {
    v.definition = v.queryHash !== undefined ? '' : normalizeSql(v.definition);
    for (const i of v.indexes) i.definition = normalizeIndexDef(i.definition, i.name, v.schema, v.name);
  }
  return s;
}
