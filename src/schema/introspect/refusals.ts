/**
 * What the service cannot own cleanly, found once the owned sets are known: objects of kinds no
 * Snapshot holds that use or are named like owned ones, aggregates, shared functions (refused by
 * name), and the objects outside the service that depend on what it owns (its dependents).
 */
import type { ExternalReference } from '../snapshot.js';
import { displayName } from '../snapshot.js';
import type { Queryable } from '../../db/database.js';
import type { ProcRow } from './catalog-read.js';
import { IN_OIDS, USER_SCHEMAS, oidList } from './catalog-read.js';
import type { IntrospectContext } from './context.js';
import type { OtherUse } from './ownership.js';

/**
 * Appends the refusals to ctx.unsupported and returns the dependents as pg_depend names them
 * (describeDependents names them for the snapshot).
 */
export async function refuseAndFindDependents(ctx: IntrospectContext, otherUses: OtherUse[]): Promise<ExternalReference[]> {
  const { db, cat, service, ownerName, describe, unsupported, procsByName } = ctx;
  const { ownedTables, views, sequences, typeSet, procSet } = ctx;
  const { edges, memberOf, relById, typeById, procById, seqOwners } = cat;
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
    const list = [...users]
      .sort()
      .map(([what, who]) => `${what} (${who})`)
      .join(', ');
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

  return dependents;
}

/**
 * The dependents with what they are: a foreign key onto an owned table is named as that key (from the
 * catalog, since pg_depend counts it as its table), the rest as pg_depend found them. Sorted, unique.
 */
export async function describeDependents(db: Queryable, found: ExternalReference[], owned: number[], ownerName: (name: string, schema: string) => string | undefined): Promise<ExternalReference[]> {
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
