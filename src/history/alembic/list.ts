// Lists and reads revision files the way Alembic does (Script._list_py_dir); unreadable entries become diagnostics.
import { Buffer } from 'node:buffer';
import { closeSync, promises as fs, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic } from '../../diagnostic.js';
import { errCode } from './location.js';
import { RULE } from './parse-source.js';

let shared = Buffer.allocUnsafe(1 << 16);

/** The bytes of `file`, in a buffer reused by the next call (the parser copies what it keeps). */
export function readInto(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    let n = 0;
    for (;;) {
      if (n === shared.length) {
        const bigger = Buffer.allocUnsafe(shared.length * 2);
        shared.copy(bigger);
        shared = bigger;
      }
      const got = readSync(fd, shared, n, shared.length - n, null);
      if (got === 0) return shared.subarray(0, n);
      n += got;
    }
  } finally {
    closeSync(fd);
  }
}

/** Alembic's `_only_source_rev_file`: `*.py`, but not `__init__*` nor an editor lock file `.#*`. */
function isRevisionName(name: string): boolean {
  return name.endsWith('.py') && !name.startsWith('__init__') && !name.startsWith('.#');
}

/**
 * Lists the revision files of one versions directory the way Alembic does (`Script._list_py_dir`):
 * `*.py` except `__init__*` and editor lock files `.#*`, nothing under `__pycache__`, and subdirectories
 * only with `recursive`. Like Alembic (Path.walk / os.walk), symlinked directories are not descended:
 * that also makes a symlink loop harmless, and it is reported.
 */
export async function listPyFiles(service: string, root: string, recursive: boolean, problems: Diagnostic[], links: Map<string, string>): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, isRoot: boolean): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({
        rule: RULE,
        severity: 'error',
        service,
        file: dir,
        message: isRoot ? `Cannot read the Alembic versions directory ${dir} of ${service}: ${errCode(err)}.` : `Cannot read the directory ${dir} under the versions of ${service}: ${errCode(err)}.`,
        hint: isRoot ? 'Check the path, or fix script_location / version_locations in alembic.ini.' : 'Fix its permissions, or remove it.',
      });
      return;
    }
    const subdirs: string[] = [];
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)); // diagnostics in a stable order
    for (const e of entries) {
      const full = dir.endsWith(path.sep) ? dir + e.name : dir + path.sep + e.name; // path.join is measurably slow over 10,000 names
      if (e.isDirectory()) {
        if (recursive && e.name !== '__pycache__') subdirs.push(full);
      } else if (e.isSymbolicLink()) {
        await symlink(full, e.name);
      } else if (isRevisionName(e.name)) {
        if (e.isFile()) files.push(full);
        else notRegular(full, e.name);
      }
    }
    for (const d of subdirs) await walk(d, false);

    async function symlink(full: string, name: string): Promise<void> {
      let st: import('node:fs').Stats | undefined;
      try {
        st = await fs.stat(full);
      } catch (err) {
        // Dangling or looping (a.py -> b.py -> a.py): only a .py name is worth a word.
        if (isRevisionName(name)) {
          problems.push({
            rule: RULE,
            severity: 'error',
            service,
            file: full,
            message: `Cannot read ${name}: it is a symlink that ${errCode(err) === 'ELOOP' ? 'loops back on itself' : 'points nowhere'} (${errCode(err)}).`,
            hint: 'Fix or remove the symlink.',
          });
        }
        return;
      }
      if (st.isDirectory()) {
        if (!recursive) return;
        const target = await fs.realpath(full).catch(() => full);
        const here = await fs.realpath(dir).catch(() => dir);
        const loop = here === target || here.startsWith(target + path.sep);
        problems.push({
          rule: RULE,
          severity: loop ? 'error' : 'warning',
          service,
          file: full,
          message: loop
            ? `${full} is a symlink loop back to ${target}; tidemark, like Alembic, does not follow it.`
            : `${full} is a symlink to the directory ${target}, which Alembic does not descend into, so its revisions are not read.`,
          hint: loop ? 'Remove the symlink.' : 'Replace the symlink by a real directory, or list the target in version_locations.',
        });
        return;
      }
      if (!isRevisionName(name)) return;
      if (!st.isFile()) return notRegular(full, name);
      files.push(full);
      links.set(full, await fs.realpath(full).catch(() => full)); // Alembic loads a file once, by its real path
    }

    // A FIFO or device named *.py would block or never end a read: name it instead.
    function notRegular(full: string, name: string): void {
      problems.push({
        rule: RULE,
        severity: 'error',
        service,
        file: full,
        message: `${name} is not a regular file (a FIFO, socket or device), so it cannot be a revision.`,
        hint: 'Remove it from the versions directory.',
      });
    }
  };
  await walk(root, true);
  return files;
}
