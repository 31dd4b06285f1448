/** `tidemark check`: the doctor's rules over files (and, with --db, the database). */
import { finish, printJson, type GlobalOptions } from './output.js';

export interface CheckFlags extends GlobalOptions {
  db?: boolean;
  /** false with --no-drift. */
  drift?: boolean;
  format?: 'text' | 'json' | 'github';
  alembic?: string[];
  service?: string[];
}

export async function runCheck(flags: CheckFlags): Promise<void> {
  const { check } = await import('../api/check.js');
  const report = await check({
    configFile: flags.config,
    database: flags.database,
    db: flags.db,
    drift: flags.drift,
    alembic: flags.alembic,
    service: flags.service?.length ? flags.service : undefined,
  });
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (format === 'json') {
    printJson(report);
  } else if (!report.error) {
    const { renderCheckText, renderCheckGithub } = await import('../report/check-report.js');
    process.stdout.write(format === 'github' ? renderCheckGithub(report) : renderCheckText(report));
  }
  if (report.error) return finish(report.error, { ...flags, json: format === 'json' });
  process.exitCode = report.errors > 0 ? 1 : 0;
}
