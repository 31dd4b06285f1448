/**
 * The core of `tidemark test`: proves a workspace's migrations on a shadow database before they reach one
 * that matters. (a) the doctor's file rules (history-rules.ts); (b) the stairway, up/down/up of every
 * migration (stairway.ts); (d) isolation, each service with only its `requires` closure (isolation.ts:
 * the stairway's walk is that closure, so it costs nothing more unless a walk stops early); (e) order
 * independence (order.ts); (c) the full replay equals the configured desired schema (desired.ts); (f) data
 * survival: fixtures' rows given back by every later down (data.ts, inside the stairway's walk). One shadow
 * for the whole run, emptied between services (db/shadow-empty.ts).
 */
import { readHistories } from '../../apply/migrate.js';
import { selectServices } from '../../config/select.js';
import { withRequiredServices } from '../../config/services.js';
import type { Workspace } from '../../config/types.js';
import type { Database, Session } from '../../db/database.js';
import { baseline, emptyAgain } from '../../db/shadow-empty.js';
import type { History } from '../../history/migration.js';
import type { Target } from '../../target/target.js';
import { type BackupFixtures, findFixtures, readBackupFixtures, restoreBackupFixtures } from './data.js';
import { checkDesiredSchema } from './desired.js';
import { checkHistoryRules } from './history-rules.js';
import { checkIsolation } from './isolation.js';
import { checkOrders } from './order.js';
import { walkService } from './stairway.js';

export type TestCheck = 'history-rules' | 'stairway' | 'replay-equals-schema' | 'isolation' | 'order' | 'data' | 'no-down';

export interface TestFinding {
  check: TestCheck;
  service: string;
  migration?: string;
  status: 'pass' | 'fail' | 'reported';
  message: string;
  hint?: string;
  file?: string;
  line?: number;
}

export interface TestReport {
  ok: boolean;
  findings: TestFinding[];
  /** The shadow database the checks ran on, in words ('' when none was needed). */
  shadow: string;
  ms: number;
}

export interface TestOptions {
  /** Only these services (default: every tidemark service of the target). */
  service?: string[];
  /** A migration without a down section fails instead of being reported. */
  requireDown?: boolean;
  /** An empty database to run on (`--shadow URL`); default the shadow policy's (same server, else PGlite). */
  shadow?: string;
  /** A backup directory (`tidemark backup`, relative to the cwd) whose rows are data fixtures (`--fixtures DIR`). */
  fixtures?: string;
}

/** What the checks on the shadow share. */
export interface TestContext {
  workspace: Workspace;
  histories: readonly History[];
  requireDown: boolean;
  /** Fixture files (tests/<service>/…) by the migration id they follow. */
  fixtures: ReadonlyMap<string, readonly string[]>;
  /** `--fixtures DIR`, and how to restore it into the shadow for the services of a walk. */
  backup?: { fixtures: BackupFixtures; restore: (db: Database, services: readonly string[]) => Promise<string | undefined> };
}

/**
 * Runs the checks over the selected services; throws only for a bad selection (`unknown-service`,
 * `alembic-service`) or a `fixtures` backup that does not verify (restore's codes: backup-not-found, backup-corrupt, …).
 */
export async function testMigrations(target: Target<Session>, options: TestOptions = {}): Promise<TestReport> {
  const started = performance.now();
  const { workspace } = target;
  const services = (options.service ? selectServices(workspace, options.service) : target.services.filter((s) => s.format === 'tidemark')).map((s) => s.name);
  const histories = await readHistories(workspace, []);
  const findings = await checkHistoryRules(target, services, histories);
  // A required service's fixtures are loaded in the walks that apply it too.
  const fixtures = await findFixtures(workspace.root, withRequiredServices(workspace, services), histories);
  findings.push(...fixtures.findings);
  const backup = options.fixtures === undefined ? undefined : await readBackupFixtures(target.paths.fromUser(options.fixtures));
  // A history with file problems (two files with one number, a bad directive) is not what `up` would run:
  // that service, and those requiring it, stay off the shadow. Other rule errors (a missing sum) do not stop it.
  const unreadable = new Set(histories.filter((h) => h.problems.some((p) => p.severity === 'error')).map((h) => h.service));
  const runnable = services.filter((s) => !withRequiredServices(workspace, [s]).some((r) => unreadable.has(r)));
  for (const s of services) {
    if (!runnable.includes(s))
      findings.push({
        check: 'stairway',
        service: s,
        status: 'reported',
        message: `${s} was not run: ${unreadable.has(s) ? 'its' : 'a required service’s'} migration files have problems (see history-rules)`,
      });
  }
  let shadowName = '';
  if (runnable.length > 0) {
    const ctx: TestContext = {
      workspace,
      histories,
      requireDown: options.requireDown ?? false,
      fixtures: fixtures.byMigration,
      ...(backup ? { backup: { fixtures: backup, restore: (db: Database, on: readonly string[]) => restoreBackupFixtures(target, db, backup, on) } } : {}),
    };
    const shadow = await target.openShadow(options.shadow === undefined ? {} : { url: options.shadow });
    shadowName = shadow.description;
    try {
      const db = shadow.database;
      const empty = await baseline(db);
      let dirty = false;
      const fresh = async () => {
        if (dirty) await emptyAgain(db, empty);
        dirty = true;
      };
      const standing: string[] = [];
      for (const service of runnable) {
        await fresh();
        const walk = await walkService(ctx, service, db);
        findings.push(...walk.findings);
        let isolated = walk.isolation === 'pass';
        if (walk.isolation === 'pass') {
          findings.push({ check: 'isolation', service, status: 'pass', message: `${service} applies with only the services it requires` });
        } else if (walk.isolation === 'unknown') {
          await fresh();
          const finding = await checkIsolation(workspace, histories, service, db);
          findings.push(finding);
          isolated = finding.status === 'pass';
        }
        if (isolated) standing.push(service);
        const config = workspace.services.find((s) => s.name === service)!;
        if (config.schema && walk.replayed) findings.push(...(await checkDesiredSchema(target, config, walk.replayed, shadow, fresh)));
        else if (config.schema)
          findings.push({ check: 'replay-equals-schema', service, status: 'reported', message: `${service}'s history was not compared with its desired schema: the stairway stopped before the end` });
      }
      // Orders of everything those services stand on: a required service is part of each order.
      const ordered = withRequiredServices(workspace, standing);
      if (ordered.length > 1) findings.push(...(await checkOrders(workspace, histories, ordered, db, fresh)));
    } finally {
      await shadow.dispose();
    }
  }
  return { ok: !findings.some((f) => f.status === 'fail'), findings, shadow: shadowName, ms: Math.round(performance.now() - started) };
}
