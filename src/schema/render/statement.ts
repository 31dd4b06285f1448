/**
 * schema/render/: SQL text from Snapshots and Changes (issue 13, docs/plan-issue-13.md §2.2). This
 * file holds the types every renderer shares: a rendered Statement, the phase it runs in, the hazard
 * notes printed and written above it, and what a renderer is told about the two schemas. Types only.
 */
import type { Change, Hazard } from '../diff/change.js';
import type { Snapshot } from '../snapshot.js';

/**
 * When a statement runs, as `tidemark diff` cuts its files: labels an enum gains (their own file when a
 * later statement uses them: PostgreSQL refuses a label added in the same transaction), one
 * no-transaction file per index dropped CONCURRENTLY (before the main file, so a column it drops
 * is still there when the down builds the index again), the main transactional file, one
 * no-transaction file per CONCURRENTLY index built, then the VALIDATE file.
 */
export type Phase = 'enum-values' | 'drop-concurrent' | 'main' | 'concurrent' | 'validate';

/** A hazard in words: printed by `tidemark diff` and written as `-- hazard (<id>): <sentence>` above its statement. */
export interface HazardNote {
  hazard: Hazard;
  /** The object, as the plain words name it (`column budgets.total`). */
  object: string;
  sentence: string;
}

export interface Statement {
  /** One statement, ending in `;`. */
  sql: string;
  phase: Phase;
  /** The Changes it implements (for words, hazards and tests). */
  changes: readonly Change[];
  hazards: readonly HazardNote[];
  /** Runs outside a transaction, alone in its file (CREATE/DROP INDEX CONCURRENTLY). */
  concurrently?: boolean;
}

export interface RenderContext {
  /** The whole snapshots: creation order, enum users, view reads and dependents come from them. */
  from: Snapshot;
  to: Snapshot;
  /**
   * nameKey of the tables in `from` (they may hold rows): a NOT NULL column added to one is a
   * `needs-backfill` hazard, and only they get the safe forms (CONCURRENTLY, NOT VALID), which are a
   * later pass over the plain statements. Accepted renames are applied to `from` before the diff.
   */
  existingTables: ReadonlySet<string>;
}

export interface RenderedChanges {
  /** In run order. */
  up: Statement[];
  /** The reverse, rendered from diff(to, from) by the same rules. */
  down: Statement[];
  hazards: HazardNote[];
  /** Non-empty: `diff-cannot-render`, nothing is written. */
  refused: { object: string; reason: string }[];
}
