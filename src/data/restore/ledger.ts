/** The services a restore locks, and the ledger: compared with the backup's, and the restore's event row. */
import type { Workspace } from '../../config/types.js';
import type { Queryable, Tx } from '../../db/database.js';
import { ensureLedger, logEvent, readLedger } from '../../ledger/ledger.js';
import type { Manifest, ManifestTable } from '../manifest.js';
import { ownerOfTable } from '../owner.js';

/**
 * The services whose tables are restored: each table's owner as the backup recorded it, and its
 * owner in the current config (they differ only if ownership moved since). Sorted.
 */
export function restoredServices(tables: ManifestTable[], workspace: Workspace | undefined): string[] {
  const names = new Set<string>();
  for (const t of tables) {
    if (t.service) names.add(t.service);
    const owner = ownerOfTable(workspace, t);
    if (owner) names.add(owner.name);
  }
  return [...names].sort();
}

/**
 * restore does NOT rewrite the target's ledger: the target's schema history is its own (its tables
 * are the ones its migrations built), and the backup's ledger rows stay in the manifest for the
 * record. When they differ from the target's rows for the restored services, say so once.
 */
export async function compareLedger(db: Queryable, manifest: Manifest, tables: ManifestTable[]): Promise<string | undefined> {
  const services = [...new Set(tables.map((t) => t.service).filter((s): s is string => !!s))].sort();
  if (!services.length) return undefined;
  const key = (r: { service: string; migration: string; checksum: string; status: string }) => `${r.service}\0${r.migration}\0${r.checksum}\0${r.status}`;
  const backupRows = new Set((manifest.ledger ?? []).filter((r) => services.includes(r.service)).map(key));
  const targetRows = new Set((await readLedger(db, services)).map(key));
  const same = backupRows.size === targetRows.size && [...backupRows].every((k) => targetRows.has(k));
  if (same) return undefined;
  return (
    `The backup's ledger (${backupRows.size} migration row${backupRows.size === 1 ? '' : 's'} of ${services.join(', ')}) differs from this database's (${targetRows.size}): ` +
    `restore leaves this database's ledger as it is (its schema history is its own); the backup's rows stay in its manifest.json for the record.`
  );
}

/**
 * The restore's `events` row, inside the restore's transaction. A database with no ledger yet gets
 * one created here, in the same transaction (ensureLedger's own transaction() is a savepoint of the
 * restore's), so a restore that fails creates nothing. ensureLedger's `SET LOCAL lock_timeout`
 * outlives its savepoint: the restore's setting is put back after.
 */
export async function recordRestore(tx: Tx, event: Parameters<typeof logEvent>[1]): Promise<void> {
  const saved = (await tx.query<{ v: string }>(`SELECT current_setting('lock_timeout') AS v`)).rows[0].v;
  // ensureLedger uses only what every Session has (withAdvisoryLock, transaction, query): a Tx serves.
  await ensureLedger(tx);
  await tx.query(`SELECT set_config('lock_timeout', $1, true)`, [saved]);
  await logEvent(tx, event);
}
