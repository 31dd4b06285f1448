import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { formatMigrationId, parseMigrationName } from './tidemark-source.js';

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
 * Never overwrites (the file is created exclusively).
 */
export async function createMigrationFile(
  service: string,
  dir: string,
  slug: string,
  kind: 'sql' | 'js' | 'ts' = 'sql',
): Promise<{ id: string; file: string }> {
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
  const highest = Math.max(0, ...names.map((n) => parseMigrationName(service, n)?.number ?? 0));
  const id = formatMigrationId(service, highest + 1, clean);
  const file = path.join(dir, `${id}.${kind}`);
  try {
    await fs.writeFile(file, kind === 'sql' ? SQL_TEMPLATE : SCRIPT_TEMPLATE, { flag: 'wx' });
  } catch (err) {
    throw new TidemarkError('file-exists', `Cannot create ${file}: ${(err as NodeJS.ErrnoException).code}.`, { kind: 'input', file });
  }
  return { id, file };
}
