// What locating an Alembic project yields, how it fails (TidemarkError alembic-location), and the reads it makes.
import { promises as fs } from 'node:fs';
import { TidemarkError } from '../../errors.js';

/** The errno code of a failed file-system call (ENOENT, EACCES, …), for messages. */
export function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? String(err);
}

/** Where `tidemark check --alembic PATH` found the history. `source` is the file or directory that decided it. */
export interface AlembicLocation {
  service: string;
  dirs: string[];
  recursive: boolean;
  source: string;
}

export function locationError(message: string, hint: string, file?: string): TidemarkError {
  return new TidemarkError('alembic-location', message, { kind: 'input', hint, ...(file ? { file } : {}) });
}

export async function statOf(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

export async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    throw locationError(`Cannot read ${file}: ${errCode(err)}.`, 'Check the path.', file);
  }
}
