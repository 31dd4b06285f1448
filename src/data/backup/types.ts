// backup's types (api/backup.ts re-exports them, and declares the public options: these plus where the target is).
import type { TidemarkError } from '../../errors.js';
import type { QualifiedName } from '../../sql/ident.js';
import type { DatabaseSource } from '../../target/target.js';
import type { DataFormat } from '../manifest.js';
import type { BackupEvent } from '../../progress.js';

/**
 * `pgdump`: the ndjson backup (what verify-backup and restore read) plus `dump.pgdump`, a
 * `pg_dump -Fc` of the same tables taken in the same snapshot (`--snapshot`), listed in the manifest's
 * `files` with its hash. Server only.
 */
export type BackupFormat = 'ndjson' | 'csv' | 'pgdump';

/**
 * What the core takes besides its target: the target's services are the ones whose owned tables are
 * backed up (the boundary chose them: the named ones, every service when neither a service nor a
 * table is named, none for named tables alone).
 */
export interface BackupCoreOptions {
  /** Tables to back up (instead of, or on top of, services): (schema, name) pairs, or text in the owns grammar without wildcards, as `--table` takes it. */
  table?: readonly (string | QualifiedName)[];
  format?: BackupFormat;
  /**
   * With `format: 'pgdump'`: the pg_dump to run (`--pg-dump PATH`, relative to the target's cwd), instead of the
   * first one at least as new as the server on PATH, then in /usr/lib/postgresql/<N>/bin.
   */
  pgDump?: string;
  /** Target directory (relative to the target's cwd); must not exist or be empty. Default `./backups/<database>-<UTC timestamp>`. */
  out?: string;
  onProgress?: (event: BackupEvent) => void;
  /**
   * For tests: the heap pages per COPY piece (see `readPlan`). Default: PGlite reads 1,024 pages
   * (8 MiB) at a time; a server table of 8,192 pages (64 MiB) or more is read in two halves at once.
   */
  piecePages?: number;
}

export interface BackupResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  /** The finished backup directory (absolute), set only when ok. */
  dir?: string;
  format: BackupFormat;
  /** `pieces`: COPY statements the table was read with; `parallel`: two of them at once (server). */
  /**
   * `table`: the label (schema-qualified, quoted where needed, control characters escaped); `schema`
   * and `name` exactly; `format`: how its data file is written (csv for a table holding a JSON `null`).
   */
  tables: { table: string; schema: string; name: string; service?: string; format: DataFormat; rows: number; bytes: number; file: string; pieces: number; parallel: boolean }[];
  /** Things worth saying: a table written as csv (JSON null), a stale partial backup removed. */
  notes: string[];
  rows: number;
  bytes: number;
  durationMs: number;
  error?: TidemarkError;
}
