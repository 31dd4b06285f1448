/**
 * Check (b), the stairway: every migration of a service, in the order `up` runs them, goes up, down and up
 * again on a shadow holding only the service's `requires` closure, with a snapshot of every service of that
 * closure around each move: the down must give back the schema from before the up, the second up the
 * schema of the first. A down that leaves a column behind, or drops more than its up created, is named with
 * the object. A migration without a down is reported (`no-down`), failed with `requireDown`.
 */
import { planUp } from '../../apply/plan.js';
import { withRequiredServices } from '../../config/services.js';
import type { Database } from '../../db/database.js';
import type { MigrationFile } from '../../history/migration.js';
import { ensureLedger } from '../../ledger/ledger.js';
import type { TestContext, TestFinding } from './index.js';
import { isolationFinding } from './isolation.js';
import { differences, hasDown, runMigration, type Snapshots, snapshotServices } from './steps.js';

/** What a service's walk found, and what it says about isolation (its closure is all it had). */
export interface WalkResult {
  findings: TestFinding[];
  /** pass: every up of the closure applied; fail: one did not (a finding says why); unknown: the walk stopped before trying them all. */
  isolation: 'pass' | 'fail' | 'unknown';
}

const BEFORE_AFTER_DOWN = { expected: 'schema before the up', actual: 'schema after the down' };
const FIRST_SECOND_UP = { expected: 'schema after the first up', actual: 'schema after the second up' };

function fail(service: string, m: MigrationFile, message: string, hint?: string): TestFinding {
  return { check: 'stairway', service, migration: m.id, file: m.file, status: 'fail', message: `${m.id}: ${message}`, ...(hint ? { hint } : {}) };
}

function reason(err: unknown): string {
  return (err as Error).message.replace(/\.$/, '');
}

/** Walks `service`'s migrations on `db` (empty, or emptied by the caller). */
export async function walkService(ctx: TestContext, service: string, db: Database): Promise<WalkResult> {
  const { workspace, histories } = ctx;
  const closure = withRequiredServices(workspace, [service]);
  const findings: TestFinding[] = [];
  let steps: ReturnType<typeof planUp>['steps'];
  try {
    steps = planUp({ histories, ledger: [], services: closure, declaredRequires: Object.fromEntries(workspace.services.map((s) => [s.name, s.requires])) }).steps;
  } catch (err) {
    findings.push({ check: 'stairway', service, status: 'fail', message: `${service} cannot be planned: ${reason(err)}`, hint: (err as { hint?: string }).hint });
    return { findings, isolation: 'unknown' };
  }
  await ensureLedger(db);
  const version = await db.serverVersionNum();
  const snap = () => snapshotServices(db, workspace, closure);
  // The snapshot of the state the next migration starts from, while nothing else changed it.
  let current: Snapshots | undefined;
  const stop = (at: MigrationFile, isolation: WalkResult['isolation']): WalkResult => {
    const later = steps.slice(steps.findIndex((s) => s.migration === at) + 1).map((s) => s.migration);
    for (const m of later) {
      if (m.service === service) findings.push({ check: 'stairway', service, migration: m.id, file: m.file, status: 'reported', message: `${m.id}: not tested, ${at.id} failed before it` });
    }
    // Every up applied before a down went wrong at the end: the closure stands on its own.
    return { findings, isolation: isolation === 'unknown' && later.length === 0 ? 'pass' : isolation };
  };
  for (const { migration: m } of steps) {
    if (m.service !== service) {
      // A required service's migration: applied as `up` would, its own walk tests it.
      try {
        await runMigration(db, m, 'up', version);
      } catch (err) {
        findings.push(fail(service, m, `a migration ${service} requires does not apply: ${reason(err)}`));
        return stop(m, 'fail');
      }
      current = undefined;
      continue;
    }
    const before = current ?? (await snap());
    try {
      await runMigration(db, m, 'up', version);
    } catch (err) {
      const isolated = isolationFinding(workspace, service, m, err);
      findings.push(isolated ?? fail(service, m, `up fails: ${reason(err)}`));
      // Either way the closure does not apply as it stands, and the finding says why: no isolation replay needed.
      return stop(m, 'fail');
    }
    const afterUp = await snap();
    if (!(await hasDown(m, version))) {
      findings.push({
        check: 'no-down',
        service,
        migration: m.id,
        file: m.file,
        status: ctx.requireDown ? 'fail' : 'reported',
        message: `${m.id} has no down section, so it cannot be reverted`,
        hint: 'Add a `-- tidemark:down` section that undoes the up.',
      });
      current = afterUp;
      continue;
    }
    try {
      await runMigration(db, m, 'down', version);
    } catch (err) {
      findings.push(fail(service, m, `down fails: ${reason(err)}`));
      return stop(m, 'unknown');
    }
    const left = differences(before, await snap(), BEFORE_AFTER_DOWN);
    if (left.length > 0) {
      findings.push(fail(service, m, `its down does not undo its up: ${left.map((d) => d.message).join('; ')}`, 'Make the down section drop exactly what the up creates and restore what it drops.'));
      return stop(m, 'unknown');
    }
    try {
      await runMigration(db, m, 'up', version);
    } catch (err) {
      findings.push(fail(service, m, `up fails after its down: ${reason(err)}`, 'The down leaves something the up creates again (an object outside what tidemark compares, or data).'));
      return stop(m, 'unknown');
    }
    const again = await snap();
    const changed = differences(afterUp, again, FIRST_SECOND_UP);
    if (changed.length > 0) {
      findings.push(fail(service, m, `up after down gives another schema: ${changed.map((d) => d.message).join('; ')}`));
      return stop(m, 'unknown');
    }
    findings.push({ check: 'stairway', service, migration: m.id, file: m.file, status: 'pass', message: `${m.id}: up, down, up give the same schemas` });
    current = again;
  }
  return { findings, isolation: 'pass' };
}
