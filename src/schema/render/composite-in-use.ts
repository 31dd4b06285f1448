/**
 * A composite type whose attribute changes type (or collation) while something stores values of it: a
 * table column, or an attribute of another composite. PostgreSQL refuses `ALTER TYPE … ALTER ATTRIBUTE
 * … TYPE` then ("cannot alter type because column … uses it", with CASCADE too: that reaches typed
 * tables only), so renderChanges refuses it by name, as a rebuild, rather than write a file the proof
 * fails on. ADD and DROP ATTRIBUTE are allowed in use, and stay with types.ts. Pure.
 */
import { displayName, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import type { CompositeType, Snapshot } from '../snapshot.js';

type Attribute = CompositeType['attributes'][number];
const attributeType = (a: Attribute) => `${a.type}${a.collation ? ` COLLATE ${a.collation}` : ''}`;

/** The refusal reason, or undefined when `c` is not such a change. `from` is the snapshot the change applies to. */
export function compositeRetypedInUse(c: Change, from: Snapshot): string | undefined {
  if (c.id.kind !== 'composite' || c.op !== 'alter' || c.attribute !== 'attributes') return undefined;
  const before = c.before as Attribute[];
  const retyped = (c.after as Attribute[]).filter((a) => {
    const old = before.find((b) => b.name === a.name);
    return old !== undefined && attributeType(old) !== attributeType(a);
  });
  if (retyped.length === 0) return undefined;
  // A column's type is format_type text: unqualified when visible, `schema.name` otherwise, `[]` for arrays.
  const id = { schema: c.id.schema, name: c.id.name };
  const names = new Set([`${id.schema}.${id.name}`, displayName(id), qualified(id)]);
  const uses = (type: string) => names.has(type.replace(/(\[\])+$/, ''));
  const users = [
    ...from.tables.flatMap((t) => t.columns.filter((col) => uses(col.type)).map((col) => `column ${displayName(t)}.${col.name}`)),
    ...from.types.flatMap((t) => (t.kind === 'composite' ? t.attributes.filter((a) => uses(a.type)).map((a) => `type ${displayName(t)} attribute ${a.name}`) : [])),
  ];
  if (users.length === 0) return undefined;
  return `attribute ${retyped.map((a) => a.name).join(', ')} changes type while ${users.join(', ')} uses it: needs a type rebuild`;
}
