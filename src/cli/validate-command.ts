import { pc } from '../report/colors.js';
import type { ValidateCheck, ValidateResult } from '../data/validate.js';
import { escapeControl } from '../sql/ident.js';
import { finish, formatMs, note, printJson, type GlobalOptions } from './output.js';

export interface ValidateFlags extends GlobalOptions {
  service?: string[];
  against?: string;
  /** Commander's `--no-structure` sets this to false. */
  structure?: boolean;
  /** `--shadow URL`: an empty database to replay the migrations on. */
  shadow?: string;
}

const TITLES: Record<ValidateCheck, string> = {
  structure: 'Structure (live tables against their migrations)',
  counts: 'Counts (live against the backup)',
  relationships: 'Relationships (orphans)',
};

/** `tidemark validate`: exit 0 clean, 1 any finding (or a failure), 2 bad usage or input. */
export async function runValidate(flags: ValidateFlags): Promise<void> {
  const { validate } = await import('../api/validate.js');
  const result: ValidateResult = await validate({
    configFile: flags.config,
    database: flags.database,
    onConnect: (database, source) => {
      if (!flags.json && source === 'default') note(`Using the embedded database ${database} (no --database, DATABASE_URL or config database).`);
    },
    service: flags.service?.length ? flags.service : undefined,
    against: flags.against,
    structure: flags.structure !== false,
    shadow: flags.shadow,
  });
  if (flags.json) {
    printJson(result);
    if (result.error) return finish(result.error, flags, true);
    process.exitCode = result.ok ? 0 : 1;
    return;
  }
  if (result.error) return finish(result.error, flags);
  if (result.shadow) note(`Migrations replayed on a shadow database: ${result.shadow}.`);

  const checks: ValidateCheck[] = ['structure', 'counts', 'relationships'];
  for (const check of checks) {
    const findings = result.findings.filter((f) => f.check === check);
    if (findings.length === 0) continue;
    process.stdout.write(`${pc.bold(TITLES[check])}\n`);
    for (const f of findings) {
      // Names in messages are escaped where they are built; sample keys are row data: escaped here.
      process.stdout.write(`  ${pc.red('✗')} ${f.service ? `${pc.dim(`[${f.service}]`)} ` : ''}${escapeControl(f.message)}\n`);
      if (f.samples?.length) process.stdout.write(`      ${pc.dim('sample keys:')} ${f.samples.map(escapeControl).join(', ')}\n`);
    }
    const hints = [...new Set(findings.map((f) => f.hint).filter((h): h is string => Boolean(h)))];
    for (const h of hints) process.stdout.write(`  ${pc.dim(`hint: ${h}`)}\n`);
  }

  const ran = [
    flags.structure === false ? undefined : 'structure',
    flags.against !== undefined ? `counts of ${result.counts.length} table${result.counts.length === 1 ? '' : 's'}` : undefined,
    `${result.relationships.length} relationship${result.relationships.length === 1 ? '' : 's'}`,
  ].filter(Boolean);
  const scope = `${result.tables.length} table${result.tables.length === 1 ? '' : 's'} of ${result.services.join(', ') || 'no service'}`;
  if (result.ok) {
    process.stdout.write(`${pc.green('✓')} ${scope}: ${ran.join(', ')} valid ${pc.dim(formatMs(result.durationMs))}\n`);
  } else {
    const n = result.findings.length;
    process.stdout.write(`${n} finding${n === 1 ? '' : 's'} in ${scope} (checked ${ran.join(', ')}) ${pc.dim(formatMs(result.durationMs))}\n`);
  }
  process.exitCode = result.ok ? 0 : 1;
}
