/**
 * What the steps of one introspection share: the catalog read once, the sets of owned objects the
 * ownership steps grow, and the lists of refusals and references every step appends to.
 */
import type { Workspace } from '../../config/types.js';
import { ownerOf } from '../../config/owns.js';
import type { Queryable } from '../../db/database.js';
import { parseJoinedName } from '../../sql/ident.js';
import type { ExternalReference, UnsupportedObject } from '../snapshot.js';
import type { Catalog } from './catalog-read.js';
import { describeKey } from './catalog-read.js';

export interface IntrospectContext {
  db: Queryable;
  service: string;
  cat: Catalog;
  /** The service whose `owns` names (schema, name), if any. */
  ownerName(name: string, schema: string): string | undefined;
  isVersionTable(r: { schema: string; name: string }): boolean;
  describe(key: string): string;
  // Owned objects, by oid: grown by ownership.ts (by name, by use, then column sequences).
  ownedTables: Set<number>;
  views: Set<number>;
  sequences: Set<number>;
  typeSet: Set<number>;
  procSet: Set<number>;
  /** Routines owned by name (the rest of procSet was reached by use). */
  procsByName: Set<number>;
  /** Routines that need an owned table or row type: created after the tables. */
  lateProcs: Set<number>;
  neededExtensions: Set<number>;
  unsupported: UnsupportedObject[];
  references: ExternalReference[];
  /** Adds a reference unless the same one is listed already. */
  addReference(ref: ExternalReference): void;
}

export function newContext(db: Queryable, workspace: Workspace, service: string, cat: Catalog): IntrospectContext {
  // Alembic version tables, as the config names them: `table` (in whatever schema Alembic's search path
  // put it) or `schema.table` (the config's grammar allows no dot inside a part).
  // Every service has one (`alembic_version` unless configured).
  // The config refuses any other spelling, so every one parses (one that did not would match no table).
  const versionTables = workspace.services.flatMap((s) => parseJoinedName(s.versionTable) ?? []);
  const references: ExternalReference[] = [];
  return {
    db,
    service,
    cat,
    ownerName: (name, schema) => ownerOf(workspace, { schema, name })?.name,
    isVersionTable: (r) => versionTables.some((v) => v.name === r.name && (v.schema === undefined || v.schema === r.schema)),
    describe: (key) => describeKey(cat, key),
    ownedTables: new Set(),
    views: new Set(),
    sequences: new Set(),
    typeSet: new Set(),
    procSet: new Set(),
    procsByName: new Set(),
    lateProcs: new Set(),
    neededExtensions: new Set(),
    unsupported: [],
    references,
    addReference(ref) {
      if (!references.some((r) => r.service === ref.service && r.object === ref.object && r.from === ref.from)) references.push(ref);
    },
  };
}
