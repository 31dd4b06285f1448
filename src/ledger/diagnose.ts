import type { MigrationFile } from '../history/migration.js';

/**
 * Files versus ledger: the one place that decides what each migration of a service is in a database
 * (applied, pending, failed, edited, gone, merged late). `status` reports it, `planUp`/`planDown`
 * refuse from it, and check's database rules turn it into diagnostics. Pure: history and rows in.
 */

/** The ledger columns the diagnosis reads: a LedgerRow, or check's reduced row. */
export interface LedgerFact {
  service: string;
  migration: string;
  checksum: string;
  status: string;
}

export type MigrationState = 'applied' | 'pending' | 'failed' | 'drift' | 'missing-file' | 'out-of-order';

/** A migration with a file: applied, pending, failed, drift or out-of-order. */
export interface FileDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  id: string;
  state: Exclude<MigrationState, 'missing-file'>;
  file: MigrationFile;
  /** The ledger row; absent for `pending` and `out-of-order`. */
  row?: R;
}

/** A ledger row whose file is not in the service's directory. */
export interface MissingFileDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  id: string;
  state: 'missing-file';
  file?: undefined;
  row: R;
}

export type MigrationDiagnosis<R extends LedgerFact = LedgerFact> = FileDiagnosis<R> | MissingFileDiagnosis<R>;

/** One service's history against the ledger. */
export interface LedgerDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  /** Files in history order, then the service's ledger rows that have no file, in ledger order. */
  migrations: MigrationDiagnosis<R>[];
  /** The service's ledger rows in ledger order (the order refusals and rules report them in). */
  recorded: MigrationDiagnosis<R>[];
  /** Highest-numbered file whose row says applied (first in ledger order on a tie): `out-of-order` is below it. */
  highestApplied?: MigrationFile;
  /** Highest-numbered file with any row, failed ones too (first in history order on a tie). */
  highestRecorded?: MigrationFile;
  /**
   * Files without a row numbered below `highestRecorded`, in history order: what check's
   * pending-before-applied names. The same as the `out-of-order` ones unless the highest recorded failed.
   */
  late: FileDiagnosis<R>[];
}

/** The service a history describes: a History, or check's view of one (`name`, `migrations`). */
export interface HistoryFacts {
  service: string;
  migrations: readonly MigrationFile[];
}

/** Diagnoses one service. `rows` may hold every service's rows: only `history.service`'s are read. */
export function diagnoseLedger<R extends LedgerFact>(history: HistoryFacts, rows: readonly R[]): LedgerDiagnosis<R> {
  const service = history.service;
  const own = rows.filter((r) => r.service === service);
  const rowOf = new Map(own.map((r) => [r.migration, r]));
  const fileOf = new Map(history.migrations.map((m) => [m.id, m]));

  let highestApplied: MigrationFile | undefined;
  for (const r of own) {
    const m = fileOf.get(r.migration);
    if (m && r.status !== 'failed' && (!highestApplied || m.number > highestApplied.number)) highestApplied = m;
  }
  let highestRecorded: MigrationFile | undefined;
  for (const m of history.migrations) {
    if (rowOf.has(m.id) && (!highestRecorded || m.number > highestRecorded.number)) highestRecorded = m;
  }

  const byId = new Map<string, MigrationDiagnosis<R>>();
  const migrations: MigrationDiagnosis<R>[] = [];
  const late: FileDiagnosis<R>[] = [];
  for (const m of history.migrations) {
    const row = rowOf.get(m.id);
    let state: FileDiagnosis['state'];
    if (!row) state = highestApplied && m.number < highestApplied.number ? 'out-of-order' : 'pending';
    else if (row.status === 'failed') state = 'failed';
    else if (row.checksum !== m.checksum) state = 'drift';
    else state = 'applied';
    const d: FileDiagnosis<R> = { service, id: m.id, state, file: m, ...(row ? { row } : {}) };
    migrations.push(d);
    byId.set(m.id, d);
    if (!row && highestRecorded && m.number < highestRecorded.number) late.push(d);
  }
  for (const row of own) {
    if (fileOf.has(row.migration)) continue;
    const d: MissingFileDiagnosis<R> = { service, id: row.migration, state: 'missing-file', row };
    migrations.push(d);
    byId.set(row.migration, d);
  }
  // Every row of the service was given a diagnosis above (by its file, or as missing-file).
  const recorded = own.map((r) => byId.get(r.migration) as MigrationDiagnosis<R>);
  return { service, migrations, recorded, highestApplied, highestRecorded, late };
}
