/**
 * The hazard facts diff.ts attaches, read from the snapshot text alone (pure). Kept minimal and on the
 * safe side: a type change rewrites the table unless it is one of the widenings PostgreSQL's
 * varchar_support / numeric_support let through without a rewrite.
 */

const VARCHAR = /^character varying(?:\((\d+)\))?$/;
const NUMERIC = /^numeric(?:\((\d+)(?:,(\d+))?\))?$/;

/** Whether changing a column from type `before` to `after` (format_type text) rewrites the table. */
export function typeChangeRewrites(before: string, after: string): boolean {
  const vb = VARCHAR.exec(before);
  if (vb) {
    if (after === 'text') return false; // binary coercible
    const va = VARCHAR.exec(after);
    // A longer or no limit is only a typmod relaxation; a shorter one must check every row.
    if (va) return vb[1] === undefined ? va[1] !== undefined : va[1] !== undefined && Number(va[1]) < Number(vb[1]);
    return true;
  }
  const nb = NUMERIC.exec(before.replace(/\s+/g, ''));
  const na = NUMERIC.exec(after.replace(/\s+/g, ''));
  if (nb && na) {
    if (na[1] === undefined) return false; // to unconstrained numeric: values are kept as they are
    if (nb[1] === undefined) return true;
    // Same scale, more precision: no value changes. Any scale change re-rounds every row.
    return (nb[2] ?? '0') !== (na[2] ?? '0') || Number(na[1]) < Number(nb[1]);
  }
  return true;
}

/** Functions whose value differs per row: as the default of an added column, every row is written. */
const VOLATILE = /\b(?:random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v1|uuid_generate_v1mc|uuid_generate_v4|uuidv4|uuidv7|nextval)\s*\(/i;

/** Whether a default expression calls a known volatile function. */
export function volatileDefault(expression: string | undefined): boolean {
  return expression !== undefined && VOLATILE.test(expression);
}
