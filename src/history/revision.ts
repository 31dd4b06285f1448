import type { Diagnostic } from '../diagnostic.js';
import type { QualifiedName } from '../sql/ident.js';

/**
 * A node of a migration graph — from an Alembic file or a tidemark file — as plain data, so the
 * graph algorithms (src/history/graph/) and the check rules never open a file.
 */
export interface Revision {
  service: string;
  id: string;
  /** Absolute path of the file that declares it. */
  file: string;
  /** 1-based line of the declaration (`revision = …`; 1 for tidemark files). */
  line: number;
  /** down_revision: [] for a base, two or more for a merge. Tidemark: the previous number. */
  parents: string[];
  /** Alembic depends_on; tidemark `-- tidemark:requires`. Constrains order, is not a parent. */
  dependsOn: string[];
  branchLabels: string[];
  /** 1-based line where each referenced id (parent or dependency) is written, when known. */
  refLines: Record<string, number>;
  /** 1-based line where each branch label is written (its first occurrence), when known. */
  labelLines?: Record<string, number>;
  format: 'alembic' | 'tidemark';
}

/** A reference to a table found in a migration, for the cross-service-reference rule. */
export interface TableReference {
  /** As written, possibly `schema.table`; lower-cased unless quoted. For messages only. */
  table: string;
  /** The table as a (schema, name) pair; `public` when unqualified. What ownership is matched on. */
  name: QualifiedName;
  file: string;
  line: number;
  /** `op` for an Alembic op.* call or sa.ForeignKey, `sql` for SQL text. */
  via: 'op' | 'sql' | 'foreign-key';
  /** e.g. `op.add_column`, `ALTER TABLE`, `REFERENCES`, `SELECT`. */
  action: string;
}

/** SQL text found inside an Alembic file (`op.execute("…")`, `sa.text("…")`), with its line. */
export interface EmbeddedSql {
  sql: string;
  file: string;
  line: number;
}

/** One Alembic service's history as read from its versions directories. Pure data. */
export interface AlembicHistory {
  service: string;
  /** The versions directories read (absolute). */
  dirs: string[];
  revisions: Revision[];
  /** Table references from op.* calls and sa.ForeignKey('table.col'). */
  tableReferences: TableReference[];
  embeddedSql: EmbeddedSql[];
  /** Every problem met while reading: unreadable file, no revision, unterminated string, … */
  problems: Diagnostic[];
}

/** How a tidemark migrations directory compares with its tidemark.sum (computed by src/history/sum-file.ts). */
export interface SumVerification {
  /** Absolute path of the tidemark.sum file. */
  file: string;
  /** False when there is no tidemark.sum at all. */
  present: boolean;
  /** False when the first (total) line does not match the lines below it: edited or badly merged. */
  totalValid: boolean;
  /** Migration files with no line in the sum file. */
  missing: string[];
  /** Lines for files that do not exist. */
  extra: string[];
  /** Files whose hash differs from their line. */
  changed: string[];
  /** 1-based line of each file's entry in tidemark.sum, for diagnostics. */
  lines: Record<string, number>;
  /** Unparseable lines (merge conflict markers, garbage), with their line numbers. */
  malformed: { line: number; text: string }[];
}
