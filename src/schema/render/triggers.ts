/**
 * The trigger and policy part of renderChanges (pure), ranked as tables.ts does: dropped at rank 1
 * (before the functions and columns they use go), created or altered at rank 7 (after the tables,
 * columns and late functions they name), comments last. What ALTER cannot say is dropped and created
 * again from `to`, with its enabled state and comment: a constraint trigger (no OR REPLACE form), a
 * policy that changes PERMISSIVE/RESTRICTIVE or its command, or loses its USING or WITH CHECK.
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { Change } from '../diff/change.js';
import { normalizeSql } from '../normalize.js';
import type { PolicyInfo, Snapshot, TriggerInfo } from '../snapshot.js';
import { policyStatement, triggerState, triggerStatements } from './objects.js';
import type { RankedSql, TableRendering } from './tables.js';

const RANK_DROP = [1, 2];
const RANK_CREATE = [7, 3];
const RANK_COMMENT = [7, 4];

const at = ([rank, sub]: number[], sql: string): RankedSql => ({ rank, sub, sql });
const commentSql = (target: string, comment: unknown) => `COMMENT ON ${target} IS ${typeof comment === 'string' ? literal(comment) : 'NULL'};`;

export function isTriggerOrPolicyChange(c: Change): boolean {
  return c.id.kind === 'trigger' || c.id.kind === 'policy';
}

function onTable<K extends 'triggers' | 'policies'>(s: Snapshot, c: Change, list: K) {
  const t = s.tables.find((x) => x.schema === c.id.schema && x.name === c.id.table);
  return (t?.[list] as (TriggerInfo | PolicyInfo)[] | undefined)?.find((x) => x.name === c.id.name);
}

export function renderTriggerOrPolicyChange(c: Change, from: Snapshot, to: Snapshot): TableRendering {
  const table = { schema: c.id.schema, name: c.id.table ?? '' };
  const what = `${c.id.kind === 'trigger' ? 'TRIGGER' : 'POLICY'} ${ident(c.id.name)} ON ${qualified(table)}`;
  const drop = at(RANK_DROP, `DROP ${what};`);
  const create = (x: TriggerInfo | PolicyInfo) => {
    const sql = c.id.kind === 'trigger' ? triggerStatements(table, x as TriggerInfo) : [policyStatement(table, x as PolicyInfo)];
    const out = sql.map((s) => at(RANK_CREATE, s));
    if (x.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(what, x.comment)));
    return out;
  };
  if (c.op === 'add') return { statements: create(c.after as TriggerInfo | PolicyInfo) };
  if (c.op === 'drop') return { statements: [drop] };
  const before = onTable(from, c, c.id.kind === 'trigger' ? 'triggers' : 'policies');
  const after = onTable(to, c, c.id.kind === 'trigger' ? 'triggers' : 'policies');
  if (!before || !after) return { statements: [], refused: `${c.id.kind} ${c.id.name} is not in both schemas` };
  const recreating = recreatedBy(c.id.kind, before, after);
  // One drop and create covers every attribute: the first one that differs writes it, the rest nothing.
  if (recreating !== undefined) return { statements: c.attribute === recreating ? [drop, ...create(after)] : [] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(what, c.after))] };
  const alterPolicy = `ALTER ${what}`;
  switch (c.attribute) {
    case 'definition': {
      const replace = at(
        RANK_CREATE,
        `${String(c.after)
          .trim()
          .replace(/;$/, '')
          .replace(/^CREATE TRIGGER /, 'CREATE OR REPLACE TRIGGER ')};`,
      );
      // OR REPLACE sets the trigger back to enabled: a state that is not changing is written again.
      const { enabled } = after as TriggerInfo;
      const keep = enabled !== 'O' && (before as TriggerInfo).enabled === enabled;
      return { statements: keep ? [replace, at(RANK_CREATE, `ALTER TABLE ${qualified(table)} ${triggerState(enabled)} ${ident(c.id.name)};`)] : [replace] };
    }
    case 'enabled':
      return { statements: [at(RANK_CREATE, `ALTER TABLE ${qualified(table)} ${triggerState(c.after as TriggerInfo['enabled'])} ${ident(c.id.name)};`)] };
    case 'roles':
      return { statements: [at(RANK_CREATE, `${alterPolicy} TO ${(c.after as string[]).join(', ')};`)] };
    case 'using':
      return { statements: [at(RANK_CREATE, `${alterPolicy} USING (${c.after});`)] };
    case 'withCheck':
      return { statements: [at(RANK_CREATE, `${alterPolicy} WITH CHECK (${c.after});`)] };
    default:
      return { statements: [], refused: `${c.id.kind} attribute ${c.attribute} is not rendered` };
  }
}

/** The attribute whose change writes the drop and create, when ALTER cannot do it; undefined when it can. */
function recreatedBy(kind: string, before: TriggerInfo | PolicyInfo, after: TriggerInfo | PolicyInfo): string | undefined {
  if (kind === 'trigger') {
    const b = before as TriggerInfo;
    const a = after as TriggerInfo;
    return normalizeSql(b.definition) !== normalizeSql(a.definition) && /^CREATE CONSTRAINT TRIGGER/.test(a.definition.trim()) ? 'definition' : undefined;
  }
  const b = before as PolicyInfo;
  const a = after as PolicyInfo;
  // Only what the diff compares exactly, or a side going absent: each is sure to be a Change of its own.
  if (b.permissive !== a.permissive) return 'permissive';
  if (b.command !== a.command) return 'command';
  if (b.using !== undefined && a.using === undefined) return 'using';
  if (b.withCheck !== undefined && a.withCheck === undefined) return 'withCheck';
  return undefined;
}
