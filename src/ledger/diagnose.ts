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

/**
 * A squash file (`-- tidemark:squashes`, Django's `replaces`) without a row of its own is `applied` when
 * every id it squashes has an applied row, `pending` (or `out-of-order`) when none has, `partial` otherwise;
 * the rows of the squashed ids are `squashed` (their files moved to `squashed/`), not `missing-file`.
 */
export type MigrationState = 'applied' | 'pending' | 'failed' | 'drift' | 'missing-file' | 'out-of-order' | 'partial' | 'squashed';

/** A migration with a file: applied, pending, failed, drift, out-of-order, or a partly applied squash. */
export interface FileDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  id: string;
  state: Exclude<MigrationState, 'missing-file' | 'squashed'>;
  file: MigrationFile;
  /** The ledger row; absent for `pending` and `out-of-order`, and for a squash applied through the ids it squashes. */
  row?: R;
  /** A squash without a row of its own: the squashed ids with an applied row, and those without. */
  squash?: { applied: string[]; missing: string[] };
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

/** A ledger row of a migration a squash file of the directory replaces (its own file moved away). */
export interface SquashedDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  id: string;
  state: 'squashed';
  file?: undefined;
  row: R;
  /** The squash that replaces it. */
  by: MigrationFile;
}

/** One service's history against the ledger. */
export interface LedgerDiagnosis<R extends LedgerFact = LedgerFact> {
  service: string;
  /** Files in history order, then the service's ledger rows that have no file, in ledger order. */
  migrations: MigrationDiagnosis<R>[];
  /** The service's ledger rows in ledger order (the order refusals and rules report them in); only here are rows of squashed ids. */
  recorded: (MigrationDiagnosis<R> | SquashedDiagnosis<R>)[];
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
  // Squashed ids whose own file is gone, and what each squash without a row of its own finds of them.
  const squashOf = new Map<string, MigrationFile>();
  const squashRows = new Map<MigrationFile, { applied: string[]; missing: string[] }>();
  for (const m of history.migrations) {
    if (!m.squashes) continue;
    for (const id of m.squashes) if (!fileOf.has(id)) squashOf.set(id, m);
    if (rowOf.has(m.id)) continue;
    const applied = m.squashes.filter((id) => rowOf.get(id)?.status === 'applied');
    // A failed row counts as recorded: the squash must not run over what it left half-done.
    if (m.squashes.some((id) => rowOf.has(id))) squashRows.set(m, { applied, missing: m.squashes.filter((id) => !applied.includes(id)) });
  }
  const squashState = (m: MigrationFile) => {
    const rows = squashRows.get(m);
    return !rows ? undefined : rows.missing.length === 0 ? 'applied' : 'partial';
  };

  let highestApplied: MigrationFile | undefined;
  for (const r of own) {
    const m = fileOf.get(r.migration);
    if (m && r.status !== 'failed' && (!highestApplied || m.number > highestApplied.number)) highestApplied = m;
  }
  let highestRecorded: MigrationFile | undefined;
  for (const m of history.migrations) {
    if (squashState(m) === 'applied' && (!highestApplied || m.number > highestApplied.number)) highestApplied = m;
    if ((rowOf.has(m.id) || squashState(m)) && (!highestRecorded || m.number > highestRecorded.number)) highestRecorded = m;
  }

  const byId = new Map<string, MigrationDiagnosis<R>>();
  const migrations: MigrationDiagnosis<R>[] = [];
  const late: FileDiagnosis<R>[] = [];
  for (const m of history.migrations) {
    const row = rowOf.get(m.id);
    let state: FileDiagnosis['state'];
    const squashed = row ? undefined : squashState(m);
    if (squashed) state = squashed;
    else if (!row) state = highestApplied && m.number < highestApplied.number ? 'out-of-order' : 'pending';
    else if (row.status === 'failed') state = 'failed';
    else if (row.checksum !== m.checksum) state = 'drift';
    else state = 'applied';
    const rows = squashed ? squashRows.get(m) : undefined;
    const d: FileDiagnosis<R> = { service, id: m.id, state, file: m, ...(row ? { row } : {}), ...(rows ? { squash: rows } : {}) };
    migrations.push(d);
    byId.set(m.id, d);
    if (!row && !squashed && highestRecorded && m.number < highestRecorded.number) late.push(d);
  }
  const squashedRows = new Map<string, SquashedDiagnosis<R>>();
  for (const row of own) {
    if (fileOf.has(row.migration)) continue;
    const by = squashOf.get(row.migration);
    if (by) {
      squashedRows.set(row.migration, { service, id: row.migration, state: 'squashed', row, by });
      continue;
    }
    const d: MissingFileDiagnosis<R> = { service, id: row.migration, state: 'missing-file', row };
    migrations.push(d);
    byId.set(row.migration, d);
  }
  // Every row of the service was given a diagnosis above (by its file, as missing-file, or as squashed).
  const recorded = own.map((r) => byId.get(r.migration) ?? (squashedRows.get(r.migration) as SquashedDiagnosis<R>));
  return { service, migrations, recorded, highestApplied, highestRecorded, late };
}
