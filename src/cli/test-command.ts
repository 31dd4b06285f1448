/** `tidemark test`: the migrations proven on a shadow database (history rules, stairway, desired schema, isolation, order, data). */
import { finish, printJson, type GlobalOptions } from './output.js';

export interface TestFlags extends GlobalOptions {
  service?: string[];
  format?: 'text' | 'json' | 'github';
  requireDown?: boolean;
  shadow?: string;
  fixtures?: string;
}

export async function runTest(flags: TestFlags): Promise<void> {
  const { testMigrations } = await import('../api/test.js');
  const result = await testMigrations({
    configFile: flags.config,
    database: flags.database,
    service: flags.service?.length ? flags.service : undefined,
    requireDown: flags.requireDown,
    shadow: flags.shadow,
    fixtures: flags.fixtures,
  });
  const format = flags.json ? 'json' : (flags.format ?? 'text');
  if (format === 'json') {
    printJson(result);
  } else if (!result.error) {
    const { renderTestText, renderTestGithub } = await import('../report/test-report.js');
    process.stdout.write(format === 'github' ? renderTestGithub(result) : renderTestText(result));
  }
  if (result.error) return finish(result.error, { ...flags, json: format === 'json' });
  process.exitCode = result.ok ? 0 : 1;
}
