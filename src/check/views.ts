import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ownsPattern, partSearchSource } from '../config/owns.js';
import type { Service } from '../config/types.js';
import type { Diagnostic } from '../diagnostic.js';
import { resolveMigration } from '../history/resolve.js';
import type { History, MigrationFile } from '../history/migration.js';
import { readAlembicHistory } from '../history/alembic-lazy.js';
import { readTidemarkHistory } from '../history/read-tidemark.js';
import { compareMigrationNumbers } from '../history/tidemark-source.js';
import type { AlembicHistory, Revision, TableReference } from '../history/revision.js';
import { readSumVerificationFromHashes } from '../history/sum-io.js';
import { findTableReferences } from '../history/sql-tables.js';
import type { ServiceView } from './rule.js';

/** Rule ids whose findings the rules derive themselves from the data (the readers report them too). */
const DERIVED_BY_RULES = new Set(['duplicate-id', 'naming']);

/** A service to look at: from the config, or from `check --alembic PATH` with no config. */
export interface ServiceSource {
  name: string;
  format: 'tidemark' | 'alembic';
  dirs: string[];
  owns: string[];
  requires: string[];
  recursive: boolean;
  versionTable: string;
}

export function sourceOf(service: Service): ServiceSource {
  return {
    name: service.name,
    format: service.format,
    dirs: [service.migrationsDir],
    owns: service.owns,
    requires: service.requires,
    recursive: service.recursive,
    versionTable: service.versionTable,
  };
}

/** The graph of a tidemark service: each migration's parent is the previous number. */
function tidemarkRevisions(history: History, all: readonly History[]): Revision[] {
  const sorted = [...history.migrations].sort((a, b) => compareMigrationNumbers(a.number, b.number) || a.id.localeCompare(b.id));
  return sorted.map((m, i) => {
    const dependsOn: string[] = [];
    const refLines: Record<string, number> = {};
    for (const req of m.requires) {
      const id = resolveMigration(all, req.ref)?.id ?? req.ref;
      dependsOn.push(id);
      refLines[id] = req.line;
    }
    return {
      service: history.service,
      id: m.id,
      file: m.file,
      line: 1,
      parents: i > 0 ? [sorted[i - 1].id] : [],
      dependsOn,
      branchLabels: [],
      refLines,
      format: 'tidemark',
    };
  });
}

/**
 * A cheap text test before parsing: does this SQL mention any table another service owns? Parsing
 * every migration with libpg-query would cost ~50 µs each; most never name a foreign table.
 */
function foreignNamePattern(self: string, sources: readonly ServiceSource[]): RegExp | undefined {
  const parts: string[] = [];
  for (const s of sources) {
    if (s.name === self) continue;
    for (const owned of s.owns) {
      const p = ownsPattern(owned);
      // A schema: entry shows up as the schema part of a qualified name; a table entry by its table part.
      if (p) parts.push(p.kind === 'schema' ? `${partSearchSource(p.schema)}"?\\s*\\.` : partSearchSource(p.table));
    }
  }
  // A pre-filter: it may find a name that is not there (then the parse finds nothing), never miss one.
  return parts.length ? new RegExp(`(?:${parts.join('|')})`, 'iu') : undefined;
}

async function listFiles(dirs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const dir of dirs) {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isFile() || e.isSymbolicLink()) files.push(path.join(dir, e.name));
  }
  return files.sort();
}

async function sqlReferences(pattern: RegExp | undefined, sql: string, file: string, line: number): Promise<TableReference[]> {
  if (!pattern?.test(sql)) return [];
  return findTableReferences(sql, file, line);
}

/** Reads every service's files into the views the rules check. */
export async function buildServiceViews(sources: readonly ServiceSource[]): Promise<ServiceView[]> {
  const tidemarkSources = sources.filter((s) => s.format === 'tidemark');
  const histories = await Promise.all(tidemarkSources.map((s) => readTidemarkHistory(s.name, s.dirs[0])));
  const alembicHistories = new Map<string, AlembicHistory>();
  await Promise.all(sources.filter((s) => s.format === 'alembic').map(async (s) => alembicHistories.set(s.name, await readAlembicHistory(s.name, s.dirs, { recursive: s.recursive }))));
  const views: ServiceView[] = [];
  for (const source of sources) {
    const pattern = foreignNamePattern(source.name, sources);
    const base = { name: source.name, format: source.format, dirs: source.dirs, owns: source.owns, requires: source.requires };
    if (source.format === 'tidemark') {
      const history = histories[tidemarkSources.indexOf(source)];
      const refs = await Promise.all(
        history.migrations.filter((m): m is MigrationFile & { up: NonNullable<MigrationFile['up']> } => Boolean(m.up)).map((m) => sqlReferences(pattern, m.up.text, m.file, m.up.line)),
      );
      views.push({
        ...base,
        files: await listFiles(source.dirs),
        revisions: tidemarkRevisions(history, histories),
        migrations: history.migrations,
        readProblems: history.problems.filter((p: Diagnostic) => !DERIVED_BY_RULES.has(p.rule)),
        tableReferences: refs.flat(),
        sum: readSumVerificationFromHashes(source.dirs[0], history.hashes ?? []),
      });
    } else {
      const alembic = alembicHistories.get(source.name)!;
      const embedded = await Promise.all(alembic.embeddedSql.map((e) => sqlReferences(pattern, e.sql, e.file, e.line)));
      views.push({
        ...base,
        files: alembic.revisions.map((r) => r.file),
        revisions: alembic.revisions,
        alembic,
        versionTable: source.versionTable,
        readProblems: alembic.problems,
        tableReferences: [...alembic.tableReferences, ...embedded.flat()].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line),
      });
    }
  }
  return views;
}
