/**
 * `tidemark demo` (issue 5 item 6): the CRM Ditual story end to end, on an embedded PGlite in a
 * temporary directory, built only from the examples shipped with the package:
 *
 *   1. the legacy database: the schema the two Alembic histories produced, the shared and
 *      contaminated `alembic_version`, and deterministic data (10,000 users, 50,000 budgets,
 *      200,000 items by default);
 *   2. the doctor on the legacy Alembic directories: the four problems, plus the contamination;
 *   3. a backup of every table, verified on disk;
 *   4. adopt user_service as `user`, then budget_service as `budget` (baselines proven on a shadow,
 *      stamped, their alembic_version rows retired, the config switched);
 *   5. validate against the backup: structure, counts, relationships;
 *   6. one new migration per service, applied;
 *   7. autogenerate (demo-autogenerate.ts): budget's desired schema written and edited, `tidemark diff`
 *      writes the migration, applied, `tidemark test` passes;
 *   8. the doctor again: clean.
 *
 * Every step goes through the same functions the commands use; the demo only composes them.
 * Results as values: never throws. A failing step stops the demo with its own code (demo-backup,
 * demo-adopt, demo-validate, demo-up, demo-autogenerate, demo-doctor; demo-failed for the others), a message naming
 * the step and what went wrong, and a hint with the command that shows it again in the kept
 * project. The steps are a parameter (`steps`, the real ones by default), so a test can make one fail.
 *
 * The demo lives in api/ because it is a user of the public entry points, not a core: it builds its
 * workspace and its database, opens its one target itself (its PGlite, then target/open.ts around it, in
 * the first step), runs the commands' entry points one after the other on them as a user would, and
 * closes everything at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AUTOGENERATE, autogenerateStep } from './demo-autogenerate.js';
import { up } from './migrate.js';
import type { Workspace } from '../config/types.js';
import type { Database } from '../db/database.js';
import { TidemarkError, UNEXPECTED_HINT, isTidemarkError, type ErrorCode } from '../errors.js';
import { createMigrationFile } from '../history/new-migration.js';
import { writeSumFile } from '../history/sum-io.js';
import type { Target } from '../target/target.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/crm-ditual/', import.meta.url));

export interface DemoOptions {
  /** Where to build it (default a new temporary directory). */
  dir?: string;
  /** Keep the directory afterwards (default: keep only when `dir` was given). */
  keep?: boolean;
  users?: number;
  budgetsPerUser?: number;
  itemsPerBudget?: number;
  /** Told each step as it ends. */
  onStep?: (step: DemoStep) => void;
  /** Steps to use instead of the real ones (DEMO_STEPS), by name. */
  steps?: Partial<DemoSteps>;
}

export interface DemoStep {
  title: string;
  /** One line per fact worth reading. */
  lines: string[];
  ms: number;
  ok: boolean;
}

export interface DemoResult {
  ok: boolean;
  dir: string;
  kept: boolean;
  steps: DemoStep[];
  /** Rule ids the doctor reported on the legacy histories. */
  legacyRules: string[];
  rows: Record<string, number>;
  durationMs: number;
  error?: TidemarkError;
}

/** The steps, in the order they run. */
export const DEMO_STEP_NAMES = ['legacy', 'doctor', 'backup', 'adopt', 'validate', 'migrate', 'autogenerate', 'doctor-again'] as const;
export type DemoStepName = (typeof DEMO_STEP_NAMES)[number];

/** What the steps share; each step reads what the ones before it left. */
export interface DemoContext {
  /** The project directory (absolute). */
  dir: string;
  sizes: { users: number; budgetsPerUser: number; itemsPerBudget: number };
  result: DemoResult;
  /** The demo's one target (its project and its PGlite), opened by the first step; closed with `db` when the demo ends. */
  target?: Target & { close(): Promise<void> };
  /** The database the steps work on (the target's). */
  db?: Database;
  /** The workspace as it is now (re-read after each adoption rewrites the config). */
  workspace?: Workspace;
  /** Where the backup goes (absolute). */
  backupDir: string;
  /** The adoption under way, named in the adopt step's failure. */
  adopting?: { from: string; to: string };
  /** The command that shows the autogenerate step's failure again, for the part of it under way. */
  rerun?: string;
}

/** A step's account of itself. `failure`: the step ran, and what it found stops the demo (e.g. validate's findings). */
export interface DemoStepReport {
  title: string;
  lines: string[];
  /** Shown as ✓ (default) or ✗. */
  ok?: boolean;
  failure?: string;
}

export type DemoSteps = Record<DemoStepName, (ctx: DemoContext) => Promise<DemoStepReport>>;

interface CrmData {
  crmDataStatements(opts?: { users?: number; budgetsPerUser?: number; itemsPerBudget?: number }): string[];
  crmCounts(opts?: { users?: number; budgetsPerUser?: number; itemsPerBudget?: number }): Record<string, number>;
}

const n = (x: number) => x.toLocaleString('en-US');

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const dir = options.dir ? path.resolve(options.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-demo-'));
  const keep = options.keep ?? options.dir !== undefined;
  const result: DemoResult = { ok: false, dir, kept: keep, steps: [], legacyRules: [], rows: {}, durationMs: 0 };
  const sizes = { users: options.users ?? 10_000, budgetsPerUser: options.budgetsPerUser ?? 5, itemsPerBudget: options.itemsPerBudget ?? 4 };
  const ctx: DemoContext = { dir, sizes, result, backupDir: path.join(dir, 'backups', 'before-adopt') };
  const steps: DemoSteps = { ...DEMO_STEPS, ...options.steps };
  let mark = performance.now();
  let current: DemoStepName | undefined;
  try {
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new TidemarkError('demo-dir-not-empty', `${dir} is not empty: the demo builds its project in a new or empty directory.`, { kind: 'usage' });
    }
    for (const name of DEMO_STEP_NAMES) {
      current = name;
      const report = await steps[name](ctx);
      const now = performance.now();
      const step: DemoStep = { title: report.title, lines: report.lines, ms: now - mark, ok: report.ok ?? report.failure === undefined };
      mark = now;
      result.steps.push(step);
      options.onStep?.(step);
      if (report.failure !== undefined) throw new StepFailure(report.failure);
    }
    current = undefined;
    result.ok = true;
  } catch (err) {
    result.error = current === undefined ? (isTidemarkError(err) ? err : stepError('legacy', ctx, err)) : stepError(current, ctx, err);
  } finally {
    // Closing must not hide the outcome. The target wraps the database the first step opened: both are closed.
    if (ctx.target) await ctx.target.close().catch(() => {});
    if (ctx.db) await ctx.db.close().catch(() => {});
    if (!keep && result.ok) fs.rmSync(dir, { recursive: true, force: true });
    else result.kept = true;
    result.durationMs = performance.now() - started;
  }
  return result;
}

/** A step that ran and found what stops the demo (its message is the whole story, no error below it). */
class StepFailure extends Error {}

/** Per step: the code its failure carries, how the message names it, and the command that shows it again. */
const ON_FAILURE: Record<DemoStepName, { code: ErrorCode; step: (ctx: DemoContext) => string; again?: (ctx: DemoContext) => string }> = {
  legacy: { code: 'demo-failed', step: () => 'The demo failed while building the legacy database' },
  doctor: { code: 'demo-failed', step: () => "The demo's doctor on the legacy histories failed", again: () => 'tidemark check --db' },
  backup: { code: 'demo-backup', step: () => "The demo's backup step failed", again: (ctx) => `tidemark verify-backup ${path.relative(ctx.dir, ctx.backupDir)}` },
  adopt: {
    code: 'demo-adopt',
    step: (ctx) => `The demo's adopt step failed${ctx.adopting ? ` for ${ctx.adopting.from} → ${ctx.adopting.to}` : ''}`,
    again: (ctx) => `tidemark adopt --service ${ctx.adopting?.from ?? ADOPTIONS[0][0]} --as ${ctx.adopting?.to ?? ADOPTIONS[0][1]}`,
  },
  validate: { code: 'demo-validate', step: () => "The demo's validate step failed", again: (ctx) => `tidemark validate --against ${path.relative(ctx.dir, ctx.backupDir)}` },
  migrate: { code: 'demo-up', step: () => "The demo's up step (new migrations, applied) failed", again: () => 'tidemark status' },
  autogenerate: {
    code: 'demo-autogenerate',
    step: () => "The demo's autogenerate step (desired schema, tidemark diff, tidemark test) failed",
    again: (ctx) => ctx.rerun ?? AUTOGENERATE.commands.diff,
  },
  'doctor-again': { code: 'demo-doctor', step: () => "The demo's last doctor failed", again: () => 'tidemark check --db' },
};

/**
 * The error a failing step ends the demo with: the step's code; the message names the step and what went wrong
 * (a tidemark error's own code in brackets); the hint says what to run, in the project the demo keeps, to see it.
 */
function stepError(name: DemoStepName, ctx: DemoContext, err: unknown): TidemarkError {
  const on = ON_FAILURE[name];
  const errno = err as NodeJS.ErrnoException;
  let reason: string;
  let first: string | undefined;
  if (err instanceof StepFailure) {
    reason = err.message;
  } else if (isTidemarkError(err)) {
    reason = `${err.message} [${err.code}]`;
    first = err.hint;
  } else if (typeof errno?.code === 'string' && /^E[A-Z]+$/.test(errno.code)) {
    reason = errno.message;
    first = `The file system refused (${errno.code}${errno.path ? ` on ${errno.path}` : ''}): give --dir a new or empty directory that can be written, on a disk with free space.`;
  } else {
    reason = (err as Error)?.message ?? String(err);
    first = UNEXPECTED_HINT;
  }
  const kept = fs.existsSync(ctx.dir) ? `The demo's project is kept in ${ctx.dir}${on.again ? `: \`${on.again(ctx)}\` there shows it again` : ''}.` : undefined;
  return new TidemarkError(on.code, `${on.step(ctx)}: ${reason}`, { hint: [first, kept].filter(Boolean).join(' ') || undefined, cause: err });
}

const ADOPTIONS = [
  ['user_service', 'user'],
  ['budget_service', 'budget'],
] as const;

/** The real steps: the functions the commands use, on the demo's project. */
const DEMO_STEPS: DemoSteps = {
  // 1. The project (the legacy Alembic services and their config, as the CRM team has them) and its database.
  async legacy(ctx) {
    const { dir, result } = ctx;
    fs.cpSync(path.join(EXAMPLES_DIR, 'legacy'), dir, { recursive: true });
    const crm = (await import(pathToFileURL(path.join(EXAMPLES_DIR, 'data.mjs')).href)) as CrmData;
    result.rows = crm.crmCounts(ctx.sizes);
    const { openDatabase } = await import('../db/open.js');
    const { openTarget } = await import('../target/open.js');
    const db = await openDatabase(`pglite:${path.join(dir, '.tidemark', 'db')}`);
    ctx.db = db;
    // The demo's one target: its project's workspace and this database (wrapped, not reopened).
    ctx.target = await openTarget({ cwd: dir, database: db });
    ctx.workspace = ctx.target.workspace;
    await db.exec(fs.readFileSync(path.join(dir, 'legacy-database.sql'), 'utf8'));
    // The file's handful of sample rows make way for the generated ones (same ids).
    await db.exec('DELETE FROM budget_items; DELETE FROM budgets; DELETE FROM users;');
    await db.transaction(async (tx) => {
      // Generated rows are consistent by construction: foreign-key triggers off while loading them
      // (validate checks every relationship later anyway). PGlite's user is a superuser.
      await tx.exec(`SET LOCAL session_replication_role = replica`);
      for (const sql of crm.crmDataStatements(ctx.sizes)) await tx.exec(sql);
    });
    const versions = (await db.query<{ v: string }>('SELECT version_num AS v FROM alembic_version ORDER BY 1')).rows.map((r) => r.v);
    return {
      title: 'The legacy database (two Alembic services, one shared alembic_version)',
      lines: [
        `${n(result.rows.users)} users · ${n(result.rows.budgets)} budgets · ${n(result.rows.budget_items)} budget items`,
        `alembic_version holds ${versions.map((v) => `'${v}'`).join(', ')} — both services' heads and a row nobody defines`,
      ],
    };
  },

  // 2. The doctor on the legacy histories: its errors are the story, not a failure.
  async doctor(ctx) {
    const { check } = await import('./check.js');
    const doctor = await check({ workspace: ctx.workspace!, database: ctx.db!, db: true });
    if (doctor.error) throw doctor.error;
    const errors = doctor.diagnostics.filter((d) => d.severity === 'error');
    ctx.result.legacyRules = [...new Set(doctor.diagnostics.map((d) => d.rule))].sort();
    const order = ['duplicate-id', 'cross-service-reference', 'mixed-id-format', 'multiple-heads', 'alembic-version-contamination'];
    const rules = [...ctx.result.legacyRules].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
    // File names are enough to read the story: drop the directories in front of them.
    const shorten = (text: string) => text.replace(/[^\s,(]*services\/\w+\/alembic\/versions\//g, '');
    const lines = rules.map((rule) => {
      const found = doctor.diagnostics.filter((d) => d.rule === rule);
      const mark = found.some((d) => d.severity === 'error') ? '✗' : '⚠';
      return `${mark} ${rule}${found.length > 1 ? ` (${found.length})` : ''}: ${shorten(found[0].message)}`;
    });
    return { title: `The doctor on the legacy histories (tidemark check --db): ${errors.length} errors, ${doctor.warnings} warning${doctor.warnings === 1 ? '' : 's'}`, lines, ok: false };
  },

  // 3. Backup, verified.
  async backup(ctx) {
    const { backup } = await import('./backup.js');
    const { verifyBackup } = await import('./backup.js');
    const saved = await backup({ workspace: ctx.workspace!, database: ctx.db!, out: ctx.backupDir });
    if (!saved.ok) throw saved.error ?? new StepFailure('the backup reported no error, yet did not finish');
    const verified = await verifyBackup(ctx.backupDir);
    const title = 'Backup of every table, in one snapshot, verified on disk';
    if (!verified.ok) return { title, lines: verified.problems.map((p) => p.message), failure: `the backup does not verify: ${verified.problems.map((p) => p.message).join('; ')}` };
    return { title, lines: [`${n(saved.rows)} rows in ${saved.tables.length} files (${(saved.bytes / 1e6).toFixed(1)} MB) → backups/before-adopt, SHA-256 and row counts checked`] };
  },

  // 4. Adopt both services (user first: budget's foreign key points into it).
  async adopt(ctx) {
    const { adopt } = await import('./adopt.js');
    const { openScope } = await import('../target/open.js');
    const { dir } = ctx;
    const db = ctx.db!;
    const lines: string[] = [];
    for (const [from, to] of ADOPTIONS) {
      ctx.adopting = { from, to };
      const r = await adopt({ workspace: ctx.workspace!, database: db, service: from, as: to, write: true });
      if (!r.ok) throw r.error ?? new StepFailure('adopt reported no error, yet did not finish');
      lines.push(
        `${from} → ${to}: ${path.relative(dir, r.file!)} written, proven on a shadow database and stamped; ` +
          `${r.retired?.deleted.length ?? 0} alembic_version row retired${r.requiresAdded.length ? `; requires ${r.requiresAdded.join(', ')} (its foreign key)` : ''}`,
      );
      // adopt rewrote the config: the workspace as it is now (the target keeps its database).
      const scope = await openScope({ cwd: dir });
      if (ctx.target) ctx.target = { ...ctx.target, ...scope };
      ctx.workspace = scope.workspace;
    }
    ctx.adopting = undefined;
    const left = (await db.query<{ v: string }>('SELECT version_num AS v FROM alembic_version ORDER BY 1').catch(() => ({ rows: [] as { v: string }[] }))).rows.map((r) => r.v);
    if (left.length) {
      // What the doctor's hint says to do with a row no directory defines, once checked: delete it.
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM alembic_version WHERE version_num = ANY($1::text[])', [left]);
        await tx.exec('DROP TABLE alembic_version');
      });
      lines.push(`${left.map((v) => `'${v}'`).join(', ')}, the row no directory defined, deleted as the doctor advised; alembic_version, now empty, dropped`);
    } else {
      lines.push('alembic_version, now empty, dropped');
    }
    return { title: 'Adopt: each service gets one baseline and its own history', lines };
  },

  // 5. Validate against the backup.
  async validate(ctx) {
    const { validate } = await import('./validate.js');
    const valid = await validate({ workspace: ctx.workspace!, database: ctx.db!, against: ctx.backupDir });
    if (valid.error) throw valid.error;
    const title = 'Validate against the backup: structure, counts, relationships';
    if (!valid.ok)
      return {
        title,
        lines: valid.findings.map((f) => f.message),
        failure: `it found ${valid.findings.length} difference${valid.findings.length === 1 ? '' : 's'} with the backup: ${valid.findings.map((f) => f.message).join('; ')}`,
      };
    return {
      title,
      lines: [
        `${valid.tables.length} tables: live structure equals the migrations replayed on ${valid.shadow ?? 'a shadow'}; counts equal the backup's; ${valid.relationships.length} relationships without orphans`,
      ],
    };
  },

  // 6. Work goes on: one new migration per service, each numbered in its own service.
  async migrate(ctx) {
    const workspace = ctx.workspace!;
    const newOnes: [string, string, string, string][] = [
      ['user', 'add_phone', 'ALTER TABLE users ADD COLUMN phone text;', 'ALTER TABLE users DROP COLUMN phone;'],
      ['budget', 'add_valid_until', 'ALTER TABLE budgets ADD COLUMN valid_until date;', 'ALTER TABLE budgets DROP COLUMN valid_until;'],
    ];
    const ids: string[] = [];
    for (const [service, slug, upSql, downSql] of newOnes) {
      const svc = workspace.services.find((s) => s.name === service)!;
      const made = await createMigrationFile(service, svc.migrationsDir, slug);
      fs.writeFileSync(made.file, `-- tidemark:up\n${upSql}\n\n-- tidemark:down\n${downSql}\n`);
      await writeSumFile(service, svc.migrationsDir);
      ids.push(made.id);
    }
    const applied = await up({ workspace, database: ctx.db! });
    if (!applied.ok) throw applied.error ?? new StepFailure('up reported no error, yet did not finish');
    return { title: 'New migrations, numbered per service, applied', lines: [`${ids.join(', ')} → applied (${applied.results.length} migrations, each in its own transaction with its ledger row)`] };
  },

  // 7. Autogenerate: the desired schema edited, tidemark diff, up, tidemark test.
  autogenerate: autogenerateStep,

  // 8. The doctor again: clean, or the demo failed.
  async 'doctor-again'(ctx) {
    const { check } = await import('./check.js');
    const after = await check({ workspace: ctx.workspace!, database: ctx.db!, db: true });
    if (after.error) throw after.error;
    const errors = after.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length === 0) return { title: 'The doctor again: clean', lines: [`${after.warnings} warning${after.warnings === 1 ? '' : 's'}, 0 errors`] };
    const lines = errors.map((d) => `${d.rule}: ${d.message}`);
    return {
      title: `The doctor again: ${errors.length} errors left`,
      lines,
      failure: `it still reports ${errors.length} error${errors.length === 1 ? '' : 's'} after the adoption: ${lines.join('; ')}`,
    };
  },
};
