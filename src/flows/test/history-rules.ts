/**
 * Check (a): the doctor's file rules (check core, no database) over the tested services. Each error is a
 * failing finding; a service with one is not run on the shadow (its history is not what `up` would run).
 */
import { check } from '../../check/run.js';
import type { Scope } from '../../target/target.js';
import type { TestFinding } from './index.js';

export async function checkHistoryRules(scope: Scope, services: readonly string[]): Promise<TestFinding[]> {
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
        ...(d.line ? { line: d.line } : {}),
      });
    }
    if (errors.length === 0) findings.push({ check: 'history-rules', service, status: 'pass', message: `${service}'s files pass the doctor's rules` });
  }
  return findings;
}
