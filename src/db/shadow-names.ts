/**
 * The names of temporary shadow databases, and the cleanup of those a killed run left behind.
 *
 * A run drops its temporary database when it ends, also on Ctrl-C (src/db/shadow.ts); SIGKILL, a crash or a lost
 * machine leave it on the server. So each one is named after its owner, `tidemark_shadow_<pid>_<host>_<random>`,
 * and the next run of this machine that creates one first drops those whose process is gone and to which no
 * session is connected.
 */
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { quoteIdent } from '../sql/ident.js';
import type { Database } from './database.js';

export const SHADOW_DB_PREFIX = 'tidemark_shadow_';

/**
 * This machine, in six hex digits: a pid in a shadow's name means something only on the host whose process it is.
 * (In a container, the host is the container: its hostname and its pid namespace.)
 */
export const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 6);

/** `tidemark_shadow_<pid>_<host>_<random>`: whose it is, so a later run can tell a leftover from a live one. */
export function shadowName(pid: number = process.pid, host: string = HOST_TAG): string {
  return `${SHADOW_DB_PREFIX}${pid}_${host}_${randomBytes(4).toString('hex')}`;
}

/** The owner of a shadow named by shadowName; undefined for any other name (those are never touched). */
function shadowOwner(name: string): { pid: number; host: string } | undefined {
  const m = /^tidemark_shadow_(\d{1,10})_([0-9a-f]{6})_[0-9a-f]{8}$/.exec(name);
  return m ? { pid: Number(m[1]), host: m[2] } : undefined;
}

/** True unless no process has this pid here (EPERM: one exists, owned by another user). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Drops the temporary databases that killed runs of this machine left on the server (SIGKILL or a crash leaves no
 * chance to drop them): named by shadowName with this host's tag, their pid no longer alive here, and no session
 * connected to them. The drop has no FORCE, so a session that connects meanwhile keeps the database. Best effort:
 * a database this role may not drop stays, and nothing here fails the caller. Returns the names dropped.
 */
export async function dropStaleShadows(admin: Database, isAlive: (pid: number) => boolean = pidAlive): Promise<string[]> {
  const dropped: string[] = [];
  try {
    const { rows } = await admin.query<{ name: string }>(
      `SELECT d.datname AS name FROM pg_database d
        WHERE d.datname LIKE 'tidemark\\_shadow\\_%' AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)
        ORDER BY 1`,
    );
    for (const { name } of rows) {
      const owner = shadowOwner(name);
      if (!owner || owner.host !== HOST_TAG || owner.pid === process.pid || isAlive(owner.pid)) continue;
      try {
        await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
        dropped.push(name);
      } catch {
        // connected to since, or not ours to drop: it stays
      }
    }
  } catch {
    // the catalog could not be read: nothing is dropped
  }
  return dropped;
}
