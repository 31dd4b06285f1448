/**
 * Which objects the service owns: by name (its `owns`), then by use (what an owned object needs and
 * no other service's `owns` names), followed through pg_depend until nothing new is found.
 */
import { displayName } from '../snapshot.js';
import type { IntrospectContext } from './context.js';

/** An object of a kind no Snapshot holds, tied to what the service owns: refused by name (refusals.ts). */
export interface OtherUse {
  key: string;
  detail: string;
}

/** Fills the owned sets from the service's `owns`; refuses by name what it names but cannot reproduce. */
export function ownByName(ctx: IntrospectContext): void {
  const { cat, service, ownerName, isVersionTable, unsupported, ownedTables, views, sequences, typeSet, procSet } = ctx;
  const { memberOf, seqOwners } = cat;
  for (const r of cat.rels) {
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
  for (const t of cat.types) {
    if (memberOf.has(`t:${t.oid}`) || t.category === 'A') continue;
    if (t.typtype === 'c' && t.relkind !== 'c') continue; // a table's row type
    if (ownerName(t.name, t.schema) !== service) continue;
    typeSet.add(t.oid);
  }
  for (const p of cat.procs) {
    if (memberOf.has(`p:${p.oid}`)) continue;
    if (ownerName(p.name, p.schema) !== service) continue;
    procSet.add(p.oid);
  }
  for (const id of procSet) ctx.procsByName.add(id);
}

/** Follows dependencies from everything owned so far; returns the uses of kinds no Snapshot holds. */
export function ownByUse(ctx: IntrospectContext): OtherUse[] {
  const { cat, service, ownerName, describe, addReference, unsupported, neededExtensions, lateProcs } = ctx;
  const { ownedTables, views, sequences, typeSet, procSet } = ctx;
  const { memberOf, outgoing, typeById, relById, procById, seqOwners } = cat;

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

  const otherUses: OtherUse[] = [];
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
  return otherUses;
}

/**
 * Serial sequences (OWNED BY a column of an owned table) join the owned sequences; identity
 * sequences go with their column. Runs after the refusals, which count neither as owned.
 */
export function settleColumnSequences(ctx: IntrospectContext): void {
  for (const [seq, o] of ctx.cat.seqOwners) {
    if (o.deptype === 'a' && ctx.ownedTables.has(o.rel)) ctx.sequences.add(seq);
    if (o.deptype === 'i') ctx.sequences.delete(seq);
  }
}
