/**
 * `tidemark protect [--off]`: marks a database as protected inside itself (the ledger schema), so no
 * URL spelling, DNS alias or proxy gets a destructive command past it. The guard itself (protected
 * list, remote host, server answers, the mark, the two acts of an override) is src/ledger/guard.ts.
 */
import { connect, closeQuietly, resolveWorkspace, type DatabaseSource, type WorkspaceOptions } from '../db/connect.js';
import { redactUrl } from '../db/url.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { enforceGuard, markReason, pgliteNameOf, serverFacts, type GuardOverride } from '../ledger/guard.js';
import { ensureLedger, markProtected, readProtection, unmarkProtected } from '../ledger/ledger.js';

export { connectGuarded, enforceGuard, guardConnected, guardTarget, protectionStatus, serverFacts, type GuardOverride, type ProtectionStatus, type ServerFacts, type TargetGuard } from '../ledger/guard.js';

export interface ProtectOptions extends WorkspaceOptions, GuardOverride {
  /** Remove the mark (takes --force-protected and the name typed back). */
  off?: boolean;
}

export interface ProtectResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  /** Whether the database is marked protected now. */
  protected: boolean;
  /** False when it already was (or was not) marked. */
  changed: boolean;
  /** The name a destructive command asks to be typed back. */
  name: string;
  error?: TidemarkError;
}

/** Marks the database as protected inside itself (the ledger schema), or removes the mark. Never throws. */
export async function protect(options: ProtectOptions): Promise<ProtectResult> {
  const result: ProtectResult = { ok: false, database: '', databaseSource: 'default', protected: false, changed: false, name: '' };
  let close = async () => {};
  try {
    const workspace = await resolveWorkspace(options).catch((err) => {
      // A URL given directly needs no config.
      if (options.database !== undefined && isTidemarkError(err) && err.code === 'config-not-found') return undefined;
      throw err;
    });
    const conn = await connect(options, workspace, result);
    close = conn.close;
    const { db } = conn;
    const facts = await serverFacts(db);
    const name = db.backend === 'postgres' ? facts.database : (pgliteNameOf(options, workspace) ?? facts.database);
    result.name = name;
    if (!options.off) {
      if (facts.inRecovery) {
        throw new TidemarkError('target-in-recovery', `Cannot mark ${db.displayUrl}: the server is a standby in recovery; mark the primary (the mark replicates).`, { kind: 'usage' });
      }
      await ensureLedger(db);
      result.changed = await db.transaction((tx) => markProtected(tx, name));
      result.protected = true;
    } else {
      const mark = await readProtection(db);
      if (mark) {
        await enforceGuard('remove the protection of', { name, reasons: [markReason(mark)] }, db.displayUrl, options);
        await ensureLedger(db);
        result.changed = await db.transaction((tx) => unmarkProtected(tx, name));
      }
      result.protected = false;
    }
    result.ok = true;
  } catch (err) {
    if (isTidemarkError(err)) result.error = err;
    else {
      const what = options.off ? `remove the protection mark of ${result.database || 'the database'}` : `mark ${result.database || 'the database'} as protected`;
      result.error = new TidemarkError('protect-failed', `Cannot ${what}: ${redactUrl((err as Error)?.message ?? String(err))}.`, {
        cause: err,
        hint: 'The mark is a row in the ledger schema (tidemark): the role needs to create that schema once, then write to it.',
      });
    }
  } finally {
    await closeQuietly(close);
  }
  return result;
}
