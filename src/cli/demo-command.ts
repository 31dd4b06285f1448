/** `tidemark demo`: the CRM story end to end on a throwaway database. */
import { pc } from '../report/colors.js';
import { finish, formatMs, printJson, type GlobalOptions } from './output.js';

export interface DemoFlags extends GlobalOptions {
  dir?: string;
  keep?: boolean;
  users?: number;
}

export async function runDemo(flags: DemoFlags): Promise<void> {
  const { demo } = await import('../api/demo.js');
  if (!flags.json) process.stdout.write(`${pc.bold('tidemark demo')} — the CRM Ditual reset, end to end, on an embedded PostgreSQL (PGlite)\n\n`);
  let i = 0;
  const result = await demo({
    dir: flags.dir,
    keep: flags.keep,
    users: flags.users,
    onStep: flags.json
      ? undefined
      : (s) => {
          i++;
          const mark = s.ok ? pc.green('✓') : pc.red('✗');
          process.stdout.write(`${mark} ${pc.bold(`${i}. ${s.title}`)} ${pc.dim(formatMs(s.ms))}\n`);
          for (const line of s.lines) process.stdout.write(`     ${line}\n`);
        },
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  // The error's hint names the kept project and the command that shows the failure again.
  if (result.error) return finish(result.error, flags);
  process.stdout.write(`\n${pc.green('✓')} Done in ${formatMs(result.durationMs)}.${result.kept ? ` The project is in ${result.dir}.` : ''}\n\n`);
  process.stdout.write(`${pc.bold('On your own database')} (DATABASE_URL=postgres://…), the same story is:\n`);
  for (const line of [
    'tidemark check --db                                   # the doctor: duplicate ids, cross-service references, heads, alembic_version',
    'tidemark backup --out backups/before-adopt            # one snapshot, checksummed; tidemark verify-backup backups/before-adopt',
    'tidemark adopt --service user_service --as user --write',
    'tidemark adopt --service budget_service --as budget --write',
    'tidemark validate --against backups/before-adopt      # structure, counts, relationships',
    'tidemark new user add_phone && tidemark up            # from now on: user_002_…, budget_002_…',
    'tidemark baseline --service budget --schema           # schema/budget.sql, the desired schema: edit it, then',
    'tidemark diff --service budget --to schema/budget.sql --name add_currency && tidemark up',
    'tidemark test                                         # every migration up, down, up; each service alone; every order',
  ]) {
    process.stdout.write(`  ${line}\n`);
  }
  finish(undefined, flags);
}
