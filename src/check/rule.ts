import type { Diagnostic, Severity } from '../diagnostic.js';
import type { Change } from '../schema/diff/change.js';
import type { QualifiedName } from '../sql/ident.js';
import type { MigrationFile } from '../history/migration.js';
import type { AlembicHistory, Revision, SumVerification, TableReference } from '../history/revision.js';

/** One service as the doctor sees it: files already read and parsed; rules never do I/O. */
export interface ServiceView {
  name: string;
  format: 'tidemark' | 'alembic';
  /** Migrations directories (absolute); Alembic may have several version locations. */
  dirs: string[];
  owns: string[];
  requires: string[];
  /** Every file in the migrations directories (absolute), migration or not: the naming rule reads them. */
  files: string[];
  /** The graph nodes: Alembic revisions, or tidemark migrations chained by number. */
  revisions: Revision[];
  /** Tidemark services only: the parsed files. */
  migrations?: MigrationFile[];
  /** Alembic services only. */
  alembic?: AlembicHistory;
  /** Problems the readers found (bad files, duplicate numbers, names). */
  readProblems: Diagnostic[];
  /** Tables each migration touches (SQL parsed with libpg-query; Alembic op.* calls). */
  tableReferences: TableReference[];
  /** Alembic services: the version table its env.py writes (default alembic_version). */
  versionTable?: string;
  /** Tidemark services only: tidemark.sum against the files. */
  sum?: SumVerification;
}

/** What the database says, when `check --db` (or a configured database) is used. */
export interface DatabaseFacts {
  url: string;
  ledger: { service: string; migration: string; checksum: string; status: string }[];
  /** Rows of every table named like alembic_version*, by table. */
  alembicVersions: { table: string; versionNum: string }[];
  /** User tables as (schema, name) pairs, excluding tidemark's own schema. */
  tables: QualifiedName[];
  /**
   * Per tidemark service with ledger rows: `changes` = diff(live, what its applied history gives on a
   * shadow), or `error` when that history does not replay. Absent = not computed (`--no-drift`, files-only tests).
   */
  drift?: DriftFact[];
}

/** One service's drift: the Changes that take the live schema to what its applied migrations give. */
export interface DriftFact {
  service: string;
  changes: Change[];
  /** Set (and `changes` empty) when the applied migrations do not replay on the shadow. */
  error?: string;
}

export interface CheckContext {
  services: ServiceView[];
  /** The service that owns a table, if any. */
  ownerOf(table: QualifiedName): string | undefined;
  database?: DatabaseFacts;
}

/**
 * A check rule: one file under src/check/rules/, its id stable forever (kebab-case, named after the
 * problem), a one-paragraph doc, and a pure check over a CheckContext.
 */
export interface Rule {
  id: string;
  severity: Severity;
  /** `files` rules run always; `database` rules only with a database. */
  scope: 'files' | 'database';
  doc: string;
  check(ctx: CheckContext): Diagnostic[];
}
