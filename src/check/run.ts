/**
 * The doctor's core: `check(target, options)` runs every rule over the histories of a Scope (files
 * only), or of a Target (files, then the database rules and the guard's verdict on that database).
 * Which of the two it gets, and whether a config is read at all, is the boundary's decision
 * (src/api/check.ts): a config's `database` means --db unless --no-db; `check --alembic` reads no config.
 */
import { compareDiagnostics, type Diagnostic } from '../diagnostic.js';
import { TidemarkError, asTidemarkError } from '../errors.js';
import { ownerOf } from '../config/owns.js';
import type { GraphSummary } from '../history/graph/build.js';
import { summarizeGraph } from '../history/graph/heads.js';

export type { GraphSummary };
import { resolveAlembicLocation } from '../history/alembic-lazy.js';
import type { Session } from '../db/database.js';
import type { ProtectionStatus } from '../ledger/guard.js';
import type { DatabaseSource, Scope, Target } from '../target/target.js';
import { readDatabaseFacts } from './database-facts.js';
import { RULES } from './registry.js';
import type { CheckContext, DatabaseFacts, Rule, ServiceView } from './rule.js';
import { buildServiceViews, sourceOf, type ServiceSource } from './views.js';

/**
 * What check reads: a Scope (the rules over files), or a Scope with a database (a Target<Session>, or
 * just these three parts of one): then the database rules run too, and the report carries the guard's verdict.
 * The rules see every service of the workspace (Alembic-kept ones too), whatever `services` selects.
 */
export type CheckTarget = Scope | (Scope & Pick<Target<Session>, 'db' | 'name' | 'protection'>);

export interface CheckCoreOptions {
  /** Read these Alembic histories (a versions dir, environment dir or alembic.ini each, one service per path) instead of the workspace's services. */
  alembic?: string[];
  /** Only these services in the report (the rules still see every service, to resolve references); Alembic-kept ones may be named. */
  service?: string[];
  rules?: readonly Rule[];
  /**
   * With a database: reads the schema-drift facts of these tidemark services (flows/drift.ts, handed in by
   * api/check.ts, since check/ may not import apply/). Absent: drift is not computed and schema-drift is silent.
   */
  readDrift?: (services: string[]) => Promise<DatabaseFacts['drift']>;
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

async function sourcesOf(target: CheckTarget, options: CheckCoreOptions): Promise<ServiceSource[]> {
  if (!options.alembic?.length) return target.workspace.services.map(sourceOf);
  const sources: ServiceSource[] = [];
  for (const p of options.alembic) {
    // As typed (its messages quote it), from the process's directory as always.
    const loc = await resolveAlembicLocation(p);
    let name = loc.service;
    for (let i = 2; sources.some((s) => s.name === name); i++) name = `${loc.service}_${i}`;
    sources.push({ name, format: 'alembic', dirs: loc.dirs, owns: [], requires: [], recursive: loc.recursive, versionTable: 'alembic_version' });
  }
  return sources;
}

/** The report of a check that could not run at all (its config unreadable): what `check` returns for an error it catches. */
export function checkFailed(options: Pick<CheckCoreOptions, 'rules'>, err: unknown): CheckReport {
  const report = emptyReport(options);
  report.error = asTidemarkError(err);
  return report;
}

function emptyReport(options: Pick<CheckCoreOptions, 'rules'>): CheckReport {
  const rules = options.rules ?? RULES;
  return { ok: false, errors: 0, warnings: 0, services: [], unassigned: [], diagnostics: [], rules: rules.map((r) => r.id) };
}

/** Runs every rule over the target's histories (and its database, when it has one). Never throws. */
export async function check(target: CheckTarget, options: CheckCoreOptions = {}): Promise<CheckReport> {
  const rules = options.rules ?? RULES;
  const report = emptyReport(options);
  try {
    const sources = await sourcesOf(target, options);
    for (const name of options.service ?? []) {
      if (!sources.some((s) => s.name === name)) {
        throw new TidemarkError('unknown-service', `No service ${name} to check.`, { kind: 'usage', hint: `Services: ${sources.map((s) => s.name).join(', ')}.` });
      }
    }
    const views = await buildServiceViews(sources);
    let database: DatabaseFacts | undefined;
    if ('db' in target) {
      // Named before the first query, so a database that cannot be reached is still named in the report.
      report.database = target.name.display;
      report.databaseSource = target.name.source;
      database = await readDatabaseFacts(target.db, target.name.display);
      report.protection = await target.protection();
      // Only the selected services' drift is reported, so only theirs is replayed.
      const tidemark = views.filter((v) => v.format === 'tidemark' && (!options.service?.length || options.service.includes(v.name))).map((v) => v.name);
      if (options.readDrift && tidemark.length > 0) database.drift = await options.readDrift(tidemark);
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
