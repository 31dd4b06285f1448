/** Refusals checked before anything is written: ownership, row-level security, cascades of --replace. */
import type { Workspace } from '../../config/types.js';
import type { Queryable } from '../../db/database.js';
import { TidemarkError } from '../../errors.js';
import { rowSecurityActive } from '../../schema/catalog.js';
import { displayName, displayQualified, quoteQualified } from '../../sql/ident.js';
import type { ManifestTable } from '../manifest.js';
import { ownerOfTable } from '../owner.js';
import type { TablePlan } from './types.js';

/**
 * Restore writes ONLY into tables the CURRENT config assigns to the service each was backed up for
 * (any owning service when the backup recorded none). Checked before connecting: a manifest naming
 * another service's table, or one no service owns, writes nothing.
 */
export function refuseNotOwned(tables: ManifestTable[], workspace: Workspace | undefined): void {
  const bad: string[] = [];
  for (const t of tables) {
    const owner = ownerOfTable(workspace, t)?.name;
    const label = displayQualified(t);
    if (!owner) bad.push(`${label} (no service owns it${workspace ? ' in the current config' : ': no config was found'})`);
    else if (t.service !== undefined && owner !== t.service) bad.push(`${label} (backed up as ${t.service}'s, the current config gives it to ${owner})`);
  }
  if (bad.length) {
    throw new TidemarkError('restore-not-owned', `Restore writes only into tables the current config assigns to the service being restored; refused, nothing restored: ${bad.join(', ')}.`, {
      kind: 'input',
      hint: "Check the services' `owns` in the config, or restore only some services with --service.",
    });
  }
}

/**
 * Row-level security that applies to this role (row_security_active: not a superuser or BYPASSRLS,
 * and not the owner of a table without FORCE) would make COPY FROM fail and DELETE miss rows: refused
 * before anything is written, saying what the role needs.
 */
export async function refuseRowSecurity(db: Queryable, plans: TablePlan[]): Promise<void> {
  const active = await rowSecurityActive(
    db,
    plans.map((p) => p.oid),
  );
  if (!active.length) return;
  const names = active.map((row) => {
    const p = plans.find((x) => x.oid === row.oid)!;
    return `${p.label}${row.owner && row.force ? ' (owned by it, with FORCE ROW LEVEL SECURITY)' : ''}`;
  });
  throw new TidemarkError(
    'restore-row-security',
    `Row-level security of ${names.join(', ')} applies to role ${displayName(active[0].role)}: it could not load (or, with --replace, delete) every row, nothing restored.`,
    { hint: 'Restore as a role with BYPASSRLS or a superuser, or as the table owner without FORCE ROW LEVEL SECURITY (ALTER TABLE … NO FORCE ROW LEVEL SECURITY).' },
  );
}

/**
 * `replace` deletes rows: an ON DELETE CASCADE / SET NULL / SET DEFAULT foreign key from a table
 * this restore does not load would silently change that table's rows. Refuse when it has any.
 * (A NO ACTION / RESTRICT key just makes the DELETE fail, which rolls everything back.)
 */
export async function refuseCascades(db: Queryable, emptied: TablePlan[], restored: TablePlan[]): Promise<void> {
  const r = await db.query<{ child_schema: string; child_name: string; parent_schema: string; parent_name: string; action: string; name: string }>(
    `SELECT cn.nspname AS child_schema, cc.relname AS child_name, pn.nspname AS parent_schema, pc.relname AS parent_name,
            c.confdeltype::text AS action, c.conname AS name
       FROM pg_catalog.pg_constraint c
       JOIN pg_catalog.pg_class cc ON cc.oid = c.conrelid JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
       JOIN pg_catalog.pg_class pc ON pc.oid = c.confrelid JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
      WHERE c.contype = 'f' AND c.confdeltype IN ('c', 'n', 'd')
        AND c.confrelid = ANY($1::int8[]::oid[]) AND NOT c.conrelid = ANY($2::int8[]::oid[])`,
    [emptied.map((p) => p.oid), restored.map((p) => p.oid)],
  );
  const hits: string[] = [];
  for (const fk of r.rows) {
    const child = { schema: fk.child_schema, name: fk.child_name };
    const some = (await db.query<{ some: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${quoteQualified(child)}) AS some`)).rows[0].some;
    const what = fk.action === 'c' ? 'ON DELETE CASCADE' : fk.action === 'n' ? 'ON DELETE SET NULL' : 'ON DELETE SET DEFAULT';
    if (some) hits.push(`${displayQualified(child)} (${displayName(fk.name)}, ${what} from ${displayQualified({ schema: fk.parent_schema, name: fk.parent_name })})`);
  }
  if (hits.length) {
    throw new TidemarkError('restore-would-cascade', `--replace would change rows of tables this restore does not load: ${hits.join(', ')}. Nothing restored.`, {
      kind: 'input',
      hint: 'Restore those tables too (their service with --service, or all services), or empty them first.',
    });
  }
}
