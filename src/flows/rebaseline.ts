/**
 * `tidemark rebaseline --service S` (DESIGN §6, issue 5 item 4): the seed's production reset, made
 * atomic. The service's migrations directory holds its baseline (normally one
 * `<service>_001_initial_schema.sql`, written by `tidemark baseline` or by hand).
 *
 * 1. Preflight: the doctor is clean for S (or `force`), S's lock is taken for the whole run, a backup
 *    of S's tables is written AND verified on disk, and the baseline is replayed on a shadow database.
 * 2. Live schema equal to the replayed baseline → metadata only: ONE transaction replaces S's ledger
 *    rows by the baseline's and retires S's Alembic version rows. No data moves.
 * 3. Otherwise ONE transaction: drop S's owned objects, apply the baseline, restore the backup into it
 *    (column mapping), compare the result with the shadow's snapshot, validate counts, content digests
 *    (restore does) and relationships (no orphan that was not there before), write the ledger and the
 *    event — COMMIT only if all of it held. Any failure, or the process dying, rolls everything back:
 *    PostgreSQL DDL is transactional, so the "automatic rollback" is a property, not a script.
 * 4. A report: what changed, rows per table before and after, the backup's path, time per step.
 *
 * Results as values: never throws. It works on a guarded Target opened by its caller (api/rebaseline.ts):
 * the guard runs on the target's first use, after the history and the doctor were checked.
 */
import { readHistories } from '../apply/migrate.js';
import { withRequiredServices } from '../config/services.js';
import type { Workspace } from '../config/types.js';
import type { DatabaseSource } from '../target/target.js';
import type { Queryable } from '../db/database.js';
import { withServiceLocks } from '../ledger/locks.js';
import type { FlowStepEvent } from '../progress.js';
import { withTx, type Target } from '../target/target.js';
import type { ValidateResult } from '../data/validate.js';
import { TidemarkError, asTidemarkError, isTidemarkError } from '../errors.js';
import type { MigrationFile } from '../history/migration.js';
import { splitStatements } from '../history/sql-statements.js';
import { ensureLedger, forgetService, logEvent, recordMigration } from '../ledger/ledger.js';
import { displayPath } from '../paths.js';
import type { Snapshot, SchemaDifference } from '../schema/snapshot.js';
import { retireAlembicRows, type RetiredRows } from './alembic-retire.js';

export type RebaselineStepName = 'preflight' | 'backup' | 'verify-backup' | 'shadow' | 'compare' | 'transaction';

export interface RebaselineStep {
  step: RebaselineStepName | string;
  ms: number;
}

/** What to do; which database and service come with the Target (api/rebaseline.ts adds them to the public options). */
export interface RebaselineSettings {
  /** Where the backup goes (default ./backups/<database>-<timestamp>). */
  backupDir?: string;
  backupFormat?: 'ndjson' | 'csv';
  /** Go on although the doctor reports errors for the service. */
  force?: boolean;
  /** Preflight only (doctor, shadow, comparison): no backup, no change. */
  dryRun?: boolean;
  /** The service's old Alembic versions directory: its revisions are deleted from `alembicVersionTable`. */
  retireAlembic?: string;
  alembicVersionTable?: string;
  /** An explicit shadow database (`--shadow URL`); default a temporary one on the same server, else PGlite. */
  shadow?: string;
  lockTimeoutMs?: number;
  /** Each step as it starts (`flow-step`: its name and a detail), for a printer. */
  onEvent?: (event: FlowStepEvent) => void;
  /**
   * Called inside the transaction after the restore, before validation: a seam for fault-injection
   * tests (a change made here must be caught by validation and roll everything back).
   */
  beforeValidate?: (tx: Queryable) => Promise<void>;
}

export interface RebaselineTableRows {
  table: string;
  before: number;
  after: number;
}

export interface RebaselineResult {
  ok: boolean;
  dryRun: boolean;
  service: string;
  database: string;
  databaseSource: DatabaseSource;
  /** `metadata`: schema already equal, only the ledger changed; `full`: dropped, rebuilt, restored. */
  mode?: 'metadata' | 'full';
  /** What differs between the live schema and the baseline (empty for `metadata`). */
  differences: SchemaDifference[];
  /** The baseline's migrations, now the service's ledger. */
  migrations: string[];
  /** Ledger rows replaced. */
  previousLedger: string[];
  retired?: RetiredRows;
  /** Where the baseline was replayed. */
  shadow?: string;
  backupDir?: string;
  rows: RebaselineTableRows[];
  /** Orphans that existed before and still exist (not a failure; reported). */
  notes: string[];
  steps: RebaselineStep[];
  durationMs: number;
  error?: TidemarkError;
}

/** A result with nothing done yet; with `error`, that of a rebaseline refused before it had a target (a config, an unknown service). */
export function rebaselineFailed(service: string, dryRun: boolean, error?: TidemarkError): RebaselineResult {
  return {
    ok: false,
    dryRun,
    service,
    database: '',
    databaseSource: 'default',
    differences: [],
    migrations: [],
    previousLedger: [],
    rows: [],
    notes: [],
    steps: [],
    durationMs: 0,
    ...(error ? { error } : {}),
  };
}

/** Rebaselines the target's one selected service. */
export async function rebaseline(target: Target, options: RebaselineSettings): Promise<RebaselineResult> {
  const started = performance.now();
  const { workspace } = target;
  const [service] = target.services;
  const result = rebaselineFailed(service.name, !!options.dryRun);
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    result.steps.push({ step: name, ms: now - mark });
    mark = now;
  };
  const say = (step: string, detail?: string) => options.onEvent?.({ type: 'flow-step', step, ...(detail === undefined ? {} : { detail }) });
  try {
    const histories = await readHistories(workspace, [service]);
    const history = histories.find((h) => h.service === service.name)!;
    const migrations = history.migrations;
    if (migrations.length === 0) {
      throw new TidemarkError('no-baseline', `Service ${service.name} has no migration in ${displayPath(service.migrationsDir)}: nothing to rebaseline onto.`, {
        kind: 'input',
        service: service.name,
        hint: `Write one with \`tidemark baseline --service ${service.name}\` first.`,
      });
    }
    for (const m of migrations) {
      if (m.kind !== 'sql' || !m.transactional) {
        throw new TidemarkError(
          'rebaseline-not-transactional',
          `${displayPath(m.file)}: ${m.id} is ${m.kind !== 'sql' ? 'a script' : 'marked no-transaction'}; rebaseline runs the baseline inside ONE transaction, so every migration of ${service.name} must be transactional SQL.`,
          {
            kind: 'input',
            file: m.file,
            service: service.name,
            hint: 'Squash the service into one SQL baseline (`tidemark baseline`), or apply it with `tidemark up`.',
          },
        );
      }
    }
    result.migrations = migrations.map((m) => m.id);

    // The doctor first: a rebaseline on a broken history would bake the breakage in.
    say('preflight', 'running the doctor');
    const { check } = await import('../check/run.js');
    // The files only (a Scope: no database), every service seen, the report narrowed to this one.
    const doctor = await check({ workspace, services: target.services, paths: target.paths }, { service: [service.name] });
    if (doctor.error) throw doctor.error;
    const errors = doctor.diagnostics.filter((d) => d.severity === 'error' && (d.service === service.name || d.service === undefined));
    if (errors.length && !options.force) {
      const first = errors[0];
      throw new TidemarkError(
        'rebaseline-doctor',
        `The doctor reports ${errors.length} error${errors.length === 1 ? '' : 's'} for ${service.name} (first: ${first.file ? `${displayPath(first.file)}${first.line ? `:${first.line}` : ''}: ` : ''}${first.message.replace(/\.$/, '')}); nothing was changed.`,
        {
          kind: 'input',
          service: service.name,
          hint: 'Fix them (`tidemark check` lists them all), or pass --force to rebaseline anyway.',
        },
      );
    }

    // The guard runs on the first use of the database, below: after the history and the doctor.
    const db = target.db;
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    step('preflight');

    await withServiceLocks(db, [service.name], options, async () => {
      // The baseline, replayed where nothing else lives.
      say('shadow', 'replaying the baseline on a shadow database');
      const { introspect } = await import('../schema/introspect/index.js');
      const { compareSnapshots } = await import('../schema/diff/compare.js');
      const { renderDrop, unsupportedObjects } = await import('../schema/render/baseline.js');
      const replayed = await replayOnShadow(target, service.name, options.shadow, introspect);
      const expected = replayed.snapshot;
      result.shadow = replayed.description;
      step('shadow');
      const live = await introspect(db, { workspace, service: service.name });
      const unsupported = unsupportedObjects(live);
      if (unsupported.length) {
        throw new TidemarkError('rebaseline-unsupported', `Service ${service.name} owns ${unsupported.join(', ')}, which tidemark cannot reproduce; nothing was changed.`, {
          kind: 'input',
          service: service.name,
          hint: 'Move those objects out of the service (or drop them), then rebaseline.',
        });
      }
      result.differences = compareSnapshots(live, expected);
      result.mode = result.differences.length === 0 ? 'metadata' : 'full';
      step('compare');
      // A full rebaseline drops and recreates what the service owns: whatever of another service hangs
      // on it (a foreign key onto its table, a view reading it, a trigger calling its function) would
      // make the drop fail with PostgreSQL's bare "other objects depend on them". Name each one first.
      const dependents = result.mode === 'full' ? (live.dependents ?? []) : [];
      if (dependents.length > 0) {
        const shown = dependents.slice(0, 5).map((d) => `${d.from} (${d.service ? `service ${d.service}` : 'no service'}) on ${d.object}`);
        const services = [...new Set(dependents.map((d) => d.service).filter((x) => x !== ''))].sort();
        throw new TidemarkError(
          'rebaseline-dependents',
          `Cannot rebaseline ${service.name}: it drops and recreates its objects, and ${shown.join(', ')}${dependents.length > 5 ? `, and ${dependents.length - 5} more` : ''} depend${dependents.length === 1 ? 's' : ''} on them; nothing was changed.`,
          {
            kind: 'input',
            service: service.name,
            hint: `Drop those objects in a migration of ${services.length ? `service ${services.join(', ')}` : 'their owner'} and re-create them after the rebaseline, or first make the live schema equal to the baseline (then rebaseline only rewrites the ledger).`,
          },
        );
      }
      const ledgerBefore = await readServiceLedger(db, service.name);
      result.previousLedger = ledgerBefore;
      if (options.dryRun) return;

      // The backup, written and verified on disk before anything changes.
      say('backup', "backing up the service's tables");
      const { backup } = await import('../data/backup/index.js');
      // On this one session, as before the target existed: a second session for the digests measured
      // slower here (1M rows: 2.63 s against 2.35 s), while this run holds the service's lock.
      const written = await backup({ ...target, openSibling: undefined }, { out: options.backupDir, format: options.backupFormat ?? 'ndjson' });
      if (!written.ok || !written.dir) throw written.error ?? new TidemarkError('backup-failed', `The backup of ${service.name} failed; nothing was changed.`);
      result.backupDir = written.dir;
      for (const t of written.tables) result.rows.push({ table: t.table, before: t.rows, after: t.rows });
      step('backup');
      say('verify-backup', written.dir);
      const { verifyBackup } = await import('../data/verify.js');
      const verified = await verifyBackup(written.dir);
      if (!verified.ok) {
        throw new TidemarkError(
          'rebaseline-backup-corrupt',
          `The backup just written to ${written.dir} does not verify (${verified.problems.map((p) => p.message).join('; ')}); nothing was changed.`,
          {
            service: service.name,
            hint: 'Check the disk, then run again.',
          },
        );
      }
      step('verify-backup');

      await ensureLedger(db);
      const { validate } = await import('./validate.js');
      const orphansBefore = result.mode === 'full' ? await orphanFindings(await validate(target, { structure: false })) : new Map<string, string>();

      say('transaction', result.mode === 'metadata' ? 'schema equal to the baseline: replacing the ledger only' : 'dropping, applying the baseline, restoring, validating');
      await db.transaction(async (tx) => {
        if (result.mode === 'full') {
          try {
            await tx.exec(renderDrop(live));
          } catch (err) {
            const e = err as { code?: string; message?: string; detail?: string };
            if (e.code !== '2BP01') throw err;
            throw new TidemarkError(
              'rebaseline-dependents',
              `Cannot rebaseline ${service.name}: dropping its objects failed because other objects depend on them (${(e.detail ?? e.message ?? '').replace(/\n/g, '; ')}); everything rolled back.`,
              {
                kind: 'input',
                service: service.name,
                hint: 'Drop those objects in a migration of the service that owns them and re-create them after the rebaseline.',
                cause: err,
              },
            );
          }
          await applyBaseline(tx, migrations, say);
          say('restore', `${result.rows.reduce((n, r) => n + r.before, 0)} rows`);
          const { restore } = await import('../data/restore/index.js');
          // The same target, through this transaction: restore works in a savepoint of it.
          const inTx = withTx(target, tx);
          const restored = await restore(inTx, { dir: written.dir!, service: [service.name] });
          if (!restored.ok) throw restored.error ?? new TidemarkError('restore-failed', 'The restore into the baseline failed.');
          if (options.beforeValidate) await options.beforeValidate(tx);
          say('validate', 'structure, counts, relationships');
          const rebuilt = await introspect(tx, { workspace, service: service.name });
          const left = compareSnapshots(rebuilt, expected, { expected: 'rebuilt', actual: 'baseline' });
          if (left.length) {
            throw new TidemarkError(
              'rebaseline-structure',
              `After applying the baseline, ${service.name}'s schema still differs from the replayed baseline: ${left.map((d) => d.message).join('; ')}.`,
            );
          }
          const checked = await validate(inTx, { against: written.dir, structure: false });
          if (checked.error) throw checked.error;
          const fresh: string[] = [];
          for (const f of checked.findings) {
            if (f.check === 'relationships' && orphansBefore.get(f.table ?? '') === f.message) {
              result.notes.push(`Orphans already there before the rebaseline, kept: ${f.message}`);
              continue;
            }
            fresh.push(f.message);
          }
          if (fresh.length) throw new TidemarkError('rebaseline-validation', `Validation failed after the restore: ${fresh.join('; ')}.`);
          const counts = new Map(checked.counts.map((c) => [c.table, c.live]));
          for (const r of result.rows) r.after = counts.get(r.table) ?? r.after;
        }
        await forgetService(tx, service.name);
        for (const m of migrations) {
          await recordMigration(tx, { action: 'rebaseline', service: service.name, migration: m.id, checksum: m.checksum, durationMs: 0 });
        }
        if (options.retireAlembic) {
          result.retired = await retireAlembicRows(tx, { dir: options.retireAlembic, service: service.name, versionTable: options.alembicVersionTable ?? 'alembic_version' });
        }
        await logEvent(tx, {
          action: 'rebaseline',
          service: service.name,
          outcome: 'ok',
          detail: { mode: result.mode, backup: result.backupDir, previous: ledgerBefore, migrations: result.migrations, differences: result.differences.length },
        });
      });
      step('transaction');
    });
    result.ok = true;
  } catch (err) {
    result.error = isTidemarkError(err) ? err : new TidemarkError('rebaseline-failed', `Rebaseline failed and rolled back: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

async function readServiceLedger(db: Queryable, service: string): Promise<string[]> {
  const { readLedger } = await import('../ledger/ledger.js');
  return (await readLedger(db, [service])).map((r) => r.migration);
}

/**
 * Replays the service (and what it requires) on a fresh shadow database and snapshots it. Against a
 * server the shadow is a temporary database on that server (so the baseline is proven on the
 * target's PostgreSQL version), else an in-process PGlite; `description` says which.
 */
async function replayOnShadow(
  target: Target,
  service: string,
  shadowUrl: string | undefined,
  introspect: (db: Queryable, scope: { workspace: Workspace; service: string }) => Promise<Snapshot>,
): Promise<{ snapshot: Snapshot; description: string }> {
  const { workspace } = target;
  const shadow = await target.openShadow({ url: shadowUrl });
  // The one replay (apply/replay.ts); it throws where `up` returned an error, and introspecting stays
  // outside the wrapping: only a failing replay is "the baseline does not replay".
  const { replayMigrations } = await import('../apply/replay.js');
  try {
    try {
      await replayMigrations({ workspace }, withRequiredServices(workspace, [service]), shadow.database);
    } catch (err) {
      const e = asTidemarkError(err);
      throw new TidemarkError('rebaseline-baseline-fails', `The baseline of ${service} does not replay on a fresh shadow database (${shadow.description}): ${e.message}; nothing was changed.`, {
        kind: 'input',
        service,
        file: e.file,
        line: e.line,
        hint: 'Fix the baseline file, then rebaseline again.',
      });
    }
    return { snapshot: await introspect(shadow.database, { workspace, service }), description: shadow.description };
  } finally {
    await shadow.dispose().catch(() => {});
  }
}

async function applyBaseline(tx: Queryable, migrations: readonly MigrationFile[], say: (step: string, detail?: string) => void): Promise<void> {
  for (const m of migrations) {
    say('baseline', m.id);
    const statements = m.up ? await splitStatements(m.up, displayPath(m.file), m.id) : [];
    for (const s of statements) {
      try {
        await tx.exec(s.text);
      } catch (err) {
        const e = err as { message?: string; code?: string };
        throw new TidemarkError(
          'rebaseline-baseline-failed',
          `${displayPath(m.file)}:${s.line}: ${m.id} failed inside the rebaseline transaction: ${e.message ?? String(err)}${e.code ? ` (SQLSTATE ${e.code})` : ''}; everything rolled back.`,
          {
            file: m.file,
            line: s.line,
            service: m.service,
            cause: err,
          },
        );
      }
    }
  }
}

/** Relationship findings before anything changes, keyed by table: pre-existing orphans do not fail the rebaseline. */
function orphanFindings(r: ValidateResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of r.findings) if (f.check === 'relationships') out.set(f.table ?? '', f.message);
  return out;
}
