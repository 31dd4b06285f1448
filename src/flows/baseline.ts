/**
 * `tidemark baseline --service S` (issue 5 item 2): one migration, `<S>_001_initial_schema.sql`, that
 * recreates what S owns in the live database — proven before it is written.
 *
 * 1. introspect the live objects of S (src/schema/introspect/); refuse, naming them, when some
 *    cannot be reproduced (a rule, a partitioned table, …) or when S owns nothing live;
 * 2. render the migration (src/schema/render/baseline.ts), with `-- tidemark:requires` for the latest migration
 *    of every service whose objects it references;
 * 3. PROVE it: on a fresh in-process PGlite shadow (a temporary database on the live server when the
 *    baseline needs extensions, which PGlite lacks; or the `shadowUrl` given: db/shadow.ts's policy), build
 *    what S requires (their migrations, by apply/replay.ts; a service still kept by Alembic from its own
 *    live objects), run the baseline's up section, introspect the
 *    shadow with the same scope and compare with the live snapshot: equal, or refuse listing every
 *    difference and write nothing;
 * 4. write the file (never over an existing `<S>_001_*` without `force`) and, in the service's own
 *    migrations directory, its line in tidemark.sum.
 * With `schema` (`baseline --schema`, issue 13 item 1) step 4 writes the up section alone, as the service's
 * desired schema (no directives, no sum line), never over an existing file without `force`: the same proof.
 * Results as values: `ok` false with `error` set; the database is only read.
 *
 * The core takes `(target, options)`: the live database is `target.db` (only read, so a caller's
 * transaction will do), the proof's shadow comes from `target.openShadow` (the one shadow policy).
 * api/baseline.ts is the boundary that opens the target from today's options.
 * Over 400 lines because the proof's shadow set-up, the two refusals and the two ways of writing share
 * one flow; splitting them would scatter one command's checks.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { replayMigrations } from '../apply/replay.js';
import type { Service, Workspace } from '../config/types.js';
import type { Session } from '../db/database.js';
import { TidemarkError, asTidemarkError, isTidemarkError } from '../errors.js';
import { readTidemarkHistory } from '../history/read-tidemark.js';
import { sumIsClean } from '../history/sum-file.js';
import { readSumVerification, writeSumFile } from '../history/sum-io.js';
import { parseMigrationName } from '../history/tidemark-source.js';
import { displayPath } from '../paths.js';
import { compareSnapshots } from '../schema/diff/compare.js';
import { introspect } from '../schema/introspect/index.js';
import { renderBaseline, unsupportedObjects } from '../schema/render/baseline.js';
import type { SchemaDifference, Snapshot } from '../schema/snapshot.js';
import type { DatabaseSource, Target } from '../target/target.js';

/** What baseline is asked, beyond its target (the live database, only read, and the workspace). */
export interface BaselineCoreOptions {
  service: string;
  /** Where to write (default: the service's migrations directory). */
  dir?: string;
  /** Overwrite an existing `<service>_001_initial_schema.sql`. */
  force?: boolean;
  /** Render and prove, write nothing. */
  dryRun?: boolean;
  /** An explicit empty database to prove on (`--shadow URL`), emptied again afterwards. */
  shadowUrl?: string;
  /**
   * Write the proven up section alone, as the service's desired schema (`--schema`, issue 13 item 1):
   * to `out`, else the configured `schema` when it is one `.sql` file, else `schema/<service>.sql`
   * under the workspace root. No `-- tidemark:` lines, no tidemark.sum.
   */
  schema?: boolean;
  /** With `schema`: the file to write. */
  out?: string;
}

export interface BaselineResult {
  ok: boolean;
  service: string;
  /** The live database (redacted) and who named it; absent when the target could not be opened. */
  database?: string;
  databaseSource?: DatabaseSource;
  dryRun: boolean;
  /** Absolute path of the migration (written unless dry run or refused). */
  file: string;
  written: boolean;
  /** The migration's whole text. */
  sql: string;
  /** Its up and down sections. */
  up: string;
  down: string;
  /** Migration ids written as `-- tidemark:requires`. */
  requires: string[];
  /** The live snapshot. */
  snapshot?: Snapshot;
  /** Live against the replayed baseline ([] when proven equal). */
  differences: SchemaDifference[];
  /** What cannot be reproduced (baseline refuses while any). */
  unsupported: string[];
  /** Which shadow proved it, and what was built there first. */
  shadow: string;
  prerequisites: string[];
  /** tidemark.sum, when the file went into the service's migrations directory. */
  sum?: { file: string; updated: boolean; reason?: string };
  /** Counts of what the baseline holds, for the report. */
  counts: Record<string, number>;
  durationMs: number;
  error?: TidemarkError;
}

const BASELINE_SLUG = 'initial_schema';

/** A result with nothing done yet (the failed one of a target that could not be opened has no database). */
function emptyResult(options: Pick<BaselineCoreOptions, 'service' | 'dryRun'>, named?: { database: string; databaseSource: DatabaseSource }): BaselineResult {
  return {
    ok: false,
    service: options.service,
    ...named,
    dryRun: Boolean(options.dryRun),
    file: '',
    written: false,
    sql: '',
    up: '',
    down: '',
    requires: [],
    differences: [],
    unsupported: [],
    shadow: '',
    prerequisites: [],
    counts: {},
    durationMs: 0,
  };
}

/**
 * The result of a baseline whose target could not be opened (a config that does not load) or reached
 * (then `named` says which database was tried, and who named it): what api/baseline.ts returns.
 */
export function failedBaseline(
  options: Pick<BaselineCoreOptions, 'service' | 'dryRun'>,
  err: unknown,
  durationMs: number,
  named?: { database: string; databaseSource: DatabaseSource },
): BaselineResult {
  const result = emptyResult(options, named);
  result.error = asBaselineError(err, options.service);
  result.durationMs = durationMs;
  return result;
}

function asBaselineError(err: unknown, service: string): TidemarkError {
  return isTidemarkError(err) ? err : new TidemarkError('baseline-failed', (err as Error)?.message ?? String(err), { service, cause: err });
}

export async function baseline(target: Target<Session>, options: BaselineCoreOptions): Promise<BaselineResult> {
  const started = performance.now();
  const { workspace } = target;
  const name = options.service;
  const result = emptyResult(options, { database: target.name.display, databaseSource: target.name.source });
  try {
    const service = workspace.services.find((s) => s.name === name);
    if (!service) {
      throw new TidemarkError('unknown-service', `No service ${name} in ${workspace.configFile ? displayPath(workspace.configFile) : 'the config'}.`, {
        kind: 'usage',
        hint: `Declared services: ${workspace.services.map((s) => s.name).join(', ') || 'none'}.`,
      });
    }
    if (options.out !== undefined && !options.schema) {
      throw new TidemarkError('bad-usage', '--out names the desired-schema file: give it with --schema (--dir chooses where a baseline migration goes).', { kind: 'usage' });
    }
    if (options.schema && options.dir !== undefined) {
      throw new TidemarkError('bad-usage', '--dir chooses where a baseline migration goes: with --schema, give the file with --out.', { kind: 'usage' });
    }
    const dir = path.resolve(options.dir ?? service.migrationsDir);
    const fileName = `${name}_001_${BASELINE_SLUG}.sql`;
    result.file = options.schema ? schemaFile(workspace, service, options.out) : path.join(dir, fileName);
    if (!options.dryRun) {
      if (options.schema) await refuseExistingSchema(name, result.file, Boolean(options.force));
      else await refuseExisting(name, dir, fileName, Boolean(options.force));
    }

    // 1. live
    const live = await introspect(target.db, { workspace, service: name });
    result.snapshot = live;
    result.counts = countObjects(live);
    result.unsupported = unsupportedObjects(live);
    const shared = live.unsupported.filter((u) => u.kind === 'shared function');
    if (shared.length > 0) {
      throw new TidemarkError(
        'baseline-shared-function',
        `Cannot baseline service ${name}: function ${shared.map((u) => u.name).join('; function ')}, and no service owns it: add it to the \`owns\` of one service and \`requires\` that service from the others; nothing was written.`,
        {
          kind: 'input',
          service: name,
          hint: "Otherwise each service's baseline would create it and each reset would drop it under the other.",
        },
      );
    }
    if (result.unsupported.length > 0) {
      throw new TidemarkError('baseline-unsupported', `Cannot baseline service ${name}: tidemark cannot reproduce ${result.unsupported.join(', ')}; nothing was written.`, {
        kind: 'input',
        service: name,
        hint: "Drop or replace those objects (or take them out of the service's `owns`), then run baseline again.",
      });
    }
    if (live.tables.length + live.views.length + live.types.length + live.functions.length + live.sequences.length === 0) {
      throw new TidemarkError('baseline-empty', `Service ${name} owns nothing in ${target.name.display} (owns: ${service.owns.join(', ') || 'nothing'}); nothing to baseline.`, {
        kind: 'input',
        service: name,
        hint: "Check the service's `owns` in the config and the database URL.",
      });
    }

    // 2. render
    const requires: Record<string, string | undefined> = {};
    for (const other of new Set(live.references.map((r) => r.service).filter((s) => s !== ''))) requires[other] = await latestMigration(workspace, other);
    const rendered = renderBaseline(live, name, { requires });
    // A desired schema is the up section alone: the services it needs are replayed before it is loaded.
    result.sql = options.schema ? rendered.up : rendered.file;
    result.up = rendered.up;
    result.down = rendered.down;
    result.requires = options.schema ? [] : rendered.requires;

    // 3. prove
    result.differences = await prove(target, options, service, live, rendered.up, result);
    if (result.differences.length > 0) {
      const n = result.differences.length;
      throw new TidemarkError(
        'baseline-differs',
        `The baseline of ${name} does not reproduce the live schema (${n} difference${n === 1 ? '' : 's'}): ${result.differences
          .slice(0, 5)
          .map((d) => d.message)
          .join('; ')}${n > 5 ? '; …' : ''}. Nothing was written.`,
        { service: name, hint: "This is a gap in tidemark's introspection: report it, with the differences listed." },
      );
    }

    // 4. write
    if (!options.dryRun && options.schema) {
      await fs.mkdir(path.dirname(result.file), { recursive: true });
      await fs.writeFile(result.file, result.sql, { flag: options.force ? 'w' : 'wx' });
      result.written = true;
    } else if (!options.dryRun) {
      const sumBefore = isOwnDir(service, dir) ? await readSumVerification(name, dir) : undefined;
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(result.file, rendered.file, { flag: options.force ? 'w' : 'wx' });
      result.written = true;
      if (sumBefore) {
        if (sumBefore.present && !sumIsClean(sumBefore)) {
          result.sum = {
            file: sumBefore.file,
            updated: false,
            reason: `${path.basename(sumBefore.file)} did not match the migration files before; run \`tidemark check\` to see why, then \`tidemark sum\`.`,
          };
        } else {
          const written = await writeSumFile(name, dir);
          result.sum = { file: written.file, updated: true };
        }
      }
    }
    result.ok = true;
  } catch (err) {
    result.error = asBaselineError(err, name);
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

function isOwnDir(service: Service, dir: string): boolean {
  return service.format === 'tidemark' && path.resolve(service.migrationsDir) === path.resolve(dir);
}

async function refuseExisting(service: string, dir: string, fileName: string, force: boolean): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const firsts = names.filter((n) => parseMigrationName(service, n)?.number === 1n).sort();
  const others = firsts.filter((n) => n !== fileName);
  if (others.length > 0) {
    throw new TidemarkError('baseline-exists', `${displayPath(path.join(dir, others[0]))} already is migration 001 of ${service}; baseline writes ${fileName} and will not add a second 001.`, {
      kind: 'input',
      service,
      file: path.join(dir, others[0]),
      hint: 'Write the baseline elsewhere with --dir, or move the old migrations away first.',
    });
  }
  if (firsts.includes(fileName) && !force) {
    throw new TidemarkError('baseline-exists', `${displayPath(path.join(dir, fileName))} already exists; baseline does not overwrite it without --force.`, {
      kind: 'input',
      service,
      file: path.join(dir, fileName),
      hint: 'Run again with --force to replace it, or --dir to write elsewhere.',
    });
  }
}

/** Where `--schema` writes: `out`, else the configured schema when it is one `.sql` file, else `schema/<service>.sql`. */
function schemaFile(workspace: Workspace, service: Service, out: string | undefined): string {
  if (out !== undefined) return path.resolve(out);
  const configured = service.schema ?? [];
  if (configured.length === 1 && configured[0].endsWith('.sql')) return configured[0];
  return path.join(workspace.root, 'schema', `${service.name}.sql`);
}

async function refuseExistingSchema(service: string, file: string, force: boolean): Promise<void> {
  if (force) return;
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return;
  throw new TidemarkError('baseline-exists', `${displayPath(file)} already exists; baseline --schema does not overwrite it without --force.`, {
    kind: 'input',
    service,
    file,
    hint: 'Run again with --force to replace it, or --out to write elsewhere.',
  });
}

/** The id of the highest-numbered migration of a tidemark service, or undefined. */
async function latestMigration(workspace: Workspace, name: string): Promise<string | undefined> {
  const s = workspace.services.find((x) => x.name === name);
  if (s?.format !== 'tidemark') return undefined;
  const history = await readTidemarkHistory(s.name, s.migrationsDir);
  let best: { id: string; number: bigint } | undefined;
  for (const m of history.migrations) if (!best || m.number > best.number) best = m;
  return best?.id;
}

/**
 * What must exist before the baseline of `name` runs: the services it requires and the services whose
 * objects it references (a foreign key into another service's table, even without `requires`), with
 * what those require in turn; dependencies first.
 */
function requiredServices(workspace: Workspace, name: string, referenced: readonly string[]): Service[] {
  const out: Service[] = [];
  const seen = new Set<string>([name]);
  const visit = (n: string, extra: readonly string[] = []) => {
    const s = workspace.services.find((x) => x.name === n);
    for (const r of [...(s?.requires ?? []), ...extra]) {
      if (seen.has(r)) continue;
      seen.add(r);
      visit(r);
      const rs = workspace.services.find((x) => x.name === r);
      if (rs) out.push(rs);
    }
  };
  visit(name, referenced);
  return out;
}

async function prove(target: Target<Session>, options: BaselineCoreOptions, service: Service, live: Snapshot, upSql: string, result: BaselineResult): Promise<SchemaDifference[]> {
  const { workspace } = target;
  // The one shadow policy (target.openShadow), asked for PGlite unless a shadow URL was given or the
  // baseline needs what PGlite lacks (contrib extensions, roles other than its own) and the live
  // server can provide it: then a temporary database on that server.
  const needs = needsServer(live);
  const onServer = options.shadowUrl !== undefined || (needs.length > 0 && target.db.backend === 'postgres');
  const opened = await target.openShadow(onServer ? { url: options.shadowUrl } : { prefer: 'pglite' });
  const shadow = opened.database;
  // A database given for the shadow (`--shadow URL`, or one handed to api/baseline.ts) is named as it is;
  // a temporary one, or PGlite when that could not be made, says why the baseline asked for the server.
  const why = onServer && opened.kind !== 'url' ? ` (the baseline needs ${needs.join(' and ')})` : '';
  // baseline's own words for its default shadow, as printed since issue 5 ("Proved on pglite:memory …").
  result.shadow = !onServer && opened.kind === 'pglite' ? 'pglite:memory (in-process PostgreSQL 18)' : `${opened.description}${why}`;
  try {
    // What the service requires: tidemark services by their migrations, others from their live objects.
    const required = requiredServices(
      workspace,
      service.name,
      live.references.map((r) => r.service).filter((s) => s !== ''),
    );
    const viaMigrations = required.filter((s) => s.format === 'tidemark').map((s) => s.name);
    if (viaMigrations.length > 0) {
      try {
        await replayMigrations({ workspace }, viaMigrations, shadow);
      } catch (err) {
        throw new TidemarkError(
          'baseline-prerequisite-failed',
          `Cannot prove the baseline of ${service.name}: the migrations of ${viaMigrations.join(', ')} (which it requires) do not replay on the shadow database: ${asTidemarkError(err).message}`,
          { service: service.name, hint: 'Fix that history first (`tidemark check`).' },
        );
      }
      result.prerequisites.push(...viaMigrations.map((s) => `${s} (its migrations)`));
    }
    for (const other of required.filter((s) => s.format !== 'tidemark')) {
      const theirs = await introspect(target.db, { workspace, service: other.name });
      if (unsupportedObjects(theirs).length > 0) continue;
      const rendered = renderBaseline(theirs, other.name);
      try {
        await shadow.transaction((tx) => tx.exec(rendered.up));
      } catch (err) {
        throw new TidemarkError(
          'baseline-prerequisite-failed',
          `Cannot prove the baseline of ${service.name}: the live objects of ${other.name} (which it requires) do not rebuild on the shadow database: ${(err as Error).message}.`,
          { service: service.name, cause: err },
        );
      }
      result.prerequisites.push(`${other.name} (its live objects)`);
    }

    try {
      await shadow.transaction((tx) => tx.exec(upSql));
    } catch (err) {
      const e = err as { message?: string };
      throw new TidemarkError('baseline-replay-failed', `The baseline of ${service.name} does not run on the shadow database (${result.shadow}): ${e.message ?? String(err)}. Nothing was written.`, {
        service: service.name,
        hint: "This is a gap in tidemark's DDL rendering: report it with the object named above.",
        cause: err,
      });
    }
    const replayed = await introspect(shadow, { workspace, service: service.name });
    return compareSnapshots(live, replayed);
  } finally {
    await opened.dispose().catch(() => {});
  }
}

/** What an in-process PGlite cannot provide: contrib extensions, roles other than PUBLIC in policies. */
function needsServer(s: Snapshot): string[] {
  const out: string[] = [];
  if (s.extensions.length > 0) out.push(`extension${s.extensions.length === 1 ? '' : 's'} ${s.extensions.map((e) => e.name).join(', ')}`);
  const roles = [...new Set(s.tables.flatMap((t) => t.policies.flatMap((p) => p.roles)).filter((r) => r !== 'PUBLIC'))].sort();
  if (roles.length > 0) out.push(`role${roles.length === 1 ? '' : 's'} ${roles.join(', ')}`);
  return out;
}

function countObjects(s: Snapshot): Record<string, number> {
  return {
    tables: s.tables.length,
    columns: s.tables.reduce((n, t) => n + t.columns.length, 0),
    constraints: s.tables.reduce((n, t) => n + t.constraints.length, 0),
    indexes: s.tables.reduce((n, t) => n + t.indexes.length, 0) + s.views.reduce((n, v) => n + v.indexes.length, 0),
    sequences: s.sequences.length,
    types: s.types.length,
    functions: s.functions.length,
    views: s.views.length,
    triggers: s.tables.reduce((n, t) => n + t.triggers.length, 0),
    policies: s.tables.reduce((n, t) => n + t.policies.length, 0),
    extensions: s.extensions.length,
  };
}
