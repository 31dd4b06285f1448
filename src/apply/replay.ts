import { withRequiredServices } from '../config/services.js';
import { selectServices } from '../config/select.js';
import type { Workspace } from '../config/types.js';
import type { Database } from '../db/database.js';
import type { History } from '../history/migration.js';
import { resolveMigration } from '../history/resolve.js';
import { TidemarkError } from '../errors.js';
import { ensureLedger, readLedger } from '../ledger/ledger.js';
import { type IntrospectMode, introspect } from '../schema/introspect/index.js';
import type { Snapshot } from '../schema/snapshot.js';
import type { ApplyEvent } from '../progress.js';
import { executePlan, prepareSteps, type StepResult } from './execute.js';
import { readHistories } from './migrate.js';
import { planUp } from './plan.js';

/**
 * The one replay (issue 12 §3): a service's history run on a fresh shadow database, then snapshotted.
 * rebaseline, baseline, validate (and autogenerate, `tidemark test`) compare that snapshot with something
 * else. It runs what `up` runs (planUp, prepareSteps, executePlan, ledger rows written on the shadow),
 * without the per-service locks: a fresh shadow is this process's alone. Choosing and disposing of the
 * shadow is the caller's (db/shadow.ts's policy).
 */

export interface ReplayScope {
  workspace: Workspace;
  /**
   * Every tidemark service's history, as `readHistories` returns them. When absent they are read here,
   * refusing the replayed services' file problems exactly as `up` does.
   */
  histories?: readonly History[];
  onEvent?: (event: ApplyEvent) => void;
}

/**
 * Applies `services` (tidemark services, config order) on `shadow` as `up` would, each in the order
 * their numbers and requirements give. Throws the first refusal or failed step's TidemarkError; a
 * caller wraps it in its own message ("does not replay on the shadow database: …").
 */
export async function replayMigrations(scope: ReplayScope, services: readonly string[], shadow: Database): Promise<StepResult[]> {
  const { workspace } = scope;
  const selected = selectServices(workspace, services);
  const histories = scope.histories ?? (await readHistories(workspace, selected));
  const declaredRequires = Object.fromEntries(workspace.services.map((s) => [s.name, s.requires]));
  const plan = planUp({ histories, ledger: await readLedger(shadow), services: selected.map((s) => s.name), declaredRequires });
  const prepared = await prepareSteps(plan, { serverVersionNum: await shadow.serverVersionNum(), loadScripts: true });
  if (prepared.length === 0) return [];
  await ensureLedger(shadow);
  const results = await executePlan(shadow, prepared, { action: 'up', onEvent: scope.onEvent });
  const failed = results.find((r) => r.status === 'failed');
  // executePlan sets `error` on every failed step.
  if (failed) throw failed.error!;
  return results;
}

/**
 * Replays `service` and every tidemark service it requires (the closure, as rebaseline and validate
 * choose it) on `shadow`, then introspects what `service` owns there. `options.services` replaces the
 * closure when a caller needs another set (baseline replays only what the service requires);
 * `options.mode` is introspect's (validate reads `tables`). `options.upTo` (a migration id of `service`,
 * or its short form `user_003`) stops `service`'s history after that migration; the services it
 * requires are replayed fully (squash, drift, `tidemark test`, `--from history:ID`).
 */
export async function replay(scope: ReplayScope, service: string, shadow: Database, options: { services?: readonly string[]; mode?: IntrospectMode; upTo?: string } = {}): Promise<Snapshot> {
  // An unknown name is refused as up refuses it; an Alembic service (baseline's case) is snapshotted after `options.services`.
  if (!scope.workspace.services.some((s) => s.name === service)) selectServices(scope.workspace, [service]);
  const services = options.services ?? withRequiredServices(scope.workspace, [service]);
  if (options.upTo !== undefined) {
    const histories = scope.histories ?? (await readHistories(scope.workspace, selectServices(scope.workspace, services)));
    scope = { ...scope, histories: historiesUpTo(histories, service, options.upTo) };
  }
  await replayMigrations(scope, services, shadow);
  return introspect(shadow, { workspace: scope.workspace, service }, { mode: options.mode ?? 'all' });
}

/** `histories` with `service`'s migrations after `upTo` left out; an id that is not one of its migrations is `unknown-target`. */
function historiesUpTo(histories: readonly History[], service: string, upTo: string): History[] {
  const last = resolveMigration(histories, upTo);
  if (!last || last.service !== service) {
    throw new TidemarkError('unknown-target', `No migration ${upTo} in ${service}.`, {
      hint: `Give one of ${service}'s migration ids as \`tidemark status\` lists it, e.g. ${service}_003_add_role or ${service}_003.`,
    });
  }
  return histories.map((h) => (h.service === service ? { ...h, migrations: h.migrations.filter((m) => m.number <= last.number) } : h));
}
