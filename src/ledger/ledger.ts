import type { Queryable, Session } from '../db/database.js';
import { TidemarkError } from '../errors.js';
import { literal } from '../sql/ident.js';
import { ACTOR, TOOL_VERSION } from '../version.js';

export const LEDGER_SCHEMA = 'tidemark';
/** First key of every tidemark advisory lock ('tidm'); the second is 0 for bootstrap, else the service's hash. */
const LOCK_NAMESPACE = 0x7469646d;

export type LedgerStatus = 'applied' | 'failed';

export interface LedgerRow {
  service: string;
  migration: string;
  checksum: string;
  status: LedgerStatus;
  appliedAt: Date;
  durationMs: number;
  appliedBy: string;
  toolVersion: string;
  error: string | null;
}

/**
 * The ledger's own versioned bootstrap: step N brings the tables from version N-1 to N. Steps are
 * never edited once released; later releases append.
 */
const BOOTSTRAP_STEPS: readonly string[] = [
  `CREATE TABLE ${LEDGER_SCHEMA}.applied (
     service      text        NOT NULL,
     migration    text        NOT NULL,
     checksum     text        NOT NULL,
     status       text        NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'failed')),
     applied_at   timestamptz NOT NULL DEFAULT now(),
     duration_ms  integer     NOT NULL DEFAULT 0,
     applied_by   text        NOT NULL,
     tool_version text        NOT NULL,
     error        text,
     PRIMARY KEY (service, migration)
   );
   CREATE TABLE ${LEDGER_SCHEMA}.events (
     id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     at           timestamptz NOT NULL DEFAULT now(),
     actor        text        NOT NULL,
     tool_version text        NOT NULL,
     action       text        NOT NULL,
     service      text,
     migration    text,
     outcome      text        NOT NULL,
     detail       jsonb
   );`,
  // 2: `tidemark protect` marks the database itself as protected (one row, or none).
  `CREATE TABLE ${LEDGER_SCHEMA}.protection (
     singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
     database     text        NOT NULL,
     protected_at timestamptz NOT NULL DEFAULT now(),
     protected_by text        NOT NULL,
     tool_version text        NOT NULL
   );`,
];
export const LEDGER_VERSION = BOOTSTRAP_STEPS.length;

/** A stable int4 per service (FNV-1a), never 0 (0 is the bootstrap lock). */
export function serviceLockKey(service: string): readonly [number, number] {
  let h = 0x811c9dc5;
  for (let i = 0; i < service.length; i++) {
    h ^= service.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return [LOCK_NAMESPACE, h | 0 || 1];
}

async function ledgerVersion(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ present: boolean }>(`SELECT to_regclass(${literal(`${LEDGER_SCHEMA}.meta`)}) IS NOT NULL AS present`);
  if (!rows[0]?.present) return 0;
  const v = await q.query<{ value: string }>(`SELECT value FROM ${LEDGER_SCHEMA}.meta WHERE key = 'ledger_version'`);
  return v.rows[0] ? Number(v.rows[0].value) : 0;
}

function refuseNewer(version: number): void {
  if (version > LEDGER_VERSION) {
    throw new TidemarkError('ledger-too-new', `The ledger (schema ${LEDGER_SCHEMA}) is at version ${version}, newer than this tidemark ${TOOL_VERSION} knows (${LEDGER_VERSION}).`, {
      hint: 'Upgrade tidemark; an older release must not write a newer ledger.',
    });
  }
}

/**
 * Creates or upgrades the ledger. Idempotent and safe when many processes start at once: the work
 * happens under the bootstrap advisory lock and re-checks the version once it holds it. A waiter
 * polls for it outside any transaction (withAdvisoryLock), never in a blocking call whose snapshot
 * a CREATE INDEX CONCURRENTLY elsewhere would wait for; inside, the transaction-level lock (granted
 * at once to the session holding the lock) keeps it to the end of a caller's enclosing transaction.
 */
export async function ensureLedger(db: Session): Promise<void> {
  const current = await ledgerVersion(db);
  refuseNewer(current);
  if (current === LEDGER_VERSION) return;
  await db.withAdvisoryLock([LOCK_NAMESPACE, 0], () => bootstrap(db), { timeoutMs: 60_000 });
}

async function bootstrap(db: Session): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL lock_timeout = '60s'`);
    await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_NAMESPACE]);
    const version = await ledgerVersion(tx);
    refuseNewer(version);
    if (version === LEDGER_VERSION) return;
    if (version === 0) {
      await tx.exec(
        `CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA};
         CREATE TABLE IF NOT EXISTS ${LEDGER_SCHEMA}.meta (key text PRIMARY KEY, value text NOT NULL);`,
      );
    }
    for (let step = version; step < LEDGER_VERSION; step++) await tx.exec(BOOTSTRAP_STEPS[step]);
    await tx.query(
      `INSERT INTO ${LEDGER_SCHEMA}.meta (key, value) VALUES ('ledger_version', $1)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [String(LEDGER_VERSION)],
    );
  });
}

interface RawRow {
  service: string;
  migration: string;
  checksum: string;
  status: LedgerStatus;
  applied_at: Date | string;
  duration_ms: number;
  applied_by: string;
  tool_version: string;
  error: string | null;
}

/** The ledger's rows (all services, or the named ones); empty when there is no ledger yet. Reads only. */
export async function readLedger(q: Queryable, services?: readonly string[]): Promise<LedgerRow[]> {
  const version = await ledgerVersion(q);
  refuseNewer(version);
  if (version === 0) return [];
  const where = services ? 'WHERE service = ANY($1::text[])' : '';
  const { rows } = await q.query<RawRow>(
    `SELECT service, migration, checksum, status, applied_at, duration_ms, applied_by, tool_version, error
       FROM ${LEDGER_SCHEMA}.applied ${where} ORDER BY service, migration`,
    services ? [services] : [],
  );
  return rows.map((r) => ({
    service: r.service,
    migration: r.migration,
    checksum: r.checksum,
    status: r.status,
    appliedAt: r.applied_at instanceof Date ? r.applied_at : new Date(r.applied_at),
    durationMs: Number(r.duration_ms),
    appliedBy: r.applied_by,
    toolVersion: r.tool_version,
    error: r.error,
  }));
}

export interface LedgerEntry {
  action: string;
  service: string;
  migration: string;
  checksum: string;
  durationMs: number;
  status?: LedgerStatus;
  error?: string;
}

/** Writes (or replaces) a migration's row and its event in one round trip. */
export async function recordMigration(q: Queryable, entry: LedgerEntry): Promise<void> {
  const status = entry.status ?? 'applied';
  await q.query(
    `WITH rec AS (
       INSERT INTO ${LEDGER_SCHEMA}.applied (service, migration, checksum, status, duration_ms, applied_by, tool_version, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (service, migration) DO UPDATE
         SET checksum = EXCLUDED.checksum, status = EXCLUDED.status, applied_at = now(),
             duration_ms = EXCLUDED.duration_ms, applied_by = EXCLUDED.applied_by,
             tool_version = EXCLUDED.tool_version, error = EXCLUDED.error
     )
     INSERT INTO ${LEDGER_SCHEMA}.events (actor, tool_version, action, service, migration, outcome, detail)
     VALUES ($6, $7, $9, $1, $2, $10, $11)`,
    [
      entry.service,
      entry.migration,
      entry.checksum,
      status,
      Math.round(entry.durationMs),
      ACTOR,
      TOOL_VERSION,
      entry.error ?? null,
      entry.action,
      status === 'applied' ? 'ok' : 'failed',
      JSON.stringify({ durationMs: Math.round(entry.durationMs) }),
    ],
  );
}

/** Removes a migration's row (after `down`, or a `stamp` below it) and logs the event. */
export async function removeMigration(q: Queryable, action: string, service: string, migration: string, durationMs = 0): Promise<void> {
  await q.query(
    `WITH gone AS (DELETE FROM ${LEDGER_SCHEMA}.applied WHERE service = $1 AND migration = $2)
     INSERT INTO ${LEDGER_SCHEMA}.events (actor, tool_version, action, service, migration, outcome, detail)
     VALUES ($3, $4, $5, $1, $2, 'ok', $6)`,
    [service, migration, ACTOR, TOOL_VERSION, action, JSON.stringify({ durationMs: Math.round(durationMs) })],
  );
}

/** An event with no ledger row change (a failed run, a reset, a restore). */
export async function logEvent(q: Queryable, event: { action: string; service?: string; migration?: string; outcome: 'ok' | 'failed'; detail?: unknown }): Promise<void> {
  await q.query(
    `INSERT INTO ${LEDGER_SCHEMA}.events (actor, tool_version, action, service, migration, outcome, detail)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [ACTOR, TOOL_VERSION, event.action, event.service ?? null, event.migration ?? null, event.outcome, event.detail === undefined ? null : JSON.stringify(event.detail)],
  );
}

/** Deletes every ledger row of a service (reset, rebaseline, adopt) and returns how many there were. */
export async function forgetService(q: Queryable, service: string): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM ${LEDGER_SCHEMA}.applied WHERE service = $1`, [service]);
  return rowCount;
}

export interface ProtectionMark {
  /** current_database() (or the PGlite path) when the mark was set. */
  database: string;
  at: Date;
  by: string;
}

/**
 * The `tidemark protect` mark, read whatever the ledger's version (an older or newer tidemark's ledger
 * still carries it); undefined when the database is not marked. Reads only.
 */
export async function readProtection(q: Queryable): Promise<ProtectionMark | undefined> {
  const { rows } = await q.query<{ present: boolean }>(`SELECT to_regclass(${literal(`${LEDGER_SCHEMA}.protection`)}) IS NOT NULL AS present`);
  if (!rows[0]?.present) return undefined;
  const mark = await q.query<{ database: string; protected_at: Date | string; protected_by: string }>(`SELECT database, protected_at, protected_by FROM ${LEDGER_SCHEMA}.protection LIMIT 1`);
  const r = mark.rows[0];
  return r ? { database: r.database, at: r.protected_at instanceof Date ? r.protected_at : new Date(r.protected_at), by: r.protected_by } : undefined;
}

/** Sets the mark (kept as it was if already set) and logs the event; the ledger must exist (ensureLedger). */
export async function markProtected(q: Queryable, database: string): Promise<boolean> {
  const { rowCount } = await q.query(`INSERT INTO ${LEDGER_SCHEMA}.protection (database, protected_by, tool_version) VALUES ($1, $2, $3) ON CONFLICT (singleton) DO NOTHING`, [
    database,
    ACTOR,
    TOOL_VERSION,
  ]);
  if (rowCount > 0) await logEvent(q, { action: 'protect', outcome: 'ok', detail: { database } });
  return rowCount > 0;
}

/** Removes the mark and logs the event; false when there was none. */
export async function unmarkProtected(q: Queryable, database: string): Promise<boolean> {
  const { rowCount } = await q.query(`DELETE FROM ${LEDGER_SCHEMA}.protection`);
  if (rowCount > 0) await logEvent(q, { action: 'unprotect', outcome: 'ok', detail: { database } });
  return rowCount > 0;
}
