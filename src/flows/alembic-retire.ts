/**
 * Retiring a service's Alembic bookkeeping once tidemark keeps it (adopt, rebaseline): the rows of the
 * version table that are revisions of THIS service's Alembic directory are deleted — never another
 * service's, which is exactly the shared-`alembic_version` mistake the CRM made. A version table left
 * empty is dropped.
 */
import type { Queryable } from '../db/database.js';
import { parseJoinedName, quoteIdent, quoteQualified } from '../sql/ident.js';
import { TidemarkError } from '../errors.js';
import { readAlembicHistory } from '../history/alembic-lazy.js';
import { displayPath } from '../paths.js';

export interface RetiredRows {
  versionTable: string;
  /** The rows deleted (revision ids). */
  deleted: string[];
  /** Rows left for other services (or for no one: `tidemark check --db` names them). */
  remaining: string[];
  /** True when the table was left empty and dropped. */
  droppedTable: boolean;
}

export async function retireAlembicRows(tx: Queryable, options: { dir: string | string[]; service: string; versionTable: string; recursive?: boolean }): Promise<RetiredRows> {
  const dirs = Array.isArray(options.dir) ? options.dir : [options.dir];
  const history = await readAlembicHistory(options.service, dirs, { recursive: options.recursive });
  if (history.revisions.length === 0) {
    throw new TidemarkError(
      'alembic-retire-empty',
      `No Alembic revision found in ${dirs.map((d) => displayPath(d)).join(', ')}: cannot tell which ${options.versionTable} rows belong to ${options.service}.`,
      {
        kind: 'input',
        service: options.service,
        hint: "Point it at the service's Alembic versions directory.",
      },
    );
  }
  const result: RetiredRows = { versionTable: options.versionTable, deleted: [], remaining: [], droppedTable: false };
  const name = parseJoinedName(options.versionTable);
  if (!name) {
    throw new TidemarkError('bad-version-table', `${JSON.stringify(options.versionTable)} is not a version table name (\`table\` or \`schema.table\`); nothing was changed.`, {
      kind: 'usage',
      service: options.service,
    });
  }
  const table = name.schema === undefined ? quoteIdent(name.name) : quoteQualified({ schema: name.schema, name: name.name });
  const exists = (await tx.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [table])).rows[0].t;
  if (!exists) return result;
  const ids = history.revisions.map((r) => r.id);
  result.deleted = (await tx.query<{ v: string }>(`DELETE FROM ${table} WHERE version_num = ANY($1::text[]) RETURNING version_num AS v`, [ids])).rows.map((r) => r.v).sort();
  result.remaining = (await tx.query<{ v: string }>(`SELECT version_num AS v FROM ${table} ORDER BY 1`)).rows.map((r) => r.v);
  if (result.remaining.length === 0) {
    await tx.exec(`DROP TABLE ${table}`);
    result.droppedTable = true;
  }
  return result;
}
