/** `tidemark alembic split-version-table`: one Alembic version table per service. */
import { pc } from '../report/colors.js';
import { finish, note, printJson, type GlobalOptions } from './output.js';

export async function runSplitVersionTable(flags: GlobalOptions & { dryRun?: boolean; table?: string }): Promise<void> {
  const { splitVersionTable } = await import('../api/split.js');
  const result = await splitVersionTable({ configFile: flags.config, database: flags.database, dryRun: flags.dryRun, table: flags.table });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags);
  }
  if (result.error) return finish(result.error, flags);
  for (const m of result.moves) process.stdout.write(`${result.dryRun ? 'would move' : pc.green('moved')} ${m.versionNum} (${m.service}): ${m.from} → ${m.to}\n`);
  for (const o of result.orphans) note(`left ${o.versionNum} in ${o.table}: no service's directory defines it (check it, then delete it by hand).`);
  process.stdout.write(`\nNow point each service at its own table:\n`);
  for (const s of result.services) {
    process.stdout.write(`  ${pc.bold(s.service)}: in env.py  ${s.envPyChange}\n  ${' '.repeat(s.service.length)}  in tidemark.config  ${s.configChange}\n`);
  }
  if (result.dryRun) process.stdout.write(pc.dim('\n-- dry run: nothing was changed.\n'));
  finish(undefined, flags);
}
