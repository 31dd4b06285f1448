/**
 * `tidemark squash --service S --to ID` (issue 13 item 6): the migrations 001…ID of S replaced by one file,
 * `<S>_<ID's number>_squashed.sql`, that creates what they leave behind (Django's `replaces`).
 *
 * 1. refuse what cannot be folded into one transactional SQL file: a script migration (`squash-has-script`),
 *    a no-transaction file, a squash already there, fewer than two migrations, an unknown ID, a migration of
 *    another service that requires one of the range (`squash-range-invalid`); and a target database whose
 *    ledger holds PART of the range (`squash-partially-applied`): it could take the squash neither as applied
 *    nor as pending, or applied a file since edited (`checksum-drift`: the squash would be built from the
 *    edit); a tidemark.sum that no longer matches (`sum-mismatch`); a `squashed/` that is not free. Only the
 *    database of the target is read; other databases are the user's to check.
 * 2. render: replay the history up to ID on ONE shadow (target.openShadow), snapshot S, renderBaseline's up,
 *    its down (renderDrop), under `-- tidemark:squashes <every id>` and the range's `-- tidemark:requires`.
 * 3. prove on the same shadow: the old history replayed whole, the shadow emptied, the new history (the squash,
 *    then the migrations after ID) replayed whole: both snapshots equal, else `squash-proof-failed`.
 * 4. write the squash, move the old files to `<migrations>/squashed/`, rewrite tidemark.sum, all or nothing
 *    (a failed step puts back what the earlier ones did). `dryRun`: 1–3 only.
 * Results as values: `ok` false with `error` set. The target database is only read.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readHistories } from '../apply/migrate.js';
import { replay } from '../apply/replay.js';
import { withRequiredServices } from '../config/services.js';
import { selectServices } from '../config/select.js';
import { baseline as shadowContents, emptyAgain } from '../db/shadow-empty.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import type { History, MigrationFile } from '../history/migration.js';
import { resolveMigration } from '../history/resolve.js';
import { readSumVerification, writeSumFile } from '../history/sum-io.js';
import { sumIsClean } from '../history/sum-file.js';
import { parseMigrationName, parseMigrationSource } from '../history/tidemark-source.js';
import { readLedger } from '../ledger/ledger.js';
import { displayPath } from '../paths.js';
import { compareSnapshots } from '../schema/diff/compare.js';
import { renderBaseline, unsupportedObjects } from '../schema/render/baseline.js';
import type { SchemaDifference, Snapshot } from '../schema/snapshot.js';
import type { DatabaseSource, Target } from '../target/target.js';

/** The folder, inside the service's migrations directory, the squashed files move to (the history reader skips it). */
const SQUASHED_DIR = 'squashed';

export interface SquashCoreOptions {
  service: string;
  /** The last migration squashed (full id or `<service>_<NNN>`); the squash starts at the first. */
  to: string;
  /** Prove and print, write nothing. */
  dryRun?: boolean;
  /** An explicit empty database to prove on (`--shadow URL`). */
  shadowUrl?: string;
}

export interface SquashResult {
  ok: boolean;
  service: string;
  database?: string;
  databaseSource?: DatabaseSource;
  dryRun: boolean;
  /** The ids squashed, in order. */
  squashes: string[];
  /** Absolute path of the squash file (written unless dry run or refused). */
  file: string;
  written: boolean;
  /** The squash file's whole text. */
  sql: string;
  /** The old files and where they went (empty on a dry run). */
  moved: { from: string; to: string }[];
  /** Which shadow proved it. */
  shadow: string;
  /** Old history against new ([] when proven equal). */
  differences: SchemaDifference[];
  sum?: { file: string; updated: boolean };
  durationMs: number;
  error?: TidemarkError;
}

export function failedSquash(options: Pick<SquashCoreOptions, 'service' | 'dryRun'>, err: unknown, durationMs: number): SquashResult {
  return { ...emptyResult(options), error: asSquashError(err, options.service), durationMs };
}

function emptyResult(options: Pick<SquashCoreOptions, 'service' | 'dryRun'>): SquashResult {
  return { ok: false, service: options.service, dryRun: Boolean(options.dryRun), squashes: [], file: '', written: false, sql: '', moved: [], shadow: '', differences: [], durationMs: 0 };
}

function asSquashError(err: unknown, service: string): TidemarkError {
  return isTidemarkError(err) ? err : new TidemarkError('unexpected', (err as Error)?.message ?? String(err), { service, cause: err });
}

function rangeInvalid(service: string, message: string, hint: string, m?: MigrationFile): TidemarkError {
  return new TidemarkError('squash-range-invalid', message, { service, hint, ...(m ? { file: m.file, migration: m.id } : {}) });
}

export async function squash(target: Target, options: SquashCoreOptions): Promise<SquashResult> {
  const started = performance.now();
  const name = options.service;
  const result: SquashResult = { ...emptyResult(options), database: target.name.display, databaseSource: target.name.source };
  try {
    const { workspace } = target;
    const [service] = selectServices(workspace, [name]);
    if (service.format !== 'tidemark') {
      throw rangeInvalid(name, `Service ${name} keeps its migrations with ${service.format}: tidemark squashes only its own histories.`, 'Adopt the service first (`tidemark adopt`).');
    }
    const scoped = selectServices(workspace, withRequiredServices(workspace, [name]));
    const histories = await readHistories(workspace, scoped);
    const history = histories.find((h) => h.service === name)!;
    const range = squashRange(history, histories, options.to);
    const last = range[range.length - 1];
    result.squashes = range.map((m) => m.id);
    const dir = path.dirname(last.file);
    const number = last.id.slice(name.length + 1).split('_')[0]; // as written (its zero padding kept)
    result.file = path.join(dir, `${name}_${number}_squashed.sql`);

    // A sum that already disagrees with the files would be written again over the disagreement.
    const sumBefore = await readSumVerification(name, dir);
    if (sumBefore.present && !sumIsClean(sumBefore)) {
      throw new TidemarkError(
        'sum-mismatch',
        `${displayPath(sumBefore.file)} does not match ${name}'s migration files (an edit, a bad merge): a squash would rewrite it over that; nothing was written.`,
        {
          file: sumBefore.file,
          service: name,
          hint: 'Run `tidemark check` to see which file differs; restore it, or run `tidemark sum` if the change is meant.',
        },
      );
    }
    const into = path.join(dir, SQUASHED_DIR);
    const moves = range.map((m) => ({ from: m.file, to: path.join(into, path.basename(m.file)) }));
    if (!options.dryRun) await refuseMoves(name, into, moves);
    await refusePartial(target, name, range);

    const shadow = await target.openShadow({ url: options.shadowUrl });
    result.shadow = shadow.description;
    let text: string;
    try {
      const db = shadow.database;
      const empty = await shadowContents(db);
      const scope = { workspace, histories };
      const squashed = await replay(scope, name, db, { upTo: last.id });
      const unsupported = unsupportedObjects(squashed);
      if (unsupported.length > 0) {
        throw new TidemarkError('squash-proof-failed', `Cannot squash ${range[0].id}…${last.id}: tidemark cannot reproduce ${unsupported.join(', ')}, which they create; nothing was written.`, {
          service: name,
          hint: 'Squash up to a migration before that object appears, or keep the history as it is.',
        });
      }
      const title = `${name}: ${range[0].id}…${last.id} squashed by \`tidemark squash\` from their replay`;
      const rendered = renderBaseline(squashed, name, { title });
      text = squashFile(range, histories, rendered.up, rendered.down);
      result.sql = text;
      // The new history: the squash (parsed as the reader will parse it) in place of the range.
      const parsed = parseMigrationSource(name, result.file, parseMigrationName(name, path.basename(result.file))!, Buffer.from(text));
      if (!parsed.migration) throw new TidemarkError('squash-proof-failed', `The squash of ${name} does not parse: ${parsed.problems.map((p) => p.message).join('; ')}`, { service: name });
      const newHistory: History = { ...history, migrations: [parsed.migration, ...history.migrations.filter((m) => m.number > last.number)] };

      const old = await replay(scope, name, db);
      await emptyAgain(db, empty);
      let replayed: Snapshot;
      try {
        replayed = await replay({ workspace, histories: histories.map((h) => (h.service === name ? newHistory : h)) }, name, db);
      } catch (err) {
        throw new TidemarkError(
          'squash-proof-failed',
          `The squash of ${name} does not replay on the shadow database (${shadow.description}): ${asSquashError(err, name).message} Nothing was written.`,
          {
            service: name,
            hint: "This is a gap in tidemark's DDL rendering: report it with the object named above.",
            cause: err,
          },
        );
      }
      result.differences = compareSnapshots(old, replayed);
    } finally {
      await shadow.dispose().catch(() => {});
    }
    if (result.differences.length > 0) {
      const n = result.differences.length;
      throw new TidemarkError(
        'squash-proof-failed',
        `The squashed history of ${name} does not build what the old one builds (${n} difference${n === 1 ? '' : 's'}): ${result.differences
          .slice(0, 5)
          .map((d) => d.message)
          .join('; ')}${n > 5 ? '; …' : ''}. Nothing was written.`,
        { service: name, hint: "This is a gap in tidemark's introspection or rendering: report it, with the differences listed." },
      );
    }

    if (!options.dryRun) await writeSquash(name, text, result, moves, into, dir);
    result.ok = true;
  } catch (err) {
    result.error = asSquashError(err, name);
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

/** Where the old files go must be free: `squashed/` a directory (or absent), no file of the range already in it. */
async function refuseMoves(service: string, into: string, moves: readonly { from: string; to: string }[]): Promise<void> {
  const dir = await fs.stat(into).catch(() => undefined);
  if (dir && !dir.isDirectory()) {
    throw rangeInvalid(service, `${displayPath(into)} is a file, where squash keeps the files it replaces; nothing was written.`, `Move it away first; ${SQUASHED_DIR}/ must be a directory.`);
  }
  for (const move of moves) {
    if (await exists(move.to)) {
      throw rangeInvalid(
        service,
        `${displayPath(move.to)} already exists; squash does not overwrite it. Nothing was written.`,
        `Move it away first; ${SQUASHED_DIR}/ keeps the files squashes replaced.`,
      );
    }
  }
}

/**
 * The squash file, the old files moved into `squashed/`, tidemark.sum: all or nothing. A step that fails
 * (another squash took the name, the file system) puts back what the earlier ones did.
 */
async function writeSquash(service: string, text: string, result: SquashResult, moves: readonly { from: string; to: string }[], into: string, dir: string): Promise<void> {
  try {
    await fs.mkdir(into, { recursive: true });
    await fs.writeFile(result.file, text, { flag: 'wx' });
    result.written = true;
    for (const move of moves) {
      await fs.rename(move.from, move.to);
      result.moved.push(move);
    }
    const sum = await writeSumFile(service, dir);
    result.sum = { file: sum.file, updated: sum.changed };
  } catch (err) {
    for (const move of [...result.moved].reverse()) await fs.rename(move.to, move.from).catch(() => {});
    if (result.written) await fs.rm(result.file, { force: true });
    result.moved = [];
    result.written = false;
    if (isTidemarkError(err)) throw err;
    const code = (err as NodeJS.ErrnoException)?.code;
    throw new TidemarkError(
      'migration-write-failed',
      `Cannot write the squash of ${service}, ${displayPath(result.file)}: ${code === 'EEXIST' ? 'it already exists (another squash?)' : (code ?? String(err))}. Nothing was changed.`,
      {
        file: result.file,
        service,
        hint: 'Run the command again once the cause is gone.',
        cause: err,
      },
    );
  }
}

/** The migrations 001…`to` of the history, refused unless they fold into one transactional SQL file. */
function squashRange(history: History, histories: readonly History[], to: string): MigrationFile[] {
  const service = history.service;
  const last = resolveMigration(histories, to);
  if (!last || last.service !== service) {
    throw rangeInvalid(
      service,
      `No migration ${to} in ${service}: squash needs the last migration to replace.`,
      `Give one of ${service}'s migration ids as \`tidemark status\` lists it, e.g. ${service}_003.`,
    );
  }
  const range = history.migrations.filter((m) => m.number <= last.number);
  // The squash takes the name `<service>_<number>_squashed`: the last one squashed must not hold it already.
  if (last.slug === 'squashed') {
    throw rangeInvalid(service, `${last.id} would share its name with the squash that replaces it; nothing was written.`, 'Squash up to another migration.', last);
  }
  if (range.length < 2) {
    throw rangeInvalid(service, `${last.id} is ${service}'s first migration: a squash replaces two migrations or more.`, 'Give a later migration with --to.', last);
  }
  // A script first: of the reasons, the one no reordering of the files can lift.
  for (const m of [...range].sort((a, b) => Number(b.kind === 'script') - Number(a.kind === 'script'))) {
    if (m.kind === 'script') {
      throw new TidemarkError(
        'squash-has-script',
        `Cannot squash ${range[0].id}…${last.id}: ${m.id} is a script (${path.basename(m.file)}), whose data work a schema squash cannot keep; nothing was written.`,
        {
          service,
          file: m.file,
          migration: m.id,
          hint: `Squash up to the migration before ${m.id} at most.`,
        },
      );
    }
    if (!m.transactional) {
      throw rangeInvalid(
        service,
        `Cannot squash ${range[0].id}…${last.id}: ${m.id} is -- tidemark:no-transaction, and a squash runs in one transaction; nothing was written.`,
        `Squash up to the migration before ${m.id} at most.`,
        m,
      );
    }
    if (m.squashes) {
      throw rangeInvalid(
        service,
        `Cannot squash ${range[0].id}…${last.id}: ${m.id} already is a squash, and a squash of a squash is not supported; nothing was written.`,
        'Keep the history as it is.',
        m,
      );
    }
  }
  // A requirement by id on a file that moves away would no longer resolve: the other service's file must not change once applied.
  const ids = new Set(range.map((m) => m.id));
  for (const other of histories) {
    if (other.service === service) continue;
    for (const m of other.migrations) {
      for (const req of m.requires) {
        const target = resolveMigration(histories, req.ref);
        if (target && ids.has(target.id)) {
          throw rangeInvalid(
            service,
            `Cannot squash ${range[0].id}…${last.id}: ${displayPath(m.file)}:${req.line}: ${m.id} of ${other.service} requires ${target.id}, which the squash would move away; nothing was written.`,
            `Squash up to a migration before ${target.id}: ${m.id} is applied as written, so its requirement cannot change.`,
            target,
          );
        }
      }
    }
  }
  return range;
}

/** The target database holds none or all of the range: a part could take the squash neither as applied nor as pending. */
async function refusePartial(target: Target, service: string, range: readonly MigrationFile[]): Promise<void> {
  const rows = await readLedger(target.db, [service]);
  // The squash is built from the files: one edited since it was applied would be taken for what ran.
  for (const m of range) {
    const row = rows.find((r) => r.migration === m.id && r.status === 'applied');
    if (row && row.checksum !== m.checksum) {
      throw new TidemarkError('checksum-drift', `${displayPath(m.file)} was edited after ${target.name.display} applied it: a squash would be built from the edited text; nothing was written.`, {
        file: m.file,
        service,
        migration: m.id,
        hint: 'Restore the file as it was applied and put the change in a new migration (`tidemark new`), then squash.',
      });
    }
  }
  const applied = range.filter((m) => rows.some((r) => r.migration === m.id && r.status === 'applied')).map((m) => m.id);
  const recorded = range.filter((m) => rows.some((r) => r.migration === m.id)).map((m) => m.id);
  if (recorded.length === 0 || (applied.length === range.length && recorded.length === range.length)) return;
  const missing = range.map((m) => m.id).filter((id) => !applied.includes(id));
  throw new TidemarkError(
    'squash-partially-applied',
    `Cannot squash ${range[0].id}…${range[range.length - 1].id}: ${target.name.display} applied only part of them (${applied.join(', ') || 'none'} applied, ${missing.join(', ')} not); nothing was written.`,
    {
      service,
      migration: range[range.length - 1].id,
      hint: `Run \`tidemark up --service ${service} --to ${range[range.length - 1].id}\` there first, or squash up to ${applied[applied.length - 1] ?? 'what every database applied'}.`,
    },
  );
}

/** The squash's text: its directives (one `squashes` line, as the parser reads it), then up and down. */
function squashFile(range: readonly MigrationFile[], histories: readonly History[], up: string, down: string): string {
  const requires = [...new Set(range.flatMap((m) => m.requires.map((r) => resolveMigration(histories, r.ref)?.id ?? r.ref)))];
  return [`-- tidemark:squashes ${range.map((m) => m.id).join(' ')}`, ...requires.map((r) => `-- tidemark:requires ${r}`), '-- tidemark:up', up, '-- tidemark:down', down].join('\n');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}
