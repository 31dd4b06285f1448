import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Session } from '../db/database.js';
import { parseDatabaseUrl } from '../db/url.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import { writeSumFile } from '../history/sum-io.js';
import { compareMigrationNumbers, formatMigrationId, parseMigrationName, parseMigrationSource } from '../history/tidemark-source.js';
import { readLedger } from '../ledger/ledger.js';
import { displayPath } from '../paths.js';
import type { DatabaseSource, Target } from '../target/target.js';

/**
 * `tidemark renumber --service S`: after two branches each added a migration with the same number,
 * keep the one added first and give every later one the next free number above the highest.
 *
 * "Added first" is, per file: the committer time of the earliest commit that added it
 * (`git log --diff-filter=A --follow --format=%ct HEAD [MERGE_HEAD] -- <file>`, run in the file's
 * directory, so it works in the middle of a conflicted merge too). A file git does not know (no
 * repository, git not installed, not committed yet) falls back to its mtime and counts as added
 * after every committed file. Ties go to the name in code-unit order.
 *
 * Files are renamed in place (a plain rename — `git add` them afterwards), and tidemark.sum is
 * rewritten. Refuses, renaming nothing, when a file it would rename is recorded in the ledger of the
 * target's database, named by `database` / DATABASE_URL / the config; with none of these configured
 * (the target names the embedded default), the check is skipped and the result says so. The target's
 * database is used only when it exists: a `pglite:` directory that does not exist is not created.
 */

export interface RenumberCoreOptions {
  /** Work out and return the moves; rename nothing. */
  dryRun?: boolean;
}

export interface RenumberFile {
  id: string;
  /** Absolute path. */
  file: string;
  number: bigint;
  /** When the file was added (ISO 8601). */
  addedAt: string;
  /** `git`: first commit that added it; `mtime`: not in git, its modification time. */
  addedBy: 'git' | 'mtime';
}

export interface RenumberMove {
  from: RenumberFile;
  toId: string;
  /** Absolute path after the rename. */
  toFile: string;
  toNumber: bigint;
}

export interface RenumberGroup {
  number: bigint;
  kept: RenumberFile;
  moved: RenumberMove[];
}

/** A `-- tidemark:requires` that pointed at a file this run renames (or at its number, ambiguously). */
export interface RequiresEdit {
  service: string;
  file: string;
  line: number;
  ref: string;
  /** The id the reference should name if it meant the renamed file. */
  renamedTo: string;
  /** False for a short ref (`budget_005`): it now resolves to the kept file; edit it if it meant the other. */
  exact: boolean;
}

export type RenumberDatabaseCheck = { checked: true; database: string; source: DatabaseSource; applied: string[] } | { checked: false; reason: string; database?: string; source?: DatabaseSource };

export interface RenumberResult {
  ok: boolean;
  service: string;
  dryRun: boolean;
  /** Each number declared by two or more files. Empty: nothing to do. */
  groups: RenumberGroup[];
  /** Every planned move, in order (also for a dry run or a refusal). */
  moves: RenumberMove[];
  /** True when the files were actually renamed. */
  renamed: boolean;
  requiresToEdit: RequiresEdit[];
  database: RenumberDatabaseCheck;
  /** Set when tidemark.sum was rewritten. */
  sum?: { file: string; changed: boolean };
  error?: TidemarkError;
}

function run(cwd: string, args: string[]): Promise<{ ok: boolean; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout) => resolve({ ok: !err, stdout: String(stdout ?? '') }));
  });
}

/** Epoch ms of the earliest commit that added the file, or undefined when git does not know it. */
async function gitAddedTime(file: string): Promise<number | undefined> {
  const dir = path.dirname(file);
  const revs = ['HEAD'];
  if ((await run(dir, ['rev-parse', '-q', '--verify', 'MERGE_HEAD'])).ok) revs.push('MERGE_HEAD');
  const r = await run(dir, ['log', '--diff-filter=A', '--follow', '--format=%ct', ...revs, '--', path.basename(file)]);
  if (!r.ok) return undefined;
  const times = r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isFinite(n) && n > 0);
  return times.length ? Math.min(...times) * 1000 : undefined;
}

async function addedTime(file: string): Promise<{ at: number; by: 'git' | 'mtime' }> {
  const git = await gitAddedTime(file);
  if (git !== undefined) return { at: git, by: 'git' };
  return { at: (await fs.stat(file)).mtimeMs, by: 'mtime' };
}

function earlierFirst(a: RenumberFile & { at: number }, b: RenumberFile & { at: number }): number {
  if (a.addedBy !== b.addedBy) return a.addedBy === 'git' ? -1 : 1;
  if (a.at !== b.at) return a.at - b.at;
  const an = path.basename(a.file);
  const bn = path.basename(b.file);
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** How to get past a rename the file system refused. */
function renameHint(errno: string | undefined, move: RenumberMove): string {
  const to = path.basename(move.toFile);
  if (errno === 'ENAMETOOLONG') {
    return `${to} would be ${Buffer.byteLength(to)} bytes, longer than the file system allows: give ${move.from.id} a shorter slug (rename it by hand), then run tidemark renumber again.`;
  }
  return `Fix what the file system reports (permissions, a read-only or full disk), then run tidemark renumber again.`;
}

/**
 * Renames every move, or none: on a failure, what was already renamed is put back, so the directory is as it was.
 * If even putting back fails, the error says which files are left renamed instead of "nothing was renamed".
 */
export async function renameAll(moves: RenumberMove[], service: string, rename: (from: string, to: string) => Promise<void> = fs.rename): Promise<void> {
  const done: RenumberMove[] = [];
  for (const m of moves) {
    try {
      await rename(m.from.file, m.toFile);
      done.push(m);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code;
      const stuck: string[] = [];
      for (const back of [...done].reverse()) {
        await rename(back.toFile, back.from.file).catch((e: NodeJS.ErrnoException) =>
          stuck.push(`${displayPath(back.toFile)} (${e.code ?? e.message}; its name was ${path.basename(back.from.file)})`),
        );
      }
      const what = `Cannot rename ${displayPath(m.from.file)} to ${path.basename(m.toFile)}: ${errno ?? (err as Error)?.message ?? String(err)}.`;
      throw new TidemarkError(
        'rename-failed',
        stuck.length === 0 ? `${what} Nothing was renamed.` : `${what} Putting back the renames already done failed too, so these stay renamed: ${stuck.join(', ')}.`,
        {
          kind: 'failure',
          file: m.from.file,
          service,
          hint: stuck.length === 0 ? renameHint(errno, m) : 'Rename the files listed back by hand, then run tidemark renumber again.',
          cause: err,
        },
      );
    }
  }
}

function toError(err: unknown): TidemarkError {
  return asTidemarkError(err);
}

/** The result of a renumber that failed before reading anything (the boundary could not load the config or select the service). */
export function renumberFailure(service: string, dryRun: boolean | undefined, err: unknown): RenumberResult {
  return { ...emptyResult(service, dryRun), error: toError(err) };
}

function emptyResult(service: string, dryRun: boolean | undefined): RenumberResult {
  return { ok: false, service, dryRun: Boolean(dryRun), groups: [], moves: [], renamed: false, requiresToEdit: [], database: { checked: false, reason: 'not checked' } };
}

/** Renumbers the duplicate numbers of the target's one service. Results as values: never throws. */
export async function renumber(target: Target<Session>, options: RenumberCoreOptions = {}): Promise<RenumberResult> {
  const result = emptyResult(target.services[0]?.name ?? '', options.dryRun);
  try {
    const { workspace } = target;
    if (target.services.length !== 1) throw new TidemarkError('bad-usage', 'renumber works on one service at a time: give --service.', { kind: 'usage' });
    const [service] = target.services;
    const dir = service.migrationsDir;
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (err) {
      throw new TidemarkError('migrations-dir-unreadable', `Cannot read the migrations directory of ${service.name}, ${displayPath(dir)}: ${(err as NodeJS.ErrnoException).code}.`, {
        kind: 'input',
        file: dir,
        service: service.name,
      });
    }

    // Group the files by number.
    const byNumber = new Map<bigint, { name: string; parsed: NonNullable<ReturnType<typeof parseMigrationName>> }[]>();
    let highest = 0n;
    for (const name of names) {
      const parsed = parseMigrationName(service.name, name);
      if (!parsed) continue;
      if (parsed.number > highest) highest = parsed.number;
      byNumber.set(parsed.number, [...(byNumber.get(parsed.number) ?? []), { name, parsed }]);
    }
    let next = highest;
    for (const number of [...byNumber.keys()].sort(compareMigrationNumbers)) {
      const files = byNumber.get(number)!;
      if (files.length < 2) continue;
      const dated = await Promise.all(
        files.map(async ({ name, parsed }) => {
          const file = path.join(dir, name);
          const { at, by } = await addedTime(file);
          return { id: parsed.id, file, number, addedAt: new Date(at).toISOString(), addedBy: by, at, parsed };
        }),
      );
      dated.sort(earlierFirst);
      const strip = ({ id, file, number: n, addedAt, addedBy }: (typeof dated)[number]): RenumberFile => ({ id, file, number: n, addedAt, addedBy });
      const group: RenumberGroup = { number, kept: strip(dated[0]), moved: [] };
      for (const later of dated.slice(1)) {
        next += 1n;
        const toId = formatMigrationId(service.name, next, later.parsed.slug);
        const ext = later.file.slice(later.file.lastIndexOf('.'));
        group.moved.push({ from: strip(later), toId, toFile: path.join(dir, `${toId}${ext}`), toNumber: next });
      }
      result.groups.push(group);
      result.moves.push(...group.moved);
    }

    if (result.moves.length === 0) {
      result.database = { checked: false, reason: 'no duplicate numbers: nothing to rename' };
      result.ok = true;
      return result;
    }

    // -- tidemark:requires that point at a renamed file, in every tidemark service.
    const movedIds = new Map(result.moves.map((m) => [m.from.id, m]));
    const movedFiles = new Set(result.moves.map((m) => m.from.file));
    for (const other of workspace.services.filter((s) => s.format === 'tidemark')) {
      let otherNames: string[];
      try {
        otherNames = await fs.readdir(other.migrationsDir);
      } catch {
        continue;
      }
      for (const name of otherNames.sort()) {
        const parsedName = parseMigrationName(other.name, name);
        const file = path.join(other.migrationsDir, name);
        if (!parsedName || movedFiles.has(file)) continue;
        let bytes: Buffer;
        try {
          bytes = await fs.readFile(file);
        } catch {
          continue;
        }
        const { migration } = parseMigrationSource(other.name, file, parsedName, bytes);
        for (const req of migration?.requires ?? []) {
          const exact = movedIds.get(req.ref);
          if (exact) {
            result.requiresToEdit.push({ service: other.name, file, line: req.line, ref: req.ref, renamedTo: exact.toId, exact: true });
            continue;
          }
          const short = new RegExp(`^${service.name}_0*(\\d+)$`).exec(req.ref);
          if (short) {
            for (const m of result.moves.filter((mv) => mv.from.number === BigInt(short[1]))) {
              result.requiresToEdit.push({ service: other.name, file, line: req.line, ref: req.ref, renamedTo: m.toId, exact: false });
            }
          }
        }
      }
    }

    // Refuse if a file to rename is recorded in the database.
    const { name } = target;
    const { source } = name;
    if (source === 'default') {
      result.database = {
        checked: false,
        reason: 'no database given (--database, DATABASE_URL or the config): could not check that the renamed files are unapplied',
      };
    } else {
      // An unsupported URL is refused here, as a URL (no database named in the result). A `pglite:` path from
      // the config is relative to its directory, one typed by the user to cwd: the target's one rule.
      const parsedUrl = source === 'given' ? undefined : parseDatabaseUrl(name.display, target.paths.urlBase(source));
      if (parsedUrl?.backend === 'pglite' && parsedUrl.dataDir && !existsSync(parsedUrl.dataDir)) {
        // Opening it would create it; a database that does not exist has applied nothing.
        result.database = { checked: true, database: `pglite:${parsedUrl.displayPath}`, source, applied: [] };
      } else {
        // Named before the first use of the database: a failure to connect still says which database was tried.
        result.database = { checked: false, reason: 'the database could not be opened', database: name.display, source };
        const rows = await readLedger(target.db, [service.name]);
        const recorded = new Set(rows.map((r) => r.migration));
        const applied = result.moves.filter((m) => recorded.has(m.from.id)).map((m) => m.from.id);
        result.database = { checked: true, database: name.display, source, applied };
        if (applied.length > 0) {
          const first = result.moves.find((m) => m.from.id === applied[0])!;
          const kept = result.groups.find((g) => g.number === first.from.number)!.kept;
          throw new TidemarkError(
            'renumber-applied',
            `${applied.join(', ')} ${applied.length === 1 ? 'is' : 'are'} already applied in ${name.display}; renumbering would leave its ledger naming a file that no longer exists. Nothing was renamed.`,
            {
              kind: 'failure',
              service: service.name,
              migration: applied[0],
              file: first.from.file,
              hint: `Keep ${applied[0]} as it is and give ${kept.id} the next free number by hand (rename the file, then \`tidemark sum\`), unless that one is applied somewhere too.`,
            },
          );
        }
      }
    }

    if (!options.dryRun) {
      for (const m of result.moves) {
        if (existsSync(m.toFile)) {
          throw new TidemarkError('file-exists', `Cannot rename ${displayPath(m.from.file)}: ${displayPath(m.toFile)} already exists.`, {
            kind: 'input',
            file: m.toFile,
            service: service.name,
          });
        }
      }
      await renameAll(result.moves, service.name);
      result.renamed = true;
      const written = await writeSumFile(service.name, dir);
      result.sum = { file: written.file, changed: written.changed };
    }
    result.ok = true;
  } catch (err) {
    result.error = toError(err);
  }
  return result;
}
