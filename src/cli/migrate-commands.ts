import { pc } from '../report/colors.js';
import type { ApplyEvent } from '../progress.js';
import type { MigrateResult, StatusResult } from '../api/migrate.js';
import { displayPath } from '../paths.js';
import { describeProtection } from '../report/protection.js';
import { lockTimeoutMs } from './flags.js';
import { finish, formatMs, note, printable, printJson, sayDatabase, type GlobalOptions } from './output.js';

export interface MigrateFlags extends GlobalOptions {
  service?: string[];
  to?: string;
  steps?: string;
  dryRun?: boolean;
  lockTimeout?: number;
}

function commonOptions(flags: GlobalOptions & { lockTimeout?: number }) {
  return {
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    lockTimeoutMs: lockTimeoutMs(flags),
  };
}

export async function runMigrate(direction: 'up' | 'down', flags: MigrateFlags): Promise<void> {
  const { up, down } = await import('../api/migrate.js');
  const started = performance.now();
  const onEvent = flags.json
    ? undefined
    : (e: ApplyEvent) => {
        if (e.type === 'step-done') {
          const verb = e.step.direction === 'up' ? pc.green('applied ') : pc.yellow('reverted');
          process.stdout.write(`${verb} ${printable(e.step.migration.id)} ${pc.dim(formatMs(e.durationMs))}\n`);
        } else if (e.type === 'step-failed') {
          process.stdout.write(`${pc.red('failed  ')} ${printable(e.step.migration.id)} ${pc.dim(formatMs(e.durationMs))}\n`);
        } else if (e.type === 'log') {
          process.stdout.write(`         ${pc.dim(printable(`${e.step.migration.id}: ${e.message}`))}\n`);
        }
      };
  const steps = flags.steps === undefined ? undefined : Number(flags.steps);
  const options = {
    ...commonOptions(flags),
    service: flags.service?.length ? flags.service : undefined,
    to: flags.to,
    steps,
    dryRun: flags.dryRun,
    onEvent,
    onWait: (service: string) => {
      if (!flags.json) note(`Waiting for another tidemark run on ${service} to finish…`);
    },
  };
  const result: MigrateResult = direction === 'up' ? await up(options) : await down({ ...options, service: options.service?.[0] as string });
  if (flags.json) {
    printJson(result);
    finish(result.error, flags);
    return;
  }
  for (const w of result.warnings) note(`warning: ${w.message}${w.hint ? ` ${w.hint}` : ''}`);
  if (result.dryRun && !result.error) {
    if (result.plan.length === 0) process.stdout.write(`Nothing to ${direction === 'up' ? 'apply' : 'revert'}.\n`);
    for (const step of result.plan) {
      const how = step.transactional ? 'in a transaction' : 'outside a transaction (no-transaction)';
      process.stdout.write(`${pc.bold(`-- ${printable(step.migration)}`)} ${pc.dim(`(${printable(displayPath(step.file))}) ${step.direction}, ${how}`)}\n${printable(step.sql)}\n\n`);
    }
    if (result.plan.length) process.stdout.write(pc.dim(`-- dry run: ${result.plan.length} migration(s) would run; nothing was changed.\n`));
    finish(undefined, flags);
    return;
  }
  if (!result.error) {
    const done = result.results.length;
    if (done === 0) process.stdout.write(direction === 'up' ? 'Nothing to apply: every migration is applied.\n' : 'Nothing to revert.\n');
    else {
      const perService = new Map<string, number>();
      for (const r of result.results) perService.set(r.service, (perService.get(r.service) ?? 0) + 1);
      const split = printable([...perService].map(([s, n]) => `${s} ${n}`).join(', '));
      process.stdout.write(`${direction === 'up' ? 'Applied' : 'Reverted'} ${done} migration${done === 1 ? '' : 's'} (${split}) in ${formatMs(performance.now() - started)}.\n`);
    }
  } else {
    const notRun = result.results.filter((r) => r.status === 'not-run');
    if (notRun.length) note(`${notRun.length} later migration(s) not run: ${notRun.map((r) => r.migration).join(', ')}.`);
  }
  finish(result.error, flags);
}

const STATE_MARK: Record<string, string> = {
  applied: pc.green('✓'),
  pending: pc.dim('·'),
  failed: pc.red('✗'),
  drift: pc.red('!'),
  'missing-file': pc.red('?'),
  'out-of-order': pc.yellow('↓'),
};

export async function runStatus(flags: GlobalOptions & { service?: string[] }): Promise<void> {
  const { status } = await import('../api/migrate.js');
  const result: StatusResult = await status({
    configFile: flags.config,
    database: flags.database,
    onConnect: sayDatabase(flags),
    service: flags.service?.length ? flags.service : undefined,
  });
  if (flags.json) {
    printJson(result);
    finish(result.error, flags);
    return;
  }
  if (result.error) return finish(result.error, flags);
  process.stdout.write(`${pc.dim('database')} ${printable(result.database)}\n`);
  if (result.protection) process.stdout.write(`${pc.dim('protected')} ${printable(describeProtection(result.protection))}\n`);
  let problems = 0;
  for (const s of result.services) {
    problems += s.problems;
    const extra = s.problems ? `, ${pc.red(`${s.problems} need attention`)}` : '';
    process.stdout.write(`\n${pc.bold(printable(s.service))} ${pc.dim(`(${s.applied} applied, ${s.pending} pending${extra}${pc.dim(')')}`)}\n`);
    if (s.migrations.length === 0) process.stdout.write(`  ${pc.dim(printable(`no migrations yet: tidemark new ${s.service} <slug>`))}\n`);
    for (const m of s.migrations) {
      const when = m.appliedAt ? pc.dim(printable(` ${m.appliedAt.slice(0, 16).replace('T', ' ')} by ${m.appliedBy}`)) : '';
      process.stdout.write(`  ${STATE_MARK[m.state] ?? ' '} ${printable(m.migration)} ${m.state === 'applied' ? '' : pc.bold(m.state)}${when}\n`);
    }
    for (const h of s.hints) process.stdout.write(`  ${pc.yellow('→')} ${printable(h)}\n`);
  }
  // Status reports; it fails only when something needs a person (drift, failed, missing, out of order).
  process.exitCode = problems > 0 ? 1 : 0;
}

export async function runStamp(flags: GlobalOptions & { service: string; to: string; lockTimeout?: number }): Promise<void> {
  const { stamp } = await import('../api/migrate.js');
  const result = await stamp({ ...commonOptions(flags), service: flags.service, to: flags.to });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags);
  }
  if (!result.error) {
    if (!result.added.length && !result.removed.length) process.stdout.write(`${printable(`The ledger of ${flags.service} already stands at ${flags.to}.`)}\n`);
    for (const id of result.added) process.stdout.write(`${pc.green('stamped ')} ${printable(id)}\n`);
    for (const id of result.removed) process.stdout.write(`${pc.yellow('unstamped')} ${printable(id)}\n`);
  }
  finish(result.error, flags);
}
