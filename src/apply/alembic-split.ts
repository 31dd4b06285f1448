import type { Session } from '../db/database.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import { readAlembicHistory } from '../history/alembic-lazy.js';
import { logEvent, ensureLedger } from '../ledger/ledger.js';
import { parseJoinedName, quoteIdent, quoteQualified } from '../sql/ident.js';
import type { DatabaseSource, Target } from '../target/target.js';

export interface SplitMove {
  service: string;
  versionNum: string;
  from: string;
  to: string;
}

export interface SplitResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  dryRun: boolean;
  /** Per service: the version table it gets and the line its env.py needs. */
  services: { service: string; versionTable: string; envPyChange: string; configChange: string }[];
  moves: SplitMove[];
  /** Rows no service's directory defines: left where they are, reported. */
  orphans: { table: string; versionNum: string }[];
  error?: TidemarkError;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A version table (`table` or `schema.table`, case kept) quoted for SQL; refused when it is not such a name. */
function versionTableSql(text: string): string {
  const q = parseJoinedName(text);
  if (!q) throw new TidemarkError('bad-version-table', `${JSON.stringify(text)} is not a version table name (\`table\` or \`schema.table\`).`, { kind: 'usage' });
  return q.schema === undefined ? quoteIdent(q.name) : quoteQualified({ schema: q.schema, name: q.name });
}

async function tableExists(db: Session, quoted: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [quoted]);
  return Boolean(rows[0]?.ok);
}

export interface SplitOptions {
  /** Work out and return the moves; write nothing. */
  dryRun?: boolean;
  /** The shared version table (default `alembic_version`). */
  table?: string;
  /** The per-service tables' prefix (default `alembic_version_`). */
  prefix?: string;
}

/** The result of a split that failed before reading anything (the boundary could not load the config). */
export function splitFailure(dryRun: boolean | undefined, err: unknown): SplitResult {
  return { ok: false, database: '', databaseSource: 'default', dryRun: Boolean(dryRun), services: [], moves: [], orphans: [], error: asTidemarkError(err) };
}

/**
 * Gives each Alembic service of the target's workspace its own version table (default
 * `alembic_version_<service>`), moving every row of the shared table to the service whose directory
 * defines that revision, in ONE transaction. Rows of no service stay and are reported. With dryRun
 * nothing is written. Results as values: never throws.
 */
export async function splitVersionTable(target: Target<Session>, options: SplitOptions = {}): Promise<SplitResult> {
  const result: SplitResult = { ok: false, database: '', databaseSource: 'default', dryRun: Boolean(options.dryRun), services: [], moves: [], orphans: [] };
  try {
    const { workspace } = target;
    const alembic = workspace.services.filter((s) => s.format === 'alembic');
    if (alembic.length === 0) {
      throw new TidemarkError('no-alembic-service', "The config declares no service with format: 'alembic'.", {
        kind: 'usage',
        hint: "Declare each Alembic service with format: 'alembic' and migrations: <its versions directory>.",
      });
    }
    const shared = options.table ?? 'alembic_version';
    if (!IDENT.test(shared)) {
      throw new TidemarkError('bad-version-table', `--table ${JSON.stringify(shared)} is not a plain table name.`, {
        hint: "Give the shared version table's name as Alembic knows it, e.g. alembic_version.",
      });
    }
    const prefix = options.prefix ?? 'alembic_version_';
    const owners = new Map<string, string[]>();
    for (const s of alembic) {
      const history = await readAlembicHistory(s.name, [s.migrationsDir], { recursive: s.recursive });
      for (const r of history.revisions) owners.set(r.id, [...new Set([...(owners.get(r.id) ?? []), s.name])]);
      const table = s.versionTable !== 'alembic_version' && s.versionTable !== shared ? s.versionTable : `${prefix}${s.name}`;
      if (!IDENT.test(table)) throw new TidemarkError('bad-version-table', `${table} is not a plain table name.`, { kind: 'usage' });
      result.services.push({
        service: s.name,
        versionTable: table,
        envPyChange: `context.configure(..., version_table='${table}')`,
        configChange: `services.${s.name}.versionTable: '${table}'`,
      });
    }
    // Named before the first use of the database: a failure to connect still says which database was tried.
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const { db } = target;
    const sharedSql = versionTableSql(shared);
    if (!(await tableExists(db, sharedSql))) {
      throw new TidemarkError('no-version-table', `${target.name.display} has no table ${shared}: nothing to split.`, { kind: 'input' });
    }
    const rows = (await db.query<{ v: string }>(`SELECT version_num::text AS v FROM ${sharedSql} ORDER BY 1`)).rows.map((r) => r.v);
    for (const v of rows) {
      const owner = owners.get(v) ?? [];
      if (owner.length !== 1) {
        result.orphans.push({ table: shared, versionNum: v });
        continue;
      }
      const table = result.services.find((s) => s.service === owner[0])!.versionTable;
      result.moves.push({ service: owner[0], versionNum: v, from: shared, to: table });
    }
    if (options.dryRun) {
      result.ok = true;
      return result;
    }
    await ensureLedger(db);
    await db.transaction(async (tx) => {
      for (const s of result.services) {
        // The same shape Alembic creates for its version table.
        await tx.exec(
          `CREATE TABLE IF NOT EXISTS ${versionTableSql(s.versionTable)} (version_num varchar(32) NOT NULL, CONSTRAINT ${quoteIdent(`${parseJoinedName(s.versionTable)!.name}_pkc`)} PRIMARY KEY (version_num))`,
        );
      }
      for (const m of result.moves) {
        await tx.query(`INSERT INTO ${versionTableSql(m.to)} (version_num) VALUES ($1) ON CONFLICT DO NOTHING`, [m.versionNum]);
        await tx.query(`DELETE FROM ${versionTableSql(m.from)} WHERE version_num = $1`, [m.versionNum]);
      }
      await logEvent(tx, { action: 'alembic-split-version-table', outcome: 'ok', detail: { moves: result.moves, orphans: result.orphans } });
    });
    result.ok = true;
  } catch (err) {
    result.error = asTidemarkError(err);
  }
  return result;
}
