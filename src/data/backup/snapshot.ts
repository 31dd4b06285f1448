// The content digests, on a second connection that reads the backup's snapshot.
import type { Database, Queryable, Session } from '../../db/database.js';
import { ROW_SECURITY_OFF_SQL } from '../../schema/catalog.js';
import { literal } from '../../sql/ident.js';
import { DIGEST_SETTINGS_SQL } from '../digest.js';

/** How to open a second session on the backup's database: the target's `openSibling` (absent for a Database handed in). */
export type OpenSibling = (() => Promise<Database>) | undefined;

type DigestRow = { rows: string; digest: string };

interface Digester {
  parallel: boolean;
  /** The digest of table `index` (in the order the queries were given). */
  digest(index: number): Promise<DigestRow>;
  /**
   * Closes the second connection (ending its read-only transaction); idempotent, never throws.
   * A digest still running is first cancelled through `canceller` (a usable session), so the
   * server does not go on scanning for a client that has gone.
   */
  close(canceller?: Queryable): Promise<void>;
}

/**
 * The digests on a snapshot session (see openSnapshotSession), one after another, while the main
 * connection streams the COPYs: they are of exactly the rows the files hold. Without such a session:
 * on the main connection, before each table's COPY.
 */
export async function openDigester(db: Session, openSibling: OpenSibling, snapshot: string | undefined, queries: string[]): Promise<Digester> {
  const sequential: Digester = {
    parallel: false,
    digest: async (i) => (await db.query<DigestRow>(queries[i])).rows[0],
    close: async () => {},
  };
  const session = queries.length ? await openSnapshotSession(db, openSibling, snapshot) : undefined;
  if (!session) return sequential;
  // One after another on the second connection, each sent when the one before has settled (a pg
  // client given a query while one runs queues it but warns, and pg 9 will refuse); each promise gets
  // a handler at once, so a failure is reported where it is awaited, never as an unhandled rejection.
  let previous: Promise<unknown> = Promise.resolve();
  const results = queries.map((sql) => {
    const next = previous.then(() => session.db.query<DigestRow>(sql)).then((r) => r.rows[0]);
    previous = next.catch(() => {});
    return session.track(next);
  });
  return { parallel: true, digest: (i) => results[i], close: (canceller) => session.close(canceller) };
}

/** A second connection reading the backup's snapshot (see openSnapshotSession). */
export interface SnapshotSession {
  db: Database;
  /** Counts `work` as running until it settles, so close() knows to cancel it; returns it. */
  track<T>(work: Promise<T>): Promise<T>;
  /**
   * Closes the connection (ending its read-only transaction); idempotent, never throws. Work still
   * running is first cancelled through `canceller` (a usable session), so the server does not go on
   * scanning for a client that has gone.
   */
  close(canceller?: Queryable): Promise<void>;
}

/**
 * On the server, when the target can open a second session (the boundary opened the first, so it knows
 * the URL: `openSibling`): a new connection that imports the backup's snapshot (`SET TRANSACTION SNAPSHOT`, same REPEATABLE READ READ ONLY,
 * same output settings), so what it reads is exactly what the main connection reads. Undefined on
 * PGlite, for a Database handed in by an API caller, without an exported snapshot, or when a
 * connection cannot be opened or cannot import the snapshot (max_connections, a pooler): the caller
 * then does the work on the main connection.
 */
export async function openSnapshotSession(db: Session, openSibling: OpenSibling, snapshot: string | undefined): Promise<SnapshotSession | undefined> {
  if (db.backend !== 'postgres' || !snapshot || !openSibling) return undefined;
  let second: Database;
  try {
    second = await openSibling();
  } catch {
    return undefined;
  }
  let closed = false;
  let pid: number | undefined;
  let pending = 0;
  const close = async (canceller?: Queryable) => {
    if (closed) return;
    closed = true;
    if (pending > 0 && pid !== undefined && canceller) await canceller.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
    await second.close().catch(() => {}); // closing ends its read-only transaction
  };
  try {
    pid = (await second.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await second.exec(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSET TRANSACTION SNAPSHOT ${literal(snapshot)};\n${DIGEST_SETTINGS_SQL};\n${ROW_SECURITY_OFF_SQL}`);
  } catch {
    await close();
    return undefined;
  }
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending++;
    work.then(
      () => pending--,
      () => pending--,
    );
    return work;
  };
  return { db: second, track, close };
}
