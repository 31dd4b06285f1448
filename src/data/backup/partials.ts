// Partial backups: the temporary folder, its marker, and removing those a dead process left.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { escapeControl } from '../../sql/ident.js';

/** `<out>.tmp-<pid>-<8 hex>`: the folder a backup is written into before it is renamed to `<out>`. */
export const TMP_INFIX = '.tmp-';
const TMP_PATTERN = /\.tmp-(\d+)-[0-9a-f]{8}$/;
/** Inside a partial backup: who writes it (removed before the rename). */
export const PARTIAL_MARKER = '.tidemark-partial';

/**
 * Removes the partial backups in `parent` that a backup process on this host left when it died
 * (killed, power cut): folders named `<something>.tmp-<pid>-<hex>`, owned by this user, holding
 * tidemark's marker naming this host and a process that no longer runs. Returns a note per folder.
 * Anything else is left alone.
 */
export function removeStalePartials(parent: string): string[] {
  const notes: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(parent, { withFileTypes: true });
  } catch {
    return notes;
  }
  for (const e of entries) {
    if (!e.isDirectory() || !TMP_PATTERN.test(e.name)) continue;
    const dir = path.join(parent, e.name);
    try {
      const st = fs.lstatSync(dir);
      if (typeof process.getuid === 'function' && st.uid !== process.getuid()) continue;
      const marker = JSON.parse(fs.readFileSync(path.join(dir, PARTIAL_MARKER), 'utf8')) as { pid?: unknown; host?: unknown };
      if (marker.host !== os.hostname() || typeof marker.pid !== 'number' || processAlive(marker.pid)) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      notes.push(`Removed ${escapeControl(e.name)}, a partial backup left by process ${marker.pid}, which is gone.`);
    } catch {
      // no marker, unreadable: not ours to remove
    }
  }
  return notes;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_') || 'database';
}

/** `20261125T101530Z`: sorts, and has no colon (Windows, scp). */
export function utcStamp(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}
