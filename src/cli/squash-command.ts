/** `tidemark squash`: migrations 001…ID of a service replaced by one proven file, the old ones moved to squashed/. */
import path from 'node:path';
import { displayPath } from '../paths.js';
import { pc } from '../report/colors.js';
import { finish, formatMs, note, printJson, sayDatabase, type GlobalOptions } from './output.js';

export interface SquashFlags extends GlobalOptions {
  service: string;
  to: string;
  dryRun?: boolean;
  shadow?: string;
}

export async function runSquash(flags: SquashFlags): Promise<void> {
  const { squash } = await import('../api/squash.js');
  const result = await squash({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    to: flags.to,
    dryRun: flags.dryRun,
    shadowUrl: flags.shadow,
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.differences.length > 0) {
    process.stdout.write(`${pc.bold(`Old history of ${result.service} against the squashed one, replayed on ${result.shadow}`)}\n`);
    for (const d of result.differences) process.stdout.write(`  ${pc.red('✗')} ${d.message}\n`);
  }
  if (result.error) return finish(result.error, flags);
  const what = `${result.squashes.length} migrations (${result.squashes[0]} … ${result.squashes[result.squashes.length - 1]})`;
  if (result.dryRun) process.stdout.write(result.sql);
  note(`Proved on ${result.shadow}: the squashed history builds what the old one builds.`);
  if (result.dryRun) {
    process.stdout.write(`${pc.yellow('dry run:')} would write ${displayPath(result.file)} in place of ${what} ${pc.dim(formatMs(result.durationMs))}\n`);
    return finish(undefined, flags);
  }
  process.stdout.write(`${pc.green('✓')} wrote ${displayPath(result.file)} in place of ${what} ${pc.dim(formatMs(result.durationMs))}\n`);
  if (result.moved.length > 0) process.stdout.write(`  moved them to ${displayPath(path.dirname(result.moved[0].to))}/\n`);
  if (result.sum?.updated) process.stdout.write(`  ${displayPath(result.sum.file)} updated\n`);
  finish(undefined, flags);
}
