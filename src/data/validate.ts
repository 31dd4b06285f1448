/**
 * `tidemark validate` (issue 4, item 4): is the live data where it should be?
 *
 * (a) structure — the services' owned tables compared with what their migrations produce, replayed on
 *     a shadow database the target opens (`target.openShadow`, the one policy of src/db/shadow.ts: a
 *     temporary database on the target server when the role may create one, else an in-process PGlite;
 *     or `--shadow URL`), both sides introspected as the service's
 *     Snapshot and compared by schema/diff (describeStructure: validate's sentences);
 * (b) counts — live `count(*)` against the row counts of a backup manifest (`--against DIR`);
 * (c) relationships — orphans for every foreign key of the owned tables (a restore with triggers
 *     disabled, or a NOT VALID constraint, can leave some) and for every `softRelations` entry of the
 *     config (references across services with no foreign key), with counts and sample keys.
 *
 * The core takes `(target, options)`: the workspace, the selected services, the database (or a
 * caller's transaction) and the shadow come with the target; api/validate.ts is the boundary that
 * opens one from a config or a URL. Results as values: never throws. Any finding makes `ok` false.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Workspace } from '../config/types.js';
import type { Database, Queryable, Session } from '../db/database.js';
import type { ShadowKind } from '../db/shadow.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import type { Snapshot } from '../schema/snapshot.js';
import { foreignKeys, liveTables, orphanCount, orphanSamples, type LiveTable, type TableConstraint } from '../schema/catalog.js';
import { displayName, displayQualified, nameKey, type QualifiedName } from '../sql/ident.js';
import type { DatabaseSource, Target } from '../target/target.js';
import { ownRows } from './digest.js';
import { MANIFEST_FILE, readManifest as readManifestFile, type Manifest } from './manifest.js';
import { ownerOfTable } from './owner.js';
import { checkStructure } from './validate/structure-check.js';

export type ValidateCheck = 'structure' | 'counts' | 'relationships';

export interface ValidateFinding {
  check: ValidateCheck;
  service?: string;
  /** `schema.table` the finding is about (the referencing table for relationships). */
  table?: string;
  message: string;
  hint?: string;
  /** Up to 5 sample keys (relationships). */
  samples?: string[];
}

export interface CountComparison {
  table: string;
  service?: string;
  backup: number;
  /** Undefined when the table is not in the database. */
  live?: number;
}

export interface RelationshipCheck {
  kind: 'foreign-key' | 'soft';
  /** The constraint name (foreign keys). */
  name?: string;
  /** `schema.table(col, …)`. */
  from: string;
  to: string;
  orphans: number;
  samples: string[];
}

/** What validate is asked, beyond its target (the workspace, the selected services and the database come with the target). */
export interface ValidateCoreOptions {
  /** A backup directory whose manifest.json row counts are compared with the live counts (relative to the target's cwd). */
  against?: string;
  /** Replay the migrations on a shadow and compare structures (default true). */
  structure?: boolean;
  /** An empty database to replay on (`--shadow URL`); default a temporary database on the target server, else PGlite. */
  shadow?: string;
  /**
   * Replays a service's migrations on the shadow: needed for the structure check. data/ sits below
   * apply/, so the replay is handed in; `validate` from src/flows/validate.ts (what the CLI and the
   * package use) hands in apply/replay.ts `replay`.
   */
  replay?: MigrationReplay;
}

/**
 * Applies `service`'s migrations (with what it requires) to `shadow` and returns the Snapshot of what it
 * owns there (its tables are what validate compares: introspect's `tables` mode is enough); throws when
 * they do not replay.
 */
export type MigrationReplay = (shadow: Database, workspace: Workspace, service: string) => Promise<Snapshot>;

export interface ValidateResult {
  ok: boolean;
  database: string;
  databaseSource: DatabaseSource;
  services: string[];
  /** `schema.table` of the owned tables found live. */
  tables: string[];
  findings: ValidateFinding[];
  counts: CountComparison[];
  relationships: RelationshipCheck[];
  /** Which shadow the structure check used, when it ran (e.g. "temporary database tidemark_shadow_… on the target server (PostgreSQL 15)"). */
  shadow?: string;
  shadowKind?: ShadowKind;
  durationMs: number;
  error?: TidemarkError;
}

const SAMPLE_LIMIT = 5;

/**
 * The result of a validate that failed before it had a target (the config or the service selection
 * refused): no database named yet, as validate always reported it. The boundary (api/validate.ts) returns it.
 */
export function failedValidation(err: unknown, durationMs = 0): ValidateResult {
  return { ...emptyResult(), error: asTidemarkError(err), durationMs };
}

function emptyResult(): ValidateResult {
  return {
    ok: false,
    database: '',
    databaseSource: 'default',
    services: [],
    tables: [],
    findings: [],
    counts: [],
    relationships: [],
    durationMs: 0,
  };
}

/**
 * Validates the target's selected services. Runs inside a caller's transaction too (a Target<Tx>):
 * every read goes through `target.db`; the structure check opens its shadows through `target.openShadow`.
 */
export async function validate(target: Target<Session>, options: ValidateCoreOptions = {}): Promise<ValidateResult> {
  const started = performance.now();
  const result = emptyResult();
  try {
    const { workspace, services } = target;
    result.services = services.map((s) => s.name);
    // Bad input first, then the database (its first use connects an unguarded target).
    const manifest = options.against !== undefined ? readManifest(target.paths.fromUser(options.against)) : undefined;
    result.database = target.name.display;
    result.databaseSource = target.name.source;
    const db = target.db;

    const live = await liveTables(db);
    const owned = live.filter((t) => {
      const owner = ownerOfTable(workspace, t);
      return owner !== undefined && result.services.includes(owner.name);
    });
    result.tables = owned.map((t) => displayQualified(t));

    if (options.structure !== false) {
      if (!options.replay) {
        throw new TidemarkError('bad-usage', 'validate checks structure by replaying migrations: pass options.replay, or use validate from the tidemark package (src/flows/validate.ts).', {
          kind: 'usage',
        });
      }
      await checkStructure(target, options.shadow, options.replay, result);
    }
    if (manifest) await checkCounts(workspace, manifest, live, db, result);
    await checkForeignKeys(workspace, owned, db, result);
    await checkSoftRelations(workspace, live, db, result);
    result.ok = result.findings.length === 0;
  } catch (err) {
    result.error = asTidemarkError(err);
  } finally {
    result.durationMs = performance.now() - started;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

/** A table for a message: `users` in public, `billing.invoices` elsewhere, quoted where needed. */
function short(table: QualifiedName): string {
  return displayName(table);
}

/** `users(id, team)`: a table and columns for a message. */
function withColumns(table: QualifiedName, columns: readonly string[]): string {
  return `${short(table)}(${columns.map(displayName).join(', ')})`;
}

/** `--against DIR`: the manifest through the one reader (manifest.ts); any problem is bad input. */
function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch {
    real = dir;
  }
  const read = readManifestFile(real);
  if (!read.manifest && read.problems.some((p) => p.file === MANIFEST_FILE && p.kind === 'missing')) {
    throw new TidemarkError('no-manifest', `${displayPath(file)} does not exist.`, {
      kind: 'input',
      file,
      hint: '--against takes a backup directory written by `tidemark backup`.',
    });
  }
  if (!read.manifest || read.problems.length) {
    throw new TidemarkError('bad-manifest', `${displayPath(file)} is not a backup manifest validate can trust: ${read.problems.map((p) => p.message).join('; ')}.`, {
      kind: 'input',
      file,
      hint: '`tidemark verify-backup DIR` checks a backup directory.',
    });
  }
  return read.manifest;
}

// ---- (a) structure: data/validate/structure-check.ts ----

// ---- (b) counts ----

async function checkCounts(workspace: Workspace, manifest: Manifest, live: readonly LiveTable[], db: Queryable, result: ValidateResult): Promise<void> {
  const liveKinds = new Map(live.map((t) => [nameKey(t), t.kind]));
  for (const t of manifest.tables) {
    const name = displayQualified(t);
    const service = ownerOfTable(workspace, t)?.name ?? t.service;
    if (!service || !result.services.includes(service)) continue;
    const comparison: CountComparison = { table: name, service, backup: t.rowCount };
    result.counts.push(comparison);
    const kind = liveKinds.get(nameKey(t));
    if (kind === undefined) {
      result.findings.push({
        check: 'counts',
        service,
        table: name,
        message: `${short(t)} is in the backup (${t.rowCount.toLocaleString('en-US')} rows) but not in the database`,
        hint: 'Apply the migrations that create it, or restore it.',
      });
      continue;
    }
    // As backup counted: the table's own rows, not an inheritance parent's children too.
    const n = Number((await db.query<{ n: string }>(`SELECT pg_catalog.count(*)::pg_catalog.text AS n FROM ${ownRows(t, kind)}`)).rows[0].n);
    comparison.live = n;
    if (n !== t.rowCount) {
      const diff = n - t.rowCount;
      result.findings.push({
        check: 'counts',
        service,
        table: name,
        message: `${short(t)}: ${n.toLocaleString('en-US')} rows live, ${t.rowCount.toLocaleString('en-US')} in the backup (${diff > 0 ? '+' : ''}${diff.toLocaleString('en-US')})`,
      });
    }
  }
}

// ---- (c) relationships ----

/** Rows whose key columns are all non-NULL (MATCH SIMPLE, whatever the key's MATCH type) and have no parent row. */
async function orphans(
  db: Queryable,
  child: QualifiedName,
  childCols: readonly string[],
  parent: QualifiedName,
  parentCols: readonly string[],
  asText = false,
): Promise<{ count: number; samples: string[] }> {
  // Soft relations may join columns of different types (bigint and text): compare their text then.
  const key = { child, columns: childCols, parent, referencedColumns: parentCols, asText };
  const count = await orphanCount(db, key);
  if (count === 0) return { count, samples: [] };
  return { count, samples: await orphanSamples(db, key, SAMPLE_LIMIT) };
}

function describeOrphans(count: number, from: string, to: string): string {
  return `${count.toLocaleString('en-US')} row${count === 1 ? '' : 's'} of ${from} point${count === 1 ? 's' : ''} at no row of ${to}`;
}

async function checkForeignKeys(workspace: Workspace, owned: readonly LiveTable[], db: Queryable, result: ValidateResult): Promise<void> {
  // One catalog query for every owned table, then read back table by table in validate's order.
  const byTable = new Map<number, TableConstraint[]>();
  for (const fk of await foreignKeys(
    db,
    owned.map((t) => t.oid),
  )) {
    const list = byTable.get(fk.tableOid) ?? [];
    list.push(fk);
    byTable.set(fk.tableOid, list);
  }
  for (const t of owned) {
    const rows = byTable.get(t.oid) ?? [];
    const child: QualifiedName = { schema: t.schema, name: t.name };
    const service = ownerOfTable(workspace, t)?.name;
    for (const fk of rows) {
      // foreignKeys sets `references` on every row it returns.
      const ref = fk.references!;
      const parent: QualifiedName = { schema: ref.schema, name: ref.name };
      const from = withColumns(child, fk.columns);
      const to = withColumns(parent, ref.columns);
      const found = await orphans(db, child, fk.columns, parent, ref.columns);
      result.relationships.push({ kind: 'foreign-key', name: fk.name, from, to, orphans: found.count, samples: found.samples });
      if (found.count > 0) {
        result.findings.push({
          check: 'relationships',
          service,
          table: displayQualified(child),
          message: `foreign key ${displayName(fk.name)}: ${describeOrphans(found.count, from, to)}${fk.validated ? '' : ' (the constraint is NOT VALID)'}`,
          hint: 'A restore with triggers disabled or a NOT VALID constraint let them in: delete or fix those rows, then `ALTER TABLE … VALIDATE CONSTRAINT`.',
          samples: found.samples,
        });
      }
    }
  }
}

async function checkSoftRelations(workspace: Workspace, live: readonly LiveTable[], db: Queryable, result: ValidateResult): Promise<void> {
  const liveNames = new Set(live.map(nameKey));
  for (const rel of workspace.softRelations) {
    // Parsed once by the config loader (src/config/column-ref.ts): pairs, never a string split on dots.
    const { table: child, column: childCol } = rel.fromColumn;
    const { table: parent, column: parentCol } = rel.toColumn;
    const childOwner = ownerOfTable(workspace, child)?.name;
    const parentOwner = ownerOfTable(workspace, parent)?.name;
    // A soft relation concerns the selected services when either end is theirs.
    const selected = [childOwner, parentOwner].some((s) => s !== undefined && result.services.includes(s));
    const unowned = childOwner === undefined && parentOwner === undefined;
    if (!selected && !unowned) continue;
    const from = withColumns(child, [childCol]);
    const to = withColumns(parent, [parentCol]);
    const missing = [child, parent].filter((t) => !liveNames.has(nameKey(t)));
    if (missing.length === 0) {
      const cols = await db.query<{ s: string; t: string; c: string; type: string }>(
        `SELECT n.nspname AS s, c.relname AS t, a.attname AS c, format_type(a.atttypid, NULL) AS type FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.attnum > 0 AND NOT a.attisdropped AND ((n.nspname = $1 AND c.relname = $2 AND a.attname = $3) OR (n.nspname = $4 AND c.relname = $5 AND a.attname = $6))`,
        [child.schema, child.name, childCol, parent.schema, parent.name, parentCol],
      );
      const find = (table: QualifiedName, col: string) => cols.rows.find((r) => r.s === table.schema && r.t === table.name && r.c === col);
      const has = (table: QualifiedName, col: string) => find(table, col) !== undefined;
      const missingCols = [...(has(child, childCol) ? [] : [`${short(child)}.${displayName(childCol)}`]), ...(has(parent, parentCol) ? [] : [`${short(parent)}.${displayName(parentCol)}`])];
      if (missingCols.length === 0) {
        const sameType = find(child, childCol)?.type === find(parent, parentCol)?.type;
        const found = await orphans(db, child, [childCol], parent, [parentCol], !sameType);
        result.relationships.push({ kind: 'soft', from, to, orphans: found.count, samples: found.samples });
        if (found.count > 0) {
          result.findings.push({
            check: 'relationships',
            service: childOwner,
            table: displayQualified(child),
            message: `soft relation ${rel.from} → ${rel.to}: ${describeOrphans(found.count, from, to)}`,
            hint: 'No foreign key guards this relation across services: delete or fix those rows, or restore the missing parents.',
            samples: found.samples,
          });
        }
        continue;
      }
      result.findings.push({
        check: 'relationships',
        service: childOwner,
        table: displayQualified(child),
        message: `soft relation ${rel.from} → ${rel.to}: no column ${missingCols.join(' and no column ')} in the database`,
        hint: 'Fix softRelations in the config, or apply the migrations that add the column.',
      });
      continue;
    }
    result.findings.push({
      check: 'relationships',
      service: childOwner,
      table: displayQualified(child),
      message: `soft relation ${rel.from} → ${rel.to}: no table ${missing.map(short).join(' and no table ')} in the database`,
      hint: 'Fix softRelations in the config, or apply the migrations that create the table.',
    });
  }
}
