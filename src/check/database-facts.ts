import type { Queryable } from '../db/database.js';
import { LEDGER_SCHEMA, readLedger } from '../ledger/ledger.js';
import { diagnoseLedger, type LedgerDiagnosis } from '../ledger/diagnose.js';
import type { DatabaseFacts, ServiceView } from './rule.js';
import { escapeControl, quoteQualified, type QualifiedName } from '../sql/ident.js';

const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast', LEDGER_SCHEMA];

/** Reads what the database rules need; `url` is how their messages name the database. Reads only: never creates the ledger. */
export async function readDatabaseFacts(db: Queryable, url: string): Promise<DatabaseFacts> {
  const ledger = (await readLedger(db)).map((r) => ({ service: r.service, migration: r.migration, checksum: r.checksum, status: r.status }));
  const versionTables = await db.query<{ schema: string; name: string }>(
    `SELECT c.relnamespace::regnamespace::text AS schema, c.relname AS name
       FROM pg_class c
      WHERE c.relkind IN ('r', 'p') AND c.relname LIKE 'alembic\\_version%'
        AND c.relnamespace::regnamespace::text <> ALL($1::text[])
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'version_num' AND NOT a.attisdropped)
      ORDER BY 1, 2`,
    [SYSTEM_SCHEMAS],
  );
  const alembicVersions: DatabaseFacts['alembicVersions'] = [];
  for (const t of versionTables.rows) {
    // Compared with the config's `versionTable` (`table` or `schema.table`, plain identifiers only).
    const table = escapeControl(t.schema === 'public' ? t.name : `${t.schema}.${t.name}`);
    const rows = await db.query<{ v: string }>(`SELECT version_num::text AS v FROM ${quoteQualified(t)} ORDER BY 1`);
    for (const r of rows.rows) alembicVersions.push({ table, versionNum: r.v });
  }
  const tables = await db.query<QualifiedName>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND n.nspname <> ALL($1::text[]) AND n.nspname NOT LIKE 'pg\\_%'
        AND c.relname NOT LIKE 'alembic\\_version%'
      ORDER BY 1, 2`,
    [SYSTEM_SCHEMAS],
  );
  return { url, ledger, alembicVersions, tables: tables.rows.map((r) => ({ schema: r.schema, name: r.name })) };
}

const diagnoses = new WeakMap<DatabaseFacts, Map<string, LedgerDiagnosis>>();

/**
 * One tidemark service's files against the ledger, as status and the planner see them
 * (ledger/diagnose.ts); computed once per check run for the rules that share it.
 */
export function ledgerDiagnosis(database: DatabaseFacts, service: ServiceView): LedgerDiagnosis {
  const byService = diagnoses.get(database) ?? new Map<string, LedgerDiagnosis>();
  diagnoses.set(database, byService);
  const d = byService.get(service.name) ?? diagnoseLedger({ service: service.name, migrations: service.migrations ?? [] }, database.ledger);
  byService.set(service.name, d);
  return d;
}
