/**
 * schema/introspect/: reads the Snapshot of the objects one service owns (issue 5 item 1, DESIGN §6).
 * One step per file, sharing an IntrospectContext (context.ts): catalog-read → ownership (by name,
 * by use) → refusals → tables → objects (views, sequences, types, functions) → assembled and sorted
 * here → order (creation order, dependents named last).
 *
 *
 * Owned, by name (the service's `owns`, matched by src/config/owns.ts `ownerOf`): tables, views and
 * materialized views, standalone sequences, enums, domains, composite types, functions and procedures.
 * Owned by use (named by no other service's `owns`, and needed by an owned object: a column type, a
 * default, a trigger function, a check, an argument type, …): types, functions, sequences, followed
 * through pg_depend until nothing new is found. Attached to owned tables: columns, constraints,
 * indexes, serial/identity sequences, triggers, policies, row level security, comments. Extensions
 * whose members are used are listed (CREATE EXTENSION IF NOT EXISTS). What tidemark cannot reproduce
 * (rules, partitioning, inheritance, foreign tables, event triggers, …) goes into `unsupported`, never
 * silently left out. The `tidemark` ledger schema and Alembic version tables are never owned.
 *
 * Everything is read with a few catalog queries and filtered here; lists come out sorted by name.
 * The queries read only catalogs, so no name a user chooses can change what they mean; names travel
 * as (schema, name) pairs.
 *
 * Audit against pg_dump's object kinds (DumpableObjectType in src/bin/pg_dump/pg_dump.h), for what a
 * service owns — reproduced: NAMESPACE (CREATE SCHEMA IF NOT EXISTS), EXTENSION (those used), TYPE
 * (enum, domain, composite), FUNC (functions, procedures), TABLE (+ column storage, statistics,
 * compression, options, replica identity, CLUSTER ON, UNLOGGED, reloptions), ATTRDEF, INDEX,
 * CONSTRAINT, FK_CONSTRAINT, TRIGGER, POLICY, sequences (and OWNED BY), views, materialized views
 * (REFRESH_MATVIEW: created populated), comments. Refused by name (an `unsupported` entry; baseline
 * and rebaseline write nothing while any is present): AGG, OPERATOR, ACCESS_METHOD, OPCLASS, OPFAMILY,
 * COLLATION, CONVERSION, PROCLANG, CAST, TSPARSER, TSDICT, TSTEMPLATE, TSCONFIG, TRANSFORM — when an
 * owned object uses one, one depends on an owned object, or `owns` names one —; SHELL_TYPE and range
 * and base types; TABLE_ATTACH and INDEX_ATTACH (partitions), inheritance, typed tables, foreign tables
 * (FDW, FOREIGN_SERVER), STATSEXT, RULE, triggers on views, EVENT_TRIGGER calling an owned function,
 * PUBLICATION_REL and PUBLICATION_TABLE_IN_SCHEMA on an owned table, security labels, a table access
 * method other than heap, a tablespace. Not reproduced by design (README "baseline"): owners, ACLs and
 * DEFAULT_ACL, SUBSCRIPTION, LARGE_OBJECT, TABLE_DATA and SEQUENCE_SET (data), extensions nothing uses.
 */
import type { Workspace } from '../../config/types.js';
import { ownsWholeSchema } from '../../config/owns.js';
import type { Queryable } from '../../db/database.js';
import type { ExtensionInfo, Snapshot, TableInfo } from '../snapshot.js';
import type { ExtensionRow } from './catalog-read.js';
import { byName, readCatalog, USER_SCHEMAS } from './catalog-read.js';
import { newContext } from './context.js';
import { readObjects } from './objects.js';
import { orderCreation } from './order.js';
import { ownByName, ownByUse, settleColumnSequences } from './ownership.js';
import { describeDependents, refuseAndFindDependents } from './refusals.js';
import { readTables } from './tables.js';

export interface SchemaScope {
  workspace: Workspace;
  service: string;
}

/**
 * What to read, as Atlas's inspect modes choose (issue 12's judging: validate no slower).
 * - `all` (default): the whole Snapshot — what baseline, rebaseline, adopt and a diff need.
 * - `tables`: the owned tables, each as complete as in `all` (columns, constraints, indexes,
 *   triggers, policies, options, comments), and nothing else: views, sequences, types, functions,
 *   schemas, extensions, refusals (`unsupported`), references, creation order and dependents come back
 *   empty. What `validate` compares, in 13 catalog queries instead of 22 (a fresh PGlite shadow
 *   answers each one cold). Two `tables` snapshots diff as the tables of two full ones do; never
 *   render one (baseline needs the rest).
 */
export type IntrospectMode = 'all' | 'tables';

/** Reads the Snapshot of what `scope.service` owns. Reads only; runs on PostgreSQL 15 and 18. */
export async function introspect(db: Queryable, scope: SchemaScope, options: { mode?: IntrospectMode } = {}): Promise<Snapshot> {
  const { workspace, service } = scope;
  const tablesOnly = options.mode === 'tables';
  const cat = await readCatalog(db);
  const ctx = newContext(db, workspace, service, cat);
  const { serverVersion, extById } = cat;
  const { unsupported, references, neededExtensions } = ctx;

  ownByName(ctx);
  const otherUses = ownByUse(ctx);
  const dependents = tablesOnly ? [] : await refuseAndFindDependents(ctx, otherUses);
  settleColumnSequences(ctx);
  const read = await readTables(ctx, { refusals: !tablesOnly });
  const { tables } = read;
  if (tablesOnly) return tablesSnapshot(serverVersion, service, [...tables.values()]);
  const { viewInfos, seqInfos, typeInfos, fnInfos } = await readObjects(ctx, read);

  // ---- assemble, sorted ----
  const tableInfos = sortTables([...tables.values()]);
  const viewList = [...viewInfos.values()].sort(byName);
  typeInfos.sort(byName);
  fnInfos.sort((a, b) => byName(a, b) || a.arguments.localeCompare(b.arguments));
  seqInfos.sort(byName);

  const exts: ExtensionInfo[] = [...neededExtensions]
    .map((id) => extById.get(id))
    .filter((e): e is ExtensionRow => e !== undefined && e.name !== 'plpgsql')
    .map((e) => ({ name: e.name, schema: e.schema }))
    .sort((a, b) => a.name.localeCompare(b.name));

  const schemas = new Set<string>();
  for (const list of [tableInfos, viewList, typeInfos, fnInfos, seqInfos] as { schema: string }[][]) for (const o of list) schemas.add(o.schema);
  for (const t of tableInfos) for (const c of t.columns) if (c.identity) schemas.add(c.identity.sequence.schema);
  for (const e of exts) schemas.add(e.schema);
  // A schema the service owns whole (`schema:dbos`) is its own even while empty: a history's first migration
  // often creates it alone, and a diff that did not see it would drop it in a generated down.
  const owns = workspace.services.find((s) => s.name === service)?.owns ?? [];
  if (owns.some((o) => o.startsWith('schema:'))) {
    const { rows } = await db.query<{ name: string }>(`SELECT n.nspname AS name FROM pg_namespace n WHERE ${USER_SCHEMAS}`);
    for (const r of rows) if (ownsWholeSchema(owns, r.name)) schemas.add(r.name);
  }
  schemas.delete('public');
  schemas.delete('pg_catalog');

  unsupported.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  references.sort((a, b) => a.service.localeCompare(b.service) || a.object.localeCompare(b.object) || a.from.localeCompare(b.from));

  // ---- creation order: what pg_depend says each CREATE needs (column types, defaults, checks, domain
  // checks, argument and result types, BEGIN ATOMIC bodies, view queries) ----
  const createOrder = await orderCreation(ctx, { typeInfos, fnInfos, seqInfos, tableInfos, viewList });

  return {
    serverVersion,
    service,
    createOrder,
    schemas: [...schemas].sort(),
    extensions: exts,
    types: typeInfos,
    functions: fnInfos,
    sequences: seqInfos,
    tables: tableInfos,
    views: viewList,
    unsupported,
    references,
    dependents: await describeDependents(db, dependents, [...ctx.ownedTables], ctx.ownerName),
  };
}

/** Tables by name, each one's lists in the order a Snapshot keeps them. */
function sortTables(tables: TableInfo[]): TableInfo[] {
  for (const t of tables) {
    t.columns.sort((a, b) => a.position - b.position);
    t.constraints.sort(byName);
    t.indexes.sort(byName);
    t.triggers.sort(byName);
    t.policies.sort(byName);
  }
  return tables.sort(byName);
}

/** The `tables` mode's Snapshot: the tables, every other list empty. */
function tablesSnapshot(serverVersion: number, service: string, tables: TableInfo[]): Snapshot {
  return {
    serverVersion,
    service,
    createOrder: [],
    schemas: [],
    extensions: [],
    types: [],
    functions: [],
    sequences: [],
    tables: sortTables(tables),
    views: [],
    unsupported: [],
    references: [],
    dependents: [],
  };
}
