/**
 * Check (a): the doctor's file rules (check core, no database) over the tested services. Each error is a
 * failing finding; a service with one is not run on the shadow (its history is not what `up` would run).
 */
import { check } from '../../check/run.js';
import type { History } from '../../history/migration.js';
import type { Scope } from '../../target/target.js';
import type { TestFinding } from './index.js';

/** `histories` name the migration a diagnostic's file is, so its line in the report shows the failure. */
export async function checkHistoryRules(scope: Scope, services: readonly string[], histories: readonly History[]): Promise<TestFinding[]> {
  const idOf = new Map(histories.flatMap((h) => h.migrations.map((m) => [m.file, m.id] as const)));
  const report = await check({ workspace: scope.workspace, services: scope.services, paths: scope.paths }, { service: [...services] });
  if (report.error) return services.map((service) => ({ check: 'history-rules', service, status: 'fail', message: report.error!.message, hint: report.error!.hint }));
  const findings: TestFinding[] = [];
  for (const service of services) {
    const errors = report.diagnostics.filter((d) => d.severity === 'error' && d.service === service);
    for (const d of errors) {
      findings.push({
        check: 'history-rules',
        service,
        status: 'fail',
        message: `${d.rule}: ${d.message}`,
        ...(d.hint ? { hint: d.hint } : {}),
        ...(d.file ? { file: d.file } : {}),
        ...(d.file && idOf.has(d.file) ? { migration: idOf.get(d.file) } : {}),
        ...(d.line ? { line: d.line } : {}),
      });
    }
    if (errors.length === 0) findings.push({ check: 'history-rules', service, status: 'pass', message: `${service}'s files pass the doctor's rules` });
  }
  return findings;
}
