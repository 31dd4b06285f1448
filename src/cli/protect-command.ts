/**
 * `tidemark protect [--off]`, and the guard's two flags on every command that deletes data through
 * the guard (reset has them already; rebaseline and restore get them here, so main.ts registers all
 * of this with one call).
 */
import type { Command } from 'commander';
import { pc } from '../report/colors.js';
import { finish, printJson, type GlobalOptions } from './output.js';

const FORCE = ['--force-protected', 'allow a protected or remote database (its name must still be typed back)'] as const;
const YES = ['--yes-i-mean <database>', 'the database name, typed back without a prompt (with --force-protected)'] as const;

export interface ProtectFlags extends GlobalOptions {
  off?: boolean;
  forceProtected?: boolean;
  yesIMean?: string;
}

export function registerProtect(program: Command): void {
  for (const name of ['rebaseline', 'restore']) {
    const cmd = program.commands.find((c) => c.name() === name);
    if (cmd && !cmd.options.some((o) => o.long === '--force-protected')) cmd.option(...FORCE).option(...YES);
  }
  program
    .command('protect')
    .description('mark the database as protected inside itself: reset, rebaseline and restore --replace then refuse it (--off removes the mark)')
    .option('--off', 'remove the mark (needs --force-protected and the database name typed back)')
    .option(...FORCE)
    .option(...YES)
    .action(async (flags: { off?: boolean; forceProtected?: boolean; yesIMean?: string }, cmd: Command) => {
      await runProtect({ ...(cmd.optsWithGlobals() as GlobalOptions), ...flags });
    });
}

export async function runProtect(flags: ProtectFlags): Promise<void> {
  const [{ protect }, { askOnTty }] = await Promise.all([import('../flows/guard.js'), import('./flow-commands.js')]);
  const result = await protect({
    configFile: flags.config,
    database: flags.database,
    off: flags.off,
    forceProtected: flags.forceProtected,
    yesIMean: flags.yesIMean,
    ask: askOnTty,
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.error) return finish(result.error, flags);
  const what = result.protected
    ? `${pc.green('protected')} ${result.database}${result.changed ? '' : ' (it already was)'}: reset, rebaseline and restore --replace now refuse it unless --force-protected and --yes-i-mean ${result.name}`
    : `${result.database} ${result.changed ? 'is no longer protected by its mark' : 'was not marked protected'}${result.changed ? ' (the config\'s protected list and the remote-host rule still apply)' : ''}`;
  process.stdout.write(`${what}\n`);
  finish(undefined, flags);
}
