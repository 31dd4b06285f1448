import { promises as fs, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../diagnostic.js';
import { buildHistory } from './build.js';
import type { History, MigrationFile } from './migration.js';
import { checksumOf, isMigrationLikeName, parseMigrationName, parseMigrationSource } from './tidemark-source.js';

/** Reads a tidemark migrations directory into a History. Problems come back as data, never thrown. */
export async function readTidemarkHistory(service: string, dir: string): Promise<History> {
  const problems: Diagnostic[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    problems.push({
      rule: 'migration-file',
      severity: 'error',
      service,
      file: dir,
      message: `Cannot read the migrations directory of ${service}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
      hint: `Create it, or fix \`migrations\` for ${service} in the config.`,
    });
    return { service, migrations: [], problems };
  }
  const migrations: MigrationFile[] = [];
  // A directory (or a FIFO, a socket…) named like a migration is a mistake to name, never to skip.
  for (const e of entries) {
    if (e.isFile() || e.isSymbolicLink() || !isMigrationLikeName(e.name)) continue;
    problems.push({
      rule: 'migration-file',
      severity: 'error',
      service,
      file: path.join(dir, e.name),
      message: `${e.name} is ${e.isDirectory() ? 'a directory' : 'not a regular file'}, but it is named like a migration file.`,
      hint: 'Rename or move it: a migration is one file.',
    });
  }
  const files = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.')).map((e) => e.name);
  const hashes: { name: string; hash: string }[] = [];
  // Synchronous reads: for thousands of small files they are several times faster than fs.promises.
  const read = files.map((fileName) => {
    const name = parseMigrationName(service, fileName);
    const file = path.join(dir, fileName);
    if (!name) {
      if (isMigrationLikeName(fileName)) {
        problems.push({
          rule: 'naming',
          severity: 'error',
          service,
          file,
          message: `${fileName} is not named <service>_<NNN>_<slug> for service ${service}.`,
          hint: `Rename it, e.g. ${service}_001_${
            fileName
              .replace(/\.[^.]+$/, '')
              .replace(/[^a-z0-9]+/gi, '_')
              .replace(/^_+|_+$/g, '')
              .toLowerCase() || 'change'
          }${path.extname(fileName)}.`,
        });
      }
      return undefined;
    }
    try {
      // A symlink to a directory or a FIFO: refuse by name (reading a FIFO would wait forever).
      if (!statSync(file).isFile()) {
        return {
          problems: [
            {
              rule: 'migration-file',
              severity: 'error' as const,
              service,
              file,
              message: `${fileName} is not a regular file (a link to a directory or a device), but it is named like a migration file.`,
              hint: 'Rename or move it: a migration is one file.',
            },
          ],
        };
      }
      const bytes = readFileSync(file);
      const parsed = parseMigrationSource(service, file, name, bytes);
      hashes.push({ name: fileName, hash: parsed.migration?.checksum ?? checksumOf(bytes) });
      return parsed;
    } catch (err) {
      return {
        problems: [
          {
            rule: 'migration-file',
            severity: 'error' as const,
            service,
            file,
            message: `Cannot read ${fileName}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`,
          },
        ],
      };
    }
  });
  for (const r of read) {
    if (!r) continue;
    problems.push(...r.problems);
    if (r.migration) migrations.push(r.migration);
  }
  problems.push(...squashedStillPresent(service, migrations));
  return { ...buildHistory(service, migrations, problems), hashes };
}

/**
 * A squash replaces its migrations: `tidemark squash` moves them to `squashed/`. One still beside it would
 * run twice (its own up, then the squash's), so it is an error naming both.
 */
export function squashedStillPresent(service: string, migrations: readonly MigrationFile[]): Diagnostic[] {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const out: Diagnostic[] = [];
  for (const m of migrations) {
    for (const id of m.squashes ?? []) {
      const old = byId.get(id);
      if (!old) continue;
      out.push({
        rule: 'migration-file',
        severity: 'error',
        service,
        file: old.file,
        message: `${id} is squashed by ${m.id} but is still in the migrations directory: both would run.`,
        hint: `Move ${path.basename(old.file)} to ${path.join(path.dirname(old.file), 'squashed')}/ (where \`tidemark squash\` puts it).`,
      });
    }
  }
  return out;
}
