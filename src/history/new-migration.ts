import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { sumIsClean } from './sum-file.js';
import { readSumVerification, writeSumFile } from './sum-io.js';
import { formatMigrationId, highestMigrationNumber, parseMigrationName } from './tidemark-source.js';

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
export async function createMigrationFile(
  service: string,
  dir: string,
  slug: string,
  kind: 'sql' | 'js' | 'ts' = 'sql',
): Promise<{ id: string; file: string; sum: NewMigrationSum }> {
  const clean = normalizeSlug(slug);
  if (!clean) {
    throw new TidemarkError('bad-slug', `The slug "${slug}" has no letters or digits.`, { kind: 'usage', hint: 'e.g. tidemark new user add_role' });
  }
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    await fs.mkdir(dir, { recursive: true });
    names = [];
  }
  const before = await readSumVerification(service, dir);
  const highest = highestMigrationNumber(names.map((n) => parseMigrationName(service, n)?.number ?? 0n));
  const id = formatMigrationId(service, highest + 1n, clean);
  const file = path.join(dir, `${id}.${kind}`);
  try {
    await fs.writeFile(file, kind === 'sql' ? SQL_TEMPLATE : SCRIPT_TEMPLATE, { flag: 'wx' });
  } catch (err) {
    throw new TidemarkError('file-exists', `Cannot create ${file}: ${(err as NodeJS.ErrnoException).code}.`, { kind: 'input', file });
  }
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
