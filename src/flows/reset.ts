/**
 * `tidemark reset --service S` (DESIGN §3, issue 5 item 3): the developer's "start this service over".
 *
 * Drops only the objects the service owns (the Snapshot of src/schema says which, src/schema/render
 * orders the drops) together with its ledger rows in ONE transaction, then re-applies its migrations
 * with `up`. Dropping never cascades: an object of another service that depends on ours (a foreign
 * key from budgets into users) makes the reset fail with nothing changed — reset both services
 * together instead. Guarded targets (config `protected`, a host that is not this machine, the mark) are
 * refused unless overridden: the boundary (api/reset.ts) opens the target with `guard: 'reset'`, and the
 * guard (src/ledger/guard.ts) runs as the target connects, on the core's first use.
 *
 * A schema the service owns as a whole (`schema:crm` in its `owns`) is an owned object too: after
 * its objects are dropped, the schema itself is dropped when nothing else is left in it (DROP SCHEMA
 * without CASCADE, under a savepoint: PostgreSQL decides what "empty" means), so a migration that
 * says `CREATE SCHEMA crm` replays as on a fresh database. A schema that still holds something is
 * kept and reported with PostgreSQL's reason. `public` and the ledger's `tidemark` are never dropped.
 */
import type { ApplyEvent } from '../progress.js';
import { up, type MigrateResult } from '../apply/migrate.js';
import type { Workspace } from '../config/types.js';
import { isSystemSchema, nameKey, quoteIdent } from '../sql/ident.js';
import { ownsWholeSchema } from '../config/owns.js';
import { requirementOrder } from '../config/services.js';
import type { Queryable } from '../db/database.js';
import { TidemarkError, isTidemarkError } from '../errors.js';
import { LEDGER_SCHEMA, ensureLedger, forgetService, logEvent } from '../ledger/ledger.js';
import { withServiceLocks } from '../ledger/locks.js';
import { introspect } from '../schema/introspect/index.js';
import { renderDrop, unsupportedObjects } from '../schema/render/baseline.js';
import type { Snapshot } from '../schema/snapshot.js';
import type { DatabaseSource, Target } from '../target/target.js';
import { countByKind, type DroppedObject } from '../report/reset-report.js';

/**
 * What reset takes besides its target. The services are the target's (the boundary selected them: one or
 * several, reset together, dependents dropped first, all re-applied in order); the guard was enforced
 * when the target was opened (api/reset.ts opens it with `guard: 'reset'`).
 */
export interface ResetCoreOptions {
  lockTimeoutMs?: number;
  /** Show what would be dropped; change nothing. */
  dryRun?: boolean;
  onEvent?: (event: ApplyEvent) => void;
}

export interface ResetServiceResult {
  service: string;
  /** The DROP statements, in the order they run. */
  dropSql: string;
  /**
   * Every object those statements name, one entry per object (serial sequences go with their table),
   * then each schema owned as a whole that was dropped (on a dry run: that would be, if empty).
   */
  dropped: DroppedObject[];
  /** Schemas owned as a whole that were kept because something was left in them, with PostgreSQL's reason. */
  keptSchemas: { schema: string; reason: string }[];
  /** Ledger rows deleted. */
  forgotten: number;
}

export interface ResetResult {
  ok: boolean;
  dryRun: boolean;
  database: string;
  databaseSource: DatabaseSource;
  services: ResetServiceResult[];
  /** The re-apply (absent on a dry run or when the drop failed). */
  migrate?: MigrateResult;
  durationMs: number;
  error?: TidemarkError;
}

/** A reset that failed before it had a target (config, service selection, the guard, connecting): its result, as values. */
export function failedReset(options: { dryRun?: boolean }, err: unknown, named: { database: string; databaseSource: DatabaseSource }, durationMs: number): ResetResult {
  return { ok: false, dryRun: !!options.dryRun, database: named.database, databaseSource: named.databaseSource, services: [], durationMs, error: resetError(err) };
}

function resetError(err: unknown): TidemarkError {
  return isTidemarkError(err) ? err : new TidemarkError('reset-failed', (err as Error)?.message ?? String(err), { cause: err });
}

/**
 * Drops what the target's services own and re-applies their migrations, on the target's database (opened and
 * guarded by the caller, who also closes it). Results as values: never throws.
 */
export async function reset(target: Target, options: ResetCoreOptions = {}): Promise<ResetResult> {
  const started = performance.now();
  const result: ResetResult = { ok: false, dryRun: !!options.dryRun, database: target.name.display, databaseSource: target.name.source, services: [], durationMs: 0 };
  try {
    const { workspace, db } = target;
    const names = requirementOrder(
      workspace,
      target.services.map((s) => s.name),
    );
    await withServiceLocks(db, names, options, async () => {
      for (const service of [...names].reverse()) {
        const snapshot = await introspect(db, { workspace, service });
        const unsupported = unsupportedObjects(snapshot);
        if (unsupported.length) {
          throw new TidemarkError('reset-unsupported', `Cannot reset service ${service}: tidemark cannot drop and recreate ${unsupported.join(', ')}. Nothing was changed.`, {
            kind: 'input',
            service,
            hint: 'Drop those objects by hand (or move them into a migration tidemark can replay), then reset again.',
          });
        }
        const schemas = await wholeSchemas(db, workspace, service);
        result.services.unshift({ service, dropSql: renderDrop(snapshot), dropped: [...droppedObjects(snapshot), ...schemas.map(schemaObject)], keptSchemas: [], forgotten: 0 });
      }
      if (options.dryRun) return;
      await ensureLedger(db);
      try {
        await db.transaction(async (tx) => {
          for (const s of [...result.services].reverse()) {
            if (s.dropSql.trim()) await tx.exec(s.dropSql);
            await dropEmptySchemas(tx, s);
            s.forgotten = await forgetService(tx, s.service);
            await logEvent(tx, { action: 'reset', service: s.service, outcome: 'ok', detail: { forgotten: s.forgotten, dropped: countByKind(s.dropped) } });
          }
        });
      } catch (err) {
        throw dropFailure(names, err);
      }
    });
    if (options.dryRun) {
      result.ok = true;
      return result;
    }
    // `up` takes the same locks itself, after these are released: another run that slips in between
    // would apply the same migrations, which is what this one is about to do.
    result.migrate = await up(target, { lockTimeoutMs: options.lockTimeoutMs, onEvent: options.onEvent });
    if (!result.migrate.ok) {
      const e = result.migrate.error;
      const kept = result.services.flatMap((s) => s.keptSchemas);
      throw new TidemarkError('reset-reapply-failed', `Reset dropped ${names.join(', ')} but re-applying the migrations failed: ${e?.message ?? 'unknown error'}`, {
        service: e?.service,
        file: e?.file,
        line: e?.line,
        hint:
          'Fix the migration and run `tidemark up` (or reset again): the service is empty up to the failing migration.' +
          (kept.length ? ` The schema ${kept.map((k) => `${k.schema} was kept: ${k.reason}`).join('; ')}; empty it, or write CREATE SCHEMA IF NOT EXISTS.` : ''),
      });
    }
    result.ok = true;
  } catch (err) {
    result.error = resetError(err);
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

/** The schemas that exist and that the service owns as a whole (never public, the ledger's or a system one). */
async function wholeSchemas(db: Queryable, workspace: Workspace, service: string): Promise<string[]> {
  const owns = workspace.services.find((s) => s.name === service)?.owns ?? [];
  if (!owns.some((o) => o.startsWith('schema:'))) return [];
  const rows = (await db.query<{ nspname: string }>('SELECT nspname FROM pg_catalog.pg_namespace ORDER BY nspname')).rows;
  return rows.map((r) => r.nspname).filter((n) => n !== 'public' && n !== LEDGER_SCHEMA && !isSystemSchema(n) && ownsWholeSchema(owns, n));
}

function schemaObject(schema: string): DroppedObject {
  return { kind: 'schema', name: { schema, name: schema } };
}

/**
 * Drops each schema of `s.dropped` after its objects went, each under a savepoint: one that still
 * holds something (an object no service owns, say) fails without CASCADE and is kept, with the reason.
 */
async function dropEmptySchemas(tx: Queryable, s: ResetServiceResult): Promise<void> {
  const schemas = s.dropped.filter((o) => o.kind === 'schema');
  for (const o of schemas) {
    await tx.exec('SAVEPOINT tidemark_reset_schema');
    try {
      await tx.exec(`DROP SCHEMA ${quoteIdent(o.name.schema)}`);
      await tx.exec('RELEASE SAVEPOINT tidemark_reset_schema');
    } catch (err) {
      await tx.exec('ROLLBACK TO SAVEPOINT tidemark_reset_schema');
      await tx.exec('RELEASE SAVEPOINT tidemark_reset_schema');
      const e = err as { message?: string; detail?: string };
      s.keptSchemas.push({ schema: o.name.schema, reason: `${e.message ?? String(err)}${e.detail ? ` (${e.detail.replace(/\n/g, '; ')})` : ''}` });
      s.dropped = s.dropped.filter((d) => d !== o);
    }
  }
}

/** The objects renderDrop names, one each: what reset reports as dropped. */
function droppedObjects(snapshot: Snapshot): DroppedObject[] {
  const name = (o: { schema: string; name: string }) => ({ schema: o.schema, name: o.name });
  const tables = new Set(snapshot.tables.map((t) => nameKey(t)));
  return [
    ...snapshot.tables.map((t) => ({ kind: 'table' as const, name: name(t) })),
    ...snapshot.views.map((v) => ({ kind: v.materialized ? ('materialized view' as const) : ('view' as const), name: name(v) })),
    ...snapshot.sequences.filter((s) => !(s.ownedBy && tables.has(nameKey({ schema: s.ownedBy.schema, name: s.ownedBy.table })))).map((s) => ({ kind: 'sequence' as const, name: name(s) })),
    ...snapshot.functions.map((f) => ({ kind: f.kind, name: name(f) })),
    ...snapshot.types.map((t) => ({ kind: t.kind === 'domain' ? ('domain' as const) : ('type' as const), name: name(t) })),
  ];
}

function dropFailure(names: readonly string[], err: unknown): TidemarkError {
  const e = err as { code?: string; message?: string; detail?: string };
  const which = names.join(', ');
  if (e?.code === '2BP01') {
    return new TidemarkError('reset-dependents', `Cannot reset ${which}: ${e.message}${e.detail ? ` (${e.detail.replace(/\n/g, '; ')})` : ''}. Nothing was changed.`, {
      kind: 'input',
      hint: 'Another service depends on these objects: reset it in the same run (repeat --service), dependents are dropped first.',
      cause: err,
    });
  }
  return new TidemarkError('reset-failed', `Cannot reset ${which}: ${e?.message ?? String(err)}. Nothing was changed (the drop rolled back).`, { cause: err });
}
