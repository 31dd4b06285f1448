/** A section of a SQL migration: its text and the 1-based line of the file where that text starts. */
export interface SqlSection {
  text: string;
  line: number;
}

/** One tidemark migration file, parsed. Pure data: no file handles, no database. */
export interface MigrationFile {
  service: string;
  /** File name without extension, e.g. `user_003_add_role`: the key in the ledger. */
  id: string;
  /** Order within the service; exact (bigint), see compareMigrationNumbers. */
  number: bigint;
  slug: string;
  /** Absolute path. */
  file: string;
  /** `sql` files carry up/down sections; `script` files (.ts/.js/.mjs) export up(ctx)/down(ctx). */
  kind: 'sql' | 'script';
  /** SHA-256 (hex) of the file's bytes: what the ledger stores. */
  checksum: string;
  /** False with `-- tidemark:no-transaction`. */
  transactional: boolean;
  /** Migration ids (other services') that must be applied first (`-- tidemark:requires …`). */
  requires: Requirement[];
  up?: SqlSection;
  down?: SqlSection;
  /** `-- tidemark:squashes …`: the ids (this service's, in full) of the earlier migrations this squash replaces. */
  squashes?: string[];
  /** `-- tidemark:lossy-down`: its down loses data by design (`tidemark test` reports the data check instead of failing it). */
  lossyDown?: boolean;
}

export interface Requirement {
  /** As written: a full id `user_003_add_role` or the short form `user_003`. */
  ref: string;
  line: number;
}

/** The migrations of one service in order, plus every problem found while reading them. */
export interface History {
  service: string;
  migrations: MigrationFile[];
  problems: import('../diagnostic.js').Diagnostic[];
  /** SHA-256 of every file named like a migration of this service, parseable or not (for tidemark.sum). */
  hashes?: { name: string; hash: string }[];
}
