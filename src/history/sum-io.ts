import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import type { SumVerification } from './revision.js';
import { SUM_FILE_NAME, computeSum, formatSum, verifySum, verifySumEntries, type SumFile } from './sum-file.js';
import { parseMigrationName } from './tidemark-source.js';

/** The migration files of a service directory (names accepted by parseMigrationName), with their bytes. */
async function readMigrationBytes(service: string, dir: string): Promise<{ name: string; bytes: Uint8Array }[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TidemarkError('migrations-dir-unreadable', `Cannot read ${dir}: ${(err as NodeJS.ErrnoException).code}.`, {
      kind: 'input',
      file: dir,
      service,
    });
  }
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const name of names.sort()) {
    if (!parseMigrationName(service, name)) continue;
    try {
      out.push({ name, bytes: readFileSync(path.join(dir, name)) });
    } catch {
      // A directory or an unreadable entry named like a migration: the history reader reports it.
    }
  }
  return out;
}

export interface WriteSumResult {
  /** Absolute path of tidemark.sum. */
  file: string;
  sum: SumFile;
  /** False when the file already had exactly this text (it is then not rewritten). */
  changed: boolean;
}

/**
 * Recomputes `<dir>/tidemark.sum` from the service's migration files and writes it atomically
 * (a temporary file in the same directory, then rename).
 */
export async function writeSumFile(service: string, dir: string): Promise<WriteSumResult> {
  const file = path.resolve(dir, SUM_FILE_NAME);
  const sum = computeSum(await readMigrationBytes(service, dir));
  const text = formatSum(sum);
  let before: string | undefined;
  try {
    before = await fs.readFile(file, 'utf8');
  } catch {
    before = undefined;
  }
  if (before === text) return { file, sum, changed: false };
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(tmp, text);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new TidemarkError('sum-write-failed', `Cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, {
      kind: 'failure',
      file,
      service,
      cause: err,
    });
  }
  return { file, sum, changed: true };
}

/** How `<dir>/tidemark.sum` compares with the service's migration files. Reads only. */
export async function readSumVerification(service: string, dir: string): Promise<SumVerification> {
  const file = path.resolve(dir, SUM_FILE_NAME);
  let text: string | undefined;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      // Unreadable (a directory, no permission): report it as one malformed line rather than crash the doctor.
      return { ...verifySum(file, '', await readMigrationBytes(service, dir)), malformed: [{ line: 1, text: `(unreadable: ${code})` }] };
    }
    text = undefined;
  }
  return verifySum(file, text, await readMigrationBytes(service, dir));
}

/** Like readSumVerification, from hashes the caller already has (one read of each file, not two). */
export function readSumVerificationFromHashes(dir: string, hashes: readonly { name: string; hash: string }[]): SumVerification {
  const file = path.resolve(dir, SUM_FILE_NAME);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      return { ...verifySumEntries(file, '', { entries: [...hashes] }), malformed: [{ line: 1, text: `(unreadable: ${code})` }] };
    }
  }
  return verifySumEntries(file, text, { entries: [...hashes] });
}
