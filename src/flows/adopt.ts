/**
 * `tidemark adopt --service S` (issue 5 item 5): move a service from Alembic to tidemark without
 * touching its data.
 *
 * 1. A baseline is written from the live owned objects and proven on a shadow database
 *    (src/flows/baseline.ts), into the service's new migrations directory (`migrations/<S>` unless
 *    `dir`), with its tidemark.sum. Foreign keys into other services become `requires` (the reason the
 *    CRM's budget history reached into user_service without saying so).
 * 2. ONE transaction records the baseline as applied (it describes what is already there) and retires
 *    the service's rows from its Alembic version table — only the revisions its own directory defines.
 * 3. The config is switched to `format: 'tidemark'` (`write`), else the change is returned to print.
 * 4. The old Alembic directory stays untouched unless `archive`, which moves it under `archive/`.
 * Until the commit of step 2 nothing is left half-done: a failing step removes the files written
 * before it (`adopt-failed`). After it the adoption is done whatever follows: a config that cannot be
 * written is reported as a change to make by hand, and an archive that cannot be made is
 * `adopt-archive-failed`, which says the adoption is done and how to finish the move.
 *
 * Results as values: never throws.
 *
 * The core takes `(target, options)`; it reads the workspace and the database from the target, and
 * hands the same target to the baseline core (with the workspace as it will be once adopted).
 * api/adopt.ts is the boundary that opens the target from today's options.
 */
import fs from 'node:fs';
import path from 'node:path';
import { serviceEntryText } from '../config/entry-text.js';
import type { Service, Workspace } from '../config/types.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { readTidemarkHistory } from '../history/read-tidemark.js';
import { SUM_FILE_NAME } from '../history/sum-file.js';
import { isMigrationLikeName } from '../history/tidemark-source.js';
import { ensureLedger, forgetService, logEvent, recordMigration } from '../ledger/ledger.js';
import { withServiceLocks } from '../ledger/locks.js';
import { displayPath, shellWord } from '../paths.js';
import { escapeControl as printable } from '../sql/ident.js';
import type { FlowStepEvent } from '../progress.js';
import type { DatabaseSource, Target } from '../target/target.js';
import { retireAlembicRows, type RetiredRows } from './alembic-retire.js';

/** What adopt is asked, beyond its target (the workspace and the database). */
export interface AdoptCoreOptions {
  service: string;
  /** A new name for the service once tidemark keeps it (`user_service` → `user`, so files read `user_001_…`). */
  as?: string;
  /** The new migrations directory (default `<config dir>/migrations/<name>`). */
  dir?: string;
  /** Rewrite the config file; else `result.config.change` says what to change. */
  write?: boolean;
  /** Move the old Alembic versions directory to `<config dir>/archive/alembic/<service>`. */
  archive?: boolean;
  lockTimeoutMs?: number;
  /** Each step as it starts (`flow-step`: its name and a detail), for a printer. */
  onEvent?: (event: FlowStepEvent) => void;
}

export interface AdoptConfigChange {
  file?: string;
  /** True when the file was rewritten. */
  written: boolean;
  /** A short human diff of the service's entry. */
  change: string;
  /** Why the file could not be edited safely (then `change` is to be applied by hand). */
  problem?: string;
}

export interface AdoptResult {
  ok: boolean;
  service: string;
  /** The service's name from now on (`as`, else unchanged). */
  name: string;
  database: string;
  databaseSource: DatabaseSource;
  /** The baseline written. */
  file?: string;
  migration?: string;
  /** Services added to `requires` because the service's foreign keys point into them. */
  requiresAdded: string[];
  retired?: RetiredRows;
  config?: AdoptConfigChange;
  archivedTo?: string;
  steps: { step: string; ms: number }[];
  durationMs: number;
  error?: TidemarkError;
}

function emptyResult(options: Pick<AdoptCoreOptions, 'service' | 'as'>): AdoptResult {
  return { ok: false, service: options.service, name: options.as ?? options.service, database: '', databaseSource: 'default', requiresAdded: [], steps: [], durationMs: 0 };
}

function asAdoptError(err: unknown): TidemarkError {
  return isTidemarkError(err) ? err : new TidemarkError('adopt-failed', `adopt failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** The result of an adopt whose target could not be opened (a config that does not load): what api/adopt.ts returns. */
export function failedAdopt(options: Pick<AdoptCoreOptions, 'service' | 'as'>, err: unknown, durationMs: number): AdoptResult {
  const result = emptyResult(options);
  result.error = asAdoptError(err);
  result.durationMs = durationMs;
  return result;
}

export async function adopt(target: Target, options: AdoptCoreOptions): Promise<AdoptResult> {
  const started = performance.now();
  const result = emptyResult(options);
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    result.steps.push({ step: name, ms: now - mark });
    mark = now;
  };
  const say = (step: string, detail?: string) => options.onEvent?.({ type: 'flow-step', step, ...(detail === undefined ? {} : { detail }) });
  const written: string[] = [];
  let createdDir: string | undefined;
  try {
    const { workspace } = target;
    const service = workspace.services.find((s) => s.name === options.service);
    if (!service) {
      throw new TidemarkError('unknown-service', `No service ${options.service} in ${workspace.configFile ? displayPath(workspace.configFile) : 'the config'}.`, {
        kind: 'usage',
        hint: `Declared services: ${workspace.services.map((s) => s.name).join(', ') || 'none'}.`,
      });
    }
    if (service.format !== 'alembic') {
      throw new TidemarkError('already-tidemark', `Service ${service.name} is already kept by tidemark (${displayPath(service.migrationsDir)}); nothing to adopt.`, {
        kind: 'usage',
        hint: 'To squash its history into one baseline, use `tidemark rebaseline`.',
      });
    }
    const name = options.as ?? service.name;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) {
      throw new TidemarkError('bad-service-name', `"${name}" cannot name a service: use lowercase letters, digits and _ (it starts every migration file name).`, { kind: 'usage' });
    }
    if (name !== service.name && workspace.services.some((s) => s.name === name)) {
      throw new TidemarkError('adopt-name-taken', `A service named ${name} already exists in ${workspace.configFile ? displayPath(workspace.configFile) : 'the config'}.`, { kind: 'usage' });
    }
    const relDir = options.dir ?? path.join('migrations', name);
    const newDir = path.resolve(workspace.root, relDir);
    // Every kind of migration the history reader takes (or reports: a directory named like one), not only .sql.
    const present =
      fs.existsSync(newDir) && fs.statSync(newDir).isDirectory()
        ? fs
            .readdirSync(newDir)
            .filter((f) => isMigrationLikeName(f) || f === SUM_FILE_NAME)
            .sort()
        : [];
    if (present.length) {
      throw new TidemarkError('adopt-dir-not-empty', `${displayPath(newDir)} already holds ${present.map(printable).join(', ')}; adopt writes the service's first migration there.`, {
        kind: 'input',
        service: service.name,
        hint: 'Choose another directory with --dir, or remove those files.',
      });
    }
    const archiveTo = options.archive ? path.join(workspace.root, 'archive', 'alembic', service.name) : undefined;
    if (archiveTo && fs.existsSync(archiveTo)) {
      throw new TidemarkError('adopt-archive-exists', `${displayPath(archiveTo)} already exists, so the Alembic directory cannot be archived there; nothing was changed.`, {
        kind: 'input',
        hint: 'Move that folder away, or run adopt without --archive.',
      });
    }

    // Named before the first use connects, so the result names the database and its source even if connecting fails.
    const db = target.db;
    result.database = target.name.display;
    result.databaseSource = target.name.source;

    await withServiceLocks(db, [...new Set([service.name, name])], options, async () => {
      // Which services the live objects reference: they become `requires`.
      say('introspect', `the objects ${service.name} owns`);
      const { introspect } = await import('../schema/introspect/index.js');
      const live = await introspect(db, { workspace, service: service.name });
      // '' is an object no service owns: not a service to require.
      const referenced = [...new Set(live.references.map((r) => r.service))].filter((s) => s !== '' && s !== service.name).sort();
      for (const r of referenced) {
        const other = workspace.services.find((s) => s.name === r);
        if (other?.format !== 'tidemark') {
          throw new TidemarkError(
            'adopt-order',
            `${service.name} references ${live.references
              .filter((x) => x.service === r)
              .map((x) => x.object)
              .join(', ')} of service ${r}, which is still kept by Alembic: adopt ${r} first.`,
            {
              kind: 'input',
              service: service.name,
              hint: `tidemark adopt --service ${r} --write, then adopt ${service.name}.`,
            },
          );
        }
      }
      result.requiresAdded = referenced.filter((r) => !service.requires.includes(r));
      const adopted: Service = { ...service, name, format: 'tidemark', migrationsDir: newDir, requires: [...service.requires, ...result.requiresAdded] };
      const adoptedWorkspace: Workspace = {
        ...workspace,
        services: workspace.services.map((s) => (s.name === service.name ? adopted : { ...s, requires: s.requires.map((r) => (r === service.name ? name : r)) })),
      };
      step('introspect');

      say('baseline', `writing and proving ${name}_001_initial_schema.sql`);
      if (!fs.existsSync(newDir)) {
        fs.mkdirSync(newDir, { recursive: true });
        createdDir = newDir;
      }
      const before = new Set(fs.readdirSync(newDir));
      const { baseline } = await import('./baseline.js');
      const made = await baseline({ ...target, workspace: adoptedWorkspace }, { service: name });
      for (const f of fs.readdirSync(newDir)) if (!before.has(f)) written.push(path.join(newDir, f));
      if (!made.ok) throw made.error ?? new TidemarkError('baseline-failed', `The baseline of ${service.name} could not be written.`);
      const history = await readTidemarkHistory(name, newDir);
      const first = history.migrations[0];
      if (!first || history.migrations.length !== 1)
        throw new TidemarkError('adopt-baseline-missing', `${displayPath(newDir)} should hold exactly the baseline after adopt; found ${history.migrations.length} migrations.`);
      result.file = first.file;
      result.migration = first.id;
      step('baseline');

      say('stamp', `${first.id} recorded as applied; ${service.versionTable} rows of ${service.name} retired`);
      await ensureLedger(db);
      await db.transaction(async (tx) => {
        await forgetService(tx, name);
        await recordMigration(tx, { action: 'adopt', service: name, migration: first.id, checksum: first.checksum, durationMs: 0 });
        result.retired = await retireAlembicRows(tx, { dir: service.migrationsDir, service: service.name, versionTable: service.versionTable, recursive: service.recursive });
        await logEvent(tx, { action: 'adopt', service: name, outcome: 'ok', detail: { from: service.name, baseline: first.id, retired: result.retired.deleted, requiresAdded: result.requiresAdded } });
      });
      step('stamp');
    });
    written.length = 0; // committed: the files stay
    createdDir = undefined;

    result.config = await switchConfig(workspace, service, name, path.relative(workspace.root, newDir), result.requiresAdded, !!options.write);
    if (archiveTo) {
      try {
        fs.mkdirSync(path.dirname(archiveTo), { recursive: true });
        fs.renameSync(service.migrationsDir, archiveTo);
      } catch (err) {
        throw archiveFailure(result, service, archiveTo, err);
      }
      result.archivedTo = archiveTo;
    }
    step('config');
    result.ok = true;
  } catch (err) {
    result.error = asAdoptError(err);
    for (const f of written) fs.rmSync(f, { force: true });
    if (createdDir) fs.rmSync(createdDir, { recursive: true, force: true });
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

/**
 * After the commit: the adoption is done, only the move of the Alembic directory failed. Says so,
 * what is left undone, and the commands that finish it.
 */
function archiveFailure(result: AdoptResult, service: Service, to: string, err: unknown): TidemarkError {
  const errno = (err as NodeJS.ErrnoException)?.code ?? String((err as Error)?.message ?? err);
  const config = result.config?.written ? `${displayPath(result.config.file!)} updated` : 'change still to make, as printed';
  const from = displayPath(service.migrationsDir);
  return new TidemarkError(
    'adopt-archive-failed',
    `${service.name} is adopted (${result.migration} recorded as applied in ${result.database}, ${displayPath(result.file!)} written; config: ${config}), but its Alembic directory ${from} could not be moved to ${displayPath(to)}: ${errno}. It is still where it was; nothing else is left to do.`,
    {
      kind: 'failure',
      service: result.name,
      migration: result.migration,
      hint: `Do not run adopt again. Finish by hand: mkdir -p ${shellWord(displayPath(path.dirname(to)))} && mv ${shellWord(from)} ${shellWord(displayPath(to))} — or keep the directory where it is.`,
      cause: err,
    },
  );
}

async function switchConfig(workspace: Workspace, service: Service, name: string, newDir: string, requiresAdded: string[], write: boolean): Promise<AdoptConfigChange> {
  const dirText = newDir.split(path.sep).join('/');
  const requires = [...service.requires, ...requiresAdded];
  const language = workspace.configFile && path.extname(workspace.configFile) === '.json' ? 'json' : 'js';
  const wanted = serviceEntryText({ name, migrations: dirText, owns: service.owns, requires }, language);
  if (!workspace.configFile) return { written: false, change: wanted, problem: 'the config was given as a value, not a file' };
  const { switchServiceToTidemark } = await import('../config/edit.js');
  try {
    const text = fs.readFileSync(workspace.configFile, 'utf8');
    const ext = path.extname(workspace.configFile) as '.json' | '.mjs' | '.js' | '.ts';
    const edited = switchServiceToTidemark(text, ext, service.name, dirText, { rename: name === service.name ? undefined : name, addRequires: requiresAdded, file: displayPath(workspace.configFile) });
    if ('error' in edited) return { file: workspace.configFile, written: false, change: wanted, problem: edited.error };
    if (write && edited.changed) fs.writeFileSync(workspace.configFile, edited.text);
    return { file: workspace.configFile, written: write && edited.changed, change: edited.diff || wanted };
  } catch (err) {
    // The adoption has committed: a config that cannot be read or written is a change to make by hand, not a failure.
    const errno = (err as NodeJS.ErrnoException)?.code ?? String((err as Error)?.message ?? err);
    return { file: workspace.configFile, written: false, change: wanted, problem: `cannot ${write ? 'rewrite' : 'read'} ${displayPath(workspace.configFile)}: ${errno}` };
  }
}
