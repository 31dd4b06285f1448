/**
 * The drift reader of `tidemark check --db` (rule schema-drift): for every tidemark service with applied
 * rows in the ledger, its applied migrations are replayed on ONE shadow (services in config order, each
 * after the services it requires, which planUp orders and skips once done), then what it owns is read there
 * and live. check/ sits below apply/ (DESIGN §7), so api/check.ts hands this reader to the check core.
 */
import { withRequiredServices } from '../config/services.js';
import type { Session } from '../db/database.js';
import type { History } from '../history/migration.js';
import { readLedger } from '../ledger/ledger.js';
import { readHistories } from '../apply/migrate.js';
import { replayMigrations } from '../apply/replay.js';
import type { DriftFact } from '../check/rule.js';
import { diff } from '../schema/diff/diff.js';
import { introspect } from '../schema/introspect/index.js';
import type { Target } from '../target/target.js';

/** `services`' drift on `target` (those without applied rows are left out). The shadow is disposed before this returns. */
export async function readDrift(target: Pick<Target<Session>, 'workspace' | 'db' | 'openShadow'>, services: readonly string[]): Promise<DriftFact[]> {
  const { workspace } = target;
  const tidemark = new Set(workspace.services.filter((s) => s.format === 'tidemark').map((s) => s.name));
  const ledger = await readLedger(target.db);
  const applied = new Set(ledger.filter((r) => r.status === 'applied').map((r) => `${r.service}\u0000${r.migration}`));
  const checked = workspace.services.filter((s) => tidemark.has(s.name) && services.includes(s.name) && ledger.some((r) => r.service === s.name && r.status === 'applied'));
  if (checked.length === 0) return [];
  // File problems are the doctor's other rules' to report: nothing is refused here. Only what is applied
  // live is replayed (pending and failed rows, and a pending lower number, are left out), for required services too.
  const histories: History[] = (await readHistories(workspace, [])).map((h) => ({ ...h, migrations: h.migrations.filter((m) => applied.has(`${h.service}\u0000${m.id}`)) }));
  const shadow = await target.openShadow({});
  try {
    const facts: DriftFact[] = [];
    for (const service of checked) {
      const closure = withRequiredServices(workspace, [service.name]).filter((name) => tidemark.has(name));
      try {
        await replayMigrations({ workspace, histories }, closure, shadow.database);
      } catch (err) {
        facts.push({ service: service.name, changes: [], error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      const scope = { workspace, service: service.name };
      const expected = await introspect(shadow.database, scope);
      const live = await introspect(target.db, scope);
      facts.push({ service: service.name, changes: diff(live, expected) });
    }
    return facts;
  } finally {
    await shadow.dispose();
  }
}
