/**
 * `tidemark verify-backup DIR`: proves a backup directory is what backup wrote, without a database.
 *
 * - manifest.json matches manifest.sha256 (an edited manifest) and has a known format version;
 * - every file the manifest lists (data files, schema.sql) exists with its recorded size and SHA-256
 *   (a truncated file, a flipped byte, a missing file);
 * - every data file holds rowCount records (ndjson lines; CSV records counted quote-aware, header
 *   excluded), which says which file is short even when its hash alone already failed;
 * - nothing else is in the directory (an extra file).
 *
 * manifest.sha256 guards against accidents and partial edits, not against someone who rewrites both
 * files: it is a checksum, not a signature. Results as values: never throws.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { RecordCounter } from './backup.js';
import { digestAlgorithmOf } from './digest.js';
import { MANIFEST_FORMAT_VERSION, READABLE_FORMAT_VERSIONS, type Manifest } from './manifest.js';

export interface VerifyProblem {
  /** Relative to the backup directory, e.g. `data/public.users.ndjson` or `manifest.json`. */
  file: string;
  kind: 'missing' | 'extra' | 'size' | 'sha256' | 'rows' | 'manifest';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  dir: string;
  /** Set when the manifest could be read. */
  tables?: { table: string; rows: number; bytes: number; file: string }[];
  filesChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
  durationMs: number;
  /** The directory itself is unusable (not there, not a directory): exit 2, not a corruption. */
  error?: TidemarkError;
}

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SHA_FILE = 'manifest.sha256';

export async function verifyBackup(dir: string): Promise<VerifyResult> {
  const started = performance.now();
  const root = path.resolve(dir);
  const result: VerifyResult = { ok: false, dir: root, filesChecked: 0, bytesChecked: 0, problems: [], durationMs: 0 };
  const problem = (file: string, kind: VerifyProblem['kind'], message: string) => result.problems.push({ file, kind, message: `${file}: ${message}` });
  try {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(root);
    } catch {
      throw new TidemarkError('backup-not-found', `${dir} does not exist.`, { kind: 'usage' });
    }
    if (!stat.isDirectory()) throw new TidemarkError('backup-not-found', `${dir} is not a directory.`, { kind: 'usage' });

    const expected = new Set<string>([MANIFEST_FILE, MANIFEST_SHA_FILE]);
    const manifest = readManifest(root, problem);
    if (manifest) {
      result.tables = manifest.tables.map((t) => ({ table: t.table, rows: t.rowCount, bytes: t.bytes, file: t.file }));
      const checks: { file: string; sha256: string; bytes: number; rows?: number }[] = [
        ...manifest.files.map((f) => ({ file: f.file, sha256: f.sha256, bytes: f.bytes })),
        ...manifest.tables.map((t) => ({ file: t.file, sha256: t.sha256, bytes: t.bytes, rows: t.rowCount })),
      ];
      for (const c of checks) {
        if (!isSafeRelative(c.file)) {
          problem(MANIFEST_FILE, 'manifest', `lists a file outside the backup directory (${JSON.stringify(c.file)})`);
          continue;
        }
        expected.add(c.file);
        const full = path.join(root, c.file);
        let size: number;
        try {
          const s = fs.statSync(full);
          if (!s.isFile()) throw new Error('not a file');
          size = s.size;
        } catch {
          problem(c.file, 'missing', 'missing');
          continue;
        }
        const read = await hashFile(full, c.rows === undefined ? undefined : manifest.format);
        result.filesChecked++;
        result.bytesChecked += read.bytes;
        if (size !== c.bytes) {
          problem(c.file, 'size', `${size < c.bytes ? 'truncated' : 'too long'}: ${size} bytes, the manifest records ${c.bytes}`);
        }
        if (read.sha256 !== c.sha256) problem(c.file, 'sha256', `SHA-256 mismatch: the file is not the one backed up (${read.sha256.slice(0, 12)}…, recorded ${c.sha256.slice(0, 12)}…)`);
        if (c.rows !== undefined && read.records !== c.rows) {
          problem(c.file, 'rows', `${read.records} ${manifest.format === 'csv' ? 'records' : 'lines'}, the manifest records ${c.rows} rows`);
        }
      }
    }
    // Extra files: anything not listed (ignored only when the manifest could not be read at all).
    if (manifest || fs.existsSync(path.join(root, MANIFEST_FILE))) {
      for (const rel of listFiles(root)) {
        if (!expected.has(rel) && !(manifest === undefined && rel.startsWith('data/'))) problem(rel, 'extra', 'not part of the backup (not in the manifest)');
      }
    }
    result.ok = result.problems.length === 0;
  } catch (err) {
    result.error =
      err instanceof TidemarkError ? err : new TidemarkError('verify-failed', `Cannot verify ${dir}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  result.durationMs = performance.now() - started;
  return result;
}

function readManifest(root: string, problem: (file: string, kind: VerifyProblem['kind'], message: string) => void): Manifest | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path.join(root, MANIFEST_FILE));
  } catch {
    problem(MANIFEST_FILE, 'missing', 'missing: without it nothing in the backup can be checked or restored');
    return undefined;
  }
  let recorded: string | undefined;
  try {
    recorded = /^([0-9a-f]{64})\b/.exec(fs.readFileSync(path.join(root, MANIFEST_SHA_FILE), 'utf8'))?.[1];
    if (!recorded) problem(MANIFEST_SHA_FILE, 'manifest', 'does not hold a SHA-256');
  } catch {
    problem(MANIFEST_SHA_FILE, 'missing', 'missing: the manifest cannot be proven unedited');
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (recorded && recorded !== actual) problem(MANIFEST_FILE, 'sha256', `edited after the backup: its SHA-256 is not the one in ${MANIFEST_SHA_FILE}`);

  let manifest: Manifest;
  try {
    manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
  } catch (err) {
    problem(MANIFEST_FILE, 'manifest', `not valid JSON (${(err as Error).message})`);
    return undefined;
  }
  if (!READABLE_FORMAT_VERSIONS.includes(manifest?.formatVersion)) {
    const newer = typeof manifest?.formatVersion === 'number' && manifest.formatVersion > MANIFEST_FORMAT_VERSION;
    problem(
      MANIFEST_FILE,
      'manifest',
      `format version ${JSON.stringify(manifest?.formatVersion)}, this tidemark reads versions ${READABLE_FORMAT_VERSIONS.join(' and ')}${newer ? ': a newer tidemark wrote it, upgrade tidemark' : ''}`,
    );
    return undefined;
  }
  if (digestAlgorithmOf(manifest) === undefined || (manifest.formatVersion >= 2 && manifest.contentDigestAlgorithm === undefined)) {
    problem(MANIFEST_FILE, 'manifest', `content digest algorithm ${JSON.stringify(manifest.contentDigestAlgorithm)} is not one this tidemark computes (hash64, md5)`);
    return undefined;
  }
  const shapeOk =
    (manifest.format === 'ndjson' || manifest.format === 'csv') &&
    Array.isArray(manifest.tables) &&
    Array.isArray(manifest.files) &&
    manifest.tables.every((t) => typeof t?.file === 'string' && typeof t.sha256 === 'string' && Number.isInteger(t.bytes) && Number.isInteger(t.rowCount)) &&
    manifest.files.every((f) => typeof f?.file === 'string' && typeof f.sha256 === 'string' && Number.isInteger(f.bytes));
  if (!shapeOk) {
    problem(MANIFEST_FILE, 'manifest', 'does not have the shape of a tidemark backup manifest (format, tables, files)');
    return undefined;
  }
  return manifest;
}

function isSafeRelative(file: string): boolean {
  return !path.isAbsolute(file) && !file.split(/[\\/]/).includes('..') && file !== MANIFEST_FILE && file !== MANIFEST_SHA_FILE;
}

async function hashFile(file: string, format: 'ndjson' | 'csv' | undefined): Promise<{ sha256: string; bytes: number; records: number }> {
  const hash = createHash('sha256');
  const counter = format ? new RecordCounter(format) : undefined;
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    counter?.feed(buf);
    bytes += buf.length;
  }
  return { sha256: hash.digest('hex'), bytes, records: counter?.records ?? 0 };
}

/** Every non-directory entry under root, relative, with `/` separators. */
function listFiles(root: string, sub = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}
