/**
 * The Snapshot: the introspected schema of the objects ONE service owns (DESIGN §2, §6), read by
 * src/schema/introspect/, compared by diff/compare.ts and turned back into DDL by render/.
 *
 * Pure data, JSON-serialisable. Every list is sorted by name (schema, then name) so two snapshots of
 * equal schemas are deep-equal after normalization; SQL text is kept as the catalog printed it
 * (`pg_get_constraintdef`, `pg_get_indexdef`, …) so it can be rendered again, and diff/compare.ts
 * normalizes it before comparing (PostgreSQL 15 and 18 print a few things differently).
 * No OIDs, no sequence current values.
 */

import type { QualifiedName } from '../sql/ident.js';

/** A schema-qualified name: the one identifier model of src/sql/ident.ts. */
export type { QualifiedName };

export interface IdentitySpec {
  kind: 'always' | 'by default';
  /** The identity's implicit sequence and its options. */
  sequence: SequenceOptions & QualifiedName;
}

export interface SequenceOptions {
  /** smallint | integer | bigint. */
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
}

export interface ColumnInfo {
  name: string;
  /** Position in the table (render order only: column order is not compared). */
  position: number;
  /** format_type(), e.g. `character varying(320)`, `public.budget_status`. */
  type: string;
  notNull: boolean;
  /** pg_get_expr of the default (not for generated columns). */
  default?: string;
  identity?: IdentitySpec;
  /** Generation expression of a generated column. */
  generated?: { expression: string; kind: 'stored' | 'virtual' };
  /** Collation when it is not the type's default, e.g. `"C"` or `public.my_coll`. */
  collation?: string;
  /** SET STORAGE, when it is not the type's default. */
  storage?: 'PLAIN' | 'EXTERNAL' | 'MAIN' | 'EXTENDED';
  /** SET STATISTICS, when set. */
  statistics?: number;
  /** SET COMPRESSION (`pglz`, `lz4`), when set. */
  compression?: string;
  /** SET (attribute options), e.g. `n_distinct=-1`; sorted. */
  options?: string[];
  comment?: string;
}

export type ConstraintKind = 'primary key' | 'unique' | 'check' | 'foreign key' | 'exclusion';

export interface ConstraintInfo {
  name: string;
  kind: ConstraintKind;
  /** pg_get_constraintdef(): `PRIMARY KEY (id)`, `FOREIGN KEY (…) REFERENCES … DEFERRABLE`, `CHECK (…) NOT VALID`. */
  definition: string;
  validated: boolean;
  /** Foreign keys: the referenced table. */
  references?: QualifiedName;
  comment?: string;
}

export interface IndexInfo {
  name: string;
  /** pg_get_indexdef(): `CREATE [UNIQUE] INDEX name ON schema.table USING …`. */
  definition: string;
  comment?: string;
}

export interface TriggerInfo {
  name: string;
  /** pg_get_triggerdef(). */
  definition: string;
  /** pg_trigger.tgenabled: O (origin, the default), D (disabled), R (replica), A (always). */
  enabled: 'O' | 'D' | 'R' | 'A';
  comment?: string;
}

export interface PolicyInfo {
  name: string;
  permissive: boolean;
  /** ALL | SELECT | INSERT | UPDATE | DELETE. */
  command: string;
  /** Role names, `PUBLIC` for everyone; sorted. */
  roles: string[];
  using?: string;
  withCheck?: string;
  comment?: string;
}

export interface TableInfo extends QualifiedName {
  unlogged: boolean;
  /** reloptions, e.g. `fillfactor=70`; sorted. */
  options: string[];
  columns: ColumnInfo[];
  constraints: ConstraintInfo[];
  /** Indexes that do not back a constraint. */
  indexes: IndexInfo[];
  triggers: TriggerInfo[];
  policies: PolicyInfo[];
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  /** REPLICA IDENTITY when not the default (the primary key). */
  replicaIdentity?: { kind: 'full' | 'nothing' | 'index'; index?: string };
  /** CLUSTER ON: the index the table is marked clustered on. */
  clusterOn?: string;
  comment?: string;
}

export interface SequenceInfo extends QualifiedName, SequenceOptions {
  /** Serial sequences: the owning column (`OWNED BY`). */
  ownedBy?: { schema: string; table: string; column: string };
  comment?: string;
}

export interface EnumType extends QualifiedName {
  kind: 'enum';
  labels: string[];
  comment?: string;
}

export interface DomainType extends QualifiedName {
  kind: 'domain';
  /** format_type of the base type. */
  baseType: string;
  notNull: boolean;
  default?: string;
  collation?: string;
  /** CHECK constraints: name and pg_get_constraintdef. */
  constraints: { name: string; definition: string }[];
  comment?: string;
}

export interface CompositeType extends QualifiedName {
  kind: 'composite';
  attributes: { name: string; type: string; collation?: string }[];
  comment?: string;
}

export type TypeInfo = EnumType | DomainType | CompositeType;

export interface FunctionInfo extends QualifiedName {
  kind: 'function' | 'procedure';
  /** pg_get_function_identity_arguments(): how DROP/COMMENT name it, e.g. `a integer, b text`. */
  arguments: string;
  /** pg_get_functiondef(): `CREATE OR REPLACE FUNCTION …`. */
  definition: string;
  /** True when it depends on tables or views (a `BEGIN ATOMIC` body): created after them. */
  late: boolean;
  comment?: string;
}

export interface ViewInfo extends QualifiedName {
  materialized: boolean;
  /** pg_get_viewdef(). */
  definition: string;
  /**
   * SHA-256 of the parsed query with what PostgreSQL 15 and 16+ print differently taken out
   * (normalize.ts canonicalQuery); compared instead of the text when both sides have it.
   */
  queryHash?: string;
  /** reloptions, e.g. `security_barrier=true`, `check_option=cascaded`; sorted. */
  options: string[];
  /** Views of this snapshot it reads from (`schema.name`), for creation order. */
  dependsOn: string[];
  /** Materialized views only. */
  indexes: IndexInfo[];
  columnComments: { column: string; comment: string }[];
  comment?: string;
}

export interface ExtensionInfo {
  name: string;
  schema: string;
}

/** Something the service owns that tidemark cannot reproduce: baseline refuses while any is present. */
export interface UnsupportedObject {
  /** e.g. `rule`, `partitioned table`, `foreign table`, `event trigger`. */
  kind: string;
  /** e.g. `budgets_protect on budgets`. */
  name: string;
  /** Why, in a few words. */
  reason: string;
}

/** An object of another service that one of ours needs (a foreign key, a view's source, a type). */
export interface ExternalReference {
  service: string;
  /** e.g. `table users`. */
  object: string;
  /** e.g. `foreign key budgets_user_id_fkey on budgets`. */
  from: string;
}

export interface Snapshot {
  /** server_version_num of the database read, e.g. 150020 or 180006. */
  serverVersion: number;
  service: string;
  /**
   * Types, functions, sequences, tables and views (objectKey) in an order every CREATE can run in,
   * from pg_depend; absent in snapshots written before it existed (render/baseline.ts then uses the kind order).
   */
  createOrder?: string[];
  /** Non-public schemas holding the objects (CREATE SCHEMA IF NOT EXISTS). */
  schemas: string[];
  extensions: ExtensionInfo[];
  types: TypeInfo[];
  functions: FunctionInfo[];
  /** Standalone and serial sequences (identity sequences are part of their column). */
  sequences: SequenceInfo[];
  tables: TableInfo[];
  views: ViewInfo[];
  unsupported: UnsupportedObject[];
  references: ExternalReference[];
  /**
   * Objects outside the service that depend on what it owns (`service`: whose; '' for none), e.g.
   * another service's foreign key onto an owned table: what a rebaseline's drop would hit.
   */
  dependents?: ExternalReference[];
}

export interface SchemaDifference {
  /** e.g. `table budgets`, `index users_email_key`, `column budgets.status`. */
  object: string;
  message: string;
}

/** `schema.name` (`name` in public), each part quoted when it needs it, control characters escaped. */
export { displayName } from '../sql/ident.js';

/** The key of an object in `createOrder`: its kind and name pair (and a function's arguments), unambiguous. */
export function objectKey(kind: 'type' | 'function' | 'sequence' | 'table' | 'view', q: QualifiedName, args?: string): string {
  return JSON.stringify(args === undefined ? [kind, q.schema, q.name] : [kind, q.schema, q.name, args]);
}
