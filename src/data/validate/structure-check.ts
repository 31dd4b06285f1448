/**
 * data/validate/: the parts of `tidemark validate` (data/validate.ts) that have grown their own file.
 * structure-check.ts is check (a): each service's migrations replayed on a fresh shadow, introspected,
 * and compared with the live database through schema/diff (describeStructure: validate's sentences).
 */
import type { Workspace } from '../../config/types.js';
import type { Queryable, Session } from '../../db/database.js';
import { asTidemarkError } from '../../errors.js';
import { liveTables } from '../../schema/catalog.js';
import { diff } from '../../schema/diff/diff.js';
import { describeStructure, type StructureDifference } from '../../schema/diff/structure-words.js';
import { introspect } from '../../schema/introspect/index.js';
import type { Snapshot } from '../../schema/snapshot.js';
import { nameKey } from '../../sql/ident.js';
import type { Target } from '../../target/target.js';
import { ownerOfTable } from '../owner.js';
import { compareStructures, readTableStructure } from '../structure.js';
import type { MigrationReplay, ValidateResult } from '../validate.js';

/** `shadowUrl`: `--shadow URL`, else the target's shadow policy chooses (same server, else PGlite). */
export async function checkStructure(target: Target<Session>, shadowUrl: string | undefined, replayMigrations: MigrationReplay, result: ValidateResult): Promise<void> {
  const { workspace, services, db } = target;
  for (const service of services) {
    // A fresh shadow per service with only that service and what it requires: what its own
    // migrations produce, not what another service may have done to its tables.
    const opened = await target.openShadow(shadowUrl === undefined ? {} : { url: shadowUrl });
    const shadow = opened.database;
    if (result.shadow === undefined) {
      result.shadow = opened.description;
      result.shadowKind = opened.kind;
    }
    let failed = false;
    try {
      let expected: Snapshot;
      try {
        expected = await replayMigrations(shadow, workspace, service.name);
      } catch (err) {
        result.findings.push({
          check: 'structure',
          service: service.name,
          message: `the migrations of ${service.name} do not replay on the shadow database: ${asTidemarkError(err).message}`,
          hint: 'Fix the migration (`tidemark check` lists history problems), then validate again.',
        });
        continue;
      }
      // Only the tables: what describeStructure compares (the other kinds would cost a dozen queries).
      const live = await introspect(db, { workspace, service: service.name }, { mode: 'tables' });
      const differences = describeStructure(diff(live, expected));
      differences.push(...(await outsideSnapshots(workspace, service.name, db, live, shadow, expected)));
      for (const d of differences) {
        result.findings.push({
          check: 'structure',
          service: service.name,
          table: d.table,
          message: d.message,
          hint: 'Pending migrations (`tidemark status`) or a change made by hand: put the change in a migration, or revert it.',
        });
      }
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      // A temporary database left behind is worth an error, unless one is already on its way out.
      if (failed) await opened.dispose().catch(() => {});
      else await opened.dispose();
    }
  }
  if (services.length > 1 && result.shadowKind === 'same-server') {
    result.shadow = `${result.shadow}, a fresh one for each of the ${services.length} services`;
  }
}

/**
 * The owned tables a Snapshot leaves out (partitioned and typed tables, which baseline cannot
 * reproduce; Alembic version tables) were compared before the Snapshot existed: they still are, with
 * data/structure.ts's catalog reader, so validate does not go quiet about them.
 */
async function outsideSnapshots(workspace: Workspace, service: string, db: Queryable, live: Snapshot, shadow: Queryable, expected: Snapshot): Promise<StructureDifference[]> {
  const inSnapshots = new Set([...live.tables, ...expected.tables].map(nameKey));
  const outside = async (d: Queryable) => (await liveTables(d)).filter((t) => ownerOfTable(workspace, t)?.name === service && !inSnapshots.has(nameKey(t)));
  const [liveRest, expectedRest] = [await outside(db), await outside(shadow)];
  if (!liveRest.length && !expectedRest.length) return [];
  return compareStructures(await readTableStructure(db, liveRest), await readTableStructure(shadow, expectedRest));
}
