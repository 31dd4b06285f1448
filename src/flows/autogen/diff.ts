/**
 * The core of `tidemark diff --service S [--from SRC] [--to SRC]` (issue 13 items 2–4): the migration(s)
 * that turn what S owns in `from` (default: its history replayed) into what it owns in `to` (default: its
 * configured desired schema), proven on a shadow before anything is written.
 *
 * sources (a Snapshot of each side; `to` first, its shadow disposed, then `from` on a shadow that is kept)
 * → accepted renames applied to `from` → diff → renderChanges → safe forms (unless `oneFile`) → drafts cut
 * into numbered files → proof (prove.ts: up must give `to`, down must give `from` back) → written, with
 * tidemark.sum. Only objects S owns ever appear: both snapshots are introspected for S alone, a desired
 * schema creating another service's object is refused while loading, and a change that would break another
 * service's object (its foreign key onto a dropped table) is refused by name.
 *
 * A core (DESIGN §7): it takes the target and opens nothing but shadows (target.openShadow).
 */
import path from 'node:path';
import { replayMigrations } from '../../apply/replay.js';
import { withRequiredServices } from '../../config/services.js';
import type { Service, Workspace } from '../../config/types.js';
import type { Database, Session } from '../../db/database.js';
import type { Shadow } from '../../db/shadow.js';
import { asTidemarkError, TidemarkError } from '../../errors.js';
import { readTidemarkHistory } from '../../history/read-tidemark.js';
import { nextMigrationNumber, normalizeSlug, writeMigrationFiles, type NewMigrationSum } from '../../history/new-migration.js';
import { formatMigrationId } from '../../history/tidemark-source.js';
import { ensureLedger } from '../../ledger/ledger.js';
import { displayName, nameKey } from '../../sql/ident.js';
import type { Change } from '../../schema/diff/change.js';
import { diff } from '../../schema/diff/diff.js';
import { applyRenames, type Rename, type RenameSuggestion, suggestRenames } from '../../schema/diff/renames.js';
import { describeEdits } from '../../schema/diff/words.js';
import { renderBaseline } from '../../schema/render/baseline.js';
import { renderChanges } from '../../schema/render/changes.js';
import { draftMigrations, formatDraft, type MigrationDraft } from '../../schema/render/drafts.js';
import { safeForms } from '../../schema/render/safe.js';
import type { HazardNote, RenderedChanges, Statement } from '../../schema/render/statement.js';
import type { SchemaDifference, Snapshot } from '../../schema/snapshot.js';
import type { Target } from '../../target/target.js';
import { type DraftFile, proveDrafts } from './prove.js';
import { type LoadSourceOptions, type LoadedSchema, loadSource, parseSource, type SchemaSource } from './sources.js';

export interface DiffCoreOptions extends LoadSourceOptions {
  service: string;
  /** `history` (default), `history:ID`, a database URL, or a .sql file or directory. */
  from?: string;
  /** Default: the service's configured `schema`. */
  to?: string;
  /** The slug of the file(s) written (default `schema_change`). */
  name?: string;
  /** Prove, write nothing. */
  dryRun?: boolean;
  /** One transactional file with the plain forms (no CONCURRENTLY, no NOT VALID): for databases without rows yet. */
  oneFile?: boolean;
  /** An explicit empty database for the shadows (`--shadow URL`). */
  shadowUrl?: string;
}

export interface DiffResult {
  ok: boolean;
  service: string;
  /** What each side was, in words. */
  from: string;
  to: string;
  /** `to` is the target database: it already has the change, which `tidemark stamp` records once the files are written. */
  toIsTarget: boolean;
  changes: Change[];
  /** The changes as edits, in words. */
  words: SchemaDifference[];
  hazards: HazardNote[];
  /** Likely renames, with the comment that accepts each: offered, never applied. */
  suggestions: RenameSuggestion[];
  /** Written, or that would be (dry run); in run order. */
  files: DraftFile[];
  written: boolean;
  dryRun: boolean;
  sum?: NewMigrationSum;
  proof?: { shadow: string; ms: number };
  durationMs: number;
  error?: TidemarkError;
}

const DEFAULT_SLUG = 'schema_change';

/** The empty result the failures fill in. */
function emptyResult(options: DiffCoreOptions): DiffResult {
  return {
    ok: false,
    service: options.service,
    from: '',
    to: '',
    toIsTarget: false,
    changes: [],
    words: [],
    hazards: [],
    suggestions: [],
    files: [],
    written: false,
    dryRun: Boolean(options.dryRun),
    durationMs: 0,
  };
}

/** A failed result (what `api/diff.ts` returns when the target cannot be opened, too). */
export function failedDiff(options: DiffCoreOptions, err: unknown, durationMs: number): DiffResult {
  return { ...emptyResult(options), error: asTidemarkError(err), durationMs };
}

/** Runs `tidemark diff`. Results as values: failures come back with `error` set, never thrown. */
export async function autogenerate(target: Target<Session>, options: DiffCoreOptions): Promise<DiffResult> {
  const started = performance.now();
  const result = emptyResult(options);
  try {
    await generate(withShadowUrl(target, options.shadowUrl), options, result);
    result.ok = true;
  } catch (err) {
    result.error = asTidemarkError(err);
  }
  result.durationMs = performance.now() - started;
  return result;
}

function withShadowUrl(target: Target<Session>, url: string | undefined): Target<Session> {
  return url === undefined ? target : { ...target, openShadow: (request = {}) => target.openShadow({ ...request, url }) };
}

async function generate(target: Target<Session>, options: DiffCoreOptions, result: DiffResult): Promise<void> {
  const { workspace } = target;
  const service = tidemarkService(workspace, options.service);
  const slug = normalizeSlug(options.name ?? DEFAULT_SLUG);
  if (!slug) throw new TidemarkError('bad-slug', `The name "${options.name}" has no letters or digits.`, { hint: 'e.g. tidemark diff --service budget --name add_currency' });
  const toSource = parseSource(options.to, desiredSchemaOf(service, options.to));
  const fromSource = parseSource(options.from, { kind: 'history' });
  const loadOptions = { open: options.open };

  // Each side loads on a shadow of its own; `on` is one already opened.
  const load = (src: SchemaSource, on?: Shadow) => loadSource(target, service, src, true, { ...loadOptions, shadow: on });
  let to: LoadedSchema;
  let from: LoadedSchema;
  let toDisposed: Promise<void> | undefined;
  // A database URL as `to` is read where it is: no shadow for it.
  const first = toSource.kind === 'url' ? undefined : await target.openShadow({});
  if (first?.kind === 'same-server') {
    // Temporary databases on the server: both sides load at once, the server working on both while this
    // process waits (bench/diff: the two applies are most of a diff). The `to` one is dropped while the
    // rest runs: a DROP DATABASE takes a checkpoint on PostgreSQL 15.
    const second =
      fromSource.kind === 'url'
        ? undefined
        : await target.openShadow({}).catch(async (err: unknown) => {
            await first.dispose().catch(() => {});
            throw err;
          });
    const [t, f] = await Promise.allSettled([load(toSource, first), load(fromSource, second)]);
    if (t.status === 'rejected' || f.status === 'rejected') {
      await Promise.all([first.dispose().catch(() => {}), second?.dispose().catch(() => {})]);
      throw t.status === 'rejected' ? t.reason : (f as PromiseRejectedResult).reason;
    }
    [to, from] = [t.value, f.value];
    toDisposed = first.dispose().catch(() => {});
  } else {
    // PGlite: one shadow in memory at a time; a `--shadow URL` database holds one side, then the other.
    try {
      to = await load(toSource, first);
    } finally {
      await first?.dispose();
    }
    from = await load(fromSource);
  }
  result.to = to.description;
  result.toIsTarget = to.isTarget === true;
  result.from = from.description;
  let shadow: Shadow | undefined = from.shadow;
  try {
    const renames = [...to.renames];
    const renamed = applyRenames(from.snapshot, renames);
    const changes = diff(renamed.from, to.snapshot);
    result.changes = changes;
    result.words = describeEdits(changes);
    result.suggestions = suggestRenames(changes);
    if (changes.length === 0 && renamed.statements.length === 0) return;
    refuseBreakingOthers(service.name, changes, from.snapshot);

    const ctx = { from: renamed.from, to: to.snapshot, existingTables: new Set(renamed.from.tables.map(nameKey)) };
    const plain = renderChanges(changes, ctx);
    if (plain.refused.length > 0) {
      const list = plain.refused.map((r) => `${r.object} (${r.reason})`).join('; ');
      throw new TidemarkError('diff-cannot-render', `Service ${service.name}: tidemark diff cannot write ${list}. Nothing was written.`, {
        service: service.name,
        hint: 'Write that part of the migration by hand (`tidemark new`), then run tidemark diff again for the rest.',
      });
    }
    const rendered = withRenames(options.oneFile ? plain : safeForms(plain, ctx), renamed.statements, reverseRenames(to.snapshot, renames));
    result.hazards = rendered.hazards;
    const drafts = options.oneFile ? oneFile(rendered, slug) : draftMigrations(rendered, slug);
    const requires = await newRequirements(workspace, from.snapshot, to.snapshot);
    let number = await nextMigrationNumber(service.name, service.migrationsDir);
    // The changes in words head the first file (the main one, or the only index file of an index-only diff).
    result.files = drafts.map((d, i) => {
      const id = formatMigrationId(service.name, number++, d.slug);
      const text = formatDraft({ ...d, requires }, i === 0 ? result.words : []);
      return { id, path: path.join(service.migrationsDir, `${id}.sql`), text };
    });

    // The proof runs on the `from` shadow; a database URL as `from` is rebuilt on a fresh shadow first.
    shadow ??= await shadowOf(target, service, from);
    result.proof = { shadow: shadow.description, ms: 0 };
    const proof = await proveDrafts(shadow.database, workspace, service.name, result.files, from.snapshot, to.snapshot);
    result.proof.ms = proof.ms;
    const failed = proof.up.length > 0 ? { side: 'up', list: proof.up } : proof.down.length > 0 ? { side: 'down', list: proof.down } : undefined;
    if (failed) {
      const what = failed.list.map((d) => d.message).join('; ');
      throw new TidemarkError('diff-proof-failed', `Service ${service.name}: the generated migration does not round-trip (after its ${failed.side}: ${what}). Nothing was written.`, {
        service: service.name,
        hint: 'Run with --dry-run to see the generated SQL. A change tidemark cannot express exactly is best written by hand with `tidemark new`.',
      });
    }
    if (options.dryRun) return;
    const written = await writeMigrationFiles(
      service.name,
      service.migrationsDir,
      result.files.map((f) => ({ id: f.id, text: f.text })),
    );
    result.written = true;
    result.sum = written.sum;
  } finally {
    if (shadow) await shadow.dispose().catch(() => {});
    await toDisposed;
  }
}

function tidemarkService(workspace: Workspace, name: string): Service {
  const service = workspace.services.find((s) => s.name === name);
  if (!service) {
    throw new TidemarkError('unknown-service', `No service ${name} in the config.`, { hint: `Declared services: ${workspace.services.map((s) => s.name).join(', ') || 'none'}.` });
  }
  if (service.format !== 'tidemark') {
    throw new TidemarkError('alembic-service', `Service ${name} is kept by Alembic (format: 'alembic'); tidemark diff writes tidemark migrations.`, {
      hint: `Move it to tidemark first: \`tidemark adopt --service ${name}\`.`,
    });
  }
  return service;
}

/** `--to` when not given: the configured desired schema, else `schema-not-configured`. */
function desiredSchemaOf(service: Service, to: string | undefined): SchemaSource {
  if (to !== undefined || (service.schema && service.schema.length > 0)) return { kind: 'files', paths: service.schema ?? [] };
  throw new TidemarkError('schema-not-configured', `Service ${service.name} has no desired schema: set services.${service.name}.schema in the config, or give --to.`, {
    service: service.name,
    hint: `\`tidemark baseline --service ${service.name} --schema\` writes schema/${service.name}.sql from a database once.`,
  });
}

/** A drop or change that other services' objects hang on (their foreign key onto it) would break them: refused. */
function refuseBreakingOthers(service: string, changes: readonly Change[], from: Snapshot): void {
  const breaking = changes.filter((c) => c.hazards.includes('breaks-dependents'));
  if (breaking.length === 0) return;
  const names = breaking.map((c) => `${c.id.kind} ${c.id.table ? `${c.id.table}.` : ''}${c.id.name}`);
  // Only what hangs on the refused objects (the labels introspection gave them: `table users`, `function f(int)`).
  const labels = breaking.map((c) => `${c.id.kind} ${displayName({ schema: c.id.schema, name: c.id.name })}`);
  const all = from.dependents ?? [];
  const hung = all.filter((d) => labels.some((l) => d.object === l || d.object.startsWith(`${l}(`) || d.object === `materialized ${l}`));
  const who = [...new Set((hung.length > 0 ? hung : all).map((d) => `${d.from} (service ${d.service || 'none'})`))].join(', ');
  throw new TidemarkError('diff-breaks-dependents', `Service ${service}: ${names.join(', ')} would change under objects of other services: ${who}. Nothing was written.`, {
    service,
    hint: 'Change or drop those objects in their own services first (each service migrates what it owns), then run tidemark diff again.',
  });
}

/** The renames run first in the up, and are undone last in the down. */
function withRenames(r: RenderedChanges, up: Statement[], down: Statement[]): RenderedChanges {
  if (up.length === 0) return r;
  return { ...r, up: [...up, ...r.up], down: [...r.down, ...down] };
}

/**
 * The RENAMEs that undo `renames`, computed on `to` (where the objects carry their new names): columns,
 * indexes and constraints first, while their table still has its new name, then tables and the rest.
 */
function reverseRenames(to: Snapshot, renames: readonly Rename[]): Statement[] {
  if (renames.length === 0) return [];
  const back = (r: Rename): Rename => {
    const old = oldName(r);
    const current = r.schema === old.schema ? quoteName(r.to) : `${quoteName(r.schema)}.${quoteName(r.to)}`;
    return { ...r, schema: old.schema, from: current, to: old.name };
  };
  const inner = renames.filter((r) => r.table !== undefined).map(back);
  const outer = renames.filter((r) => r.table === undefined).map(back);
  const first = applyRenames(to, inner);
  return [...first.statements, ...applyRenames(first.from, outer).statements];
}

/** A rename's old name: `schema.name` or `name` (same schema), SQL-folded as renames.ts reads it. */
function oldName(r: Rename): { schema: string; name: string } {
  const parts = r.from.match(/"(?:[^"]|"")*"|[^.\s]+/g) ?? [r.from];
  const read = (p: string) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p.toLowerCase());
  return parts.length === 2 ? { schema: read(parts[0]), name: read(parts[1]) } : { schema: r.schema, name: read(parts[parts.length - 1]) };
}

function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Every statement in one transactional file, plain forms only (`--one-file`); labels an enum gains keep
 * their own file before it, as draftMigrations cuts them: PostgreSQL refuses a label used in the
 * transaction that added it.
 */
function oneFile(r: RenderedChanges, slug: string): MigrationDraft[] {
  const labels = (list: Statement[]) => list.filter((s) => s.phase === 'enum-values');
  const rest = (list: Statement[]) => list.filter((s) => s.phase !== 'enum-values');
  const lossy = (down: Statement[]) => down.some((s) => s.hazards.some((h) => h.hazard === 'data-loss'));
  const file = (name: string, up: Statement[], down: Statement[]): MigrationDraft => ({ slug: name, transactional: true, requires: [], lossyDown: lossy(down), up, down });
  const drafts = [file(slug, rest(r.up), rest(r.down))];
  if (labels(r.up).length > 0 || labels(r.down).length > 0) drafts.unshift(file(`${slug}_enum_values`, labels(r.up), labels(r.down)));
  return drafts;
}

/**
 * `-- tidemark:requires` for each service whose objects `to` references and `from` did not (a new foreign
 * key into another service's table): its latest migration, as a baseline writes them.
 */
async function newRequirements(workspace: Workspace, from: Snapshot, to: Snapshot): Promise<string[]> {
  const before = new Set(from.references.map((r) => r.service));
  const others = [...new Set(to.references.map((r) => r.service))].filter((s) => s !== '' && !before.has(s)).sort();
  const ids: string[] = [];
  for (const name of others) {
    const other = workspace.services.find((s) => s.name === name);
    if (other?.format !== 'tidemark') continue;
    const history = await readTidemarkHistory(other.name, other.migrationsDir);
    const last = history.migrations.at(-1);
    if (last) ids.push(last.id);
  }
  return ids;
}

/** A database `from` rebuilt on a fresh shadow: what it requires replayed, then its objects from a baseline of the snapshot. */
async function shadowOf(target: Target<Session>, service: Service, from: LoadedSchema): Promise<Shadow> {
  const shadow = await target.openShadow({});
  try {
    const db: Database = shadow.database;
    const required = withRequiredServices(target.workspace, [service.name]).filter((n) => n !== service.name);
    if (required.length > 0) await replayMigrations({ workspace: target.workspace }, required, db);
    await ensureLedger(db);
    const { up } = renderBaseline(from.snapshot, service.name);
    await db.transaction((tx) => tx.exec(up));
    return shadow;
  } catch (err) {
    await shadow.dispose().catch(() => {});
    throw new TidemarkError('diff-proof-failed', `Cannot rebuild ${from.description} on a shadow database to prove the migration on: ${asTidemarkError(err).message}`, {
      service: service.name,
      hint: 'Give --from history (or a .sql file) instead, or --shadow URL of an empty database that has what the schema needs.',
      cause: err,
    });
  }
}
