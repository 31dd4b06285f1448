/**
 * Two Snapshots compared, differences in plain words (pure): the words view (words.ts) of the
 * schema diff (diff.ts). Objects are matched by name; SQL text is compared after
 * src/schema/normalize.ts (what only differs between PostgreSQL 15 and 18 printing); column order,
 * OIDs and sequence current values are not compared (a Snapshot holds none of them).
 *
 *   compareSnapshots(live, shadow)
 *   → [{ object: 'column budgets.status', message: "column budgets.status: live default 'draft'::text, baseline gives 'open'::text" },
 *      { object: 'trigger users_touch on users', message: 'trigger users_touch on users exists live but not in the baseline' }]
 */
import type { SchemaDifference, Snapshot } from '../snapshot.js';
import { diff } from './diff.js';
import { type CompareLabels, DEFAULT_LABELS, describeChanges } from './words.js';

/** Differences between two snapshots, in plain words; [] when they are equal. */
export function compareSnapshots(expected: Snapshot, actual: Snapshot, labels: CompareLabels = DEFAULT_LABELS): SchemaDifference[] {
  return describeChanges(diff(expected, actual), labels);
}
