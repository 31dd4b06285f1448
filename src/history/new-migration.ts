import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { sumIsClean } from './sum-file.js';
import { readSumVerification, writeSumFile } from './sum-io.js';
import { SUM_FILE_NAME } from './sum-file.js';
import { formatMigrationId, formatMigrationNumber, highestMigrationNumber, parseMigrationName } from './tidemark-source.js';

/** What `new` did to tidemark.sum. */
export interface NewMigrationSum {
  /** Absolute path of tidemark.sum. */
  file: string;
  /** True when tidemark.sum was rewritten to include the new file. */
  updated: boolean;
  /** Why it was left alone: it did not match the files before (an edit, a bad merge), which `new` must not bless. */
  reason?: string;
}

const SQL_TEMPLATE = `-- tidemark:up


-- tidemark:down

`;

const SCRIPT_TEMPLATE = `// A data migration: up(ctx) and down(ctx) run inside a transaction with ctx.db.
// Add \`// tidemark:no-transaction\` at the top to run outside one.

export async function up(ctx) {
  // await ctx.db.query('UPDATE … WHERE …', [/* params */]);
}

export async function down(ctx) {
}
`;

/** `Add role!` → `add_role`: what a slug may contain. */
export function normalizeSlug(slug: string): string {
  return slug
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Writes the next numbered migration of a service: one more than the highest number present.
 * Never overwrites (the file is created exclusively). Then rewrites tidemark.sum so the new file has
 * its line — when the sum matched the files before (or did not exist); a sum that was already wrong
 * (an edited migration, a conflicted merge) is left as it is and `sum.reason` says so, because
 * recomputing it would silently accept that change.
 */
export async function createMigrationFile(service: string, dir: string, slug: string, kind: 'sql' | 'js' | 'ts' = 'sql'): Promise<{ id: string; file: string; sum: NewMigrationSum }> {
  const clean = normalizeSlug(slug);
  if (!clean) {
    throw new TidemarkError('bad-slug', `The slug "${slug}" has no letters or digits.`, { kind: 'usage', hint: 'e.g. tidemark new user add_role' });
  }
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw dirError(service, dir, err);
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (mkdirErr) {
      throw dirError(service, dir, mkdirErr);
    }
    names = [];
  }
  await refuseUnreadableSum(service, dir);
  const before = await readSumVerification(service, dir);
  const highest = highestMigrationNumber(names.map((n) => parseMigrationName(service, n)?.number ?? 0n));
  const id = formatMigrationId(service, highest + 1n, clean);
  const file = path.join(dir, `${id}.${kind}`);
  try {
    await fs.writeFile(file, kind === 'sql' ? SQL_TEMPLATE : SCRIPT_TEMPLATE, { flag: 'wx' });
  } catch (err) {
    // Only EEXIST means "already there" (another `new` got the number first); anything else is the file system's.
    if (errnoOf(err) === 'EEXIST') {
      throw new TidemarkError('file-exists', `Cannot create ${file}: it already exists (EEXIST; another \`tidemark new\` may have taken number ${formatMigrationNumber(highest + 1n)}).`, {
        kind: 'input',
        file,
        service,
        hint: 'Run the command again: it picks the next free number.',
      });
    }
    throw new TidemarkError('migration-write-failed', `Cannot create ${file}: ${describeErrno(err)}. Nothing was written.`, {
      kind: 'failure',
      file,
      service,
      hint: `Check that ${dir} is a directory you may write to.`,
      cause: err,
    });
  }
  await refuseTakenNumbers(service, dir, [file]);
  if (before.present && !sumIsClean(before)) {
    return {
      id,
      file,
      sum: {
        file: before.file,
        updated: false,
        reason: `${path.basename(before.file)} did not match the migration files before this one was added; run \`tidemark check\` to see why, then \`tidemark sum\`.`,
      },
    };
  }
  const written = await writeSumFile(service, dir);
  return { id, file, sum: { file: written.file, updated: true } };
}

/** The next free number of a service's migrations directory (1 when it is empty or absent): what `new` and `diff` number from. */
export async function nextMigrationNumber(service: string, dir: string): Promise<bigint> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return 1n;
    throw dirError(service, dir, err);
  }
  return highestMigrationNumber(names.map((n) => parseMigrationName(service, n)?.number ?? 0n)) + 1n;
}

/**
 * Writes several migrations of one service together (`tidemark diff`'s files, numbered by the caller from
 * nextMigrationNumber), each created exclusively; then tidemark.sum as `createMigrationFile` does. When one
 * cannot be created (another run took its number), the ones already written are removed: all or nothing.
 */
export async function writeMigrationFiles(service: string, dir: string, files: readonly { id: string; text: string }[]): Promise<{ files: string[]; sum: NewMigrationSum }> {
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw dirError(service, dir, err);
  }
  await refuseUnreadableSum(service, dir);
  const before = await readSumVerification(service, dir);
  const written: string[] = [];
  for (const f of files) {
    const file = path.join(dir, `${f.id}.sql`);
    try {
      await fs.writeFile(file, f.text, { flag: 'wx' });
      written.push(file);
    } catch (err) {
      await Promise.all(written.map((w) => fs.rm(w, { force: true })));
      if (errnoOf(err) === 'EEXIST') {
        throw new TidemarkError('file-exists', `Cannot create ${file}: it already exists (EEXIST; another run may have taken its number). Nothing was written.`, {
          file,
          service,
          hint: 'Run the command again: it picks the next free number.',
        });
      }
      throw new TidemarkError('migration-write-failed', `Cannot create ${file}: ${describeErrno(err)}. Nothing was written.`, { file, service, cause: err });
    }
  }
  await refuseTakenNumbers(service, dir, written);
  if (before.present && !sumIsClean(before)) {
    const reason = `${path.basename(before.file)} did not match the migration files before these were added; run \`tidemark check\` to see why, then \`tidemark sum\`.`;
    return { files: written, sum: { file: before.file, updated: false, reason } };
  }
  const sum = await writeSumFile(service, dir);
  return { files: written, sum: { file: sum.file, updated: true } };
}

/**
 * A second runner (`new`, `diff`) that read the directory at the same time picks the same number under
 * another slug, which `wx` cannot see. Once written, the directory is listed again: a number of ours that
 * another file also holds means ours are removed and the run refused (both runners may refuse; run again).
 */
async function refuseTakenNumbers(service: string, dir: string, ours: readonly string[]): Promise<void> {
  const mine = new Set(ours.map((f) => path.basename(f)));
  const numberOf = (name: string) => parseMigrationName(service, name)?.number;
  const taken = new Set((await fs.readdir(dir)).filter((n) => !mine.has(n)).map(numberOf));
  const clash = [...mine].find((n) => taken.has(numberOf(n)));
  if (clash === undefined) return;
  await Promise.all(ours.map((f) => fs.rm(f, { force: true })));
  throw new TidemarkError(
    'file-exists',
    `Cannot create ${path.join(dir, clash)}: another run took number ${formatMigrationNumber(numberOf(clash) ?? 0n)} of ${service} at the same time. Nothing was written.`,
    {
      file: path.join(dir, clash),
      service,
      hint: 'Run the command again: it picks the next free number.',
    },
  );
}

function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException)?.code;
}

/** `ENOTDIR (a part of the path is a file, not a directory)`: the errno and what it means here. */
function describeErrno(err: unknown): string {
  const code = errnoOf(err);
  const meaning: Record<string, string> = {
    ENOENT: 'a directory on the path does not exist',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EEXIST: 'a file is in the way',
  };
  return code ? `${code}${meaning[code] ? ` (${meaning[code]})` : ''}` : String((err as Error)?.message ?? err);
}

/** The migrations directory cannot be listed or created: nothing was written. */
function dirError(service: string, dir: string, err: unknown): TidemarkError {
  const code = errnoOf(err);
  if (code === 'ENOTDIR' || code === 'EEXIST') {
    // readdir says ENOTDIR and mkdir says EEXIST when the path (or a parent) is a file.
    return new TidemarkError('missing-migrations-dir', `Cannot write a migration of ${service} into ${dir}: ${describeErrno(err)}. Nothing was written.`, {
      kind: 'input',
      file: dir,
      service,
      hint: `Point \`migrations\` of ${service} in the config at a directory, or move the file out of the way.`,
    });
  }
  return new TidemarkError('migrations-dir-unreadable', `Cannot read the migrations directory of ${service}, ${dir}: ${describeErrno(err)}. Nothing was written.`, {
    kind: 'input',
    file: dir,
    service,
  });
}

/**
 * tidemark.sum exists but cannot be read (a directory, no permission): the new file could never be
 * added to it, so refuse before writing anything rather than leave a migration the sum does not list.
 */
async function refuseUnreadableSum(service: string, dir: string): Promise<void> {
  const file = path.resolve(dir, SUM_FILE_NAME);
  try {
    await fs.readFile(file);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw new TidemarkError('sum-write-failed', `Cannot update ${file}: ${describeErrno(err)}. Nothing was written.`, {
      kind: 'failure',
      file,
      service,
      hint: `Remove or fix ${file} (\`tidemark sum\` rewrites it), then run the command again.`,
      cause: err,
    });
  }
}
