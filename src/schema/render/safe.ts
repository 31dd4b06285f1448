/**
 * Safe forms (issue 13, docs/plan-issue-13.md §2.3): a pass over renderChanges' plain statements that
 * rewrites what would hold an ACCESS EXCLUSIVE lock through a scan of a table with rows (only tables in
 * `ctx.existingTables`; a new table keeps the plain form), or of every column of a domain given a new
 * CHECK. Pure. Matching is on the Changes a statement implements, and on its leading SQL words only to
 * tell the ADD from the DROP of a replaced object.
 *
 * Each file's down restores exactly the state before that file (`tidemark test` runs every file's
 * up, down, up): the validate file's down re-adds a constraint NOT VALID, or re-creates the index a
 * PRIMARY KEY / UNIQUE took over, so the files before it find what they left.
 */
import { fittedName, ident, nameKey, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import type { ConstraintInfo } from '../snapshot.js';
import type { HazardNote, RenderContext, RenderedChanges, Statement } from './statement.js';

/** What a transformed up statement leaves for the down side. */
interface DownPlan {
  change: Change;
  /** Rewrites one matching down statement (the inverse change's): its replacement(s), maybe none. */
  rewrite: (d: Statement) => Statement[];
  /** Reverses this change's validate-phase statements; runs first in the down. */
  validateDown: Statement[];
}

export function safeForms(r: RenderedChanges, ctx: RenderContext): RenderedChanges {
  const up: Statement[] = [];
  const plans: DownPlan[] = [];
  const lifted: HazardNote[] = [];
  for (const s of r.up) {
    const c = s.changes.length === 1 ? s.changes[0] : undefined;
    const table = c?.id.table;
    // A domain's CHECK is added to a domain that exists (a new one has it inside CREATE DOMAIN).
    const exists = c?.id.parent === 'domain' || (table !== undefined && ctx.existingTables.has(nameKey({ schema: c?.id.schema ?? '', name: table })));
    const result = c && exists ? safeStatement(s, c) : undefined;
    if (!result) {
      up.push(s);
      continue;
    }
    up.push(...result.up);
    if (result.plan) plans.push(result.plan);
    // The safe form does not hold the lock through the scan: its `blocks-writes` note no longer applies.
    lifted.push(...s.hazards.filter((h) => h.hazard === 'blocks-writes'));
  }
  const down: Statement[] = [];
  for (const d of r.down) {
    // A replaced index has two plans (its old one dropped, its new one built): each rewrites its own statements.
    const mine = plans.filter((p) => d.changes.some((dc) => inverseOf(p.change, dc)));
    down.push(...mine.reduce((list, p) => list.flatMap(p.rewrite), [d]));
  }
  // The validate file runs last, so its down runs first, its statements reversed.
  const validateDown = [...plans].reverse().flatMap((p) => p.validateDown);
  return { ...r, up, down: [...validateDown, ...down], hazards: r.hazards.filter((h) => !lifted.includes(h)) };
}

/** Whether `d` (a change of diff(to, from)) undoes `c` (a change of diff(from, to)). */
function inverseOf(c: Change, d: Change): boolean {
  const a = c.id;
  const b = d.id;
  if (a.kind !== b.kind || a.schema !== b.schema || a.table !== b.table || a.name !== b.name) return false;
  if (c.op === 'alter') return d.op === 'alter' && d.attribute === c.attribute;
  return d.op === (c.op === 'add' ? 'drop' : 'add');
}

const withoutHazard = (s: Statement, hazard: string): HazardNote[] => s.hazards.filter((h) => h.hazard !== hazard);

function stmt(sql: string, phase: Statement['phase'], c: Change, hazards: readonly HazardNote[] = [], concurrently = false): Statement {
  return { sql, phase, changes: [c], hazards, ...(concurrently ? { concurrently } : {}) };
}

function safeStatement(s: Statement, c: Change): { up: Statement[]; plan?: DownPlan } | undefined {
  if (c.id.kind === 'constraint' && c.id.parent === 'domain') return c.op === 'drop' ? undefined : safeDomainCheck(s, c);
  if (c.id.kind === 'index' && c.id.parent === undefined && DROP_INDEX.test(s.sql) && (c.op === 'drop' || (c.op === 'alter' && c.attribute === 'definition'))) {
    return concurrentIndexDrop(s, c);
  }
  if (c.id.kind === 'index' && (c.op === 'add' || (c.op === 'alter' && c.attribute === 'definition'))) return concurrentIndex(s, c);
  if (c.id.kind === 'constraint' && (c.op === 'add' || (c.op === 'alter' && c.attribute === 'definition'))) return safeConstraint(s, c);
  if (c.id.kind === 'column' && c.op === 'alter' && c.attribute === 'notNull' && c.after === true) return safeNotNull(s, c);
  return undefined;
}

const CREATE_INDEX = /^CREATE (UNIQUE )?INDEX /;
const DROP_INDEX = /^DROP INDEX /;
const COMMENT_ON_INDEX = /^COMMENT ON INDEX /;

/**
 * An index dropped from a table that exists (or replaced by one of another definition): DROP INDEX
 * CONCURRENTLY in its own file BEFORE the main file (which may drop the columns it reads), so the down
 * of that file, run after the main file's down put them back, builds it again CONCURRENTLY.
 */
function concurrentIndexDrop(s: Statement, c: Change) {
  const sql = s.sql.replace(DROP_INDEX, 'DROP INDEX CONCURRENTLY IF EXISTS ');
  const plan: DownPlan = {
    change: c,
    rewrite: (d) => {
      if (CREATE_INDEX.test(d.sql)) {
        return [{ ...d, sql: d.sql.replace(CREATE_INDEX, (_m, unique: string | undefined) => `CREATE ${unique ?? ''}INDEX CONCURRENTLY `), phase: 'drop-concurrent', concurrently: true }];
      }
      // Its comment is put back in the same file, after the build.
      return COMMENT_ON_INDEX.test(d.sql) ? [{ ...d, phase: 'drop-concurrent' }] : [d];
    },
    validateDown: [],
  };
  return { up: [stmt(sql, 'drop-concurrent', c, s.hazards, true)], plan };
}

function concurrentIndex(s: Statement, c: Change) {
  // Its comment goes with it into the index's own file, after the build (the main file runs before it).
  if (COMMENT_ON_INDEX.test(s.sql)) return { up: [{ ...s, phase: 'concurrent' as const }] };
  if (!CREATE_INDEX.test(s.sql)) return undefined;
  const sql = s.sql.replace(CREATE_INDEX, (_m, unique: string | undefined) => `CREATE ${unique ?? ''}INDEX CONCURRENTLY `);
  const plan: DownPlan = {
    change: c,
    // The DROP of the new index leaves the transaction too; IF EXISTS, as a later file's down may have dropped it.
    rewrite: (d) => (d.sql.startsWith('DROP INDEX ') ? [{ ...d, sql: d.sql.replace(/^DROP INDEX /, 'DROP INDEX CONCURRENTLY IF EXISTS '), phase: 'concurrent', concurrently: true }] : [d]),
    validateDown: [],
  };
  return { up: [stmt(sql, 'concurrent', c, withoutHazard(s, 'blocks-writes'), true)], plan };
}

/** `PRIMARY KEY (id)`, `UNIQUE NULLS NOT DISTINCT (a, b) INCLUDE (c) WITH (fillfactor='70') DEFERRABLE`. */
const KEY_DEFINITION = /^(PRIMARY KEY|UNIQUE)( NULLS NOT DISTINCT)? \(([^()]*)\)( INCLUDE \([^()]*\))?( WITH \([^()]*\))?( DEFERRABLE(?: INITIALLY (?:DEFERRED|IMMEDIATE))?)?$/;

function safeConstraint(s: Statement, c: Change) {
  if (!s.sql.includes(' ADD CONSTRAINT ')) return undefined;
  const definition = c.op === 'add' ? (c.after as ConstraintInfo).definition : String(c.op === 'alter' ? c.after : '');
  const table = `ALTER TABLE ${qualified({ schema: c.id.schema, name: c.id.table ?? '' })}`;
  const name = ident(c.id.name);
  const isDrop = (d: Statement) => d.sql.startsWith(`${table} DROP CONSTRAINT `);
  if (/^(CHECK|FOREIGN KEY) /.test(definition) && !definition.endsWith(' NOT VALID')) {
    const plan: DownPlan = {
      change: c,
      rewrite: (d) => [d],
      // Back to the NOT VALID constraint the main file added (the main file's down then drops it).
      validateDown: [stmt(`${table} DROP CONSTRAINT ${name};`, 'validate', c), stmt(`${table} ADD CONSTRAINT ${name} ${definition} NOT VALID;`, 'validate', c)],
    };
    return {
      up: [{ ...s, sql: `${s.sql.replace(/;$/, '')} NOT VALID;`, hazards: withoutHazard(s, 'blocks-writes') }, stmt(`${table} VALIDATE CONSTRAINT ${name};`, 'validate', c)],
      plan,
    };
  }
  const key = KEY_DEFINITION.exec(definition);
  if (!key) return undefined;
  const [, kind, nullsNotDistinct = '', columns, include = '', withOptions = '', deferrable = ''] = key;
  const index = `UNIQUE INDEX ${name} ON ${qualified({ schema: c.id.schema, name: c.id.table ?? '' })} (${columns})${include}${nullsNotDistinct}${withOptions};`;
  const plan: DownPlan = {
    change: c,
    // The validate file's down drops the constraint (and its index) and builds the index back; the
    // main file's DROP CONSTRAINT would then find nothing, so it goes; a replaced key's old ADD stays.
    rewrite: (d) => (isDrop(d) ? [stmt(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified({ schema: c.id.schema, name: c.id.name })};`, 'concurrent', d.changes[0], [], true)] : [d]),
    validateDown: [stmt(`${table} DROP CONSTRAINT ${name};`, 'validate', c), stmt(`CREATE ${index}`, 'validate', c)],
  };
  return {
    up: [
      stmt(`CREATE ${index.replace(/^UNIQUE INDEX /, 'UNIQUE INDEX CONCURRENTLY ')}`, 'concurrent', c, [], true),
      stmt(`${table} ADD CONSTRAINT ${name} ${kind} USING INDEX ${name}${deferrable};`, 'validate', c, withoutHazard(s, 'blocks-writes')),
    ],
    plan,
  };
}

/**
 * A CHECK added to a domain checks every column of that domain under lock: NOT VALID in the main file
 * (new rows are checked at once), VALIDATE in the validate file. Its down goes back to NOT VALID, as a
 * table's CHECK does (pg_get_constraintdef writes ` NOT VALID` for a domain's too, so the snapshots see it).
 */
function safeDomainCheck(s: Statement, c: Change) {
  if (!s.sql.includes(' ADD CONSTRAINT ')) return undefined;
  const definition = c.op === 'add' ? (c.after as { definition: string }).definition : String(c.op === 'alter' ? c.after : '');
  if (!definition.startsWith('CHECK ') || definition.endsWith(' NOT VALID')) return undefined;
  const domain = `ALTER DOMAIN ${qualified({ schema: c.id.schema, name: c.id.table ?? '' })}`;
  const name = ident(c.id.name);
  const plan: DownPlan = {
    change: c,
    rewrite: (d) => [d],
    validateDown: [stmt(`${domain} DROP CONSTRAINT ${name};`, 'validate', c), stmt(`${domain} ADD CONSTRAINT ${name} ${definition} NOT VALID;`, 'validate', c)],
  };
  return { up: [{ ...s, sql: `${s.sql.replace(/;$/, '')} NOT VALID;` }, stmt(`${domain} VALIDATE CONSTRAINT ${name};`, 'validate', c)], plan };
}

/**
 * The temporary CHECK's name: not `<t>_<c>_not_null`, which PostgreSQL 18 gives the NOT NULL
 * constraint SET NOT NULL creates while the CHECK still exists.
 */
export function notNullCheckName(table: string, column: string): string {
  // Cut by PostgreSQL past 63 bytes, it could become that very name: fitted instead.
  return fittedName(`${table}_${column}`, '_not_null_check');
}

function safeNotNull(s: Statement, c: Change) {
  if (!/ SET NOT NULL;$/.test(s.sql)) return undefined;
  const table = `ALTER TABLE ${qualified({ schema: c.id.schema, name: c.id.table ?? '' })}`;
  const check = ident(notNullCheckName(c.id.table ?? '', c.id.name));
  const column = ident(c.id.name);
  const addCheck = `${table} ADD CONSTRAINT ${check} CHECK (${column} IS NOT NULL) NOT VALID;`;
  const plan: DownPlan = {
    change: c,
    // The main file's down drops the CHECK its up added; the validate file's down puts it back and drops NOT NULL.
    rewrite: (d) => [stmt(`${table} DROP CONSTRAINT ${check};`, 'main', d.changes[0])],
    validateDown: [stmt(addCheck, 'validate', c), stmt(`${table} ALTER COLUMN ${column} DROP NOT NULL;`, 'validate', c)],
  };
  return {
    up: [
      stmt(addCheck, 'main', c),
      stmt(`${table} VALIDATE CONSTRAINT ${check};`, 'validate', c),
      stmt(s.sql, 'validate', c, withoutHazard(s, 'blocks-writes')),
      stmt(`${table} DROP CONSTRAINT ${check};`, 'validate', c),
    ],
    plan,
  };
}
