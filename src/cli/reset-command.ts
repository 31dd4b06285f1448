/** `tidemark reset`: drop what the chosen services own and re-apply their migrations. */
import { pc } from '../report/colors.js';
import { describeCounts, describeObject } from '../report/reset-report.js';
import { lockTimeoutMs } from './flags.js';
import { applyPrinter, finish, formatMs, printable, printJson, sayDatabase, type GlobalOptions } from './output.js';
import { askOnTty } from './ask.js';

export interface ResetFlags extends GlobalOptions {
  service: string[];
  forceProtected?: boolean;
  yesIMean?: string;
  dryRun?: boolean;
  lockTimeout?: number;
}

export async function runReset(flags: ResetFlags): Promise<void> {
  const { reset } = await import('../api/reset.js');
  const result = await reset({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    forceProtected: flags.forceProtected,
    yesIMean: flags.yesIMean,
    ask: askOnTty,
    dryRun: flags.dryRun,
    lockTimeoutMs: lockTimeoutMs(flags),
    onEvent: applyPrinter(flags),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.error) return finish(result.error, flags);
  for (const s of result.services) {
    if (result.dryRun) {
      process.stdout.write(`${pc.bold(s.service)}: would drop ${describeCounts(s.dropped)} and forget its ledger rows, then re-apply its migrations\n`);
      for (const d of s.dropped) process.stdout.write(`  ${pc.dim(`${describeObject(d)}${d.kind === 'schema' ? ' (if nothing else is left in it)' : ''}`)}\n`);
    } else {
      process.stdout.write(`${pc.yellow('reset')} ${s.service}: dropped ${describeCounts(s.dropped)}, forgot ${s.forgotten} ledger row${s.forgotten === 1 ? '' : 's'}\n`);
      for (const k of s.keptSchemas) process.stdout.write(`  ${pc.dim(`kept schema ${printable(k.schema)}: ${printable(k.reason)}`)}\n`);
    }
  }
  if (!result.dryRun) {
    const applied = result.migrate?.results.filter((r) => r.status === 'applied').length ?? 0;
    process.stdout.write(
      `${pc.green('✓')} ${result.services.map((s) => s.service).join(', ')} reset, ${applied} migration${applied === 1 ? '' : 's'} re-applied ${pc.dim(formatMs(result.durationMs))}\n`,
    );
  }
  finish(undefined, flags);
}
