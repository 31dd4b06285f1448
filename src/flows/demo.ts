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
 *   7. the doctor again: clean.
 *
 * Every step goes through the same functions the commands use; the demo only composes them.
 * Results as values: never throws.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { closeQuietly, up } from '../apply/migrate.js';
import { loadWorkspace } from '../config/load.js';
import type { Database } from '../db/database.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { createMigrationFile } from '../history/new-migration.js';
import { writeSumFile } from '../history/sum-io.js';

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
  let mark = performance.now();
  const done = (title: string, lines: string[], ok = true) => {
    const now = performance.now();
    const s: DemoStep = { title, lines, ms: now - mark, ok };
    mark = now;
    result.steps.push(s);
    options.onStep?.(s);
  };
  let db: Database | undefined;
  try {
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new TidemarkError('demo-dir-not-empty', `${dir} is not empty: the demo builds its project in a new or empty directory.`, { kind: 'usage' });
    }
    // The project: the legacy Alembic services and their config, as the CRM team has them.
    fs.cpSync(path.join(EXAMPLES_DIR, 'legacy'), dir, { recursive: true });
    const crm = (await import(pathToFileURL(path.join(EXAMPLES_DIR, 'data.mjs')).href)) as CrmData;
    const sizes = { users: options.users ?? 10_000, budgetsPerUser: options.budgetsPerUser ?? 5, itemsPerBudget: options.itemsPerBudget ?? 4 };
    result.rows = crm.crmCounts(sizes);

    const { openDatabase } = await import('../db/open.js');
    db = await openDatabase(`pglite:${path.join(dir, '.tidemark', 'db')}`);
    const legacySql = fs.readFileSync(path.join(dir, 'legacy-database.sql'), 'utf8');
    await db.exec(legacySql);
    // The file's handful of sample rows make way for the generated ones (same ids).
    await db.exec('DELETE FROM budget_items; DELETE FROM budgets; DELETE FROM users;');
    await db.transaction(async (tx) => {
      // Generated rows are consistent by construction: foreign-key triggers off while loading them
      // (validate checks every relationship later anyway). PGlite's user is a superuser.
      await tx.exec(`SET LOCAL session_replication_role = replica`);
      for (const sql of crm.crmDataStatements(sizes)) await tx.exec(sql);
    });
    const versions = (await db.query<{ v: string }>('SELECT version_num AS v FROM alembic_version ORDER BY 1')).rows.map((r) => r.v);
    done('The legacy database (two Alembic services, one shared alembic_version)', [
      `${n(result.rows.users)} users · ${n(result.rows.budgets)} budgets · ${n(result.rows.budget_items)} budget items`,
      `alembic_version holds ${versions.map((v) => `'${v}'`).join(', ')} — both services' heads and a row nobody defines`,
    ]);

    // 2. The doctor.
    const { check } = await import('../check/run.js');
    let workspace = await loadWorkspace({ cwd: dir });
    const doctor = await check({ workspace, database: db, db: true });
    if (doctor.error) throw doctor.error;
    const errors = doctor.diagnostics.filter((d) => d.severity === 'error');
    result.legacyRules = [...new Set(doctor.diagnostics.map((d) => d.rule))].sort();
    const order = ['duplicate-id', 'cross-service-reference', 'mixed-id-format', 'multiple-heads', 'alembic-version-contamination'];
    const rules = [...result.legacyRules].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
    // File names are enough to read the story: drop the directories in front of them.
    const shorten = (text: string) => text.replace(/[^\s,(]*services\/\w+\/alembic\/versions\//g, '');
    const doctorLines = rules.map((rule) => {
      const found = doctor.diagnostics.filter((d) => d.rule === rule);
      const mark = found.some((d) => d.severity === 'error') ? '✗' : '⚠';
      return `${mark} ${rule}${found.length > 1 ? ` (${found.length})` : ''}: ${shorten(found[0].message)}`;
    });
    done(`The doctor on the legacy histories (tidemark check --db): ${errors.length} errors, ${doctor.warnings} warning${doctor.warnings === 1 ? '' : 's'}`, doctorLines, false);

    // 3. Backup, verified.
    const { backup } = await import('../data/backup.js');
    const { verifyBackup } = await import('../data/verify.js');
    const backupDir = path.join(dir, 'backups', 'before-adopt');
    const saved = await backup({ workspace, database: db, out: backupDir });
    if (!saved.ok) throw saved.error ?? new TidemarkError('demo-backup', 'The backup failed.');
    const verified = await verifyBackup(backupDir);
    if (!verified.ok) throw new TidemarkError('demo-backup', `The backup does not verify: ${verified.problems.map((p) => p.message).join('; ')}`);
    done('Backup of every table, in one snapshot, verified on disk', [
      `${n(saved.rows)} rows in ${saved.tables.length} files (${(saved.bytes / 1e6).toFixed(1)} MB) → backups/before-adopt, SHA-256 and row counts checked`,
    ]);

    // 4. Adopt both services (user first: budget's foreign key points into it).
    const { adopt } = await import('./adopt.js');
    const adoptLines: string[] = [];
    for (const [from, to] of [['user_service', 'user'], ['budget_service', 'budget']] as const) {
      const r = await adopt({ workspace, database: db, service: from, as: to, write: true });
      if (!r.ok) throw r.error ?? new TidemarkError('demo-adopt', `adopt ${from} failed.`);
      adoptLines.push(
        `${from} → ${to}: ${path.relative(dir, r.file!)} written, proven on a shadow database and stamped; ` +
          `${r.retired?.deleted.length ?? 0} alembic_version row retired${r.requiresAdded.length ? `; requires ${r.requiresAdded.join(', ')} (its foreign key)` : ''}`,
      );
      workspace = await loadWorkspace({ cwd: dir });
    }
    const left = (await db.query<{ v: string }>('SELECT version_num AS v FROM alembic_version ORDER BY 1').catch(() => ({ rows: [] as { v: string }[] }))).rows.map((r) => r.v);
    if (left.length) {
      // What the doctor's hint says to do with a row no directory defines, once checked: delete it.
      await db.transaction(async (tx) => {
        await tx.query('DELETE FROM alembic_version WHERE version_num = ANY($1::text[])', [left]);
        await tx.exec('DROP TABLE alembic_version');
      });
      adoptLines.push(`${left.map((v) => `'${v}'`).join(', ')}, the row no directory defined, deleted as the doctor advised; alembic_version, now empty, dropped`);
    } else {
      adoptLines.push('alembic_version, now empty, dropped');
    }
    done('Adopt: each service gets one baseline and its own history', adoptLines);

    // 5. Validate against the backup.
    const { validate } = await import('./validate.js');
    const valid = await validate({ workspace, database: db, against: backupDir });
    if (valid.error) throw valid.error;
    if (!valid.ok) throw new TidemarkError('demo-validate', `validate found: ${valid.findings.map((f) => f.message).join('; ')}`);
    done('Validate against the backup: structure, counts, relationships', [
      `${valid.tables.length} tables: live structure equals the migrations replayed on ${valid.shadow ?? 'a shadow'}; counts equal the backup's; ${valid.relationships.length} relationships without orphans`,
    ]);

    // 6. Work goes on: one new migration per service, each numbered in its own service.
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
    const applied = await up({ workspace, database: db });
    if (!applied.ok) throw applied.error ?? new TidemarkError('demo-up', 'up failed.');
    done('New migrations, numbered per service, applied', [`${ids.join(', ')} → applied (${applied.results.length} migrations, each in its own transaction with its ledger row)`]);

    // 7. The doctor again.
    const after = await check({ workspace, database: db, db: true });
    if (after.error) throw after.error;
    const stillErrors = after.diagnostics.filter((d) => d.severity === 'error');
    done(
      stillErrors.length ? `The doctor again: ${stillErrors.length} errors left` : 'The doctor again: clean',
      stillErrors.length ? stillErrors.map((d) => `${d.rule}: ${d.message}`) : [`${after.warnings} warning${after.warnings === 1 ? '' : 's'}, 0 errors`],
      stillErrors.length === 0,
    );
    if (stillErrors.length) throw new TidemarkError('demo-doctor', `The doctor still reports ${stillErrors.length} errors after the adoption.`);
    result.ok = true;
  } catch (err) {
    result.error = isTidemarkError(err) ? err : new TidemarkError('demo-failed', `The demo failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  } finally {
    if (db) await closeQuietly(() => db!.close());
    if (!keep && result.ok) fs.rmSync(dir, { recursive: true, force: true });
    else result.kept = true;
    result.durationMs = performance.now() - started;
  }
  return result;
}
