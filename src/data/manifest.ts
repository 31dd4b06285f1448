/**
 * The backup manifest (`manifest.json` in a backup directory, DESIGN §2 "Backup"). Everything
 * `verify-backup` and `restore` need to trust a backup without the database that made it.
 *
 * Format 2 (written now) adds `contentDigestAlgorithm` (`hash64`); format 1 has none and its digests
 * are md5-based (see digest.ts). Both are read. A tidemark that only knows format 1 refuses a format 2
 * backup by its version instead of failing its digests.
 */
import type { DigestAlgorithm } from './digest.js';

export const MANIFEST_FORMAT_VERSION = 2;
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2];

export interface ManifestColumn {
  name: string;
  /** format_type() of the column, e.g. `numeric(14,2)`, `timestamp with time zone`, `text[]`. */
  type: string;
  nullable: boolean;
  /** Identity (`always` | `by default`) or generated (`stored`) columns, which restore treats apart. */
  identity?: 'always' | 'by default';
  generated?: 'stored' | 'virtual';
}

export interface ManifestForeignKey {
  name: string;
  columns: string[];
  /** `schema.table` referenced. */
  references: string;
  referencedColumns: string[];
}

export interface ManifestTable {
  /** `schema.table`. */
  table: string;
  /** The service that owns it (from the config), when known. */
  service?: string;
  columns: ManifestColumn[];
  primaryKey: string[];
  foreignKeys: ManifestForeignKey[];
  rowCount: number;
  /** Relative to the backup directory: `data/<schema>.<table>.ndjson` or `.csv`. */
  file: string;
  /** SHA-256 (hex) and size of the data file's bytes. */
  sha256: string;
  bytes: number;
  /**
   * An order-independent digest of the rows computed IN the database (see src/data/digest.ts), over
   * the columns listed here: restore recomputes it after loading and commits only if it matches.
   */
  contentDigest: string;
  digestColumns: string[];
}

export interface Manifest {
  formatVersion: number;
  tool: { name: 'tidemark'; version: string };
  createdAt: string;
  /** server_version of the source, e.g. `15.20` or `18.6 (PGlite)`. */
  serverVersion: string;
  /** Database name only: never a URL, never credentials. */
  database: string;
  format: 'ndjson' | 'csv';
  /** How the tables' contentDigest was computed (format 2); absent in format 1, meaning `md5`. */
  contentDigestAlgorithm?: DigestAlgorithm;
  services: string[];
  tables: ManifestTable[];
  /** tidemark.applied rows of the services backed up, as they were in the snapshot. */
  ledger: { service: string; migration: string; checksum: string; status: string; appliedAt: string }[];
  /** Files other than data files (schema.sql), with their hashes. */
  files: { file: string; sha256: string; bytes: number }[];
}
