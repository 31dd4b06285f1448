/**
 * The demo's autogenerate step (issue 13 item 9), after the new migrations are applied: the budget service
 * gets its desired schema (`tidemark baseline --service budget --schema`, from the live database, proven on a
 * shadow), the demo edits it as a team would (a `currency` column and an index on it), `tidemark diff` writes
 * the migration(s) that turn the history into that schema — proven both ways on a shadow first — `up` applies
 * them, and `tidemark test` runs every migration up, down and up again, each service alone, in every order.
 *
 * The same cores the commands run (flows/baseline, flows/autogen/diff, flows/test), on the demo's one target.
 * Its own file because demo.ts would pass ~400 lines with it.
 */
import path from 'node:path';
import fs from 'node:fs';
import { baseline } from '../flows/baseline.js';
import { autogenerate } from '../flows/autogen/diff.js';
import { testMigrations, type TestFinding } from '../flows/test/index.js';
import type { DemoContext, DemoStepReport } from './demo.js';
import { up } from './migrate.js';

/** What the step works on, and the commands that do the same by hand in the kept project. */
export const AUTOGENERATE = {
  service: 'budget',
  schema: 'schema/budget.sql',
  name: 'add_currency',
  commands: {
    baseline: 'tidemark baseline --service budget --schema',
    diff: 'tidemark diff --service budget --to schema/budget.sql --name add_currency',
    test: 'tidemark test',
  },
} as const;

const COLUMN = `currency text DEFAULT 'BRL' NOT NULL`;
const INDEX = 'CREATE INDEX budgets_currency_idx ON budgets (currency);';

/**
 * The team's edit of the desired schema: `currency` as the last column of `budgets` (after the columns,
 * before its first constraint, so it lands where ADD COLUMN puts it) and an index on it, after the other
 * indexes. Undefined when the text has no `CREATE TABLE budgets (` whose columns end before a constraint.
 */
export function addCurrency(schema: string): string | undefined {
  const table = /^CREATE TABLE (?:public\.)?budgets \($/m.exec(schema);
  if (!table) return undefined;
  const end = schema.indexOf('\n);', table.index);
  const constraint = schema.indexOf('\n  CONSTRAINT ', table.index);
  if (end < 0 || constraint < 0 || constraint > end) return undefined;
  const withColumn = `${schema.slice(0, constraint)}\n  ${COLUMN},${schema.slice(constraint)}`;
  // After the last CREATE INDEX, where baseline --schema puts indexes; at the end when there is none.
  const indexes = [...withColumn.matchAll(/^CREATE (?:UNIQUE )?INDEX .*$/gm)];
  const last = indexes.at(-1);
  if (!last) return `${withColumn.replace(/\n*$/, '\n')}\n${INDEX}\n`;
  const at = last.index + last[0].length;
  return `${withColumn.slice(0, at)}\n${INDEX}${withColumn.slice(at)}`;
}

/** A generated file's statements per section, comments and blank lines left out (the file itself has them). */
export function sections(text: string): { up: string[]; down: string[] } {
  const out = { up: [] as string[], down: [] as string[] };
  let section: 'up' | 'down' | undefined;
  for (const line of text.split('\n')) {
    const directive = /^--\s*tidemark:(up|down)\s*$/.exec(line);
    if (directive) section = directive[1] as 'up' | 'down';
    else if (section && line.trim() && !line.startsWith('--')) out[section].push(line.trim());
  }
  return out;
}

const CHECK_WORDS: Partial<Record<TestFinding['check'], string>> = {
  'history-rules': 'history rules',
  stairway: 'up, down, up of each migration',
  isolation: 'each service with only what it requires',
  order: 'every order the requires allow',
};

const TITLE = 'Autogenerate: edit the desired schema, `tidemark diff` writes the migration, `tidemark test` passes';

/** A core that failed: its error ends the step (demo.ts wraps it in demo-autogenerate); one without an error is said so. */
function unfinished(error: Error | undefined, what: string): DemoStepReport {
  if (error) throw error;
  return { title: TITLE, lines: [], failure: `${what} reported no error, yet did not finish` };
}

export async function autogenerateStep(ctx: DemoContext): Promise<DemoStepReport> {
  const target = ctx.target!;
  const rel = (file: string) => path.relative(ctx.dir, file);
  const lines: string[] = [];

  // 1. The desired schema, written once from the live database (proven like a baseline).
  ctx.rerun = AUTOGENERATE.commands.baseline;
  const schemaFile = path.join(ctx.dir, AUTOGENERATE.schema);
  const written = await baseline(target, { service: AUTOGENERATE.service, schema: true, out: schemaFile });
  if (!written.ok) return unfinished(written.error, 'baseline --schema');
  const edited = addCurrency(fs.readFileSync(written.file, 'utf8'));
  if (edited === undefined) return { title: TITLE, lines, failure: `${rel(written.file)} has no CREATE TABLE budgets ( … ) with a constraint after its columns to add currency before` };
  fs.writeFileSync(written.file, edited);
  lines.push(`${rel(written.file)}: written by \`${AUTOGENERATE.commands.baseline}\`, then edited: + budgets.${COLUMN}, + ${INDEX}`);

  // 2. The migration(s) from the history to that schema, proven both ways before they are written.
  ctx.rerun = `${AUTOGENERATE.commands.diff} --dry-run`;
  const generated = await autogenerate(target, { service: AUTOGENERATE.service, to: schemaFile, name: AUTOGENERATE.name });
  if (!generated.ok) return unfinished(generated.error, 'tidemark diff');
  if (generated.files.length === 0) return { title: TITLE, lines, failure: `tidemark diff found no difference between budget's history and the edited ${AUTOGENERATE.schema}` };
  const proof = generated.proof ? `, proven on ${generated.proof.shadow} (up gives the schema, down gives the history back)` : '';
  lines.push(`\`${AUTOGENERATE.commands.diff}\`: ${generated.words.map((w) => w.message).join('; ')}${proof}`);
  for (const file of generated.files) {
    const sql = sections(file.text);
    const noTransaction = /^--\s*tidemark:no-transaction\s*$/m.test(file.text) ? ' (no transaction: CONCURRENTLY)' : '';
    lines.push(`${rel(file.path)}${noTransaction}`, ...sql.up.map((s) => `  up    ${s}`), ...sql.down.map((s) => `  down  ${s}`));
  }

  // 3. Applied, as any migration.
  ctx.rerun = 'tidemark status';
  const applied = await up({ workspace: target.workspace, database: target.db });
  if (!applied.ok) return unfinished(applied.error, 'up');
  lines.push(`${applied.results.map((r) => r.migration).join(', ')} → applied`);

  // 4. tidemark test: the whole history of both services, on a shadow.
  ctx.rerun = AUTOGENERATE.commands.test;
  const tested = await testMigrations(target);
  // Each migration once, with its worst status, as `tidemark test` prints them.
  const weight = { pass: 0, reported: 1, fail: 2 } as const;
  const perMigration = new Map<string, TestFinding['status']>();
  for (const f of tested.findings) {
    const now = f.migration ? perMigration.get(f.migration) : undefined;
    if (f.migration && (now === undefined || weight[f.status] > weight[now])) perMigration.set(f.migration, f.status);
  }
  const mark = { pass: '✓', fail: '✗', reported: '•' } as const;
  const count = (s: TestFinding['status']) => tested.findings.filter((f) => f.status === s).length;
  // The checks that ran, in words (order independence only runs when the services allow more than one order).
  const ran = [...new Set(tested.findings.map((f) => CHECK_WORDS[f.check] ?? f.check))].join(', ');
  lines.push(
    `\`${AUTOGENERATE.commands.test}\`: ${[...perMigration].map(([id, status]) => `${mark[status]} ${id}`).join('  ')}`,
    `  ${tested.ok ? 'passed' : 'failed'}: ${count('fail')} failed, ${count('reported')} reported, ${count('pass')} passed (${ran}) on ${tested.shadow}`,
  );
  const failed = tested.findings.filter((f) => f.status === 'fail');
  if (failed.length > 0) return { title: TITLE, lines, failure: `tidemark test found ${failed.length} failure${failed.length === 1 ? '' : 's'}: ${failed.map((f) => f.message).join('; ')}` };
  return { title: TITLE, lines };
}
