// Checks before a table is read: row-level security that would hide rows, JSON nulls ndjson cannot keep.
import type { Queryable } from '../../db/database.js';
import { TidemarkError } from '../../errors.js';
import { displayName, displayQualified, escapeControl, quoteIdent } from '../../sql/ident.js';
import { rowSecurityActive, type LiveTable } from '../../schema/catalog.js';
import { ownRows } from '../digest.js';

/** Refuses (before anything is written) tables whose row-level security applies to this role. */
export async function refuseRowSecurity(db: Queryable, tables: LiveTable[]): Promise<void> {
  const active = await rowSecurityActive(
    db,
    tables.map((t) => t.oid),
  );
  if (!active.length) return;
  const role = active[0].role;
  const names = active.map((t) => `${displayQualified(t)}${t.owner && t.force ? ' (owned by it, with FORCE ROW LEVEL SECURITY)' : ''}`);
  throw new TidemarkError('backup-row-security', `Row-level security would hide rows of ${names.join(', ')} from role ${escapeControl(role)}: a backup must hold every row, nothing written.`, {
    hint: 'Back up as a role with BYPASSRLS or a superuser, or as the table owner without FORCE ROW LEVEL SECURITY (ALTER TABLE … NO FORCE ROW LEVEL SECURITY).',
  });
}

const JSON_TYPE_OIDS = '114, 3802';

/**
 * The columns (as `a, b`) of a table holding a JSON `null` where ndjson would read back SQL NULL, or
 * undefined. json/jsonb columns (and domains over them) are checked exactly; arrays and composites
 * holding json somewhere conservatively (their text contains `null`): csv is exact either way.
 */
export async function holdsJsonNull(db: Queryable, t: LiveTable): Promise<string | undefined> {
  const cols = (
    await db.query<{ name: string; direct: boolean; nested: boolean }>(
      `WITH RECURSIVE r(col, num, typ, nested, depth) AS (
         SELECT a.attname, a.attnum, a.atttypid, false, 0 FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
         UNION ALL
         SELECT r.col, r.num, x.typ, r.nested OR x.container, r.depth + 1
           FROM r JOIN pg_catalog.pg_type ty ON ty.oid = r.typ
           CROSS JOIN LATERAL (
             SELECT ty.typbasetype AS typ, false AS container WHERE ty.typtype = 'd'
             UNION ALL SELECT ty.typelem, true WHERE ty.typcategory = 'A' AND ty.typelem <> 0
             UNION ALL SELECT a2.atttypid, true FROM pg_catalog.pg_attribute a2
                        WHERE ty.typtype = 'c' AND a2.attrelid = ty.typrelid AND a2.attnum > 0 AND NOT a2.attisdropped
           ) AS x
          WHERE r.depth < 20
       )
       SELECT r.col AS name, pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS}) AND NOT r.nested) AS direct,
              pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS}) AND r.nested) AS nested
         FROM r GROUP BY r.col, r.num HAVING pg_catalog.bool_or(r.typ IN (${JSON_TYPE_OIDS})) ORDER BY r.num`,
      [t.oid],
    )
  ).rows;
  if (!cols.length) return undefined;
  const tests = cols.map((c) => (c.direct && !c.nested ? `pg_catalog.jsonb_typeof(t.${quoteIdent(c.name)}::pg_catalog.jsonb) = 'null'` : `t.${quoteIdent(c.name)}::pg_catalog.text LIKE '%null%'`));
  const found: string[] = [];
  for (const [i, c] of cols.entries()) {
    const r = await db.query<{ hit: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${ownRows(t, t.kind)} AS t WHERE ${tests[i]}) AS hit`);
    if (r.rows[0].hit) found.push(displayName(c.name));
  }
  return found.length ? found.join(', ') : undefined;
}
