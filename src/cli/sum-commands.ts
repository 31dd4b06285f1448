import path from 'node:path';
import { pc } from '../report/colors.js';
import type { RenumberResult } from '../api/renumber.js';
import { type TidemarkError, asTidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import { finish, note, printJson, type GlobalOptions } from './output.js';

export interface SumServiceResult {
  service: string;
  /** Absolute path of tidemark.sum. */
  file: string;
  /** Number of migration files it lists. */
  migrations: number;
  /** False when it already had exactly this content. */
  changed: boolean;
  /** Numbers declared by two or more files (the sum lists them all; `tidemark renumber` fixes them). */
  duplicateNumbers: bigint[];
}

export interface SumResult {
  ok: boolean;
  services: SumServiceResult[];
  error?: TidemarkError;
}

/** `tidemark sum [--service S]`: rewrites tidemark.sum of each (or the named) tidemark service from its files. */
export async function runSum(flags: { config?: string; json?: boolean; service?: string[]; debug?: boolean }): Promise<void> {
  const [{ openScope }, { writeSumFile }, { compareMigrationNumbers, formatMigrationNumber, parseMigrationName }] = await Promise.all([
    import('../target/open.js'),
    import('../history/sum-io.js'),
    import('../history/tidemark-source.js'),
  ]);
  const result: SumResult = { ok: false, services: [] };
  try {
    const { services } = await openScope({ configFile: flags.config, service: flags.service?.length ? flags.service : undefined });
    for (const s of services) {
      const written = await writeSumFile(s.name, s.migrationsDir);
      const counts = new Map<bigint, number>();
      for (const e of written.sum.entries) {
        const n = parseMigrationName(s.name, e.name)?.number;
        if (n !== undefined) counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      const duplicateNumbers = [...counts]
        .filter(([, c]) => c > 1)
        .map(([n]) => n)
        .sort(compareMigrationNumbers);
      result.services.push({ service: s.name, file: written.file, migrations: written.sum.entries.length, changed: written.changed, duplicateNumbers });
    }
    result.ok = true;
  } catch (err) {
    result.error = asTidemarkError(err);
  }
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags);
  }
  for (const s of result.services) {
    const what = `${s.migrations} migration${s.migrations === 1 ? '' : 's'}`;
    process.stdout.write(s.changed ? `Wrote ${displayPath(s.file)} (${what}).\n` : `${displayPath(s.file)} is up to date (${what}).\n`);
    for (const n of s.duplicateNumbers) {
      note(`warning: ${s.service} has two or more migrations numbered ${formatMigrationNumber(n)}; run \`tidemark renumber --service ${s.service}\`.`);
    }
  }
  finish(result.error, flags);
}

function sayDatabase(flags: GlobalOptions) {
  return (database: string, source: string) => {
    if (!flags.json && source !== 'option') note(`Checking the ledger of ${database} (from ${source === 'env' ? 'DATABASE_URL' : source}).`);
  };
}

/** `tidemark renumber --service S [--dry-run]`. */
export async function runRenumber(flags: { config?: string; database?: string; json?: boolean; service: string; dryRun?: boolean; debug?: boolean }): Promise<void> {
  const { renumber } = await import('../api/renumber.js');
  const result: RenumberResult = await renumber({
    configFile: flags.config,
    database: flags.database,
    service: flags.service,
    dryRun: flags.dryRun,
    onConnect: sayDatabase(flags),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags);
  }
  if (result.error) return finish(result.error, flags);
  if (result.moves.length === 0) {
    process.stdout.write(`${result.service} has no duplicate numbers: nothing to renumber.\n`);
    return finish(undefined, flags);
  }
  if (!result.database.checked) note(`warning: ${result.database.reason}.`);
  const verb = result.renamed ? 'renamed' : 'would rename';
  for (const g of result.groups) {
    const since = (f: { addedAt: string; addedBy: string }) => `added ${f.addedAt.replace(/\.\d+Z$/, 'Z')}, ${f.addedBy === 'git' ? 'git' : 'mtime'}`;
    process.stdout.write(`${pc.green('kept        ')} ${path.basename(g.kept.file)} ${pc.dim(`(${since(g.kept)})`)}\n`);
    for (const m of g.moved) {
      process.stdout.write(`${pc.yellow(verb.padEnd(12))} ${path.basename(m.from.file)} → ${path.basename(m.toFile)} ${pc.dim(`(${since(m.from)})`)}\n`);
    }
  }
  for (const r of result.requiresToEdit) {
    const where = `${displayPath(r.file)}:${r.line}`;
    process.stdout.write(
      r.exact
        ? `${pc.red('edit        ')} ${where}: \`-- tidemark:requires ${r.ref}\` must now name ${r.renamedTo}.\n`
        : `${pc.red('check       ')} ${where}: \`-- tidemark:requires ${r.ref}\` now means the kept file; write ${r.renamedTo} if it meant the renamed one.\n`,
    );
  }
  if (result.renamed) {
    if (result.sum) process.stdout.write(`Rewrote ${displayPath(result.sum.file)}.\n`);
    process.stdout.write(pc.dim(`Next: \`git add\` the renamed files and tidemark.sum, then run \`tidemark check\`.\n`));
  } else {
    process.stdout.write(pc.dim('-- dry run: nothing was renamed.\n'));
  }
  finish(undefined, flags);
}
