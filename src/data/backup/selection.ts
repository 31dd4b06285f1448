// What to back up: the services and the named tables, chosen among the live tables.
import type { Service, Workspace } from '../../config/types.js';
import { parseTableName } from '../../config/owns.js';
import { TidemarkError } from '../../errors.js';
import { displayName, escapeControl, type QualifiedName } from '../../sql/ident.js';
import type { LiveTable } from '../../schema/catalog.js';
import { ownerOfTable } from '../owner.js';

/**
 * The services whose tables a backup takes (the boundary calls this, then hands them down as the
 * target's services): the named ones, in the order named; named tables alone, none; otherwise every
 * service, Alembic-kept ones included (their data matters too). A name not in the config is refused.
 */
export function backupServices(workspace: Workspace, options: { service?: string | readonly string[]; table?: readonly unknown[] }): Service[] {
  return pickServices(workspace, options).map((name) => workspace.services.find((s) => s.name === name) as Service);
}

function pickServices(workspace: Workspace, options: { service?: string | readonly string[]; table?: readonly unknown[] }): string[] {
  const names = options.service === undefined ? undefined : typeof options.service === 'string' ? [options.service] : [...options.service];
  if (names?.length) {
    for (const name of names) {
      if (!workspace.services.some((s) => s.name === name)) {
        throw new TidemarkError('unknown-service', `No service ${name} in the config.`, {
          kind: 'usage',
          hint: `Declared services: ${workspace.services.map((s) => s.name).join(', ') || 'none'}.`,
        });
      }
    }
    return names;
  }
  // Named tables alone: just those. Otherwise every service, Alembic-kept ones included (their data matters too).
  if (options.table?.length) return [];
  return workspace.services.map((s) => s.name);
}

export function chooseTables(live: LiveTable[], workspace: Workspace | undefined, services: string[], named: readonly (string | QualifiedName)[] | undefined): LiveTable[] {
  const chosen = new Map<number, LiveTable>();
  if (services.length && workspace) {
    for (const t of live) {
      const owner = ownerOfTable(workspace, t);
      if (owner && services.includes(owner.name)) chosen.set(t.oid, t);
    }
  }
  for (const name of named ?? []) {
    const q = typeof name === 'string' ? tableNameOf(name) : name;
    const found = live.find((t) => t.schema === q.schema && t.name === q.name);
    if (!found) throw new TidemarkError('unknown-table', `No table ${displayName(q)} in the database.`, { kind: 'usage' });
    chosen.set(found.oid, found);
  }
  return [...chosen.values()].sort((a, b) => (a.schema === b.schema ? cmp(a.name, b.name) : cmp(a.schema, b.schema)));
}

/** A table named as text: the owns grammar without wildcards, as `--table` (`"a.b".c` and `a."b.c"` are two tables). */
function tableNameOf(text: string): QualifiedName {
  const parsed = parseTableName(text);
  if (parsed.ok) return parsed.name;
  throw new TidemarkError('bad-table-name', `table \`${escapeControl(text)}\` ${parsed.error.message}.`, {
    kind: 'usage',
    hint: parsed.error.hint ?? 'write `table`, `schema.table`, or quote a name with dots, spaces or capitals: "sales.orders"',
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function describeSelection(services: string[], tables: readonly (string | QualifiedName)[] | undefined): string {
  if (tables?.length) return `tables ${tables.map((t) => (typeof t === 'string' ? t : displayName(t))).join(', ')}`;
  return services.length === 1 ? `service ${services[0]}` : `services ${services.join(', ') || '(none configured)'}`;
}
