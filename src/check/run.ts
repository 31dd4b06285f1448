import type { Workspace } from '../config/types.js';
import { compareDiagnostics, type Diagnostic } from '../diagnostic.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import { ownerOf } from '../config/owns.js';
import { summarizeGraph, type GraphSummary } from '../history/graph.js';

export type { GraphSummary };
import { resolveAlembicLocation } from '../history/read-alembic.js';
import type { DatabaseSource, WorkspaceOptions } from '../db/connect.js';
import type { ProtectionStatus } from '../ledger/guard.js';
import { readDatabaseFacts } from './database-facts.js';
import { RULES } from './registry.js';
import type { CheckContext, DatabaseFacts, Rule, ServiceView } from './rule.js';
import { buildServiceViews, sourceOf, type ServiceSource } from './views.js';

export interface CheckOptions extends WorkspaceOptions {
  /** No config: one Alembic service per path (versions dir, environment dir or alembic.ini). */
  alembic?: string[];
  /** Run the database rules (URL from `database`, DATABASE_URL, the config or the embedded default). Default: only when the config names a database. */
  db?: boolean;
  /** Only these services (the rules still see every service, to resolve references). */
  service?: string[];
  rules?: readonly Rule[];
}

export interface ServiceReport {
  service: string;
  format: 'tidemark' | 'alembic';
  dirs: string[];
  graph: GraphSummary;
  diagnostics: Diagnostic[];
}

/** The doctor's verdict, as a value: `ok` is false when any diagnostic is an error. */
export interface CheckReport {
  ok: boolean;
  errors: number;
  warnings: number;
  services: ServiceReport[];
  /** Findings that belong to no single service (e.g. an unowned table). */
  unassigned: Diagnostic[];
  /** Every diagnostic, sorted by service, file, line. */
  diagnostics: Diagnostic[];
  database?: string;
  databaseSource?: DatabaseSource;
  /** With the database: whether reset, rebaseline and restore --replace would refuse it, and its `tidemark protect` mark. */
  protection?: ProtectionStatus;
  rules: string[];
  /** Set when the check itself could not run (bad usage, unreadable config, unreachable database). */
  error?: TidemarkError;
}

async function sourcesOf(options: CheckOptions): Promise<{ sources: ServiceSource[]; workspace?: Workspace }> {
  if (options.alembic?.length) {
    const sources: ServiceSource[] = [];
    for (const p of options.alembic) {
      const loc = await resolveAlembicLocation(p);
      let name = loc.service;
      for (let i = 2; sources.some((s) => s.name === name); i++) name = `${loc.service}_${i}`;
      sources.push({ name, format: 'alembic', dirs: loc.dirs, owns: [], requires: [], recursive: loc.recursive, versionTable: 'alembic_version' });
    }
    return { sources };
  }
  // Loaded only with a config: `check --alembic` never pays for config validation (zod).
  const { resolveWorkspace } = await import('../db/connect.js');
  const workspace = await resolveWorkspace(options);
  return { sources: workspace.services.map(sourceOf), workspace };
}

/** Runs every rule over the workspace's histories (and the database with `db`). Never throws. */
export async function check(options: CheckOptions = {}): Promise<CheckReport> {
  const rules = options.rules ?? RULES;
  const report: CheckReport = { ok: false, errors: 0, warnings: 0, services: [], unassigned: [], diagnostics: [], rules: rules.map((r) => r.id) };
  let close = async () => {};
  try {
    const { sources, workspace } = await sourcesOf(options);
    for (const name of options.service ?? []) {
      if (!sources.some((s) => s.name === name)) {
        throw new TidemarkError('unknown-service', `No service ${name} to check.`, { kind: 'usage', hint: `Services: ${sources.map((s) => s.name).join(', ')}.` });
      }
    }
    const views = await buildServiceViews(sources);
    let database: DatabaseFacts | undefined;
    // A database named in the config is checked without asking; --no-db skips it.
    if (options.db ?? Boolean(workspace?.database)) {
      const { connect } = await import('../db/connect.js');
      const conn = await connect(options, workspace, report); // names the database and its source even if connecting fails
      close = conn.close;
      report.database = conn.url;
      report.databaseSource = conn.source;
      database = await readDatabaseFacts(conn.db);
      const { protectionOfConnection } = await import('../ledger/guard.js');
      report.protection = await protectionOfConnection(conn.db, options, workspace);
    }
    const ctx: CheckContext = {
      services: views,
      // `check --alembic` (no config) knows no `owns`: the views' entries are empty.
      ownerOf: (table) => ownerOf({ services: views }, table)?.name,
      database,
    };
    const found: Diagnostic[] = views.flatMap((v) => v.readProblems);
    for (const rule of rules) {
      if (rule.scope === 'database' && !database) continue;
      found.push(...rule.check(ctx));
    }
    const selected = options.service?.length ? new Set(options.service) : undefined;
    const kept = found.filter((d) => !selected || !d.service || selected.has(d.service)).sort(compareDiagnostics);
    report.diagnostics = kept;
    report.services = views
      .filter((v) => !selected || selected.has(v.name))
      .map((v) => ({ service: v.name, format: v.format, dirs: v.dirs, graph: summarize(v), diagnostics: kept.filter((d) => d.service === v.name) }));
    report.unassigned = kept.filter((d) => !d.service || !views.some((v) => v.name === d.service));
    report.errors = kept.filter((d) => d.severity === 'error').length;
    report.warnings = kept.length - report.errors;
    report.ok = report.errors === 0;
  } catch (err) {
    report.error = asTidemarkError(err);
  } finally {
    await close().catch(() => {});
  }
  return report;
}

function summarize(view: ServiceView): GraphSummary {
  // Duplicate ids would make the graph ambiguous: the first file wins here; duplicate-id reports all.
  const s = summarizeGraph(view.revisions);
  return {
    revisionCount: view.revisions.length,
    heads: s.heads,
    effectiveHeads: s.effectiveHeads,
    bases: s.bases,
    mergePoints: s.mergePoints,
    branchPoints: s.branchPoints,
  };
}
