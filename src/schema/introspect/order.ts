/**
 * The order the owned objects can be created in, from the dependencies pg_depend records between them.
 */
import type { Queryable } from '../../db/database.js';
import type { QualifiedName } from '../../sql/ident.js';
import type { FunctionInfo, SequenceInfo, TableInfo, TypeInfo, ViewInfo } from '../snapshot.js';
import { objectKey } from '../snapshot.js';
import type { TypeRow } from './catalog-read.js';
import type { IntrospectContext } from './context.js';

/**
 * The creation order of the sorted lists (their object keys), read with one query. A function
 * created after a table is marked late: it is dropped before the tables (render/baseline.ts renderDrop).
 */
export async function orderCreation(
  ctx: IntrospectContext,
  lists: { typeInfos: TypeInfo[]; fnInfos: FunctionInfo[]; seqInfos: SequenceInfo[]; tableInfos: TableInfo[]; viewList: ViewInfo[] },
): Promise<string[]> {
  const { typeSet, procSet, sequences, ownedTables, views } = ctx;
  const { typeById, procById, relById } = ctx.cat;
  const { typeInfos, fnInfos, seqInfos, tableInfos, viewList } = lists;
  const createOrder = await creationOrder(ctx.db, {
    types: typeInfos.map((t) => ({ key: objectKey('type', t), id: `t:${[...typeSet].find((o) => sameObject(typeById.get(o), t))}` })),
    functions: fnInfos.map((f) => ({ key: objectKey('function', f, f.arguments), id: `p:${[...procSet].find((o) => sameObject(procById.get(o), f) && procById.get(o)?.args === f.arguments)}` })),
    sequences: seqInfos.map((q) => ({ key: objectKey('sequence', q), id: `r:${[...sequences].find((o) => sameObject(relById.get(o), q))}` })),
    tables: tableInfos.map((t) => ({ key: objectKey('table', t), id: `r:${[...ownedTables].find((o) => sameObject(relById.get(o), t))}` })),
    views: viewList.map((v) => ({ key: objectKey('view', v), id: `r:${[...views].find((o) => sameObject(relById.get(o), v))}` })),
    typeById,
  });
  // A function created after a table is dropped before the tables (render/baseline.ts renderDrop).
  const tablePositions = tableInfos.map((t) => createOrder.indexOf(objectKey('table', t)));
  const firstTable = tablePositions.length ? Math.min(...tablePositions) : Infinity;
  for (const f of fnInfos) if (createOrder.indexOf(objectKey('function', f, f.arguments)) > firstTable) f.late = true;

  return createOrder;
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
