import type { Diagnostic } from '../diagnostic.js';
import { TidemarkError } from '../errors.js';
import type { History, MigrationFile } from '../history/migration.js';
import type { LedgerRow } from '../ledger/ledger.js';
import { diagnoseLedger, type MigrationDiagnosis } from '../ledger/diagnose.js';
import { resolveMigration } from '../history/resolve.js';
import { compareMigrationNumbers, formatMigrationNumber } from '../history/tidemark-source.js';

export { resolveMigration };

/** Sentinel target of `down --to base`: revert everything (Kysely's NO_MIGRATIONS). */
export const BASE = 'base';

export type Direction = 'up' | 'down';

export interface PlanStep {
  service: string;
  migration: MigrationFile;
  direction: Direction;
  transactional: boolean;
  /**
   * Down through a squash applied by the rows of what it squashes (a database migrated before the squash):
   * those ids' rows, removed with the squash's own in its one transaction.
   */
  squashedRows?: string[];
}

/** What up/down would do. Pure data: the executor runs it, `--dry-run` prints it. */
export interface Plan {
  direction: Direction;
  steps: PlanStep[];
  warnings: Diagnostic[];
}

export interface PlanUpInput {
  /** Every service of the workspace: requirements resolve across all of them. */
  histories: readonly History[];
  ledger: readonly LedgerRow[];
  /** Services to migrate, in declaration order. */
  services: readonly string[];
  /** The config's `requires` per service. */
  declaredRequires: Readonly<Record<string, readonly string[]>>;
  /** Apply up to and including this migration (full id or `<service>_<NNN>`). */
  to?: string;
}

export interface PlanDownInput {
  histories: readonly History[];
  ledger: readonly LedgerRow[];
  service: string;
  /** Revert every migration above this one; BASE reverts all. */
  to?: string;
  /** Or revert this many, newest first. */
  steps?: number;
}

const NUMBER_OF_ID = /_(\d+)(?:_|$)/;

/** The service a migration id belongs to: the longest service name that prefixes `<name>_<digits>`. */
function numberOfId(service: string, id: string): bigint | undefined {
  const m = NUMBER_OF_ID.exec(id.slice(service.length));
  return m ? BigInt(m[1]) : undefined;
}

function rowsByService(ledger: readonly LedgerRow[], service: string): Map<string, LedgerRow> {
  return new Map(ledger.filter((r) => r.service === service).map((r) => [r.migration, r]));
}

/** Static checks of `-- tidemark:requires`: it names an existing migration of a declared required service. */
function checkRequirements(histories: readonly History[], service: string, declaredRequires: Readonly<Record<string, readonly string[]>>): Map<MigrationFile, MigrationFile[]> {
  const resolved = new Map<MigrationFile, MigrationFile[]>();
  const history = histories.find((h) => h.service === service);
  for (const m of history?.migrations ?? []) {
    const list: MigrationFile[] = [];
    for (const req of m.requires) {
      const target = resolveMigration(histories, req.ref);
      const where = { kind: 'input' as const, file: m.file, line: req.line, service, migration: m.id };
      if (!target) {
        throw new TidemarkError('unknown-requirement', `${m.file}:${req.line}: ${m.id} requires ${req.ref}, which no service of this workspace has.`, {
          ...where,
          hint: 'Check the id (e.g. `user_003_add_role`) and that its service is in the config.',
        });
      }
      if (target.service === service) {
        throw new TidemarkError('bad-requirement', `${m.file}:${req.line}: ${m.id} requires ${target.id} of its own service.`, {
          ...where,
          hint: 'Within a service the number gives the order; remove the directive.',
        });
      }
      if (!(declaredRequires[service] ?? []).includes(target.service)) {
        throw new TidemarkError('undeclared-requirement', `${m.file}:${req.line}: ${m.id} requires ${target.id}, but service ${service} does not list ${target.service} in \`requires\`.`, {
          ...where,
          hint: `Add '${target.service}' to services.${service}.requires in the config, or remove the directive.`,
        });
      }
      list.push(target);
    }
    resolved.set(m, list);
  }
  return resolved;
}

/**
 * Computes the migrations `up` applies, in an order that honours each service's numbers and every
 * cross-service requirement. Refuses (throws a TidemarkError) on edited applied files, failed
 * migrations, a lower number added after a higher one was applied, or an unmet requirement.
 */
export function planUp(input: PlanUpInput): Plan {
  const { histories, ledger, declaredRequires } = input;
  const allServices = histories.map((h) => h.service);
  let scope = [...input.services];
  let target: MigrationFile | undefined;
  if (input.to !== undefined) {
    target = resolveMigration(histories, input.to);
    if (!target) {
      throw new TidemarkError('unknown-target', `No migration ${input.to} in ${scope.join(', ')}.`, {
        kind: 'usage',
        hint: 'Give a migration id as `tidemark status` lists it, e.g. user_003_add_role or user_003.',
      });
    }
    if (!scope.includes(target.service)) {
      throw new TidemarkError('unknown-target', `${target.id} belongs to ${target.service}, not to ${scope.join(', ')}.`, { kind: 'usage' });
    }
    scope = [target.service];
  }

  const warnings: Diagnostic[] = [];
  const pendingByService = new Map<string, MigrationFile[]>();
  const requirementsOf = new Map<MigrationFile, MigrationFile[]>();
  for (const service of scope) {
    const history = histories.find((h) => h.service === service);
    if (!history) throw new TidemarkError('unknown-service', `No service ${service}.`, { kind: 'usage' });
    for (const [m, reqs] of checkRequirements(histories, service, declaredRequires)) requirementsOf.set(m, reqs);
    const diagnosis = diagnoseLedger(history, ledger);
    for (const d of diagnosis.recorded) {
      if (d.state === 'squashed') continue; // applied, and replaced by a squash of the directory
      if (d.state === 'missing-file') {
        warnings.push({
          rule: 'applied-missing',
          severity: 'warning',
          service,
          message: `${d.id} is applied in the database but its file is not in ${service}'s migrations directory.`,
          hint: 'Restore the file from version control, or deploy the code that has it.',
        });
        continue;
      }
      const m = d.file;
      if (d.state === 'failed') {
        throw new TidemarkError('failed-migration', `${m.id} failed on an earlier run and was left half-applied (it runs outside a transaction).`, {
          file: m.file,
          service,
          migration: m.id,
          hint:
            `Fix the database by hand, then run \`tidemark stamp --service ${service} --to ${m.id}\` to record it as applied, ` +
            `or undo what it did and run \`tidemark stamp --service ${service} --to ${previousId(history, m)}\` so the next up retries it.`,
        });
      }
      if (d.state === 'drift') {
        throw new TidemarkError('checksum-drift', `${m.file} was edited after it was applied (checksum differs from the ledger).`, {
          kind: 'input',
          file: m.file,
          service,
          migration: m.id,
          hint: 'Restore the file as it was applied and put the change in a new migration (`tidemark new`).',
        });
      }
    }
    const partial = diagnosis.migrations.find((d) => d.state === 'partial');
    if (partial?.file) {
      const { applied, missing } = partial.squash!;
      throw new TidemarkError('squash-partially-applied', `${partial.id} squashes migrations of which this database applied only part: ${applied.join(', ')} applied, ${missing.join(', ')} not.`, {
        file: partial.file.file,
        service,
        migration: partial.id,
        hint: `Apply the rest with the history before the squash (the files in ${service}'s squashed/ folder, back in place), then this database takes ${partial.id} as applied.`,
      });
    }
    // A squash applied through the rows of what it squashes has no row of its own but is not pending.
    const pending = diagnosis.migrations.filter((d) => d.state === 'pending' || d.state === 'out-of-order').map((d) => d.file as MigrationFile);
    const late = diagnosis.migrations.filter((d) => d.state === 'out-of-order').map((d) => d.file as MigrationFile);
    const highestApplied = diagnosis.highestApplied;
    if (late.length > 0) {
      throw new TidemarkError('pending-before-applied', `${late[0].id} is not applied but ${highestApplied!.id}, a later number, already is.`, {
        kind: 'input',
        file: late[0].file,
        service,
        migration: late[0].id,
        hint: `Renumber ${late[0].id} above ${formatMigrationNumber(highestApplied!.number)} (\`tidemark renumber --service ${service}\`) so the order in every database stays the same.`,
      });
    }
    pendingByService.set(service, target && target.service === service ? pending.filter((m) => m.number <= target!.number) : pending);
  }

  // Order: repeatedly take the next migration of the first service whose requirements are met.
  const applied = new Set(ledger.filter((r) => r.status === 'applied').map((r) => `${r.service}\u0000${r.migration}`));
  const isDone = (m: MigrationFile) => applied.has(`${m.service}\u0000${m.id}`);
  const inPlan = new Set<MigrationFile>();
  for (const list of pendingByService.values()) list.forEach((m) => inPlan.add(m));
  for (const m of inPlan) {
    for (const req of requirementsOf.get(m) ?? []) {
      if (!isDone(req) && !inPlan.has(req)) {
        throw new TidemarkError('requirement-not-applied', `${m.id} requires ${req.id}, which is not applied${scope.includes(req.service) ? ' and not part of this run' : ''}.`, {
          file: m.file,
          service: m.service,
          migration: m.id,
          hint: `Apply it first: \`tidemark up --service ${req.service}${scope.includes(req.service) ? ` --to ${req.id}` : ''}\`, or run \`tidemark up\` for all services.`,
        });
      }
    }
  }
  const placed = new Set<MigrationFile>();
  const cursors = new Map(scope.map((s) => [s, 0]));
  const steps: PlanStep[] = [];
  while (steps.length < inPlan.size) {
    let progressed = false;
    for (const service of allServices.filter((s) => scope.includes(s))) {
      const list = pendingByService.get(service) ?? [];
      const i = cursors.get(service)!;
      const next = list[i];
      if (!next) continue;
      if ((requirementsOf.get(next) ?? []).every((r) => isDone(r) || placed.has(r))) {
        steps.push({ service, migration: next, direction: 'up', transactional: next.transactional });
        placed.add(next);
        cursors.set(service, i + 1);
        progressed = true;
        break;
      }
    }
    if (!progressed) {
      const stuck = scope.map((s) => (pendingByService.get(s) ?? [])[cursors.get(s)!]).filter(Boolean) as MigrationFile[];
      throw new TidemarkError('requirement-cycle', `Requirements form a cycle between ${stuck.map((m) => m.id).join(', ')}.`, {
        kind: 'input',
        file: stuck[0]?.file,
        hint: 'Remove one of the `-- tidemark:requires` directives so the services can be ordered.',
      });
    }
  }
  return { direction: 'up', steps, warnings };
}

function previousId(history: History, m: MigrationFile): string {
  const before = history.migrations.filter((x) => x.number < m.number);
  return before.length ? before[before.length - 1].id : BASE;
}

/**
 * Computes what `down` reverts, newest first. Refuses when a migration to revert has no down
 * section, its file is gone or edited, or an applied migration of another service requires it.
 */
export function planDown(input: PlanDownInput): Plan {
  const { histories, ledger, service } = input;
  const history = histories.find((h) => h.service === service);
  if (!history) throw new TidemarkError('unknown-service', `No service ${service}.`, { kind: 'usage' });
  if ((input.to === undefined) === (input.steps === undefined)) {
    throw new TidemarkError('bad-usage', 'down needs exactly one of --to <id|base> or --steps <n>.', { kind: 'usage' });
  }
  const diagnosis = diagnoseLedger(history, ledger);
  // A squash counts as one migration to revert, whether its own row or the rows of the ids it squashes
  // (a database migrated before the squash) say it is applied: those rows are grouped under it.
  type Unit = { d: (typeof diagnosis.recorded)[number]; number: bigint; squashedRows: string[] };
  const units: Unit[] = [];
  const unitOfSquash = new Map<MigrationFile, Unit>();
  for (const d of diagnosis.recorded) {
    const squash = d.state === 'squashed' ? d.by : d.file?.squashes ? d.file : undefined;
    const existing = squash ? unitOfSquash.get(squash) : undefined;
    if (existing) {
      if (d.state === 'squashed') existing.squashedRows.push(d.id);
      else existing.d = d;
      continue;
    }
    const unit: Unit = { d, number: squash?.number ?? d.file?.number ?? numberOfId(service, d.id) ?? 0n, squashedRows: d.state === 'squashed' ? [d.id] : [] };
    if (squash) unitOfSquash.set(squash, unit);
    units.push(unit);
  }
  const numbered = units.sort((a, b) => compareMigrationNumbers(b.number, a.number));

  let chosen: typeof numbered;
  if (input.steps !== undefined) {
    if (!Number.isInteger(input.steps) || input.steps < 1) {
      throw new TidemarkError('bad-usage', `--steps must be a positive integer, not ${input.steps}.`, { kind: 'usage' });
    }
    if (input.steps > numbered.length && numbered.length > 0) {
      throw new TidemarkError(
        'too-few-applied',
        `--steps ${input.steps} asks for ${input.steps} migrations of ${service}, but only ${numbered.length} ${numbered.length === 1 ? 'is' : 'are'} applied; nothing was reverted.`,
        { kind: 'usage', service, hint: `Give --steps ${numbered.length} or --to base.` },
      );
    }
    chosen = numbered.slice(0, input.steps);
  } else if (input.to === BASE) {
    chosen = numbered;
  } else {
    const target = resolveMigration(histories, input.to!);
    const squashing = target ? undefined : history.migrations.find((m) => m.squashes?.some((id) => id === input.to || id.startsWith(`${input.to}_`)));
    if (squashing) {
      // Its schema exists only as part of the squash: reverting to it would need the squash undone in part.
      throw new TidemarkError('unknown-target', `Cannot revert to ${input.to}: ${squashing.id} squashes it, and a squash is reverted whole.`, {
        kind: 'usage',
        service,
        hint: `Revert to ${squashing.id}, or below every id it squashes (\`base\` or the migration before them).`,
      });
    }
    if (!target || target.service !== service) {
      throw new TidemarkError('unknown-target', `No migration ${input.to} in service ${service}.`, {
        kind: 'usage',
        hint: `Give a migration id of ${service} as \`tidemark status\` lists it, or \`base\` to revert everything.`,
      });
    }
    chosen = numbered.filter((x) => x.number > target.number);
  }

  if (chosen.length === 0) {
    // Like Alembic's `downgrade -1` at base: asking to revert what is not there is a mistake, not a no-op.
    throw new TidemarkError(
      'nothing-to-revert',
      numbered.length === 0 ? `Nothing to revert: no migration of ${service} is applied.` : `Nothing to revert: no migration of ${service} above ${input.to} is applied.`,
      { kind: 'usage', service, hint: 'See `tidemark status` for what is applied.' },
    );
  }
  const reverting = new Set(chosen.flatMap((x) => [x.d.id, ...x.squashedRows]));
  const steps: PlanStep[] = [];
  for (const unit of chosen) {
    // A squash applied through the rows of what it squashes: its file is the one to revert.
    const by = unit.d.state === 'squashed' ? unit.d.by : undefined;
    // diagnoseLedger gives every file of the history a diagnosis, the squash's too.
    const d: MigrationDiagnosis = by ? diagnosis.migrations.find((x) => x.file === by)! : (unit.d as MigrationDiagnosis);
    if (d.state === 'partial') {
      const { applied, missing } = d.squash!;
      throw new TidemarkError(
        'squash-partially-applied',
        `${d.id} squashes migrations of which this database applied only part: ${applied.join(', ')} applied, ${missing.join(', ')} not; its down would drop what was never created.`,
        {
          file: d.file.file,
          service,
          migration: d.id,
          hint: `Put the files of ${service}'s squashed/ folder back in place and revert them one by one.`,
        },
      );
    }
    if (d.state === 'missing-file') {
      throw new TidemarkError('applied-missing', `Cannot revert ${d.id}: its file is not in ${service}'s migrations directory.`, {
        kind: 'input',
        service,
        migration: d.id,
        hint: 'Restore the file from version control first.',
      });
    }
    const m = d.file;
    if (d.state === 'drift') {
      throw new TidemarkError('checksum-drift', `${m.file} was edited after it was applied; its down section may not undo what ran.`, {
        kind: 'input',
        file: m.file,
        service,
        migration: m.id,
        hint: 'Restore the file as it was applied before reverting it.',
      });
    }
    if (m.kind === 'sql' && !m.down) {
      throw new TidemarkError('no-down-section', `${m.file} has no \`-- tidemark:down\` section, so ${m.id} cannot be reverted.`, {
        kind: 'input',
        file: m.file,
        service,
        migration: m.id,
        hint: 'Add a down section, or revert by hand and use `tidemark stamp`.',
      });
    }
    steps.push({ service, migration: m, direction: 'down', transactional: m.transactional, ...(unit.squashedRows.length > 0 ? { squashedRows: unit.squashedRows } : {}) });
  }

  // An applied migration of another service that requires one we revert would lose its ground.
  for (const other of histories) {
    if (other.service === service) continue;
    const applied = rowsByService(ledger, other.service);
    for (const m of other.migrations) {
      if (!applied.has(m.id)) continue;
      for (const req of m.requires) {
        const target = resolveMigration(histories, req.ref);
        if (target && target.service === service && reverting.has(target.id)) {
          throw new TidemarkError('required-by-applied', `Cannot revert ${target.id}: ${m.id} of ${other.service} requires it and is applied.`, {
            service,
            migration: target.id,
            file: m.file,
            hint: `Revert ${m.id} first (\`tidemark down --service ${other.service} --to …\`).`,
          });
        }
      }
    }
  }
  return { direction: 'down', steps, warnings: [] };
}
