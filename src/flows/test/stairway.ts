/**
 * Check (b), the stairway: every migration of a service, in the order `up` runs them, goes up, down and up
 * again on a shadow holding only the service's `requires` closure, with a snapshot of every service of that
 * closure around each move: the down must give back the schema from before the up, the second up the
 * schema of the first. A down that leaves a column behind, or drops more than its up created, is named with
 * the object. A migration without a down is reported (`no-down`), failed with `requireDown`. Data (check f,
 * data.ts): each migration's fixtures are loaded once it stands; once rows exist, every later down must give
 * them back.
 */
import path from 'node:path';
import { planUp } from '../../apply/plan.js';
import { withRequiredServices } from '../../config/services.js';
import type { Database } from '../../db/database.js';
import type { MigrationFile } from '../../history/migration.js';
import { ensureLedger } from '../../ledger/ledger.js';
import type { Snapshot } from '../../schema/snapshot.js';
import { anyRows, dataLosses, dataTables, type Digests, loadFixture, readDigests } from './data.js';
import type { TestContext, TestFinding } from './index.js';
import { isolationFinding } from './isolation.js';
import { differences, hasDown, runMigration, type Snapshots, snapshotServices } from './steps.js';

/** What a service's walk found, and what it says about isolation (its closure is all it had). */
export interface WalkResult {
  findings: TestFinding[];
  /** pass: every up of the closure applied; fail: one did not (a finding says why); unknown: the walk stopped before trying them all. */
  isolation: 'pass' | 'fail' | 'unknown';
  /** The service's schema after its whole history went up (check c compares it): only when the walk reached the end. */
  replayed?: Snapshot;
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
  // Whether a fixture put rows on the shadow in this walk.
  let rows = false;
  // The backup's rows go in after the last migration of this walk its ledger names (its schema then is the backup's).
  const restoreAfter = ctx.backup ? [...steps].reverse().find((s) => ctx.backup!.fixtures.ids.has(s.migration.id))?.migration.id : undefined;
  /** Loads the fixtures of `m` (it just went up for good); one that fails is a finding, and the walk goes on (a file runs whole or not at all). */
  const loadFixtures = async (m: MigrationFile): Promise<void> => {
    for (const file of ctx.fixtures.get(m.id) ?? []) {
      try {
        await loadFixture(db, file);
      } catch (err) {
        // A required service's fixture failing is its own walk's finding.
        if (m.service === service)
          findings.push({ check: 'data', service, migration: m.id, file, status: 'fail', message: `the fixture ${path.basename(file)} does not load after ${m.id}: ${reason(err)}` });
        continue;
      }
      rows = true;
    }
    if (m.id !== restoreAfter) return;
    const failed = await ctx.backup!.restore(db, closure);
    if (failed) {
      findings.push({ check: 'data', service, migration: m.id, file: ctx.backup!.fixtures.dir, status: 'fail', message: `the backup's rows do not restore after ${m.id}: ${failed}` });
    } else rows = true;
  };
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
      // Its fixtures too: this walk's data check then covers the rows the service stands on.
      await loadFixtures(m);
      continue;
    }
    const before = current ?? (await snap());
    // Rows to keep: read only once a fixture put some there (with none, a down has nothing to lose).
    const tables = rows ? dataTables(before) : [];
    let kept: Digests | undefined;
    if (tables.length > 0) {
      kept = await readDigests(db, tables);
      if (!anyRows(tables, kept)) kept = undefined;
    }
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
      await loadFixtures(m);
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
    if (kept) findings.push(dataFinding(service, m, dataLosses(tables, kept, await readDigests(db, tables)), tables.length));
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
    await loadFixtures(m);
  }
  const replayed = (current ?? (await snap())).get(service);
  return { findings, isolation: 'pass', ...(replayed ? { replayed } : {}) };
}

/** The data finding of `m` from what its down lost (dataLosses); `-- tidemark:lossy-down` reports instead of failing. */
function dataFinding(service: string, m: MigrationFile, losses: readonly string[], tables: number): TestFinding {
  const at = { check: 'data' as const, service, migration: m.id, file: m.file };
  if (losses.length === 0) return { ...at, status: 'pass', message: `${m.id}: its down gives back the rows of ${tables} table${tables === 1 ? '' : 's'}` };
  if (m.lossyDown) return { ...at, status: 'reported', message: `${m.id}: its down loses data, as its \`-- tidemark:lossy-down\` says: ${losses.join('; ')}` };
  return {
    ...at,
    status: 'fail',
    message: `${m.id}: its down loses data: ${losses.join('; ')}`,
    hint: 'Make the down restore what the up changes (alter the column back rather than drop and add it), or mark the file `-- tidemark:lossy-down` if the loss is intended.',
  };
}
