/**
 * The PGlite data directory on disk: tidemark's exclusive lock file `DIR.lock` (PGlite itself lets two
 * processes open one data dir and silently lose each other's commits), and new databases made from a
 * cached pristine data dir (initdb costs seconds): `pglite:PATH` as a native copy of a cached
 * directory, `pglite:memory` by loading the cached tarball into PGlite's in-memory file system.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { TidemarkError } from '../errors.js';

export type PGliteModule = typeof import('@electric-sql/pglite');

// ---- the data directory lock ----

const heldLocks = new Set<string>();

function inUse(displayPath: string, pid: number, lockPath: string): TidemarkError {
  const hint = pid === process.pid ? 'this process already has it open: close that Database first' : `wait for process ${pid} to finish; if it is not using the database, delete ${lockPath}`;
  return new TidemarkError('database-in-use', `database ${displayPath} is in use by process ${pid}`, { kind: 'failure', hint });
}

export async function acquireDirLock(dataDir: string, displayPath: string): Promise<string> {
  const lockPath = `${dataDir}.lock`;
  if (heldLocks.has(lockPath)) throw inUse(displayPath, process.pid, lockPath);
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      try {
        fs.writeSync(fd, `${process.pid}\n`);
      } finally {
        fs.closeSync(fd);
      }
      heldLocks.add(lockPath);
      installExitHook();
      return lockPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readLock(lockPath);
    if (owner) {
      // Empty: its owner is between create and write (or died there: stale after a few seconds).
      const stale = owner.pid === undefined ? Date.now() - owner.mtimeMs > 5000 : !isAlive(owner.pid);
      if (!stale && owner.pid !== undefined) throw inUse(displayPath, owner.pid, lockPath);
      if (stale) takeOverStaleLock(lockPath, owner);
    }
    if (Date.now() > deadline) {
      throw new TidemarkError('database-in-use', `database ${displayPath} is in use (cannot take ${lockPath})`, {
        kind: 'failure',
        hint: `if no other process uses it, delete ${lockPath}`,
      });
    }
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
  }
}

interface LockOwner {
  pid: number | undefined;
  ino: number;
  mtimeMs: number;
}

function readLock(lockPath: string): LockOwner | undefined {
  try {
    const st = fs.statSync(lockPath);
    const pid = Number.parseInt(fs.readFileSync(lockPath, 'utf8').trim(), 10);
    return { pid: Number.isInteger(pid) && pid > 0 ? pid : undefined, ino: st.ino, mtimeMs: st.mtimeMs };
  } catch {
    return undefined; // vanished meanwhile: just try again
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but not ours to signal
  }
}

/**
 * Removes a stale lock, but only the very file judged stale: two processes may both find it stale,
 * and the slower one must not delete the fresh lock the faster one just created. A short-lived
 * `.takeover` guard file serialises the check-and-delete.
 */
function takeOverStaleLock(lockPath: string, stale: LockOwner): void {
  const guard = `${lockPath}.takeover`;
  let fd: number;
  try {
    fd = fs.openSync(guard, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Someone else is taking over; a guard left by a process that died mid-takeover expires.
    const st = fs.statSync(guard, { throwIfNoEntry: false });
    if (st && Date.now() - st.mtimeMs > 5000) fs.rmSync(guard, { force: true });
    return;
  }
  try {
    const now = readLock(lockPath);
    if (now && now.ino === stale.ino && now.pid === stale.pid) fs.rmSync(lockPath, { force: true });
  } finally {
    fs.closeSync(fd);
    fs.rmSync(guard, { force: true });
  }
}

export function releaseDirLock(lockPath: string): void {
  heldLocks.delete(lockPath);
  if (readLock(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true });
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Best effort for a process that exits without close(); a killed one leaves a stale lock, taken over later.
  process.on('exit', () => {
    for (const lockPath of heldLocks) {
      try {
        releaseDirLock(lockPath);
      } catch {
        // nothing more to do at exit
      }
    }
  });
}

// ---- the template data dir ----

export function isEmptyOrMissing(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

function cacheDir(): string {
  if (process.env.TIDEMARK_CACHE_DIR) return process.env.TIDEMARK_CACHE_DIR;
  if (process.env.XDG_CACHE_HOME) return path.join(process.env.XDG_CACHE_HOME, 'tidemark');
  return path.join(os.homedir(), '.cache', 'tidemark');
}

function pgliteVersion(): string {
  // The package's exports hide package.json: walk up from its entry point instead.
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

let templatePromise: Promise<{ file: string; bytes: Uint8Array }> | undefined;

/** The pristine data dir tarball: read from the cache, or made once (and cached) from a fresh instance. */
function template(mod: PGliteModule): Promise<{ file: string; bytes: Uint8Array }> {
  templatePromise ??= (async () => {
    const file = path.join(cacheDir(), `pglite-${pgliteVersion()}.tar`);
    try {
      return { file, bytes: new Uint8Array(await fs.promises.readFile(file)) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const fresh = await mod.PGlite.create();
    const bytes = new Uint8Array(await (await fresh.dumpDataDir('none')).arrayBuffer());
    await fresh.close();
    try {
      // tmp + rename: a concurrent reader never sees half a tarball.
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, bytes);
      await fs.promises.rename(tmp, file);
    } catch {
      // An unwritable cache only costs speed next time.
    }
    return { file, bytes };
  })();
  templatePromise.catch(() => (templatePromise = undefined));
  return templatePromise;
}

let templateDirPromise: Promise<string | undefined> | undefined;

/**
 * The pristine data dir itself, unpacked once from the tarball next to it in the cache; undefined when
 * the cache cannot hold it. Made under a temporary name and renamed into place, so a reader never sees
 * half of it; two processes making it at once both succeed and one of the two is kept.
 */
function templateDir(mod: PGliteModule): Promise<string | undefined> {
  templateDirPromise ??= (async () => {
    const { file, bytes } = await template(mod);
    const dir = file.replace(/\.tar$/, '');
    if (fs.existsSync(path.join(dir, 'PG_VERSION'))) return dir;
    const tmp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const made = await mod.PGlite.create({ dataDir: tmp, loadDataDir: new Blob([bytes as BlobPart]) });
      await made.close();
      await fs.promises.rename(tmp, dir);
    } catch {
      // Another process put its copy there first (rename onto a non-empty dir fails), or the cache is read-only.
      await fs.promises.rm(tmp, { recursive: true, force: true });
    }
    return fs.existsSync(path.join(dir, 'PG_VERSION')) ? dir : undefined;
  })();
  templateDirPromise.catch(() => (templateDirPromise = undefined));
  return templateDirPromise;
}

/**
 * A new `pglite:PATH` database: a native copy of the pristine data dir, opened as an existing one. Half
 * the CPU of unpacking the 40 MB tarball through PGlite's file system on every new database (~1 s of
 * ~2 s; the test suite makes hundreds).
 */
export async function createDirFromTemplate(mod: PGliteModule, options: { parsers: Record<number, (v: string) => unknown> }, dataDir: string): Promise<PGlite> {
  const source = await templateDir(mod);
  if (source === undefined) return createFromTemplate(mod, { ...options, dataDir });
  // The dir was missing or empty, so whatever is in it after a failure is our half-made database.
  try {
    // Sync: fs.promises.cp walks the ~1000 files in JS promises at twice the CPU; this blocks ~0.2 s.
    fs.cpSync(source, dataDir, { recursive: true });
  } catch (err) {
    await fs.promises.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  try {
    return await mod.PGlite.create({ ...options, dataDir });
  } catch (err) {
    await fs.promises.rm(dataDir, { recursive: true, force: true });
    // A damaged cached dir must not break every later run: move it aside (atomically: a process copying
    // it meanwhile fails loudly rather than getting half of it), so the next open makes it again.
    const trash = `${source}.${process.pid}.${randomBytes(4).toString('hex')}.damaged`;
    if (
      await fs.promises.rename(source, trash).then(
        () => true,
        () => false,
      )
    )
      await fs.promises.rm(trash, { recursive: true, force: true });
    templateDirPromise = undefined;
    throw err;
  }
}

export async function createFromTemplate(mod: PGliteModule, options: { dataDir: string | undefined; parsers: Record<number, (v: string) => unknown> }): Promise<PGlite> {
  const { file, bytes } = await template(mod);
  try {
    return await mod.PGlite.create({ ...options, loadDataDir: new Blob([bytes as BlobPart]) });
  } catch (err) {
    // A damaged cache file must not break every later run: drop it so the next one rebuilds it.
    await fs.promises.rm(file, { force: true });
    // The dir was missing or empty, so whatever is in it now is our half-made database.
    if (options.dataDir !== undefined) await fs.promises.rm(options.dataDir, { recursive: true, force: true });
    templatePromise = undefined;
    throw err;
  }
}
