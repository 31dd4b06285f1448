/**
 * `tidemark protect [--off]`. The guard's two flags are declared once in flags.ts and added to every
 * command that deletes data through the guard (reset, rebaseline, restore) and to this one.
 */
import type { Command } from 'commander';
import { pc } from '../report/colors.js';
import { forceProtectedOption, yesIMeanOption } from './flags.js';
import { finish, printJson, type GlobalOptions } from './output.js';

export interface ProtectFlags extends GlobalOptions {
  off?: boolean;
  forceProtected?: boolean;
  yesIMean?: string;
}

export function registerProtect(program: Command): void {
  program
    .command('protect')
    .description('mark the database as protected inside itself: reset, rebaseline and restore --replace then refuse it (--off removes the mark)')
    .option('--off', 'remove the mark (needs --force-protected and the database name typed back)')
    .addOption(forceProtectedOption())
    .addOption(yesIMeanOption())
    .action(async (flags: { off?: boolean; forceProtected?: boolean; yesIMean?: string }, cmd: Command) => {
      await runProtect({ ...(cmd.optsWithGlobals() as GlobalOptions), ...flags });
    });
}

async function runProtect(flags: ProtectFlags): Promise<void> {
  const [{ protect }, { askOnTty }] = await Promise.all([import('../api/protect.js'), import('./ask.js')]);
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
    : `${result.database} ${result.changed ? 'is no longer protected by its mark' : 'was not marked protected'}${result.changed ? " (the config's protected list and the remote-host rule still apply)" : ''}`;
  process.stdout.write(`${what}\n`);
  finish(undefined, flags);
}
