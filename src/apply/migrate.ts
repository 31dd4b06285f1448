import path from 'node:path';
import type { Service, Workspace } from '../config/types.js';
import type { Database, Session } from '../db/database.js';
import { withServiceLocks } from '../ledger/locks.js';
import type { Diagnostic } from '../diagnostic.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import type { History } from '../history/migration.js';
import { readTidemarkHistory } from '../history/read-tidemark.js';
import { formatMigrationNumber } from '../history/tidemark-source.js';
import type { ProtectionStatus } from '../ledger/guard.js';
import { diagnoseLedger, type MigrationState } from '../ledger/diagnose.js';
import { ensureLedger, readLedger, recordMigration, removeMigration, serviceLockKey, type LedgerRow } from '../ledger/ledger.js';
import { displayPath } from '../paths.js';
import type { DatabaseSource, Target } from '../target/target.js';
import type { ApplyEvent } from '../progress.js';
import { executePlan, prepareSteps, type PreparedStep, type StepResult } from './execute.js';
import { BASE, planDown, planUp, resolveMigration, type Direction, type Plan } from './plan.js';

/**
 * up and down on a Target: its services (selected at the boundary), its database (opened lazily at the
 * boundary, so a broken migration file is reported before any connection), its name for the result.
 */
export interface MigrateCoreOptions {
  to?: string;
  steps?: number;
  /** Compute and return the plan; touch nothing. */
  dryRun?: boolean;
  /** How long to wait for another run of the same service (default 10 min). */
  lockTimeoutMs?: number;
  onEvent?: (event: ApplyEvent) => void;
  /** Called when the lock is busy, before waiting for it. */
  onWait?: (service: string) => void;
}

export interface PlannedStep {
  service: string;
  migration: string;
  file: string;
  direction: Direction;
  transactional: boolean;
  /** The SQL that runs (dry runs); for a script, a comment naming the function. */
  sql: string;
}

/** Results as values (Kysely's habit): `ok` false with `error` set when something failed. */
export interface MigrateResult {
  ok: boolean;
  direction: Direction;
  database: string;
  databaseSource: DatabaseSource;
  dryRun: boolean;
  plan: PlannedStep[];
  results: StepResult[];
  warnings: Diagnostic[];
  error?: TidemarkError;
}

/** Reads every tidemark service's history; refuses with the first error found in the given ones. */
export async function readHistories(workspace: Workspace, mustBeClean: readonly Service[]): Promise<History[]> {
  const histories = await Promise.all(workspace.services.filter((s) => s.format === 'tidemark').map((s) => readTidemarkHistory(s.name, s.migrationsDir)));
  for (const service of mustBeClean) {
    const problems = histories.find((h) => h.service === service.name)?.problems.filter((p) => p.severity === 'error') ?? [];
    if (problems.length > 0) {
      const first = problems[0];
      const where = first.file ? `${displayPath(first.file)}${first.line ? `:${first.line}` : ''}: ` : '';
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}; \`tidemark check\` lists them)` : '';
      throw new TidemarkError(first.rule === 'duplicate-id' ? 'duplicate-id' : 'migration-file', `${where}${first.message.replace(/\.$/, '')}${more}.`, {
        kind: 'input',
        file: first.file,
        line: first.line,
        service: service.name,
        hint: first.hint,
      });
    }
  }
  return histories;
}

function toUnexpected(err: unknown): TidemarkError {
  return asTidemarkError(err);
}

function describe(step: PreparedStep): PlannedStep {
  const m = step.migration;
  const sql = step.statements
    ? step.statements.map((s) => `${s.text};`).join('\n')
    : `-- runs ${step.direction}(ctx) exported by ${path.basename(m.file)}${step.script ? '' : ' (not loaded in a dry run)'}`;
  return { service: step.service, migration: m.id, file: m.file, direction: step.direction, transactional: step.transactional, sql };
}

/** The result of an up/down that failed before planning (the boundary could not load the config or select the services). */
export function migrateFailure(direction: Direction, dryRun: boolean | undefined, err: unknown): MigrateResult {
  return { ok: false, direction, database: '', databaseSource: 'default', dryRun: Boolean(dryRun), plan: [], results: [], warnings: [], error: toUnexpected(err) };
}

/** down works on one service: the boundary refuses any other selection with this, before reading anything else. */
export function downNeedsOneService(): TidemarkError {
  return new TidemarkError('bad-usage', 'down reverts one service at a time: give --service.', { kind: 'usage' });
}

async function migrate(direction: Direction, target: Target, options: MigrateCoreOptions): Promise<MigrateResult> {
  const result: MigrateResult = {
    ok: false,
    direction,
    database: '',
    databaseSource: 'default',
    dryRun: Boolean(options.dryRun),
    plan: [],
    results: [],
    warnings: [],
  };
  try {
    const { workspace, services } = target;
    if (direction === 'down' && services.length !== 1) throw downNeedsOneService();
    const histories = await readHistories(workspace, services);
    // Named before the first use of the database: a failure to connect still says which database was tried.
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const { db } = target;
    const names = services.map((s) => s.name);
    const serverVersionNum = await db.serverVersionNum();
    const declaredRequires = Object.fromEntries(workspace.services.map((s) => [s.name, s.requires]));

    const makePlan = async (ledger: LedgerRow[]): Promise<{ plan: Plan; prepared: PreparedStep[] }> => {
      const plan =
        direction === 'up'
          ? planUp({ histories, ledger, services: names, declaredRequires, to: options.to })
          : planDown({ histories, ledger, service: names[0], to: options.to, steps: options.steps });
      result.warnings = plan.warnings;
      // A dry run executes nothing: scripts are listed, not imported (importing runs their top level).
      const prepared = await prepareSteps(plan, { serverVersionNum, loadScripts: !options.dryRun });
      result.plan = prepared.map(describe);
      return { plan, prepared };
    };

    if (options.dryRun) {
      await makePlan(await readLedger(db));
      result.ok = true;
      return result;
    }
    // With --to, up touches only the target's service: lock just that one.
    const lockNames = direction === 'up' && options.to ? [resolveMigration(histories, options.to)?.service ?? names[0]] : names;
    await withServiceLocks(db, lockNames, options, async () => {
      // The ledger is read under the lock: a replica that waited sees what the first one applied.
      const { prepared } = await makePlan(await readLedger(db));
      if (prepared.length === 0) return;
      await ensureLedger(db);
      result.results = await executePlan(db, prepared, { action: direction, onEvent: options.onEvent });
    });
    const failed = result.results.find((r) => r.status === 'failed');
    if (failed) result.error = failed.error;
    result.ok = !failed;
  } catch (err) {
    result.error = toUnexpected(err);
  }
  return result;
}

/** Applies the pending migrations of the target's services, as values: never throws. */
export function up(target: Target<Database>, options: MigrateCoreOptions = {}): Promise<MigrateResult> {
  return migrate('up', target, options);
}

/** Reverts the target's one service down to `to` (or BASE), or the last `steps`. Never throws. */
export function down(target: Target<Database>, options: MigrateCoreOptions = {}): Promise<MigrateResult> {
  return migrate('down', target, options);
}

// The states are decided in ledger/diagnose.ts, for status, the planner and check alike.
export type { MigrationState } from '../ledger/diagnose.js';

export interface MigrationStatus {
  service: string;
  migration: string;
  file?: string;
  state: MigrationState;
  appliedAt?: string;
  appliedBy?: string;
  durationMs?: number;
  error?: string;
}

export interface ServiceStatus {
  service: string;
  format: 'tidemark' | 'alembic';
  applied: number;
  pending: number;
  problems: number;
  migrations: MigrationStatus[];
  hints: string[];
}

export interface StatusResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  hasLedger: boolean;
  /** Whether reset, rebaseline and restore --replace would refuse this database, and its `tidemark protect` mark. */
  protection?: ProtectionStatus;
  services: ServiceStatus[];
  error?: TidemarkError;
}

/** The result of a status that failed before reading anything (the boundary could not load the config or select the services). */
export function statusFailure(err: unknown): StatusResult {
  return { ok: false, database: '', databaseSource: 'default', hasLedger: false, protection: undefined, services: [], error: toUnexpected(err) };
}

/** Files against ledger, per service of the target. Reads only: never creates the ledger. */
export async function status(target: Target<Session>): Promise<StatusResult> {
  const result: StatusResult = { ok: false, database: '', databaseSource: 'default', hasLedger: false, protection: undefined, services: [] };
  try {
    const { workspace, services } = target;
    const histories = await readHistories(workspace, services);
    // Named before the first use of the database: a failure to connect still says which database was tried.
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const ledger = await readLedger(target.db);
    result.hasLedger = ledger.length > 0;
    result.protection = await target.protection();
    for (const service of services) {
      const history = histories.find((h) => h.service === service.name)!;
      const diagnosis = diagnoseLedger(history, ledger);
      const highest = diagnosis.highestApplied?.number ?? 0n;
      const migrations: MigrationStatus[] = [];
      const hints = new Set<string>();
      for (const d of diagnosis.migrations) {
        const { id, state, row } = d;
        if (d.state === 'missing-file') {
          migrations.push({ service: service.name, migration: id, state, appliedAt: d.row.appliedAt.toISOString(), appliedBy: d.row.appliedBy });
          hints.add(`${id} is applied but its file is missing: restore it from version control.`);
          continue;
        }
        const m = d.file;
        migrations.push({
          service: service.name,
          migration: id,
          file: m.file,
          state,
          ...(row ? { appliedAt: row.appliedAt.toISOString(), appliedBy: row.appliedBy, durationMs: row.durationMs, ...(row.error ? { error: row.error } : {}) } : {}),
        });
        if (state === 'failed') {
          const prev = history.migrations.filter((x) => x.number < m.number).pop()?.id ?? BASE;
          hints.add(
            `${id} failed outside a transaction and may be half-applied: fix the database by hand, then ` +
              `\`tidemark stamp --service ${service.name} --to ${id}\` (it is done) or \`tidemark stamp --service ${service.name} --to ${prev}\` (retry it on the next up).`,
          );
        }
        if (state === 'drift') hints.add(`${displayPath(m.file)} changed after it was applied: restore it and put the change in a new migration.`);
        if (state === 'out-of-order') hints.add(`${id} has a lower number than an applied migration: renumber it above ${formatMigrationNumber(highest)}.`);
      }
      result.services.push({
        service: service.name,
        format: service.format,
        applied: migrations.filter((m) => m.state === 'applied').length,
        pending: migrations.filter((m) => m.state === 'pending').length,
        problems: migrations.filter((m) => !['applied', 'pending'].includes(m.state)).length,
        migrations,
        hints: [...hints],
      });
    }
    result.ok = true;
  } catch (err) {
    result.error = toUnexpected(err);
  }
  return result;
}

export interface StampResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  service: string;
  added: string[];
  removed: string[];
  error?: TidemarkError;
}

export interface StampCoreOptions {
  /** The last migration of the service to count as applied, or BASE. */
  to: string;
  /** How long to wait for another run of the same service (default 10 min). */
  lockTimeoutMs?: number;
}

/** The result of a stamp that failed before reading anything (the boundary could not load the config or select the service). */
export function stampFailure(service: string, err: unknown): StampResult {
  return { ok: false, database: '', databaseSource: 'default', service, added: [], removed: [], error: toUnexpected(err) };
}

/**
 * Makes the ledger say exactly "every migration of the service up to `to` is applied" without
 * running any SQL (Alembic's stamp): for databases built before tidemark, and to resolve a failed
 * no-transaction migration. `to` may be BASE. The target names the one service.
 */
export async function stamp(target: Target<Session>, options: StampCoreOptions): Promise<StampResult> {
  const result: StampResult = { ok: false, database: '', databaseSource: 'default', service: target.services[0]?.name ?? '', added: [], removed: [] };
  try {
    const { workspace } = target;
    if (target.services.length !== 1) throw new TidemarkError('bad-usage', 'stamp writes the ledger of one service at a time: give --service.', { kind: 'usage' });
    const [service] = target.services;
    const histories = await readHistories(workspace, [service]);
    const history = histories.find((h) => h.service === service.name)!;
    let limit = 0n;
    if (options.to !== BASE) {
      const target = resolveMigration(histories, options.to);
      if (!target || target.service !== service.name) {
        throw new TidemarkError('unknown-target', `No migration ${options.to} in service ${service.name}.`, {
          kind: 'usage',
          hint: `Give a migration id of ${service.name} as \`tidemark status\` lists it, or \`base\`.`,
        });
      }
      limit = target.number;
    }
    // Named before the first use of the database: a failure to connect still says which database was tried.
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const { db } = target;
    await db.withAdvisoryLock(
      serviceLockKey(service.name),
      async () => {
        await ensureLedger(db);
        const rows = new Map((await readLedger(db, [service.name])).map((r) => [r.migration, r]));
        await db.transaction(async (tx) => {
          for (const m of history.migrations) {
            const row = rows.get(m.id);
            if (m.number <= limit && (!row || row.status === 'failed')) {
              await recordMigration(tx, { action: 'stamp', service: service.name, migration: m.id, checksum: m.checksum, durationMs: 0 });
              result.added.push(m.id);
            }
          }
          const numberOf = new Map(history.migrations.map((m) => [m.id, m.number]));
          for (const [id] of rows) {
            const n = numberOf.get(id) ?? BigInt(/_(\d+)(?:_|$)/.exec(id.slice(service.name.length))?.[1] ?? 0);
            if (n > limit) {
              await removeMigration(tx, 'stamp', service.name, id);
              result.removed.push(id);
            }
          }
        });
      },
      { timeoutMs: options.lockTimeoutMs },
    );
    result.ok = true;
  } catch (err) {
    result.error = toUnexpected(err);
  }
  return result;
}
