/**
 * The owned objects that are not tables: views and materialized views, standalone and serial
 * sequences, types (enum, domain, composite), functions and procedures. Lists come out unsorted.
 */
import { createHash } from 'node:crypto';
import { loadPgParser } from '../../history/pg-parser.js';
import { canonicalQuery } from '../normalize.js';
import type { CompositeType, DomainType, EnumType, FunctionInfo, IndexInfo, SequenceInfo, TypeInfo, ViewInfo } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import type { ProcRow, RelRow, TypeRow } from './catalog-read.js';
import { IN_OIDS, byName, comment, oidList } from './catalog-read.js';
import type { IntrospectContext } from './context.js';
import type { TablesRead } from './tables.js';
import { seqOptions } from './tables.js';

export interface ObjectsRead {
  viewInfos: Map<number, ViewInfo>;
  seqInfos: SequenceInfo[];
  typeInfos: TypeInfo[];
  fnInfos: FunctionInfo[];
}

export async function readObjects(ctx: IntrospectContext, { tables, seqRows }: TablesRead): Promise<ObjectsRead> {
  const { db, cat, unsupported, views, sequences, typeSet, procSet, lateProcs } = ctx;
  const { relById, typeById, procById, outgoing } = cat;
  // ---- views ----
  const viewInfos = new Map<number, ViewInfo>();
  if (views.size > 0) {
    const defs = (await db.query<{ oid: number; def: string }>(`SELECT c.oid::int8::float8 AS oid, pg_get_viewdef(c.oid) AS def FROM pg_class c WHERE ${IN_OIDS('c.oid')}`, [oidList(views)])).rows;
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
        indexes: viewIdx
          .filter((i) => i.rel === id)
          .map((i): IndexInfo => ({ name: i.name, definition: i.def, ...comment(i.comment) }))
          .sort(byName),
        columnComments: viewCols
          .filter((c) => c.rel === id)
          .map((c) => ({ column: c.name, comment: c.comment }))
          .sort((a, b) => a.column.localeCompare(b.column)),
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
      await db.query<{ type: number; label: string }>(`SELECT enumtypid::int8::float8 AS type, enumlabel AS label FROM pg_enum WHERE ${IN_OIDS('enumtypid')} ORDER BY enumtypid, enumsortorder`, [
        oidList(typeIds),
      ])
    ).rows;
    const domainChecks = (
      await db.query<{ type: number; name: string; def: string }>(
        `SELECT contypid::int8::float8 AS type, conname AS name, pg_get_constraintdef(oid) AS def
           FROM pg_constraint WHERE ${IN_OIDS('contypid')} AND contype = 'c' ORDER BY conname`,
        [oidList(typeIds)],
      )
    ).rows;
    const compositeRels = typeIds
      .map((id) => typeById.get(id) as TypeRow)
      .filter((t) => t.typtype === 'c')
      .map((t) => t.relid);
    // quote_ident stays in the SQL: a collation name is printed as the server prints the rest of this DDL
    // (format_type, pg_get_expr), with the server's own keyword list, in the same one query.
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
      await db.query<{ oid: number; def: string }>(`SELECT p.oid::int8::float8 AS oid, pg_get_functiondef(p.oid) AS def FROM pg_proc p WHERE ${IN_OIDS('p.oid')} AND p.prokind IN ('f', 'p', 'w')`, [
        oidList(procIds),
      ])
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
    const evt = (await db.query<{ name: string; fn: number }>(`SELECT evtname AS name, evtfoid::int8::float8 AS fn FROM pg_event_trigger WHERE ${IN_OIDS('evtfoid')}`, [oidList(procIds)])).rows;
    for (const e of evt) {
      const p = procById.get(e.fn) as ProcRow;
      unsupported.push({ kind: 'event trigger', name: `${e.name} (runs ${displayName(p)})`, reason: 'event triggers are database-wide and not reproduced' });
    }
  }
  return { viewInfos, seqInfos, typeInfos, fnInfos };
}
