/**
 * `tidemark verify-backup DIR`: proves a backup directory is what backup wrote, without a database.
 *
 * - manifest.json matches manifest.sha256 (an edited manifest) and has a known format version;
 * - every file the manifest lists (data files, schema.sql) exists with its recorded size and SHA-256
 *   (a truncated file, a flipped byte, a missing file);
 * - every data file holds rowCount records (ndjson lines; CSV records counted quote-aware, header
 *   excluded), which says which file is short even when its hash alone already failed;
 * - nothing else is in the directory (an extra file).
 * The manifest is read by the one reader (manifest.ts readManifest): a malformed manifest (bad types,
 * a table listed twice, a ledger or system table, a data file outside data/) or a symlink anywhere in
 * the backup is bad input — `error` set, exit 2 — not mere damage (exit 1).
 *
 * manifest.sha256 guards against accidents and partial edits, not against someone who rewrites both
 * files: it is a checksum, not a signature. Results as values: never throws.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { displayQualified, escapeControl } from '../sql/ident.js';
import { RecordCounter } from './backup/copy.js';
import { DATA_DIR, MANIFEST_FILE, MANIFEST_SHA_FILE, isBadInput, readManifest, type Manifest } from './manifest.js';

export { MANIFEST_FILE, MANIFEST_SHA_FILE };

export interface VerifyProblem {
  /** Relative to the backup directory, e.g. `data/public.users.ndjson` or `manifest.json`. */
  file: string;
  /** `manifest` (malformed) and `unsafe` (a symlink, a path out of the backup) are bad input: exit 2. */
  kind: 'missing' | 'extra' | 'size' | 'sha256' | 'rows' | 'manifest' | 'unsafe';
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  dir: string;
  /** Set when the manifest could be read. `table`: the display label (schema-qualified, quoted where needed). */
  tables?: { table: string; schema: string; name: string; rows: number; bytes: number; file: string }[];
  filesChecked: number;
  bytesChecked: number;
  problems: VerifyProblem[];
  durationMs: number;
  /**
   * Bad input, exit 2 (not a corruption): the directory is unusable (not there, not a directory), or
   * the manifest is malformed or unsafe (`backup-manifest-invalid`; the problems say what).
   */
  error?: TidemarkError;
}

export async function verifyBackup(dir: string): Promise<VerifyResult> {
  return (await verifyBackupRead(dir)).result;
}

/** verifyBackup, and the manifest it read and checked (restore's one read of it). */
export async function verifyBackupRead(dir: string): Promise<{ result: VerifyResult; manifest?: Manifest }> {
  let readManifestValue: Manifest | undefined;
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
    // The directory may be reached through a symlink; nothing inside it may be one.
    const real = fs.realpathSync(root);

    const expected = new Set<string>([MANIFEST_FILE, MANIFEST_SHA_FILE]);
    const read = readManifest(real);
    for (const p of read.problems) result.problems.push(p);
    const manifest = read.manifest;
    readManifestValue = manifest;
    const dataKind = lstatKind(path.join(real, DATA_DIR));
    if (dataKind === 'symlink' || dataKind === 'other') problem(DATA_DIR, 'unsafe', dataKind === 'symlink' ? 'is a symbolic link: a backup holds its own files, refused' : 'is not a directory');
    if (manifest && dataKind !== 'symlink' && dataKind !== 'other') {
      result.tables = manifest.tables.map((t) => ({ table: displayQualified(t), schema: t.schema, name: t.name, rows: t.rowCount, bytes: t.bytes, file: t.file }));
      const checks: { file: string; sha256: string; bytes: number; rows?: number; format?: 'ndjson' | 'csv' }[] = [
        ...manifest.files.map((f) => ({ file: f.file, sha256: f.sha256, bytes: f.bytes })),
        ...manifest.tables.map((t) => ({ file: t.file, sha256: t.sha256, bytes: t.bytes, rows: t.rowCount, format: t.format })),
      ];
      for (const c of checks) {
        expected.add(c.file);
        const full = path.join(real, c.file);
        // The reader allows only data/<name> and top-level names: still, never outside the directory.
        if (!full.startsWith(real + path.sep)) {
          problem(MANIFEST_FILE, 'unsafe', `lists a file outside the backup directory (${JSON.stringify(c.file)})`);
          continue;
        }
        const kind = lstatKind(full);
        if (kind === 'missing') {
          problem(c.file, 'missing', 'missing');
          continue;
        }
        if (kind !== 'file') {
          problem(c.file, 'unsafe', kind === 'symlink' ? 'is a symbolic link: a backup holds its own files, refused' : 'is not a regular file');
          continue;
        }
        const size = fs.statSync(full).size;
        const hashed = await hashFile(full, c.format);
        result.filesChecked++;
        result.bytesChecked += hashed.bytes;
        if (size !== c.bytes) {
          problem(c.file, 'size', `${size < c.bytes ? 'truncated' : 'too long'}: ${size} bytes, the manifest records ${c.bytes}`);
        }
        if (hashed.sha256 !== c.sha256) problem(c.file, 'sha256', `SHA-256 mismatch: the file is not the one backed up (${hashed.sha256.slice(0, 12)}…, recorded ${c.sha256.slice(0, 12)}…)`);
        if (c.rows !== undefined && hashed.records !== c.rows) {
          problem(c.file, 'rows', `${hashed.records} ${c.format === 'csv' ? 'records' : 'lines'}, the manifest records ${c.rows} rows`);
        }
      }
    }
    // Extra files: anything not listed (ignored only when the manifest could not be read at all).
    if (manifest || lstatKind(path.join(real, MANIFEST_FILE)) !== 'missing') {
      for (const rel of listFiles(real)) {
        if (!expected.has(rel) && !(manifest === undefined && rel.startsWith('data/'))) problem(rel, 'extra', 'not part of the backup (not in the manifest)');
      }
    }
    const bad = result.problems.filter(isBadInput);
    if (bad.length) {
      result.error = new TidemarkError('backup-manifest-invalid', `${escapeControl(dir)} is not a backup tidemark can trust, nothing read from it: ${bad.map((p) => p.message).join('; ')}.`, {
        kind: 'input',
        file: path.join(root, MANIFEST_FILE),
        hint: 'A manifest tidemark wrote is never like this: it was edited or damaged. Restore from another backup.',
      });
    }
    result.ok = result.problems.length === 0;
  } catch (err) {
    result.error = err instanceof TidemarkError ? err : new TidemarkError('verify-failed', `Cannot verify ${dir}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
  result.durationMs = performance.now() - started;
  return { result, ...(result.ok && readManifestValue ? { manifest: readManifestValue } : {}) };
}

function lstatKind(p: string): 'missing' | 'symlink' | 'file' | 'dir' | 'other' {
  try {
    const s = fs.lstatSync(p);
    return s.isSymbolicLink() ? 'symlink' : s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'missing';
  }
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
    if (entry.isDirectory() && !entry.isSymbolicLink()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}
