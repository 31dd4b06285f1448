/** `tidemark adopt`: take a service over from Alembic. */
import path from 'node:path';
import { pc } from '../report/colors.js';
import { lockTimeoutMs } from './flags.js';
import { finish, formatMs, printJson, sayDatabase, type GlobalOptions } from './output.js';

export interface AdoptFlags extends GlobalOptions {
  service: string;
  as?: string;
  dir?: string;
  write?: boolean;
  archive?: boolean;
  lockTimeout?: number;
}

export async function runAdopt(flags: AdoptFlags): Promise<void> {
  const { adopt } = await import('../api/adopt.js');
  const result = await adopt({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    as: flags.as,
    dir: flags.dir,
    write: flags.write,
    archive: flags.archive,
    lockTimeoutMs: lockTimeoutMs(flags),
    onEvent: flags.json ? undefined : (e) => process.stdout.write(`${pc.dim(`${e.step}${e.detail ? `: ${e.detail}` : ''}`)}\n`),
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  if (result.error) return finish(result.error, flags);
  process.stdout.write(
    `${pc.green('✓')} ${result.service} adopted${result.name !== result.service ? ` as ${result.name}` : ''}: ${result.file ? displayPathOf(result.file) : ''} recorded as applied ${pc.dim(formatMs(result.durationMs))}\n`,
  );
  if (result.requiresAdded.length) process.stdout.write(`  requires ${result.requiresAdded.join(', ')} (its foreign keys point there)\n`);
  if (result.retired) {
    const r = result.retired;
    process.stdout.write(
      `  ${r.versionTable}: ${r.deleted.length} row${r.deleted.length === 1 ? '' : 's'} retired (${r.deleted.join(', ') || 'none'})` +
        `${r.droppedTable ? ', table dropped (empty)' : r.remaining.length ? `; left for others: ${r.remaining.join(', ')}` : ''}\n`,
    );
  }
  const c = result.config;
  if (c?.written) process.stdout.write(`  config ${displayPathOf(c.file!)} updated:\n${indent(c.change)}\n`);
  else if (c) {
    process.stdout.write(
      `  ${pc.yellow('config not changed')}${c.problem ? ` (${c.problem})` : ' (pass --write to rewrite it)'}; make this change${c.file ? ` in ${displayPathOf(c.file)}` : ''}:\n${indent(c.change)}\n`,
    );
  }
  if (result.archivedTo) process.stdout.write(`  the Alembic directory moved to ${displayPathOf(result.archivedTo)}\n`);
  finish(undefined, flags);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function displayPathOf(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
