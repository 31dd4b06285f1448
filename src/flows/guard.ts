/**
 * `tidemark protect [--off]`: marks a database as protected inside itself (the ledger schema), so no
 * URL spelling, DNS alias or proxy gets a destructive command past it. The guard itself (protected
 * list, remote host, server answers, the mark, the two acts of an override) is src/ledger/guard.ts.
 */
import type { Session } from '../db/database.js';
import { redactUrl } from '../db/redact.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { enforceGuard, markReason, serverFacts, type GuardOverride } from '../ledger/guard.js';
import { ensureLedger, markProtected, readProtection, unmarkProtected } from '../ledger/ledger.js';
import type { DatabaseSource, Target } from '../target/target.js';

export interface ProtectCoreOptions extends GuardOverride {
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

/** The result of a protect that could not reach its target (its config unreadable): what `protect` returns for an error it catches. */
export function protectFailed(options: Pick<ProtectCoreOptions, 'off'>, err: unknown): ProtectResult {
  return { ok: false, database: '', databaseSource: 'default', protected: false, changed: false, name: '', error: protectError(options, '', err) };
}

/** Marks the target's database as protected inside itself (the ledger schema), or removes the mark. Never throws. */
export async function protect(target: Target<Session>, options: ProtectCoreOptions = {}): Promise<ProtectResult> {
  const result: ProtectResult = { ok: false, database: target.name.display, databaseSource: target.name.source, protected: false, changed: false, name: '' };
  const shown = target.name.display;
  try {
    const { db } = target;
    const facts = await serverFacts(db);
    // A PGlite database is named by its path as written (what the guard asks to be typed back).
    const name = db.backend === 'postgres' ? facts.database : shown.replace(/^pglite:/, '') || facts.database;
    result.name = name;
    if (!options.off) {
      if (facts.inRecovery) {
        throw new TidemarkError('target-in-recovery', `Cannot mark ${shown}: the server is a standby in recovery; mark the primary (the mark replicates).`, { kind: 'usage' });
      }
      await ensureLedger(db);
      result.changed = await db.transaction((tx) => markProtected(tx, name));
      result.protected = true;
    } else {
      const mark = await readProtection(db);
      if (mark) {
        await enforceGuard('remove the protection of', { name, reasons: [markReason(mark)] }, shown, options);
        await ensureLedger(db);
        result.changed = await db.transaction((tx) => unmarkProtected(tx, name));
      }
      result.protected = false;
    }
    result.ok = true;
  } catch (err) {
    result.error = protectError(options, result.database, err);
  }
  return result;
}

function protectError(options: Pick<ProtectCoreOptions, 'off'>, database: string, err: unknown): TidemarkError {
  if (isTidemarkError(err)) return err;
  const what = options.off ? `remove the protection mark of ${database || 'the database'}` : `mark ${database || 'the database'} as protected`;
  return new TidemarkError('protect-failed', `Cannot ${what}: ${redactUrl((err as Error)?.message ?? String(err))}.`, {
    cause: err,
    hint: 'The mark is a row in the ledger schema (tidemark): the role needs to create that schema once, then write to it.',
  });
}
