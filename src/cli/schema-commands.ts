import { pc } from '../report/colors.js';
import { displayPath } from '../paths.js';
import { finish, formatMs, note, printJson, sayDatabase, type GlobalOptions } from './output.js';

export interface BaselineFlags extends GlobalOptions {
  service: string;
  dir?: string;
  force?: boolean;
  dryRun?: boolean;
  shadow?: string;
  schema?: boolean;
  out?: string;
}

/** `tidemark baseline`: exit 0 written (or proven on a dry run), 1 not reproducible or failed, 2 bad usage or input. */
export async function runBaseline(flags: BaselineFlags): Promise<void> {
  const { baseline } = await import('../api/baseline.js');
  // The wrapper connects first; a failure to connect is the result's error, with the database tried and who named it.
  const result = await baseline({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service,
    dir: flags.dir,
    force: flags.force,
    dryRun: flags.dryRun,
    shadowUrl: flags.shadow,
    schema: flags.schema,
    out: flags.out,
  });
  if (flags.json) {
    const { snapshot: _snapshot, ...rest } = result;
    printJson(rest);
    return finish(result.error, flags, true);
  }
  if (result.differences.length > 0) {
    process.stdout.write(`${pc.bold(`Live ${result.service} against its baseline replayed on ${result.shadow}`)}\n`);
    for (const d of result.differences) process.stdout.write(`  ${pc.red('✗')} ${d.message}\n`);
  }
  if (result.error) return finish(result.error, flags);

  const c = result.counts;
  const SINGULAR: Record<string, string> = { indexes: 'index', policies: 'policy' }; // not 'indexe', 'policie'
  const parts = [
    `${c.tables} table${c.tables === 1 ? '' : 's'}`,
    ...Object.entries(c)
      .filter(([k, n]) => k !== 'tables' && n > 0)
      .map(([k, n]) => `${n} ${n === 1 ? (SINGULAR[k] ?? k.replace(/s$/, '')) : k}`),
  ];
  const built = result.prerequisites.length ? ` after building ${result.prerequisites.join(', ')}` : '';
  if (result.dryRun) process.stdout.write(result.sql);
  note(`Proved on ${result.shadow}${built}: the replayed baseline's snapshot equals the live one.`);
  const requires = result.requires.length ? ` (requires ${result.requires.join(', ')})` : '';
  if (result.dryRun) {
    process.stdout.write(`${pc.yellow('dry run:')} would write ${displayPath(result.file)}: ${parts.join(', ')}${requires} ${pc.dim(formatMs(result.durationMs))}\n`);
  } else {
    process.stdout.write(`${pc.green('✓')} wrote ${displayPath(result.file)}: ${parts.join(', ')}${requires} ${pc.dim(formatMs(result.durationMs))}\n`);
    if (flags.schema) note(`The desired schema of ${result.service}: \`services.${result.service}.schema\` in the config names it (add it if not).`);
    if (result.sum?.updated) process.stdout.write(`  ${displayPath(result.sum.file)} updated\n`);
    else if (result.sum?.reason) process.stderr.write(`${pc.yellow('warning:')} ${result.sum.reason}\n`);
  }
  finish(undefined, flags);
}
