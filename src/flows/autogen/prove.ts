/**
 * The proof of `tidemark diff` (issue 13 item 4, docs/plan-issue-13.md §2.4): on a shadow holding `from`,
 * the generated files run up through the real executor (so a no-transaction file runs as `up` will run
 * it, and ledger rows are written), and the shadow must then equal `to`; their downs run in reverse, and
 * it must equal `from` again. The files are parsed from their text in memory: what is proven is exactly
 * what would be written.
 */
import type { Workspace } from '../../config/types.js';
import type { Database } from '../../db/database.js';
import { asTidemarkError, TidemarkError } from '../../errors.js';
import type { MigrationFile } from '../../history/migration.js';
import { parseMigrationName, parseMigrationSource } from '../../history/tidemark-source.js';
import { ensureLedger } from '../../ledger/ledger.js';
import { diff } from '../../schema/diff/diff.js';
import { describeChanges } from '../../schema/diff/words.js';
import { introspect } from '../../schema/introspect/index.js';
import type { SchemaDifference, Snapshot } from '../../schema/snapshot.js';
import { runMigration } from '../test/steps.js';

/** A generated migration before it is written: its id, where it would go, its whole text. */
export interface DraftFile {
  id: string;
  path: string;
  text: string;
}

export interface ProofOutcome {
  /** `to` against the shadow after every up ([] when equal). */
  up: SchemaDifference[];
  /** `from` against the shadow after every down ([] when equal; not run when the up already differs). */
  down: SchemaDifference[];
  ms: number;
}

/** The draft as the executor will read it from disk; a text the parser refuses is a bug of the renderer, said so. */
function draftMigration(service: string, draft: DraftFile): MigrationFile {
  const name = parseMigrationName(service, `${draft.id}.sql`);
  const parsed = name ? parseMigrationSource(service, draft.path, name, Buffer.from(draft.text)) : undefined;
  if (!parsed?.migration) {
    const why = parsed?.problems.map((p) => p.message).join('; ') ?? 'its name is not a migration name';
    throw new TidemarkError('diff-proof-failed', `The generated ${draft.id} does not read back as a migration of ${service}: ${why}. Nothing was written.`, {
      service,
      hint: 'This is a bug of tidemark diff: please report it with the schemas diffed.',
    });
  }
  return parsed.migration;
}

/**
 * Runs `drafts` up then down on `shadow` (which holds `from`, requirements included) and compares. A
 * statement that fails is `diff-proof-failed` naming the file and the direction; differences are returned
 * for the caller to refuse with.
 */
export async function proveDrafts(shadow: Database, workspace: Workspace, service: string, drafts: readonly DraftFile[], from: Snapshot, to: Snapshot): Promise<ProofOutcome> {
  const started = performance.now();
  const migrations = drafts.map((d) => draftMigration(service, d));
  const version = await shadow.serverVersionNum();
  await ensureLedger(shadow);
  const run = async (m: MigrationFile, direction: 'up' | 'down') => {
    try {
      await runMigration(shadow, m, direction, version);
    } catch (err) {
      const e = asTidemarkError(err);
      throw new TidemarkError('diff-proof-failed', `The generated ${m.id} fails ${direction === 'up' ? 'up' : 'down'} on the shadow database: ${e.message} Nothing was written.`, {
        service,
        migration: m.id,
        hint: 'Run with --dry-run to see the generated SQL; if the schemas are valid, this is a bug of tidemark diff.',
        cause: err,
      });
    }
  };
  const scope = { workspace, service };
  for (const m of migrations) await run(m, 'up');
  const afterUp = await introspect(shadow, scope);
  const up = describeChanges(diff(to, afterUp), { expected: 'desired schema', actual: 'shadow after the generated up' });
  if (up.length > 0) return { up, down: [], ms: performance.now() - started };
  for (const m of [...migrations].reverse()) await run(m, 'down');
  const afterDown = await introspect(shadow, scope);
  const down = describeChanges(diff(from, afterDown), { expected: 'schema diffed from', actual: 'shadow after the generated down' });
  return { up, down, ms: performance.now() - started };
}
