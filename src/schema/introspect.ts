/**
 * Reads the Snapshot of the objects one service owns (issue 5 item 1, DESIGN §6).
 *
 * Owned, by name (the service's `owns`, matched by src/config/load.ts `ownerOf`): tables, views and
 * materialized views, standalone sequences, enums, domains, composite types, functions and procedures.
 * Owned by use (named by no other service's `owns`, and needed by an owned object: a column type, a
 * default, a trigger function, a check, an argument type, …): types, functions, sequences, followed
 * through pg_depend until nothing new is found. Attached to owned tables: columns, constraints,
 * indexes, serial/identity sequences, triggers, policies, row level security, comments. Extensions
 * whose members are used are listed (CREATE EXTENSION IF NOT EXISTS). What tidemark cannot reproduce
 * (rules, partitioning, inheritance, foreign tables, event triggers, …) goes into `unsupported`, never
 * silently left out. The `tidemark` ledger schema and Alembic version tables are never owned.
 *
 * Everything is read with a few catalog queries and filtered here; lists come out sorted by name.
 * The queries read only catalogs, so no name a user chooses can change what they mean; names travel
 * as (schema, name) pairs.
 *
 * Audit against pg_dump's object kinds (DumpableObjectType in src/bin/pg_dump/pg_dump.h), for what a
 * service owns — reproduced: NAMESPACE (CREATE SCHEMA IF NOT EXISTS), EXTENSION (those used), TYPE
 * (enum, domain, composite), FUNC (functions, procedures), TABLE (+ column storage, statistics,
 * compression, options, replica identity, CLUSTER ON, UNLOGGED, reloptions), ATTRDEF, INDEX,
 * CONSTRAINT, FK_CONSTRAINT, TRIGGER, POLICY, sequences (and OWNED BY), views, materialized views
 * (REFRESH_MATVIEW: created populated), comments. Refused by name (an `unsupported` entry; baseline
 * and rebaseline write nothing while any is present): AGG, OPERATOR, ACCESS_METHOD, OPCLASS, OPFAMILY,
 * COLLATION, CONVERSION, PROCLANG, CAST, TSPARSER, TSDICT, TSTEMPLATE, TSCONFIG, TRANSFORM — when an
 * owned object uses one, one depends on an owned object, or `owns` names one —; SHELL_TYPE and range
 * and base types; TABLE_ATTACH and INDEX_ATTACH (partitions), inheritance, typed tables, foreign tables
 * (FDW, FOREIGN_SERVER), STATSEXT, RULE, triggers on views, EVENT_TRIGGER calling an owned function,
 * PUBLICATION_REL and PUBLICATION_TABLE_IN_SCHEMA on an owned table, security labels, a table access
 * method other than heap, a tablespace. Not reproduced by design (README "baseline"): owners, ACLs and
 * DEFAULT_ACL, SUBSCRIPTION, LARGE_OBJECT, TABLE_DATA and SEQUENCE_SET (data), extensions nothing uses.
 */
import { createHash } from 'node:crypto';
import { ownerOf } from '../config/load.js';
import type { Workspace } from '../config/types.js';
import type { Queryable } from '../db/database.js';
import type {
  ColumnInfo,
  CompositeType,
  ConstraintInfo,
  ConstraintKind,
  DomainType,
  EnumType,
  ExtensionInfo,
  ExternalReference,
  FunctionInfo,
  IndexInfo,
  PolicyInfo,
  SequenceInfo,
  Snapshot,
  TableInfo,
  TriggerInfo,
  TypeInfo,
  UnsupportedObject,
  ViewInfo,
} from './snapshot.js';
import { displayName, objectKey } from './snapshot.js';
import type { QualifiedName } from '../sql/ident.js';
import { loadPgParser } from '../history/pg-parser.js';
import { canonicalQuery } from './normalize.js';

export interface SchemaScope {
  workspace: Workspace;
  service: string;
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND n.nspname NOT LIKE 'pg\\_%'`;

interface RelRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  persistence: string;
  ispartition: boolean;
  typed: boolean;
  rls: boolean;
  force_rls: boolean;
  options: string[] | null;
  comment: string | null;
  replident: string;
  am: string | null;
  tablespace: boolean;
}

interface TypeRow {
  oid: number;
  schema: string;
  name: string;
  typtype: string;
  category: string;
  elem: number;
  relid: number;
  relkind: string | null;
  base_type: string | null;
  notnull: boolean;
  default: string | null;
  collation: string | null;
  comment: string | null;
}

interface ProcRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  args: string;
  comment: string | null;
}

interface SeqRow {
  oid: number;
  schema: string;
  name: string;
  data_type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  owner_rel: number | null;
  owner_col: number | null;
  deptype: string | null;
  comment: string | null;
}

/** Comma-separated oids for `= ANY(string_to_array($1, ',')::int8[])` (no array parameters: PGlite and pg differ). */
function oidList(oids: Iterable<number>): string {
  return [...oids].join(',');
}
const IN_OIDS = (col: string, param = '$1') => `${col}::int8 = ANY(string_to_array(${param}, ',')::int8[])`;

const byName = <T extends { schema?: string; name: string }>(a: T, b: T) =>
  (a.schema ?? '').localeCompare(b.schema ?? '') || a.name.localeCompare(b.name);

const CONSTRAINT_KINDS: Record<string, ConstraintKind> = { p: 'primary key', u: 'unique', c: 'check', f: 'foreign key', x: 'exclusion' };
const STORAGE: Record<string, ColumnInfo['storage'] & string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
const POLICY_COMMANDS: Record<string, string> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };

function comment(c: string | null | undefined): { comment?: string } {
  return c === null || c === undefined ? {} : { comment: c };
}

/** Reads the Snapshot of what `scope.service` owns. Reads only; runs on PostgreSQL 15 and 18. */
export async function introspect(db: Queryable, scope: SchemaScope): Promise<Snapshot> {
  const { workspace, service } = scope;
  const ownerName = (name: string, schema: string) => ownerOf(workspace, { schema, name })?.name;
  // Alembic version tables, as the config names them: `table` (in whatever schema Alembic's search path
  // put it) or `schema.table` (the config's grammar allows no dot inside a part).
  // Every service has one (`alembic_version` unless configured).
  const versionTables = workspace.services.map((s) => s.versionTable).map((v) => {
    const dot = v.indexOf('.');
    return dot < 0 ? { schema: undefined, name: v } : { schema: v.slice(0, dot), name: v.slice(dot + 1) };
  });
  const isVersionTable = (r: { schema: string; name: string }) => versionTables.some((v) => v.name === r.name && (v.schema === undefined || v.schema === r.schema));

  const serverVersion = Number((await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0].v);

  // ---- every user relation, type and routine; extension members apart ----
  const rels = (
    await db.query<RelRow>(
      `SELECT c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
              c.relpersistence::text AS persistence, c.relispartition AS ispartition, c.reloftype <> 0 AS typed,
              c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls, to_json(c.reloptions) AS options,
              obj_description(c.oid, 'pg_class') AS comment, c.relreplident::text AS replident,
              (SELECT am.amname FROM pg_am am WHERE am.oid = c.relam) AS am, c.reltablespace <> 0 AS tablespace
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND ${USER_SCHEMAS}`,
    )
  ).rows;
  const relById = new Map(rels.map((r) => [r.oid, r]));

  const types = (
    await db.query<TypeRow>(
      `SELECT t.oid::int8::float8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype::text AS typtype,
              t.typcategory::text AS category, t.typelem::int8::float8 AS elem, t.typrelid::int8::float8 AS relid,
              (SELECT c.relkind::text FROM pg_class c WHERE c.oid = t.typrelid) AS relkind,
              CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
              t.typnotnull AS notnull, t.typdefault AS default,
              CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation THEN
                (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                   FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS collation,
              obj_description(t.oid, 'pg_type') AS comment
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
        WHERE ${USER_SCHEMAS}`,
    )
  ).rows;
  const typeById = new Map(types.map((t) => [t.oid, t]));

  const procs = (
    await db.query<ProcRow>(
      `SELECT p.oid::int8::float8 AS oid, n.nspname AS schema, p.proname AS name, p.prokind::text AS kind,
              pg_get_function_identity_arguments(p.oid) AS args, obj_description(p.oid, 'pg_proc') AS comment
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMAS}`,
    )
  ).rows;
  const procById = new Map(procs.map((p) => [p.oid, p]));

  const extensions = (
    await db.query<{ oid: number; name: string; schema: string }>(
      `SELECT e.oid::int8::float8 AS oid, e.extname AS name, n.nspname AS schema
         FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`,
    )
  ).rows;
  const extById = new Map(extensions.map((e) => [e.oid, e]));

  // Dependencies between user objects, each end as `r:<oid>` (a relation; sub-objects — defaults,
  // constraints, triggers, policies, rules, indexes — count as their table), `t:` a type, `p:` a
  // routine, `e:` an extension.
  const edges = (
    await db.query<{ src: string | null; dst: string | null; deptype: string }>(
      `SELECT CASE d.classid
                WHEN 'pg_class'::regclass THEN 'r:' || coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = d.objid), d.objid)::int8
                WHEN 'pg_attrdef'::regclass THEN 'r:' || (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)::int8
                WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN c.conrelid <> 0 THEN 'r:' || c.conrelid::int8 ELSE 't:' || c.contypid::int8 END FROM pg_constraint c WHERE c.oid = d.objid)
                WHEN 'pg_trigger'::regclass THEN 'r:' || (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)::int8
                WHEN 'pg_policy'::regclass THEN 'r:' || (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)::int8
                WHEN 'pg_rewrite'::regclass THEN 'r:' || (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)::int8
                WHEN 'pg_type'::regclass THEN 't:' || d.objid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.objid::int8
                WHEN 'pg_extension'::regclass THEN NULL
                ELSE 'x:' || d.classid::int8 || ':' || d.objid::int8
              END AS src,
              CASE d.refclassid
                WHEN 'pg_class'::regclass THEN 'r:' || d.refobjid::int8 WHEN 'pg_type'::regclass THEN 't:' || d.refobjid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.refobjid::int8 WHEN 'pg_extension'::regclass THEN 'e:' || d.refobjid::int8
                WHEN 'pg_namespace'::regclass THEN NULL
                ELSE 'x:' || d.refclassid::int8 || ':' || d.refobjid::int8
              END AS dst,
              d.deptype::text AS deptype
         FROM pg_depend d
        WHERE d.objid >= 16384 AND d.refobjid >= 16384 AND d.deptype IN ('n', 'a', 'i', 'e')`,
    )
  ).rows.filter((e): e is { src: string; dst: string; deptype: string } => e.src !== null && e.dst !== null && e.src !== e.dst);

  const memberOf = new Map<string, number>();
  const outgoing = new Map<string, string[]>();
  for (const e of edges) {
    if (e.deptype === 'e') {
      memberOf.set(e.src, Number(e.dst.slice(2)));
      continue;
    }
    if (e.deptype !== 'n') continue;
    let list = outgoing.get(e.src);
    if (!list) outgoing.set(e.src, (list = []));
    list.push(e.dst);
  }

  const unsupported: UnsupportedObject[] = [];
  const references: ExternalReference[] = [];
  const addReference = (ref: ExternalReference) => {
    if (!references.some((r) => r.service === ref.service && r.object === ref.object && r.from === ref.from)) references.push(ref);
  };
  const neededExtensions = new Set<number>();

  // Serial (a) and identity (i) sequences belong to their column's table.
  const seqOwners = new Map<number, { rel: number; deptype: string }>();
  for (const e of edges) {
    if ((e.deptype === 'a' || e.deptype === 'i') && e.src.startsWith('r:') && e.dst.startsWith('r:')) {
      const src = relById.get(Number(e.src.slice(2)));
      if (src?.kind === 'S') seqOwners.set(src.oid, { rel: Number(e.dst.slice(2)), deptype: e.deptype });
    }
  }

  // ---- owned by name ----
  const ownedTables = new Set<number>();
  const views = new Set<number>();
  const sequences = new Set<number>();
  const typeSet = new Set<number>();
  const procSet = new Set<number>();

  for (const r of rels) {
    if (memberOf.has(`r:${r.oid}`)) continue;
    if (ownerName(r.name, r.schema) !== service) continue;
    const label = displayName(r);
    if ((r.kind === 'r' || r.kind === 'm') && r.tablespace) {
      unsupported.push({ kind: 'tablespace', name: `of ${label}`, reason: 'tablespaces are per server and not reproduced' });
    }
    if (r.kind === 'r' || r.kind === 'p' || r.kind === 'f') {
      if (isVersionTable(r) && r.kind === 'r') continue;
      if (r.kind === 'p') unsupported.push({ kind: 'partitioned table', name: label, reason: 'partitioning is not reproduced by baseline' });
      else if (r.kind === 'f') unsupported.push({ kind: 'foreign table', name: label, reason: 'foreign tables and their servers are not reproduced' });
      else if (r.ispartition) unsupported.push({ kind: 'partition', name: label, reason: 'partitioning is not reproduced by baseline' });
      else if (r.typed) unsupported.push({ kind: 'typed table', name: label, reason: 'tables OF a composite type are not reproduced' });
      else {
        ownedTables.add(r.oid);
        if (r.am !== null && r.am !== 'heap') unsupported.push({ kind: 'table access method', name: `${label} USING ${r.am}`, reason: 'a table access method other than heap is not reproduced' });
      }
    } else if (r.kind === 'v' || r.kind === 'm') views.add(r.oid);
    else if (r.kind === 'S') {
      // A sequence owned by a column goes with that column's table, whatever its name.
      const o = seqOwners.get(r.oid);
      if (!o) sequences.add(r.oid);
    }
  }
  for (const t of types) {
    if (memberOf.has(`t:${t.oid}`) || t.category === 'A') continue;
    if (t.typtype === 'c' && t.relkind !== 'c') continue; // a table's row type
    if (ownerName(t.name, t.schema) !== service) continue;
    typeSet.add(t.oid);
  }
  for (const p of procs) {
    if (memberOf.has(`p:${p.oid}`)) continue;
    if (ownerName(p.name, p.schema) !== service) continue;
    procSet.add(p.oid);
  }

  // ---- owned by use: follow dependencies from everything owned so far ----
  const describe = (key: string): string => {
    const id = Number(key.slice(2));
    if (key.startsWith('r:')) {
      const r = relById.get(id);
      if (!r) return `relation ${id}`;
      const kind = r.kind === 'v' ? 'view' : r.kind === 'm' ? 'materialized view' : r.kind === 'S' ? 'sequence' : 'table';
      return `${kind} ${displayName(r)}`;
    }
    if (key.startsWith('t:')) {
      const t = typeById.get(id);
      return t ? `type ${displayName(t)}` : `type ${id}`;
    }
    if (key.startsWith('p:')) {
      const p = procById.get(id);
      return p ? `function ${displayName(p)}(${p.args})` : `function ${id}`;
    }
    return `extension ${extById.get(id)?.name ?? id}`;
  };

  const visited = new Set<string>();
  const queue: string[] = [];
  const push = (key: string) => {
    if (!visited.has(key)) {
      visited.add(key);
      queue.push(key);
    }
  };
  for (const id of ownedTables) push(`r:${id}`);
  for (const id of views) push(`r:${id}`);
  for (const id of sequences) push(`r:${id}`);
  for (const id of typeSet) push(`t:${id}`);
  for (const id of procSet) push(`p:${id}`);

  const lateProcs = new Set<number>();
  const procsByName = new Set(procSet);
  /** Objects of the kinds a Snapshot does not hold, tied to what the service owns: each is refused by name. */
  const otherUses: { key: string; detail: string }[] = [];
  while (queue.length > 0) {
    const src = queue.shift() as string;
    const from = describe(src);
    // A composite type's attributes hang off its relation.
    const srcType = src.startsWith('t:') ? typeById.get(Number(src.slice(2))) : undefined;
    const targets = [...(outgoing.get(src) ?? []), ...(srcType?.typtype === 'c' ? (outgoing.get(`r:${srcType.relid}`) ?? []) : [])];
    for (let dst of targets) {
      const ext = memberOf.get(dst);
      if (ext !== undefined) {
        neededExtensions.add(ext);
        continue;
      }
      if (dst.startsWith('e:')) {
        neededExtensions.add(Number(dst.slice(2)));
        continue;
      }
      if (dst.startsWith('x:')) {
        // An operator, operator class, collation, text search configuration, … that is no extension's.
        otherUses.push({ key: dst, detail: `used by ${from}` });
        continue;
      }
      const id = Number(dst.slice(2));
      if (dst.startsWith('t:')) {
        let t = typeById.get(id);
        if (!t) continue;
        if (t.category === 'A' && t.elem) {
          dst = `t:${t.elem}`;
          t = typeById.get(t.elem);
          if (!t) continue;
          const e2 = memberOf.get(dst);
          if (e2 !== undefined) {
            neededExtensions.add(e2);
            continue;
          }
        }
        if (t.typtype === 'c' && t.relkind !== 'c') {
          const rel = relById.get(t.relid);
          if (rel && (ownedTables.has(rel.oid) || views.has(rel.oid))) {
            // A function taking or returning a row of one of our tables is created after the tables.
            if (src.startsWith('p:')) lateProcs.add(Number(src.slice(2)));
            continue;
          }
          unsupported.push({ kind: 'row type', name: `${displayName(t)} used by ${from}`, reason: "a column typed by another table's row type is not reproduced" });
          continue;
        }
        if (typeSet.has(t.oid)) continue;
        const owner = ownerName(t.name, t.schema);
        if (owner !== undefined && owner !== service) {
          addReference({ service: owner, object: `type ${displayName(t)}`, from });
          continue;
        }
        typeSet.add(t.oid);
        push(`t:${t.oid}`);
      } else if (dst.startsWith('p:')) {
        const p = procById.get(id);
        if (!p || procSet.has(p.oid)) continue;
        const owner = ownerName(p.name, p.schema);
        if (owner !== undefined && owner !== service) {
          addReference({ service: owner, object: `function ${displayName(p)}(${p.args})`, from });
          continue;
        }
        procSet.add(p.oid);
        push(`p:${p.oid}`);
      } else if (dst.startsWith('r:')) {
        const r = relById.get(id);
        if (!r) continue;
        if (src.startsWith('p:')) lateProcs.add(Number(src.slice(2)));
        if (ownedTables.has(r.oid) || views.has(r.oid) || sequences.has(r.oid)) continue;
        const owner = ownerName(r.name, r.schema);
        if (r.kind === 'S') {
          const seqOwner = seqOwners.get(r.oid);
          if (seqOwner && ownedTables.has(seqOwner.rel)) continue; // a serial of ours, read below
          if (seqOwner) {
            // Owned by a column of a table that is not ours: it comes and goes with that table.
            const t = relById.get(seqOwner.rel);
            addReference({ service: (t && ownerName(t.name, t.schema)) ?? '', object: describe(dst), from });
            continue;
          }
          if (owner !== undefined && owner !== service) {
            addReference({ service: owner, object: describe(dst), from });
            continue;
          }
          sequences.add(r.oid);
          push(dst);
        } else if (r.kind === 'v' || r.kind === 'm') {
          unsupported.push({
            kind: 'view dependency',
            name: `${from} reads ${describe(dst)}`,
            reason: owner ? `that view belongs to service ${owner}` : 'that view belongs to no service',
          });
        } else if (owner !== service && (!src.startsWith('r:') || views.has(Number(src.slice(2))))) {
          // A view or function reading another service's (or nobody's) table; foreign keys are read with the constraints.
          addReference({ service: owner ?? '', object: describe(dst), from });
        }
      }
    }
  }

  // What depends on an owned object but is of a kind no Snapshot holds (an operator or a cast over an
  // owned function, an operator class over an owned type, an aggregate, …): baseline would lose it, and
  // dropping the owned object (reset, rebaseline) would fail on it. Refused by name, as what it uses is.
  const ownedKey = (key: string) => {
    const id = Number(key.slice(2));
    if (key.startsWith('r:')) return ownedTables.has(id) || views.has(id) || sequences.has(id);
    if (key.startsWith('t:')) return typeSet.has(id);
    if (key.startsWith('p:')) return procSet.has(id);
    return false;
  };
  for (const e of edges) {
    if (e.deptype !== 'n' || !ownedKey(e.dst) || memberOf.has(e.src)) continue;
    if (e.src.startsWith('x:')) otherUses.push({ key: e.src, detail: `depends on ${describe(e.dst)}` });
    else if (e.src.startsWith('p:') && procById.get(Number(e.src.slice(2)))?.kind === 'a' && !procSet.has(Number(e.src.slice(2)))) {
      const p = procById.get(Number(e.src.slice(2))) as ProcRow;
      unsupported.push({ kind: 'aggregate', name: `${displayName(p)}(${p.args}) (uses ${describe(e.dst)})`, reason: 'CREATE AGGREGATE is not reproduced' });
    }
  }
  // Objects outside the service that depend on what it owns (another service's foreign key onto an
  // owned table, a view reading it, a trigger calling an owned function, a column of an owned type):
  // a rebaseline that drops and recreates the owned objects must name them first.
  const dependents: ExternalReference[] = [];
  for (const e of edges) {
    if (e.deptype !== 'n' || !ownedKey(e.dst) || ownedKey(e.src) || memberOf.has(e.src) || e.src.startsWith('x:')) continue;
    if (e.src.startsWith('p:') && procSet.has(Number(e.src.slice(2)))) continue;
    if (e.src.startsWith('t:') && typeSet.has(Number(e.src.slice(2)))) continue;
    const rel = e.src.startsWith('r:') ? relById.get(Number(e.src.slice(2))) : undefined;
    const ty = e.src.startsWith('t:') ? typeById.get(Number(e.src.slice(2))) : undefined;
    const pr = e.src.startsWith('p:') ? procById.get(Number(e.src.slice(2))) : undefined;
    const named = rel ?? ty ?? pr;
    if (rel && seqOwners.has(rel.oid) && ownedTables.has(seqOwners.get(rel.oid)!.rel)) continue;
    const other = named ? ownerName(named.name, named.schema) : undefined;
    dependents.push({ service: other ?? '', object: describe(e.dst), from: describe(e.src) });
  }

  // A function no service owns by name, that this service's objects use AND objects outside it use
  // too (a trigger function shared by two services' tables): each service's baseline would create it
  // and each reset would drop it under the other. It must be owned by one service and required by the
  // others: refused, naming who else uses it.
  for (const id of procSet) {
    if (procsByName.has(id)) continue;
    const key = `p:${id}`;
    const users = new Map<string, string>();
    for (const e of edges) {
      if (e.dst !== key || e.deptype !== 'n' || ownedKey(e.src) || memberOf.has(e.src) || e.src.startsWith('x:')) continue;
      if (e.src.startsWith('p:') && procSet.has(Number(e.src.slice(2)))) continue;
      const rel = e.src.startsWith('r:') ? relById.get(Number(e.src.slice(2))) : undefined;
      const other = rel ? ownerName(rel.name, rel.schema) : undefined;
      users.set(describe(e.src), other === undefined ? 'no service' : `service ${other}`);
    }
    if (users.size === 0) continue;
    const p = procById.get(id) as ProcRow;
    const list = [...users].sort().map(([what, who]) => `${what} (${who})`).join(', ');
    unsupported.push({
      kind: 'shared function',
      name: `${displayName(p)}(${p.args}) is also used by ${list}`,
      reason: `it is owned by no service: add it to the \`owns\` of one service and \`requires\` that service from the others`,
    });
  }

  // The same kinds matched by name by the service's `owns` (e.g. `schema:billing` holding an operator).
  const named = (
    await db.query<{ key: string; schema: string; name: string }>(
      `SELECT 'x:' || o.classid::int8 || ':' || o.oid::int8 AS key, n.nspname AS schema, o.name
         FROM (SELECT 'pg_operator'::regclass AS classid, oid, oprname::text AS name, oprnamespace AS ns FROM pg_operator
               UNION ALL SELECT 'pg_opclass'::regclass, oid, opcname::text, opcnamespace FROM pg_opclass
               UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfname::text, opfnamespace FROM pg_opfamily
               UNION ALL SELECT 'pg_collation'::regclass, oid, collname::text, collnamespace FROM pg_collation
               UNION ALL SELECT 'pg_conversion'::regclass, oid, conname::text, connamespace FROM pg_conversion
               UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgname::text, cfgnamespace FROM pg_ts_config
               UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictname::text, dictnamespace FROM pg_ts_dict
               UNION ALL SELECT 'pg_ts_parser'::regclass, oid, prsname::text, prsnamespace FROM pg_ts_parser
               UNION ALL SELECT 'pg_ts_template'::regclass, oid, tmplname::text, tmplnamespace FROM pg_ts_template) AS o
         JOIN pg_namespace n ON n.oid = o.ns
        WHERE o.oid >= 16384 AND ${USER_SCHEMAS}`,
    )
  ).rows;
  for (const o of named) {
    if (memberOf.has(o.key) || ownerName(o.name, o.schema) !== service) continue;
    otherUses.push({ key: o.key, detail: `named by the \`owns\` of ${service}` });
  }
  if (otherUses.length > 0) {
    const keys = [...new Set(otherUses.map((u) => u.key))];
    const ids = (
      await db.query<{ key: string; type: string; identity: string }>(
        `SELECT k AS key, i.type, i.identity
           FROM unnest(string_to_array($1, ',')) AS k,
                LATERAL pg_identify_object(split_part(k, ':', 2)::oid, split_part(k, ':', 3)::oid, 0) AS i`,
        [keys.join(',')],
      )
    ).rows;
    const byKey = new Map(ids.map((i) => [i.key, i]));
    const seen = new Set<string>();
    for (const u of otherUses) {
      const id = byKey.get(u.key);
      const kind = id?.type ?? 'object';
      if (kind === 'event trigger') continue; // named below, with the function it runs
      const label = `${id?.identity ?? u.key} (${u.detail})`;
      if (seen.has(label)) continue;
      seen.add(label);
      unsupported.push({ kind, name: label, reason: `a ${kind} is not reproduced by baseline` });
    }
  }

  // Serial sequences (OWNED BY a column of an owned table); identity sequences go with their column.
  for (const [seq, o] of seqOwners) {
    if (o.deptype === 'a' && ownedTables.has(o.rel)) sequences.add(seq);
    if (o.deptype === 'i') sequences.delete(seq);
  }

  // ---- tables ----
  const tableIds = [...ownedTables];
  const tableList = oidList(tableIds);
  const tables = new Map<number, TableInfo>();
  for (const id of tableIds) {
    const r = relById.get(id) as RelRow;
    tables.set(id, {
      schema: r.schema,
      name: r.name,
      unlogged: r.persistence === 'u',
      options: [...(r.options ?? [])].sort(),
      columns: [],
      constraints: [],
      indexes: [],
      triggers: [],
      policies: [],
      rowSecurity: r.rls,
      forceRowSecurity: r.force_rls,
      ...(r.replident === 'f' ? { replicaIdentity: { kind: 'full' as const } } : r.replident === 'n' ? { replicaIdentity: { kind: 'nothing' as const } } : {}),
      ...comment(r.comment),
    });
  }

  const seqRows = (
    await db.query<SeqRow>(
      `SELECT s.seqrelid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
              s.seqstart::text AS start, s.seqincrement::text AS increment, s.seqmin::text AS min, s.seqmax::text AS max,
              s.seqcache::text AS cache, s.seqcycle AS cycle,
              d.refobjid::int8::float8 AS owner_rel, d.refobjsubid::int AS owner_col, d.deptype::text AS deptype,
              obj_description(c.oid, 'pg_class') AS comment
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        WHERE ${USER_SCHEMAS}`,
    )
  ).rows;
  const seqOptions = (s: SeqRow) => ({
    dataType: s.data_type,
    start: s.start,
    increment: s.increment,
    min: s.min,
    max: s.max,
    cache: s.cache,
    cycle: s.cycle,
  });
  const identitySeq = new Map<string, SeqRow>();
  for (const s of seqRows) if (s.deptype === 'i' && s.owner_rel !== null) identitySeq.set(`${s.owner_rel}:${s.owner_col}`, s);

  if (tableIds.length > 0) {
    const cols = (
      await db.query<{
        rel: number;
        name: string;
        position: number;
        type: string;
        notnull: boolean;
        identity: string;
        generated: string;
        expr: string | null;
        collation: string | null;
        comment: string | null;
        storage: string | null;
        stattarget: number | null;
        compression: string | null;
        attoptions: string[] | null;
      }>(
        `SELECT a.attrelid::int8::float8 AS rel, a.attname AS name, a.attnum::int AS position,
                CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
                NULLIF(a.attstattarget::int, -1) AS stattarget, NULLIF(a.attcompression::text, '') AS compression,
                to_json(a.attoptions) AS attoptions,
                format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
                a.attidentity::text AS identity, a.attgenerated::text AS generated,
                pg_get_expr(d.adbin, d.adrelid) AS expr,
                CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
                  (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                     FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation,
                col_description(a.attrelid, a.attnum) AS comment
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE ${IN_OIDS('a.attrelid')} AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attrelid, a.attnum`,
        [tableList],
      )
    ).rows;
    for (const c of cols) {
      const col: ColumnInfo = { name: c.name, position: c.position, type: c.type, notNull: c.notnull };
      if (c.generated === 's' || c.generated === 'v') {
        if (c.expr !== null) col.generated = { expression: c.expr, kind: c.generated === 's' ? 'stored' : 'virtual' };
      } else if (c.expr !== null) col.default = c.expr;
      if (c.identity === 'a' || c.identity === 'd') {
        const s = identitySeq.get(`${c.rel}:${c.position}`);
        if (s) col.identity = { kind: c.identity === 'a' ? 'always' : 'by default', sequence: { schema: s.schema, name: s.name, ...seqOptions(s) } };
      }
      if (c.collation) col.collation = c.collation;
      // What pg_dump emits as ALTER COLUMN … SET STORAGE / SET STATISTICS / SET COMPRESSION / SET (…).
      if (c.storage !== null) col.storage = STORAGE[c.storage] ?? c.storage;
      if (c.stattarget !== null) col.statistics = Number(c.stattarget);
      if (c.compression !== null && c.compression !== '\u0000') col.compression = COMPRESSION[c.compression] ?? c.compression;
      // Only the options a user can set (ALTER COLUMN … SET): a server may keep its own there (15.20's pg_attver).
      const settable = (c.attoptions ?? []).filter((o) => /^n_distinct(_inherited)?=/.test(o));
      if (settable.length > 0) col.options = settable.sort();
      Object.assign(col, comment(c.comment));
      tables.get(c.rel)?.columns.push(col);
    }

    const cons = (
      await db.query<{ rel: number; name: string; type: string; def: string; validated: boolean; ref_schema: string | null; ref_table: string | null; comment: string | null }>(
        `SELECT con.conrelid::int8::float8 AS rel, con.conname AS name, con.contype::text AS type, pg_get_constraintdef(con.oid) AS def,
                con.convalidated AS validated, rn.nspname AS ref_schema, rc.relname AS ref_table,
                obj_description(con.oid, 'pg_constraint') AS comment
           FROM pg_constraint con
           LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE ${IN_OIDS('con.conrelid')} AND con.contype IN ('p', 'u', 'c', 'f', 'x')`,
        [tableList],
      )
    ).rows;
    for (const c of cons) {
      const t = tables.get(c.rel);
      if (!t) continue;
      const info: ConstraintInfo = { name: c.name, kind: CONSTRAINT_KINDS[c.type], definition: c.def, validated: c.validated, ...comment(c.comment) };
      if (c.type === 'f' && c.ref_schema !== null && c.ref_table !== null) {
        info.references = { schema: c.ref_schema, name: c.ref_table };
        const owner = ownerName(c.ref_table, c.ref_schema);
        const refOwned = [...ownedTables].some((id) => relById.get(id)?.schema === c.ref_schema && relById.get(id)?.name === c.ref_table);
        if (!refOwned) {
          addReference({
            service: owner !== service ? (owner ?? '') : '',
            object: `table ${displayName(info.references)}`,
            from: `foreign key ${c.name} on ${displayName(t)}`,
          });
        }
      }
      t.constraints.push(info);
    }

    const idx = (
      await db.query<{ rel: number; name: string; def: string; comment: string | null }>(
        `SELECT i.indrelid::int8::float8 AS rel, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def,
                obj_description(i.indexrelid, 'pg_class') AS comment
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE ${IN_OIDS('i.indrelid')}
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))`,
        [tableList],
      )
    ).rows;
    for (const i of idx) tables.get(i.rel)?.indexes.push({ name: i.name, definition: i.def, ...comment(i.comment) });
    // REPLICA IDENTITY USING INDEX and CLUSTER ON, constraint indexes included (pg_dump emits both).
    const marked = (
      await db.query<{ rel: number; name: string; replident: boolean; clustered: boolean }>(
        `SELECT i.indrelid::int8::float8 AS rel, ic.relname AS name, i.indisreplident AS replident, i.indisclustered AS clustered
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
          WHERE ${IN_OIDS('i.indrelid')} AND (i.indisreplident OR i.indisclustered)`,
        [tableList],
      )
    ).rows;
    for (const m of marked) {
      const t = tables.get(m.rel);
      if (!t) continue;
      if (m.replident && relById.get(m.rel)?.replident === 'i') t.replicaIdentity = { kind: 'index', index: m.name };
      if (m.clustered) t.clusterOn = m.name;
    }

    const trg = (
      await db.query<{ rel: number; name: string; def: string; enabled: string; comment: string | null }>(
        `SELECT t.tgrelid::int8::float8 AS rel, t.tgname AS name, pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled,
                obj_description(t.oid, 'pg_trigger') AS comment
           FROM pg_trigger t WHERE ${IN_OIDS('t.tgrelid')} AND NOT t.tgisinternal`,
        [tableList],
      )
    ).rows;
    for (const t of trg) {
      tables.get(t.rel)?.triggers.push({ name: t.name, definition: t.def, enabled: t.enabled as TriggerInfo['enabled'], ...comment(t.comment) });
    }

    const pol = (
      await db.query<{ rel: number; name: string; permissive: boolean; cmd: string; roles: string[]; qual: string | null; withcheck: string | null; comment: string | null }>(
        `SELECT p.polrelid::int8::float8 AS rel, p.polname AS name, p.polpermissive AS permissive, p.polcmd::text AS cmd,
                to_json(ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END
                                FROM unnest(p.polroles) AS r ORDER BY 1)) AS roles,
                pg_get_expr(p.polqual, p.polrelid) AS qual, pg_get_expr(p.polwithcheck, p.polrelid) AS withcheck,
                obj_description(p.oid, 'pg_policy') AS comment
           FROM pg_policy p WHERE ${IN_OIDS('p.polrelid')}`,
        [tableList],
      )
    ).rows;
    for (const p of pol) {
      const info: PolicyInfo = { name: p.name, permissive: p.permissive, command: POLICY_COMMANDS[p.cmd] ?? p.cmd, roles: [...p.roles].sort() };
      if (p.qual !== null) info.using = p.qual;
      if (p.withcheck !== null) info.withCheck = p.withcheck;
      Object.assign(info, comment(p.comment));
      tables.get(p.rel)?.policies.push(info);
    }

    // What baseline does not reproduce, attached to owned tables.
    const inh = (
      await db.query<{ child: number; parent: number }>(
        `SELECT inhrelid::int8::float8 AS child, inhparent::int8::float8 AS parent FROM pg_inherits
          WHERE ${IN_OIDS('inhrelid')} OR ${IN_OIDS('inhparent')}`,
        [tableList],
      )
    ).rows;
    for (const i of inh) {
      const child = relById.get(i.child);
      const parent = relById.get(i.parent);
      unsupported.push({
        kind: 'table inheritance',
        name: `${child ? displayName(child) : i.child} inherits ${parent ? displayName(parent) : i.parent}`,
        reason: 'inheritance trees are not reproduced by baseline',
      });
    }
    const stats = (
      await db.query<{ rel: number; name: string }>(`SELECT stxrelid::int8::float8 AS rel, stxname AS name FROM pg_statistic_ext WHERE ${IN_OIDS('stxrelid')}`, [tableList])
    ).rows;
    const pubs = (
      await db.query<{ rel: number; name: string }>(
        `SELECT pr.prrelid::int8::float8 AS rel, p.pubname AS name FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
          WHERE ${IN_OIDS('pr.prrelid')}
         UNION ALL
         SELECT c.oid::int8::float8, p.pubname FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid
           JOIN pg_class c ON c.relnamespace = pn.pnnspid WHERE ${IN_OIDS('c.oid')}`,
        [tableList],
      )
    ).rows;
    for (const p of pubs) {
      unsupported.push({ kind: 'publication', name: `${p.name} publishing ${displayName(relById.get(p.rel) as RelRow)}`, reason: 'publications are database-wide and not reproduced' });
    }
    for (const s of stats) unsupported.push({ kind: 'extended statistics', name: `${s.name} on ${displayName(relById.get(s.rel) as RelRow)}`, reason: 'CREATE STATISTICS is not reproduced' });
  }

  const ruleRels = [...ownedTables, ...views];
  if (ruleRels.length > 0) {
    const rules = (
      await db.query<{ rel: number; name: string }>(
        `SELECT ev_class::int8::float8 AS rel, rulename AS name FROM pg_rewrite WHERE ${IN_OIDS('ev_class')} AND rulename <> '_RETURN'`,
        [oidList(ruleRels)],
      )
    ).rows;
    const viewTriggers = (
      await db.query<{ rel: number; name: string }>(
        `SELECT tgrelid::int8::float8 AS rel, tgname AS name FROM pg_trigger WHERE ${IN_OIDS('tgrelid')} AND NOT tgisinternal`,
        [oidList(views)],
      )
    ).rows;
    for (const t of viewTriggers) {
      unsupported.push({ kind: 'trigger on a view', name: `${t.name} on ${displayName(relById.get(t.rel) as RelRow)}`, reason: 'INSTEAD OF triggers are not reproduced' });
    }
    for (const r of rules) unsupported.push({ kind: 'rule', name: `${r.name} on ${displayName(relById.get(r.rel) as RelRow)}`, reason: 'CREATE RULE is not reproduced' });
  }

  // Security labels (pg_dump emits SECURITY LABEL) on anything owned.
  const labelled = [...ownedTables, ...views, ...sequences, ...typeSet, ...procSet];
  if (labelled.length > 0) {
    const labels = (
      await db.query<{ what: string; provider: string }>(
        `SELECT pg_describe_object(s.classoid, s.objoid, s.objsubid) AS what, s.provider FROM pg_seclabel s
          WHERE s.classoid IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass) AND ${IN_OIDS('s.objoid')}`,
        [oidList(labelled)],
      )
    ).rows;
    for (const l of labels) unsupported.push({ kind: 'security label', name: `${l.provider} on ${l.what}`, reason: 'SECURITY LABEL is not reproduced' });
  }

  // ---- views ----
  const viewInfos = new Map<number, ViewInfo>();
  if (views.size > 0) {
    const defs = (
      await db.query<{ oid: number; def: string }>(
        `SELECT c.oid::int8::float8 AS oid, pg_get_viewdef(c.oid) AS def FROM pg_class c WHERE ${IN_OIDS('c.oid')}`,
        [oidList(views)],
      )
    ).rows;
    const defById = new Map(defs.map((d) => [d.oid, d.def]));
    const parser = await loadPgParser();
    const hashOf = (def: string) => {
      const canonical = canonicalQuery(def, parser);
      return canonical === undefined ? undefined : createHash('sha256').update(canonical).digest('hex');
    };
    const viewCols = (
      await db.query<{ rel: number; name: string; comment: string }>(
        `SELECT a.attrelid::int8::float8 AS rel, a.attname AS name, col_description(a.attrelid, a.attnum) AS comment
           FROM pg_attribute a WHERE ${IN_OIDS('a.attrelid')} AND a.attnum > 0 AND NOT a.attisdropped
            AND col_description(a.attrelid, a.attnum) IS NOT NULL`,
        [oidList(views)],
      )
    ).rows;
    const viewIdx = (
      await db.query<{ rel: number; name: string; def: string; comment: string | null }>(
        `SELECT i.indrelid::int8::float8 AS rel, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def,
                obj_description(i.indexrelid, 'pg_class') AS comment
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE ${IN_OIDS('i.indrelid')}`,
        [oidList(views)],
      )
    ).rows;
    for (const id of views) {
      const r = relById.get(id) as RelRow;
      const dependsOn = (outgoing.get(`r:${id}`) ?? [])
        .map((k) => (k.startsWith('r:') ? Number(k.slice(2)) : NaN))
        .filter((x) => views.has(x) && x !== id)
        .map((x) => {
          const v = relById.get(x) as RelRow;
          return `${v.schema}.${v.name}`;
        });
      viewInfos.set(id, {
        schema: r.schema,
        name: r.name,
        materialized: r.kind === 'm',
        definition: defById.get(id) ?? '',
        ...(() => {
          const h = hashOf(defById.get(id) ?? '');
          return h === undefined ? {} : { queryHash: h };
        })(),
        options: [...(r.options ?? [])].sort(),
        dependsOn: [...new Set(dependsOn)].sort(),
        indexes: viewIdx.filter((i) => i.rel === id).map((i): IndexInfo => ({ name: i.name, definition: i.def, ...comment(i.comment) })).sort(byName),
        columnComments: viewCols.filter((c) => c.rel === id).map((c) => ({ column: c.name, comment: c.comment })).sort((a, b) => a.column.localeCompare(b.column)),
        ...comment(r.comment),
      });
    }
  }

  // ---- sequences ----
  const seqInfos: SequenceInfo[] = [];
  for (const s of seqRows) {
    if (!sequences.has(s.oid)) continue;
    const info: SequenceInfo = { schema: s.schema, name: s.name, ...seqOptions(s), ...comment(s.comment) };
    if (s.deptype === 'a' && s.owner_rel !== null) {
      const t = relById.get(s.owner_rel);
      const col = tables.get(s.owner_rel)?.columns.find((c) => c.position === s.owner_col);
      if (t && col) info.ownedBy = { schema: t.schema, table: t.name, column: col.name };
    }
    seqInfos.push(info);
  }

  // ---- types ----
  const typeInfos: TypeInfo[] = [];
  const typeIds = [...typeSet];
  if (typeIds.length > 0) {
    const labels = (
      await db.query<{ type: number; label: string }>(
        `SELECT enumtypid::int8::float8 AS type, enumlabel AS label FROM pg_enum WHERE ${IN_OIDS('enumtypid')} ORDER BY enumtypid, enumsortorder`,
        [oidList(typeIds)],
      )
    ).rows;
    const domainChecks = (
      await db.query<{ type: number; name: string; def: string }>(
        `SELECT contypid::int8::float8 AS type, conname AS name, pg_get_constraintdef(oid) AS def
           FROM pg_constraint WHERE ${IN_OIDS('contypid')} AND contype = 'c' ORDER BY conname`,
        [oidList(typeIds)],
      )
    ).rows;
    const compositeRels = typeIds.map((id) => typeById.get(id) as TypeRow).filter((t) => t.typtype === 'c').map((t) => t.relid);
    const attrs =
      compositeRels.length === 0
        ? []
        : (
            await db.query<{ rel: number; name: string; type: string; collation: string | null }>(
              `SELECT a.attrelid::int8::float8 AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
                      CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN
                        (SELECT CASE WHEN cn.nspname = 'pg_catalog' THEN quote_ident(co.collname) ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                           FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation
                 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE ${IN_OIDS('a.attrelid')} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum`,
              [oidList(compositeRels)],
            )
          ).rows;
    for (const id of typeIds) {
      const t = typeById.get(id) as TypeRow;
      if (t.typtype === 'e') {
        const e: EnumType = { kind: 'enum', schema: t.schema, name: t.name, labels: labels.filter((l) => l.type === id).map((l) => l.label), ...comment(t.comment) };
        typeInfos.push(e);
      } else if (t.typtype === 'd') {
        const d: DomainType = {
          kind: 'domain',
          schema: t.schema,
          name: t.name,
          baseType: t.base_type ?? '',
          notNull: t.notnull,
          constraints: domainChecks.filter((c) => c.type === id).map((c) => ({ name: c.name, definition: c.def })),
          ...comment(t.comment),
        };
        if (t.default !== null) d.default = t.default;
        if (t.collation) d.collation = t.collation;
        typeInfos.push(d);
      } else if (t.typtype === 'c') {
        const c: CompositeType = {
          kind: 'composite',
          schema: t.schema,
          name: t.name,
          attributes: attrs.filter((a) => a.rel === t.relid).map((a) => ({ name: a.name, type: a.type, ...(a.collation ? { collation: a.collation } : {}) })),
          ...comment(t.comment),
        };
        typeInfos.push(c);
      } else {
        const what = t.typtype === 'r' ? 'range type' : t.typtype === 'm' ? 'multirange type' : t.typtype === 'b' ? 'base type' : 'type';
        unsupported.push({ kind: what, name: displayName(t), reason: `CREATE TYPE for a ${what} is not reproduced` });
      }
    }
  }

  // ---- functions and procedures ----
  const fnInfos: FunctionInfo[] = [];
  const procIds = [...procSet];
  if (procIds.length > 0) {
    for (const id of procIds) {
      const p = procById.get(id) as ProcRow;
      if (p.kind === 'a') unsupported.push({ kind: 'aggregate', name: `${displayName(p)}(${p.args})`, reason: 'CREATE AGGREGATE is not reproduced' });
    }
    const defs = (
      await db.query<{ oid: number; def: string }>(
        `SELECT p.oid::int8::float8 AS oid, pg_get_functiondef(p.oid) AS def FROM pg_proc p WHERE ${IN_OIDS('p.oid')} AND p.prokind IN ('f', 'p', 'w')`,
        [oidList(procIds)],
      )
    ).rows;
    for (const d of defs) {
      const p = procById.get(d.oid) as ProcRow;
      fnInfos.push({
        schema: p.schema,
        name: p.name,
        kind: p.kind === 'p' ? 'procedure' : 'function',
        arguments: p.args,
        definition: d.def,
        late: lateProcs.has(d.oid),
        ...comment(p.comment),
      });
    }
    const evt = (
      await db.query<{ name: string; fn: number }>(`SELECT evtname AS name, evtfoid::int8::float8 AS fn FROM pg_event_trigger WHERE ${IN_OIDS('evtfoid')}`, [oidList(procIds)])
    ).rows;
    for (const e of evt) {
      const p = procById.get(e.fn) as ProcRow;
      unsupported.push({ kind: 'event trigger', name: `${e.name} (runs ${displayName(p)})`, reason: 'event triggers are database-wide and not reproduced' });
    }
  }

  // ---- assemble, sorted ----
  const tableInfos = [...tables.values()].sort(byName);
  for (const t of tableInfos) {
    t.columns.sort((a, b) => a.position - b.position);
    t.constraints.sort(byName);
    t.indexes.sort(byName);
    t.triggers.sort(byName);
    t.policies.sort(byName);
  }
  const viewList = [...viewInfos.values()].sort(byName);
  typeInfos.sort(byName);
  fnInfos.sort((a, b) => byName(a, b) || a.arguments.localeCompare(b.arguments));
  seqInfos.sort(byName);

  const exts: ExtensionInfo[] = [...neededExtensions]
    .map((id) => extById.get(id))
    .filter((e): e is { oid: number; name: string; schema: string } => e !== undefined && e.name !== 'plpgsql')
    .map((e) => ({ name: e.name, schema: e.schema }))
    .sort((a, b) => a.name.localeCompare(b.name));

  const schemas = new Set<string>();
  for (const list of [tableInfos, viewList, typeInfos, fnInfos, seqInfos] as { schema: string }[][]) for (const o of list) schemas.add(o.schema);
  for (const t of tableInfos) for (const c of t.columns) if (c.identity) schemas.add(c.identity.sequence.schema);
  for (const e of exts) schemas.add(e.schema);
  schemas.delete('public');
  schemas.delete('pg_catalog');

  unsupported.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  references.sort((a, b) => a.service.localeCompare(b.service) || a.object.localeCompare(b.object) || a.from.localeCompare(b.from));

  // ---- creation order: what pg_depend says each CREATE needs (column types, defaults, checks, domain
  // checks, argument and result types, BEGIN ATOMIC bodies, view queries) ----
  const createOrder = await creationOrder(db, {
    types: typeInfos.map((t) => ({ key: objectKey('type', t), id: `t:${[...typeSet].find((o) => sameObject(typeById.get(o), t))}` })),
    functions: fnInfos.map((f) => ({ key: objectKey('function', f, f.arguments), id: `p:${[...procSet].find((o) => sameObject(procById.get(o), f) && procById.get(o)?.args === f.arguments)}` })),
    sequences: seqInfos.map((q) => ({ key: objectKey('sequence', q), id: `r:${[...sequences].find((o) => sameObject(relById.get(o), q))}` })),
    tables: tableInfos.map((t) => ({ key: objectKey('table', t), id: `r:${[...ownedTables].find((o) => sameObject(relById.get(o), t))}` })),
    views: viewList.map((v) => ({ key: objectKey('view', v), id: `r:${[...views].find((o) => sameObject(relById.get(o), v))}` })),
    typeById,
  });
  // A function created after a table is dropped before the tables (render.ts renderDrop).
  const tablePositions = tableInfos.map((t) => createOrder.indexOf(objectKey('table', t)));
  const firstTable = tablePositions.length ? Math.min(...tablePositions) : Infinity;
  for (const f of fnInfos) if (createOrder.indexOf(objectKey('function', f, f.arguments)) > firstTable) f.late = true;

  return {
    serverVersion,
    service,
    createOrder,
    schemas: [...schemas].sort(),
    extensions: exts,
    types: typeInfos,
    functions: fnInfos,
    sequences: seqInfos,
    tables: tableInfos,
    views: viewList,
    unsupported,
    references,
    dependents: await describeDependents(db, dependents, [...ownedTables], (n, sch) => ownerName(n, sch)),
  };
}

/**
 * The dependents with what they are: a foreign key onto an owned table is named as that key (from the
 * catalog, since pg_depend counts it as its table), the rest as pg_depend found them. Sorted, unique.
 */
async function describeDependents(
  db: Queryable,
  found: ExternalReference[],
  owned: number[],
  ownerName: (name: string, schema: string) => string | undefined,
): Promise<ExternalReference[]> {
  const out = new Map<string, ExternalReference>();
  const add = (r: ExternalReference) => out.set(`${r.service}\0${r.object}\0${r.from}`, r);
  if (owned.length > 0) {
    const fks = (
      await db.query<{ name: string; schema: string; table: string; ref_schema: string; ref_table: string }>(
        `SELECT con.conname AS name, n.nspname AS schema, c.relname AS table, rn.nspname AS ref_schema, rc.relname AS ref_table
           FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class rc ON rc.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = rc.relnamespace
          WHERE con.contype = 'f' AND ${IN_OIDS('con.confrelid')} AND NOT (${IN_OIDS('con.conrelid')})`,
        [oidList(owned)],
      )
    ).rows;
    for (const f of fks) {
      add({
        service: ownerName(f.table, f.schema) ?? '',
        object: `table ${displayName({ schema: f.ref_schema, name: f.ref_table })}`,
        from: `foreign key ${displayName(f.name)} on table ${displayName({ schema: f.schema, name: f.table })}`,
      });
    }
  }
  const fkTables = new Set([...out.values()].map((r) => `${r.object}\0${r.from.replace(/^foreign key .* on /, '')}`));
  for (const r of found) if (!fkTables.has(`${r.object}\0${r.from}`)) add(r);
  return [...out.values()].sort((a, b) => a.service.localeCompare(b.service) || a.from.localeCompare(b.from) || a.object.localeCompare(b.object));
}

const sameObject = (row: { schema: string; name: string } | undefined, q: QualifiedName) => row !== undefined && row.schema === q.schema && row.name === q.name;

interface OrderInput {
  types: { key: string; id: string }[];
  functions: { key: string; id: string }[];
  sequences: { key: string; id: string }[];
  tables: { key: string; id: string }[];
  views: { key: string; id: string }[];
  typeById: Map<number, TypeRow>;
}

/**
 * The owned objects in an order every CREATE can run in: a topological sort of the `n` dependencies
 * pg_depend records between them, ties (and a cycle, which only ALTERs could break) by kind —
 * types, functions, sequences, tables, views — then by name, so a schema without such dependencies
 * keeps the plain layout. Function bodies kept as strings (LANGUAGE sql with quotes, plpgsql) record
 * no dependency: the baseline creates them with check_function_bodies off, as pg_dump does.
 */
async function creationOrder(db: Queryable, input: OrderInput): Promise<string[]> {
  const nodes = [
    ...input.types.map((n) => ({ ...n, rank: 0 })),
    ...input.functions.map((n) => ({ ...n, rank: 1 })),
    ...input.sequences.map((n) => ({ ...n, rank: 2 })),
    ...input.tables.map((n) => ({ ...n, rank: 3 })),
    ...input.views.map((n) => ({ ...n, rank: 4 })),
  ];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const rows = (
    await db.query<{ src: string | null; dst: string | null }>(
      `SELECT CASE d.classid
                WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN c.relkind = 'c' THEN 't:' || c.reltype::int8 WHEN c.relkind IN ('r', 'p', 'v', 'm', 'S') THEN 'r:' || c.oid::int8 END
                                                  FROM pg_class c WHERE c.oid = d.objid)
                WHEN 'pg_attrdef'::regclass THEN (SELECT 'r:' || a.adrelid::int8 FROM pg_attrdef a WHERE a.oid = d.objid)
                WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN c.contypid <> 0 THEN 't:' || c.contypid::int8 WHEN c.contype = 'c' AND c.convalidated THEN 'r:' || c.conrelid::int8 END
                                                       FROM pg_constraint c WHERE c.oid = d.objid)
                WHEN 'pg_rewrite'::regclass THEN (SELECT 'r:' || r.ev_class::int8 FROM pg_rewrite r WHERE r.oid = d.objid AND r.rulename = '_RETURN')
                WHEN 'pg_type'::regclass THEN 't:' || d.objid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.objid::int8
              END AS src,
              CASE d.refclassid
                WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN c.relkind = 'c' THEN 't:' || c.reltype::int8 ELSE 'r:' || c.oid::int8 END FROM pg_class c WHERE c.oid = d.refobjid)
                WHEN 'pg_type'::regclass THEN 't:' || d.refobjid::int8
                WHEN 'pg_proc'::regclass THEN 'p:' || d.refobjid::int8
              END AS dst
         FROM pg_depend d
        WHERE d.deptype = 'n' AND d.objid >= 16384 AND d.refobjid >= 16384`,
    )
  ).rows;
  // An array type stands for its element; a table's row type for the table.
  const canonical = (key: string): string => {
    if (!key.startsWith('t:')) return key;
    const t = input.typeById.get(Number(key.slice(2)));
    if (t && t.category === 'A' && t.elem) return canonical(`t:${t.elem}`);
    if (t && t.typtype === 'c' && t.relkind !== 'c') return `r:${t.relid}`;
    return key;
  };
  const needs = new Map<string, Set<string>>(nodes.map((n) => [n.id, new Set<string>()]));
  for (const r of rows) {
    if (r.src === null || r.dst === null) continue;
    const src = canonical(r.src);
    const dst = canonical(r.dst);
    if (src !== dst && byId.has(src) && byId.has(dst)) needs.get(src)?.add(dst);
  }
  const order: string[] = [];
  const done = new Set<string>();
  const pending = [...nodes].sort((a, b) => a.rank - b.rank);
  while (pending.length > 0) {
    let i = pending.findIndex((n) => [...(needs.get(n.id) ?? [])].every((d) => done.has(d)));
    if (i < 0) i = 0; // a cycle: keep the kind order for what is left
    const [next] = pending.splice(i, 1);
    done.add(next.id);
    order.push(next.key);
  }
  return order;
}
