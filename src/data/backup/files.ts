// The backup's files: the empty-target check, small fsynced writes, data file names.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { TidemarkError } from '../../errors.js';
import { escapeControl, type QualifiedName } from '../../sql/ident.js';
import type { DataFormat } from '../manifest.js';

export const DATA_DIR = 'data';

export function refuseNonEmpty(dir: string, label: string): void {
  let link = false;
  try {
    link = fs.lstatSync(dir).isSymbolicLink();
  } catch {
    // not there: fine
  }
  if (link) {
    throw new TidemarkError('backup-target-symlink', `${escapeControl(label)} is a symbolic link: a backup is written to a directory of its own, never through a link.`, {
      kind: 'usage',
      hint: 'Give --out the real path (or a new directory name).',
    });
  }
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw new TidemarkError('backup-target-exists', `${escapeControl(label)} exists and is not a directory.`, { kind: 'usage' });
    throw err;
  }
  if (entries.length) {
    throw new TidemarkError('backup-target-exists', `${escapeControl(label)} already exists and is not empty: a backup never overwrites one.`, {
      kind: 'usage',
      hint: 'Give a new directory with --out, or leave --out out for a timestamped one under ./backups.',
    });
  }
}

export function writeSmallFile(file: string, text: string): { sha256: string; bytes: number } {
  const buf = Buffer.from(text, 'utf8');
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, buf);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: sha256(buf), bytes: buf.length };
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not every filesystem lets a directory be fsynced; the files themselves were
  }
}

/**
 * The data file of a table: `data/<schema>.<table>.<format>`, each part through fileComponent (every
 * byte but `A-Z a-z 0-9 _ $ -` percent-encoded, `.` and `%` included), so `"a.b".c` → `a%2Eb.c` and
 * `a."b.c"` → `a.b%2Ec` cannot collide, and no name holds `/`, `..` or a control character. A name
 * longer than a file system allows (63-byte names of multi-byte characters encode to 380 bytes) is
 * cut and given a hash of the pair; a name equal to one already used — also ignoring case, for
 * case-insensitive file systems — gets `~<n>` (`~` is always encoded in a name, so this cannot
 * collide either). `used` collects the names (lower-cased) of one backup.
 */
export function dataFileName(t: QualifiedName, format: DataFormat, used: Set<string>): string {
  let base = `${fileComponent(t.schema)}.${fileComponent(t.name)}`;
  if (base.length > MAX_FILE_BASE) {
    const cut = base.slice(0, MAX_FILE_BASE - 20).replace(/%[0-9A-F]?$/, '');
    base = `${cut}~${createHash('sha256').update(`${t.schema}\0${t.name}`).digest('hex').slice(0, 16)}`;
  }
  let candidate = base;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = `${base}~${n}`;
  used.add(candidate.toLowerCase());
  return `${DATA_DIR}/${candidate}.${format}`;
}

/** File names stay well under NAME_MAX (255 bytes) with the extension and a `~n`. */
const MAX_FILE_BASE = 200;

/** A schema or table name as a file name part: `.`, `/` and other awkward bytes percent-encoded. */
function fileComponent(name: string): string {
  return name.replace(/[^A-Za-z0-9_$-]/gu, (ch) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}
