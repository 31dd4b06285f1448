/** restore's options, results and the per-table plan every step of it shares. */
import type { TidemarkError } from '../../errors.js';
import type { DatabaseSource } from '../../target/target.js';
import type { ManifestTable } from '../manifest.js';
import type { CsvColumn } from '../ndjson-csv.js';

/**
 * What the restore core takes besides its target (the database, the workspace, the paths): the
 * boundary (api/restore.ts, the CLI through it) resolves the rest.
 */
export interface RestoreCoreOptions {
  /** The backup directory (relative to the target's cwd). */
  dir: string;
  /**
   * Restore only the tables these services own, as the MANIFEST records them (not the target's
   * service selection: a name the backup does not hold is refused after the backup is verified). Default: all.
   */
  service?: string[];
  /** Empty non-empty target tables first (DELETE, in the same transaction). */
  replace?: boolean;
  /**
   * Values for target columns the backup lacks: `table.col` (or `schema.table.col`, names quoted as
   * in `owns`: `'"a.b".c.col'`) → the value's text, e.g. `{ 'users.plan': 'free' }`. It is quoted as
   * a literal and cast to the column's type.
   */
  fill?: Record<string, string>;
  /** How long to wait for another tidemark run holding a restored service's lock (default 10 minutes). */
  lockTimeoutMs?: number;
  /** Called when a service's lock is held by another run, before waiting for it. */
  onWait?: (service: string) => void;
  /**
   * For tests: the backup row count from which a table's foreign keys are checked in one pass after
   * the load instead of row by row (default BULK_FOREIGN_KEY_ROWS).
   */
  bulkRows?: number;
  /**
   * For tests only (no CLI flag): the size of the pieces a PGlite restore loads each table in,
   * instead of PGLITE_COPY_PIECE_BYTES, so a small table already spans several pieces.
   */
  pgliteCopyPieceBytes?: number;
}

export interface FilledColumn {
  column: string;
  /** default: the column's DEFAULT; fill: the `fill` value; null: nullable, no default; identity/generated: computed. */
  from: 'default' | 'fill' | 'null' | 'identity' | 'generated';
  value?: string;
}

export interface RestoreTableResult {
  /** The label: schema-qualified, quoted where needed, control characters escaped. */
  table: string;
  schema: string;
  name: string;
  rows: number;
  /** Backup columns the target no longer has: not restored. */
  skippedColumns: string[];
  /** Target columns the backup lacks, and where their values came from. */
  filledColumns: FilledColumn[];
  /** The columns the digest was compared over. */
  comparedColumns: string[];
  digestMatched: boolean;
  /**
   * How the rows went in: `csv` (a csv backup), `ndjson-as-csv` (ndjson converted to csv on the
   * client), `json-staging` (ndjson through a json staging table: a column type the client does not
   * convert, see ndjson-csv.ts).
   */
  loadedAs?: 'csv' | 'ndjson-as-csv' | 'json-staging';
  /** Rows that differ between the backup and the restored table (set when the digest did not match). */
  differingRows?: number;
  sequences: { column: string; sequence: string; value: string }[];
}

export interface RestoreResult {
  ok: boolean;
  dir: string;
  database: string;
  databaseSource: DatabaseSource;
  format?: 'ndjson' | 'csv';
  /** Tables (labels) in the order they were loaded (parents first). */
  order: string[];
  tables: RestoreTableResult[];
  rows: number;
  /** Services whose advisory locks the restore held (the ones `up` takes), sorted. */
  lockedServices: string[];
  /** Things worth saying: foreign-key cycles, tables emptied by `replace`, a ledger that differs from the backup's. */
  notes: string[];
  /** Time spent loading (COPY + INSERT) and verifying (digests), apart. */
  loadMs: number;
  verifyMs: number;
  durationMs: number;
  error?: TidemarkError;
}

export interface TargetColumn {
  name: string;
  type: string;
  notnull: boolean;
  identity: '' | 'a' | 'd';
  generated: '' | 's' | 'v';
  hasDefault: boolean;
}

export interface TablePlan {
  m: ManifestTable;
  /** displayQualified(m): for messages and results. */
  label: string;
  qualified: string;
  /** The table's own rows as a FROM item (ownRows: `ONLY t` for an ordinary table). */
  rowsFrom: string;
  oid: number;
  target: TargetColumn[];
  /** Backup columns inserted (present in the target, not generated there). */
  mapped: string[];
  skipped: string[];
  filled: FilledColumn[];
  /** `fill` expressions for columns the backup lacks. */
  fillExprs: { column: string; expr: string }[];
  compared: string[];
  /** Staging type per backup column: the backup's type when it exists here, else text. */
  stagingTypes: Map<string, string>;
  /** ndjson backups: how to convert each column to csv on the client; undefined → json staging. */
  csvColumns?: CsvColumn[];
  result: RestoreTableResult;
}
