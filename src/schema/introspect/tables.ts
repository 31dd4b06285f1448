/**
 * The owned tables with what is attached to them (columns, constraints, indexes, triggers, policies,
 * replica identity, CLUSTER ON), and the refusals found on them: inheritance, extended statistics,
 * publications, rules, triggers on views, security labels (not looked for in introspect's `tables`
 * mode). Also reads the sequence rows, which an identity column needs here and objects.ts needs later.
 */
import type { ColumnInfo, ConstraintInfo, ConstraintKind, PolicyInfo, TableInfo, TriggerInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import type { RelRow } from './catalog-read.js';
import { IN_OIDS, USER_SCHEMAS, comment, oidList } from './catalog-read.js';
import type { IntrospectContext } from './context.js';

const CONSTRAINT_KINDS: Record<string, ConstraintKind> = { p: 'primary key', u: 'unique', c: 'check', f: 'foreign key', x: 'exclusion' };
const STORAGE: Record<string, ColumnInfo['storage'] & string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
const POLICY_COMMANDS: Record<string, string> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };

export interface SeqRow {
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

/** A sequence's options as a Snapshot holds them. */
export const seqOptions = (s: SeqRow) => ({
  dataType: s.data_type,
  start: s.start,
  increment: s.increment,
  min: s.min,
  max: s.max,
  cache: s.cache,
  cycle: s.cycle,
});

export interface TablesRead {
  /** The owned tables by oid, their lists not sorted yet. */
  tables: Map<number, TableInfo>;
  seqRows: SeqRow[];
}

/** `refusals: false` (introspect's `tables` mode): what baseline could not reproduce is not looked for. */
export async function readTables(ctx: IntrospectContext, options: { refusals: boolean } = { refusals: true }): Promise<TablesRead> {
  const { db, cat, service, ownerName, addReference, unsupported, ownedTables, views, sequences, typeSet, procSet } = ctx;
  const { relById } = cat;
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
  const identitySeq = new Map<string, SeqRow>();
  for (const s of seqRows) if (s.deptype === 'i' && s.owner_rel !== null) identitySeq.set(`${s.owner_rel}:${s.owner_col}`, s);

  if (tableIds.length > 0) {
    // quote_ident stays in the SQL (here and for policy roles): names printed as the server prints the rest of
    // this DDL (format_type, pg_get_expr), with the server's own keyword list, in the same one query.
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
  }
  if (!options.refusals) return { tables, seqRows };

  if (tableIds.length > 0) {
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
    const stats = (await db.query<{ rel: number; name: string }>(`SELECT stxrelid::int8::float8 AS rel, stxname AS name FROM pg_statistic_ext WHERE ${IN_OIDS('stxrelid')}`, [tableList])).rows;
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
      await db.query<{ rel: number; name: string }>(`SELECT ev_class::int8::float8 AS rel, rulename AS name FROM pg_rewrite WHERE ${IN_OIDS('ev_class')} AND rulename <> '_RETURN'`, [
        oidList(ruleRels),
      ])
    ).rows;
    const viewTriggers = (
      await db.query<{ rel: number; name: string }>(`SELECT tgrelid::int8::float8 AS rel, tgname AS name FROM pg_trigger WHERE ${IN_OIDS('tgrelid')} AND NOT tgisinternal`, [oidList(views)])
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
  return { tables, seqRows };
}
