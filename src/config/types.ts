import type { ColumnRef } from '../sql/ident.js';

/** What a user writes in tidemark.config.* (see DESIGN §2). */
export interface ServiceConfig {
  /** Directory of this service's migrations, relative to the config file. */
  migrations: string;
  /** Objects the service owns: table names, globs like `budget_*`, or `schema:<name>` for a whole schema; quote names with dots, spaces or capitals (`"sales.orders"`, `"My Schema".*`), as in psql (src/config/owns.ts). */
  owns?: string[];
  /** Other services whose objects this service may reference. */
  requires?: string[];
  /** `tidemark` (default) or `alembic` for a history still kept by Alembic. */
  format?: 'tidemark' | 'alembic';
  /** Alembic services: the version table its env.py uses (default `alembic_version`, shared — the CRM's bug). */
  versionTable?: string;
  /** Alembic services: read subdirectories of the versions directory too (recursive_version_locations). */
  recursive?: boolean;
  /**
   * The service's desired schema (issue 13): plain SQL DDL, a file, several files or a directory (every
   * `*.sql` below it), relative to the config file. `tidemark diff` compares its history with it by
   * default; `tidemark baseline --schema` writes it once from a live database. Tidemark services only.
   */
  schema?: string | string[];
}

/**
 * A relation between services that has no foreign key in the database (checked by `validate`).
 * Each end is `table.column` or `schema.table.column` in the owns grammar: quote a name with a dot,
 * a space or capitals as in psql (`"a.b".c.user_id` is column user_id of table c in schema a.b).
 */
export interface SoftRelation {
  /** The column that holds the reference, e.g. `budgets.user_id`. */
  from: string;
  /** The column it points at, e.g. `users.id`. */
  to: string;
}

/** A soft relation after validation: the text as written, and each end as a (schema, table) pair and a column. */
export interface ResolvedSoftRelation extends SoftRelation {
  fromColumn: ColumnRef;
  toColumn: ColumnRef;
}

export interface TidemarkConfig {
  /** Database URL: `postgres://…`, `pglite:./path` or `pglite:memory`. DATABASE_URL and --database win. */
  database?: string;
  /** Services by name, in the order they are declared. */
  services: Record<string, ServiceConfig>;
  /** Databases that reset commands refuse: URLs, database names, or host names (globs allowed). */
  protected?: string[];
  softRelations?: SoftRelation[];
}

/** A service after validation: absolute paths, defaults filled in. */
export interface Service {
  name: string;
  /** Absolute path of the migrations directory. */
  migrationsDir: string;
  owns: string[];
  requires: string[];
  format: 'tidemark' | 'alembic';
  versionTable: string;
  recursive: boolean;
  /** Absolute paths of the desired schema's files or directories, as configured; absent when not configured. */
  schema?: string[];
}

/** A loaded and validated config. */
export interface Workspace {
  /** Directory that holds the config file; relative paths are resolved from here. */
  root: string;
  /** Absolute path of the config file, or undefined for a config passed as a value. */
  configFile?: string;
  database?: string;
  /** In declaration order. */
  services: Service[];
  protected: string[];
  softRelations: ResolvedSoftRelation[];
}

export function defineConfig(config: TidemarkConfig): TidemarkConfig {
  return config;
}
