import { pathToFileURL } from 'node:url';
import type { Database, Queryable } from '../db/database.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import type { MigrationFile } from '../history/migration.js';
import { lineOfPosition, splitStatements, type SqlStatement } from '../history/sql-statements.js';
import { transactionChecker } from '../history/transaction-control.js';
import { logEvent, recordMigration, removeMigration } from '../ledger/ledger.js';
import { displayPath } from '../paths.js';
import type { ApplyEvent } from '../progress.js';
import type { Direction, Plan, PlanStep } from './plan.js';

/** What a script migration's up(ctx)/down(ctx) receives. */
export interface MigrationContext {
  /** The session the migration runs in (inside its transaction unless it is no-transaction). */
  db: Queryable;
  service: string;
  migration: string;
  log(message: string): void;
}

export interface ScriptMigration {
  up(ctx: MigrationContext): unknown | Promise<unknown>;
  down?(ctx: MigrationContext): unknown | Promise<unknown>;
}

/** A plan step made ready to run: statements split, scripts loaded. */
export interface PreparedStep extends PlanStep {
  statements?: SqlStatement[];
  script?: ScriptMigration;
}

export type StepStatus = 'applied' | 'reverted' | 'failed' | 'not-run';

export interface StepResult {
  service: string;
  migration: string;
  direction: Direction;
  status: StepStatus;
  durationMs?: number;
  error?: TidemarkError;
}

async function loadScript(m: MigrationFile): Promise<ScriptMigration> {
  let mod: Record<string, unknown>;
  try {
    if (m.file.endsWith('.ts')) {
      // jiti only for TypeScript migrations, and only when one is about to run.
      const { createJiti } = await import('jiti');
      mod = (await createJiti(import.meta.url, { moduleCache: false }).import(m.file)) as Record<string, unknown>;
    } else {
      mod = (await import(pathToFileURL(m.file).href)) as Record<string, unknown>;
    }
  } catch (err) {
    throw new TidemarkError('migration-load', `${displayPath(m.file)}: cannot load ${m.id}: ${(err as Error).message}.`, {
      kind: 'input',
      file: m.file,
      migration: m.id,
      service: m.service,
      cause: err,
    });
  }
  const exported = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Partial<ScriptMigration>;
  if (typeof exported.up !== 'function') {
    throw new TidemarkError('migration-file', `${displayPath(m.file)}: ${m.id} does not export a function \`up(ctx)\`.`, {
      kind: 'input',
      file: m.file,
      migration: m.id,
      service: m.service,
    });
  }
  return exported as ScriptMigration;
}

export interface PrepareOptions {
  /** The target's server_version_num, when known (ALTER TYPE … ADD VALUE is refused before 12). */
  serverVersionNum?: number;
  /**
   * False for a dry run: scripts are listed, never imported (importing runs their top-level code).
   * Default true.
   */
  loadScripts?: boolean;
}

/**
 * Splits every SQL step and loads every script before anything runs, so a syntax error, a statement
 * that would break the migration's transaction (src/history/transaction-control.ts) or a broken
 * script is reported as bad input with nothing applied.
 */
export async function prepareSteps(plan: Plan, options: PrepareOptions = {}): Promise<PreparedStep[]> {
  const prepared: PreparedStep[] = [];
  for (const step of plan.steps) {
    const m = step.migration;
    if (m.kind === 'sql') {
      const section = step.direction === 'up' ? m.up : m.down;
      const file = displayPath(m.file);
      const inspect = transactionChecker({ file, migrationId: m.id, transactional: step.transactional, serverVersionNum: options.serverVersionNum });
      prepared.push({ ...step, statements: section ? await splitStatements(section, file, m.id, { inspect }) : [] });
    } else if (options.loadScripts === false) {
      prepared.push({ ...step });
    } else {
      const script = await loadScript(m);
      if (step.direction === 'down' && typeof script.down !== 'function') {
        throw new TidemarkError('no-down-section', `${displayPath(m.file)}: ${m.id} does not export \`down(ctx)\`, so it cannot be reverted.`, {
          kind: 'input',
          file: m.file,
          migration: m.id,
          service: m.service,
        });
      }
      prepared.push({ ...step, script });
    }
  }
  return prepared;
}

interface DbErrorFields {
  message?: string;
  code?: string;
  position?: string | number;
  detail?: string;
  hint?: string;
}

async function transactionId(q: Queryable): Promise<string> {
  const { rows } = await q.query<{ id: string }>('SELECT txid_current()::text AS id');
  return rows[0].id;
}

/**
 * Outside tidemark's transaction: is a transaction block open on the session (two statements in
 * autocommit get two ids; one open block gives both the same, an aborted one refuses)? If so, roll
 * it back and say so.
 */
async function endOpenBlock(q: Queryable): Promise<boolean> {
  let open = true;
  try {
    open = (await transactionId(q)) === (await transactionId(q));
  } catch (err) {
    if ((err as DbErrorFields).code !== '25P02') throw err;
  }
  if (open) await q.exec('ROLLBACK').catch(() => {});
  return open;
}

function escapedError(step: PlanStep, what: string): TidemarkError {
  const m = step.migration;
  return new TidemarkError('migration-escaped-transaction', `${displayPath(m.file)}: ${m.id} ${what}.`, {
    file: m.file,
    service: m.service,
    migration: m.id,
    hint:
      `What ran before that may have been committed, so ${m.id} is recorded as failed: check the database by hand, remove the transaction control ` +
      `from the script, then \`tidemark stamp --service ${m.service} --to …\` (see \`tidemark status\`).`,
  });
}

function withHint(error: TidemarkError, extra: string): TidemarkError {
  return new TidemarkError(error.code, error.message, {
    file: error.file,
    line: error.line,
    service: error.service,
    migration: error.migration,
    hint: error.hint ? `${error.hint} ${extra}` : extra,
    cause: (error as { cause?: unknown }).cause,
  });
}

function failure(step: PlanStep, err: unknown, statement: SqlStatement | undefined): TidemarkError {
  const m = step.migration;
  if (isTidemarkError(err) && (err.code === 'database-unreachable' || err.code === 'migration-escaped-transaction')) return err;
  const e = (err ?? {}) as DbErrorFields;
  const line = statement ? lineOfPosition(statement, e.position) : undefined;
  const where = line ? `${displayPath(m.file)}:${line}` : displayPath(m.file);
  const sqlstate = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` (SQLSTATE ${e.code})` : '';
  const detail = e.detail ? ` ${e.detail}` : '';
  const verb = step.direction === 'up' ? 'failed' : 'failed to revert';
  const hint = step.transactional
    ? `Nothing of ${m.id} was kept (its transaction rolled back). Fix it and run ${step.direction} again.`
    : `${m.id} runs outside a transaction and may be half-${step.direction === 'up' ? 'applied' : 'reverted'}: fix the database by hand, ` +
      `then record the outcome with \`tidemark stamp --service ${m.service} --to …\` (see \`tidemark status\`).`;
  return new TidemarkError('migration-failed', `${where}: ${m.id} ${verb}: ${e.message ?? String(err)}${sqlstate}.${detail}`, {
    file: m.file,
    line,
    service: m.service,
    migration: m.id,
    hint: e.hint ? `${e.hint} ${hint}` : hint,
    cause: err,
  });
}

/**
 * Runs prepared steps in order, each in its own transaction together with its ledger row (unless
 * no-transaction). Stops at the first failure; later steps are `not-run`. Never throws for a
 * failing migration: the failure is in the results.
 */
export async function executePlan(db: Database, steps: readonly PreparedStep[], options: { action?: string; onEvent?: (event: ApplyEvent) => void } = {}): Promise<StepResult[]> {
  const emit = options.onEvent ?? (() => {});
  const results: StepResult[] = [];
  let failed = false;
  for (const step of steps) {
    const m = step.migration;
    const base = { service: step.service, migration: m.id, direction: step.direction };
    if (failed) {
      results.push({ ...base, status: 'not-run' });
      continue;
    }
    emit({ type: 'step-start', step });
    const started = performance.now();
    let current: SqlStatement | undefined;
    const run = async (q: Queryable) => {
      if (step.statements) {
        for (const statement of step.statements) {
          current = statement;
          await q.exec(statement.text);
        }
        current = undefined;
      } else {
        const ctx: MigrationContext = {
          db: q,
          service: step.service,
          migration: m.id,
          log: (message) => emit({ type: 'log', step, message }),
        };
        const fn = () => (step.direction === 'up' ? step.script!.up(ctx) : step.script!.down!(ctx));
        if (step.transactional) {
          // The same transaction id before and after: the script did not COMMIT, ROLLBACK or BEGIN anew.
          const before = await transactionId(q);
          await fn();
          let after: string | undefined;
          try {
            after = await transactionId(q);
          } catch (err) {
            if ((err as DbErrorFields).code !== '25P02') throw err;
          }
          if (after !== before) throw escapedError(step, "ended the migration's transaction (a COMMIT, ROLLBACK or BEGIN through ctx.db)");
        } else {
          await fn();
          if (await endOpenBlock(q)) {
            throw escapedError(step, 'left a transaction open (a BEGIN through ctx.db without its COMMIT); it was rolled back');
          }
        }
      }
    };
    const record = async (q: Queryable, durationMs: number) => {
      if (step.direction === 'up') {
        await recordMigration(q, { action: options.action ?? 'up', service: step.service, migration: m.id, checksum: m.checksum, durationMs });
      } else {
        await removeMigration(q, options.action ?? 'down', step.service, m.id, durationMs);
        // A squash reverted on a database migrated before it: the squashed ids' rows go with it, in its transaction.
        for (const id of step.squashedRows ?? []) await removeMigration(q, options.action ?? 'down', step.service, id, durationMs);
      }
    };
    try {
      if (step.transactional) {
        await db.transaction(async (tx) => {
          await run(tx);
          await record(tx, performance.now() - started);
        });
      } else {
        await run(db);
        await record(db, performance.now() - started);
      }
      const durationMs = performance.now() - started;
      results.push({ ...base, status: step.direction === 'up' ? 'applied' : 'reverted', durationMs });
      emit({ type: 'step-done', step, durationMs });
    } catch (err) {
      const durationMs = performance.now() - started;
      let error = failure(step, err, current);
      const escaped = isTidemarkError(err) && err.code === 'migration-escaped-transaction';
      if (step.transactional && !escaped) {
        // The transaction rolled back with the migration's ledger row: record the failure on its own,
        // after the rollback. If even that fails, say so, but the migration's error stays the error.
        try {
          await logEvent(db, {
            action: options.action ?? step.direction,
            service: step.service,
            migration: m.id,
            outcome: 'failed',
            detail: { durationMs: Math.round(durationMs), error: error.message },
          });
        } catch (logErr) {
          error = withHint(error, `The failure could not be recorded in tidemark.events: ${(logErr as Error)?.message ?? String(logErr)}.`);
        }
      }
      if (!step.transactional && step.script) {
        // A no-transaction script that failed inside a BEGIN of its own left that block open (or
        // aborted): roll it back, so the ledger row below is written and committed on its own.
        await endOpenBlock(db).catch(() => false);
      }
      if (!step.transactional || escaped) {
        // Half-done: say so in the ledger, so status and the next up know.
        try {
          await recordMigration(db, {
            action: options.action ?? step.direction,
            service: step.service,
            migration: m.id,
            checksum: m.checksum,
            durationMs,
            status: 'failed',
            error: error.message,
          });
        } catch (recordErr) {
          // the connection may be gone; the error below still says what happened
          error = withHint(error, `The failure could not be recorded in the ledger: ${(recordErr as Error)?.message ?? String(recordErr)}.`);
        }
      }
      results.push({ ...base, status: 'failed', durationMs, error });
      emit({ type: 'step-failed', step, durationMs, error });
      failed = true;
    }
  }
  return results;
}
