/**
 * What the checks of `tidemark test` share: one migration run up or down through the real executor (so
 * no-transaction files and ledger rows behave as `up`/`down` make them), and snapshots of several services
 * compared in words.
 */
import { executePlan, prepareSteps } from '../../apply/execute.js';
import type { Direction } from '../../apply/plan.js';
import type { Workspace } from '../../config/types.js';
import type { Database } from '../../db/database.js';
import type { MigrationFile } from '../../history/migration.js';
import { diff } from '../../schema/diff/diff.js';
import { type CompareLabels, describeChanges } from '../../schema/diff/words.js';
import { introspect } from '../../schema/introspect/index.js';
import type { SchemaDifference, Snapshot } from '../../schema/snapshot.js';

/** Runs one migration in one direction on `db`; throws the step's TidemarkError when it fails. */
export async function runMigration(db: Database, m: MigrationFile, direction: Direction, serverVersionNum: number): Promise<void> {
  const plan = { direction, steps: [{ service: m.service, migration: m, direction, transactional: m.transactional }], warnings: [] };
  const prepared = await prepareSteps(plan, { serverVersionNum, loadScripts: true });
  const [result] = await executePlan(db, prepared, { action: direction });
  // executePlan sets `error` on every failed step.
  if (result.status === 'failed') throw result.error!;
}

/** Whether a migration can be reverted: a SQL file with a down section, or a script exporting down(ctx). */
export async function hasDown(m: MigrationFile, serverVersionNum: number): Promise<boolean> {
  if (m.kind === 'sql') return m.down !== undefined;
  try {
    await prepareSteps({ direction: 'down', steps: [{ service: m.service, migration: m, direction: 'down', transactional: m.transactional }], warnings: [] }, { serverVersionNum });
    return true;
  } catch {
    return false;
  }
}

export type Snapshots = Map<string, Snapshot>;

/** What each of `services` owns on `db` (introspect is per service, so a down that drops another service's object shows). */
export async function snapshotServices(db: Database, workspace: Workspace, services: readonly string[]): Promise<Snapshots> {
  const out: Snapshots = new Map();
  for (const service of services) out.set(service, await introspect(db, { workspace, service }));
  return out;
}

/** The differences from `before` to `after`, service by service, in words. */
export function differences(before: Snapshots, after: Snapshots, labels: CompareLabels): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const [service, snapshot] of before) {
    const other = after.get(service);
    if (other) out.push(...describeChanges(diff(snapshot, other), labels));
  }
  return out;
}
