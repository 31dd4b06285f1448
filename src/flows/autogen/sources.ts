/**
 * The two sides of `tidemark diff` (issue 13 §2.3 "Sources"): a desired schema in `.sql` files, a
 * database, or the service's history (`history`, `history:ID`), each turned into a Snapshot of what the
 * service owns. Files are loaded on a fresh shadow after the services the service requires are replayed;
 * declarative files are rarely in dependency order, so a file failing on a missing object is tried again
 * after the others. What the files create is checked against `owns` before it is snapshotted: an object of
 * another service, or a table no service owns, would otherwise vanish from the diff without a word.
 *
 * A core (DESIGN §7 boundary): it opens no connection. A URL source is read through `target.db` when it is
 * the target, else through `options.open`, which the api layer gives.
 */
import path from 'node:path';
import { replay, replayMigrations } from '../../apply/replay.js';
import { ownerOf } from '../../config/owns.js';
import { withDependentServices, withRequiredServices } from '../../config/services.js';
import type { Service } from '../../config/types.js';
import type { Database, Session } from '../../db/database.js';
import { redactUrl } from '../../db/redact.js';
import { sameDatabase, type Shadow } from '../../db/shadow.js';
import { isTidemarkError, TidemarkError } from '../../errors.js';
import { type DesiredFile, findRenames, readDesiredSchema } from '../../history/desired-schema.js';
import type { Rename } from '../../schema/diff/renames.js';
import { introspect } from '../../schema/introspect/index.js';
import type { Snapshot } from '../../schema/snapshot.js';
import type { Target } from '../../target/target.js';

export type SchemaSource = { kind: 'files'; paths: string[] } | { kind: 'url'; url: string } | { kind: 'history'; upTo?: string };

export interface LoadedSchema {
  snapshot: Snapshot;
  /** The shadow the snapshot was read on, still open (keepShadow); the caller disposes of it. */
  shadow?: Shadow;
  /** The accepted `-- tidemark:renamed-from`s of a files source. */
  renames: Rename[];
  /** One phrase for humans: what was read, and where. */
  description: string;
  /** The source is the target database itself (a hotfix recorded with `--to $DATABASE_URL`). */
  isTarget?: boolean;
}

export interface LoadSourceOptions {
  /** Opens a database URL that is not the target's (the api layer's; a core opens nothing). Closed here after reading. */
  open?: (url: string) => Promise<Database>;
  /**
   * A shadow the caller already opened (empty), used instead of opening one; with `keepShadow` false it is
   * still the caller's to dispose of: loadSource disposes only of a shadow it opened.
   */
  shadow?: Shadow;
}

const INVALID_HINT = 'Give `history`, `history:ID`, a database URL (postgres://…, pglite:PATH) or a .sql file or directory.';

/** Reads `--from` / `--to` text; undefined gives `fallback`. Malformed text is `diff-source-invalid`. */
export function parseSource(text: string | undefined, fallback: SchemaSource): SchemaSource {
  if (text === undefined) return fallback;
  const t = text.trim();
  const invalid = (reason: string) => new TidemarkError('diff-source-invalid', `"${redactUrl(t)}": ${reason}.`, { hint: INVALID_HINT });
  if (t === '') throw invalid('an empty schema source');
  if (t === 'history') return { kind: 'history' };
  if (t.startsWith('history:')) {
    const id = t.slice('history:'.length);
    if (!/^[a-z0-9_]+$/.test(id)) throw invalid('history:ID needs a migration id such as user_003_add_role or user_003');
    return { kind: 'history', upTo: id };
  }
  if (/^postgres(ql)?:\/\/./i.test(t)) return { kind: 'url', url: t };
  if (t.startsWith('pglite:')) {
    const rest = t.slice('pglite:'.length);
    if (rest === '' || rest.startsWith('//')) throw invalid('pglite: needs a data directory (pglite:./path) or memory');
    return { kind: 'url', url: t };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) throw invalid('only postgres:// and postgresql:// database URLs are read');
  return { kind: 'files', paths: [t] };
}

/**
 * The snapshot of what `service` owns in `src`, read in full (introspect's `all` mode). A shadow opened
 * here is disposed of unless `keepShadow`, in which case it is returned with the snapshot (as is a shadow
 * given in `options`, never disposed of here).
 */
export async function loadSource(target: Target<Session>, service: Service, src: SchemaSource, keepShadow: boolean, options: LoadSourceOptions = {}): Promise<LoadedSchema> {
  if (src.kind === 'url') return loadUrl(target, service, src.url, options);
  // A shadow given is the caller's to dispose of, whatever happens here.
  const given = options.shadow !== undefined;
  const shadow = options.shadow ?? (await target.openShadow({}));
  let keep = given;
  try {
    const loaded = src.kind === 'history' ? await loadHistory(target, service, src.upTo, shadow) : await loadFiles(target, service, src.paths, shadow);
    keep = keepShadow || given;
    return keepShadow ? { ...loaded, shadow } : loaded;
  } finally {
    if (!keep) await shadow.dispose();
  }
}

async function loadHistory(target: Target<Session>, service: Service, upTo: string | undefined, shadow: Shadow): Promise<LoadedSchema> {
  // The whole history also builds the services that require this one, so what they hang on it shows in the
  // snapshot's dependents (a drop under them is refused) and the proof runs with their objects in place.
  const options = upTo === undefined ? { services: withDependentServices(target.workspace, [service.name]) } : { upTo };
  const snapshot = await replay({ workspace: target.workspace }, service.name, shadow.database, options);
  const what = upTo === undefined ? `the history of ${service.name}` : `the history of ${service.name} up to ${upTo}`;
  return { snapshot, renames: [], description: `${what}, replayed on ${shadow.description}` };
}

async function loadUrl(target: Target<Session>, service: Service, url: string, options: LoadSourceOptions): Promise<LoadedSchema> {
  const scope = { workspace: target.workspace, service: service.name };
  const read = (db: Session) => db.transaction((tx) => introspect(tx, scope), { readOnly: true });
  const description = `the database ${redactUrl(url)}`;
  if (isTarget(target, url)) {
    // The target's session, not a second one: inside the caller's transaction when it has one.
    const snapshot = 'depth' in target.db ? await introspect(target.db, scope) : await read(target.db);
    return { snapshot, renames: [], description: `${description} (the target)`, isTarget: true };
  }
  if (!options.open) throw new TidemarkError('diff-source-invalid', `${redactUrl(url)} is not the target database, and no way to open another one was given.`, { hint: INVALID_HINT });
  const db = await options.open(url);
  try {
    return { snapshot: await read(db), renames: [], description };
  } finally {
    await db.close();
  }
}

/** Whether `url` names the target, however spelled (the shadow policy's own comparison: host aliases, PG* variables, real paths). */
function isTarget(target: Target<Session>, url: string): boolean {
  const { name } = target;
  return sameDatabase(url, name.backend === 'pglite' && name.pglitePath ? `pglite:${name.pglitePath}` : name.display, target.paths.cwd);
}

// Undefined table, undefined object (type), undefined function, undefined schema: a file that needs another first.
const RETRIED = new Set(['42P01', '42704', '42883', '3F000']);

interface DbError {
  code?: string;
  message?: string;
  position?: string | number;
}

/** A created object, as the catalog names it. */
interface CatalogObject {
  key: string;
  kind: 'table' | 'view' | 'sequence' | 'type' | 'function';
  schema: string;
  name: string;
}

async function loadFiles(target: Target<Session>, service: Service, paths: readonly string[], shadow: Shadow): Promise<LoadedSchema> {
  const { workspace } = target;
  const files = await readDesiredSchema(paths.map((p) => (path.isAbsolute(p) ? p : target.paths.fromUser(p))));
  const renames = await findRenames(files, service.name);
  const db = shadow.database;
  const required = withRequiredServices(workspace, [service.name]).filter((n) => n !== service.name);
  if (required.length > 0) await replayMigrations({ workspace }, required, db);
  const createdBy = await db.transaction(async (tx) => {
    const known = new Set((await listObjects(tx)).map((o) => o.key));
    const created = new Map<string, { object: CatalogObject; file: string }>();
    // Whether `f` loaded; a file failing on an undefined object waits for another to load first.
    let last: { file: DesiredFile; error: DbError } | undefined;
    const attempt = async (f: DesiredFile): Promise<boolean> => {
      try {
        await tx.transaction((sp) => sp.exec(f.sql));
      } catch (err) {
        if (isTidemarkError(err)) throw err;
        const error = err as DbError;
        if (!RETRIED.has(error.code ?? '')) throw loadFailed(f, error, service);
        last = { file: f, error };
        return false;
      }
      for (const object of await listObjects(tx)) {
        if (known.has(object.key)) continue;
        known.add(object.key);
        created.set(object.key, { object, file: f.file });
      }
      return true;
    };
    // After each file that loads, the waiting ones are tried again, the latest to fail first, until a sweep
    // loads none: files in reverse dependency order then cost one retry each, not one pass each (60 files
    // in reverse order: 1,830 attempts by passes).
    const waiting: DesiredFile[] = [];
    for (const f of files) {
      if (!(await attempt(f))) {
        waiting.push(f);
        continue;
      }
      for (let progressed = true; progressed; ) {
        progressed = false;
        for (let i = waiting.length - 1; i >= 0; i--) {
          if (await attempt(waiting[i])) {
            waiting.splice(i, 1);
            progressed = true;
          }
        }
      }
    }
    // Every waiting file was tried after the last one that loaded: nothing more will load.
    if (waiting.length > 0 && last) throw loadFailed(last.file, last.error, service);
    return [...created.values()];
  });
  for (const { object, file } of createdBy) checkOwner(workspace, service, object, file);
  const snapshot = await introspect(db, { workspace, service: service.name });
  const what = files.length === 1 ? files[0].file : `${files.length} files from ${paths.join(', ')}`;
  return { snapshot, renames, description: `the desired schema ${what}, loaded on ${shadow.description}` };
}

function loadFailed(f: DesiredFile, e: DbError, service: Service): TidemarkError {
  const line = lineOfPosition(f.sql, e.position);
  const sqlstate = e.code ? ` (SQLSTATE ${e.code})` : '';
  return new TidemarkError('desired-schema-failed', `${f.file}:${line}: the desired schema of ${service.name} does not load: ${e.message ?? String(e)}${sqlstate}.`, {
    file: f.file,
    line,
    service: service.name,
    hint: 'Every other file was tried first, and again after each one that loaded: fix this one.',
    cause: e,
  });
}

/** The line of a server error's `position` (1-based, in characters, into the whole file sent); line 1 without one. */
function lineOfPosition(sql: string, position: string | number | undefined): number {
  const pos = Number(position);
  if (!Number.isFinite(pos) || pos < 1) return 1;
  let line = 1;
  let i = 0;
  for (const c of sql) {
    if (++i >= pos) break;
    if (c === '\n') line++;
  }
  return line;
}

function checkOwner(workspace: Target<Session>['workspace'], service: Service, object: CatalogObject, file: string): void {
  const owner = ownerOf(workspace, { schema: object.schema, name: object.name });
  const named = `${object.kind} ${object.schema}.${object.name}`;
  if (owner && owner.name !== service.name) {
    throw new TidemarkError('desired-schema-foreign-object', `${file} creates ${named}, which service ${owner.name} owns, not ${service.name}.`, {
      file,
      service: service.name,
      hint: `A service's desired schema holds only what it owns: remove ${object.name} from it (${owner.name}'s objects come from ${owner.name}'s history, when ${service.name} requires it).`,
    });
  }
  if (!owner && (object.kind === 'table' || object.kind === 'view' || object.kind === 'sequence')) {
    throw new TidemarkError('desired-schema-unowned-object', `${file} creates ${named}, which no service owns: it would be left out of ${service.name}'s snapshot.`, {
      file,
      service: service.name,
      hint: `Add it to services.${service.name}.owns in the config, or remove it from the desired schema.`,
    });
  }
}

/**
 * The relations, types and functions a desired schema can create, outside system schemas, the ledger and
 * extensions. Sequences of serial and identity columns and row types of relations go with their table.
 */
async function listObjects(db: Session): Promise<CatalogObject[]> {
  const { rows } = await db.query<{ kind: CatalogObject['kind']; schema: string; name: string; key: string }>(`
    WITH user_ns AS (
      SELECT oid, nspname FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'tidemark') AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
    ), ext AS (
      SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
    )
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind,
           n.nspname AS schema, c.relname AS name, 'rel:' || c.oid AS key
    FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass AND ext.objid = c.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
    UNION ALL
    SELECT 'type', n.nspname, t.typname, 'type:' || t.oid
    FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r')
      AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass AND ext.objid = t.oid)
    UNION ALL
    SELECT 'function', n.nspname, p.proname, 'proc:' || p.oid
    FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass AND ext.objid = p.oid)`);
  return rows;
}
