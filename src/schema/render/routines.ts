/**
 * The schema, extension, sequence and function/procedure part of renderChanges (pure), in the ranked
 * form tables.ts uses (changes.ts orders by rank). Ranks: 0 schemas and extensions created, 4
 * functions and sequences, 6 late functions (they read tables), 7 OWNED BY and comments (after the
 * tables they name), 8 drops of functions and sequences, 9 schemas dropped.
 */
import { ident, literal, qualified } from '../../sql/ident.js';
import type { Change, ObjectId } from '../diff/change.js';
import type { ExtensionInfo, FunctionInfo, SequenceInfo, Snapshot } from '../snapshot.js';
import { renderFunction, sequenceOptions } from './objects.js';
import type { RankedSql, TableRendering } from './tables.js';

const RANK_SCHEMA_CREATE = [0, 0];
const RANK_EXTENSION = [0, 1];
const RANK_ROUTINE = [4, 1];
const RANK_ROUTINE_REPLACED = [4, 0];
const RANK_LATE_ROUTINE = [6, 1];
const RANK_LATE_ROUTINE_REPLACED = [6, 0];
const RANK_OWNED_BY = [7, 3];
const RANK_COMMENT = [7, 4];
const RANK_DROP_ROUTINE = [8, 0];
const RANK_DROP_SEQUENCE = [8, 1];
const RANK_SCHEMA_DROP = [9, 0];

const at = ([rank, sub]: number[], sql: string): RankedSql => ({ rank, sub, sql });
const commentSql = (target: string, comment: unknown) => `COMMENT ON ${target} IS ${typeof comment === 'string' ? literal(comment) : 'NULL'};`;

/** The kinds this file renders. */
export function isRoutineChange(c: Change): boolean {
  return ['schema', 'extension', 'sequence', 'function', 'procedure'].includes(c.id.kind);
}

/** Whether a change creates or replaces a function body (check_function_bodies goes off first). */
export function writesFunctionBody(c: Change): boolean {
  return (c.id.kind === 'function' || c.id.kind === 'procedure') && (c.op === 'add' || (c.op === 'alter' && c.attribute === 'definition'));
}

export function renderRoutineChange(c: Change, to: Snapshot): TableRendering {
  switch (c.id.kind) {
    case 'schema':
      return renderSchema(c);
    case 'extension':
      return renderExtension(c);
    case 'sequence':
      return renderSequence(c, to);
    default:
      return renderFunctionChange(c, to);
  }
}

function renderSchema(c: Change): TableRendering {
  const name = ident(c.id.name);
  if (c.op === 'add') return { statements: [at(RANK_SCHEMA_CREATE, `CREATE SCHEMA IF NOT EXISTS ${name};`)] };
  // Plain: a schema still holding another service's objects makes the run fail rather than take them along.
  if (c.op === 'drop') return { statements: [at(RANK_SCHEMA_DROP, `DROP SCHEMA ${name};`)] };
  return { statements: [], refused: `schema attribute ${c.attribute} is not rendered` };
}

function renderExtension(c: Change): TableRendering {
  const name = ident(c.id.name);
  if (c.op === 'add') {
    const x = c.after as ExtensionInfo;
    return { statements: [at(RANK_EXTENSION, `CREATE EXTENSION IF NOT EXISTS ${name} SCHEMA ${ident(x.schema)};`)] };
  }
  if (c.op === 'drop') return { statements: [], refused: 'an extension is never dropped by a migration: other services and data may use it; drop it by hand if it must go' };
  if (c.attribute === 'schema') return { statements: [at(RANK_EXTENSION, `ALTER EXTENSION ${name} SET SCHEMA ${ident(String(c.after))};`)] };
  return { statements: [], refused: `extension attribute ${c.attribute} is not rendered` };
}

const SEQUENCE_WORDS: Record<string, (v: unknown) => string> = {
  dataType: (v) => `AS ${v}`,
  start: (v) => `START WITH ${v}`,
  increment: (v) => `INCREMENT BY ${v}`,
  min: (v) => `MINVALUE ${v}`,
  max: (v) => `MAXVALUE ${v}`,
  cache: (v) => `CACHE ${v}`,
  cycle: (v) => (v ? 'CYCLE' : 'NO CYCLE'),
};

const ownedBySql = (seq: ObjectId, o: SequenceInfo['ownedBy']) => `ALTER SEQUENCE ${qualified(seq)} OWNED BY ${o ? `${qualified({ schema: o.schema, name: o.table })}.${ident(o.column)}` : 'NONE'};`;

function renderSequence(c: Change, to: Snapshot): TableRendering {
  const id = c.id;
  const name = qualified(id);
  if (c.op === 'add') {
    const s = c.after as SequenceInfo;
    const out = [at(RANK_ROUTINE, `CREATE SEQUENCE ${name}${sequenceOptions(s, true)};`)];
    if (s.ownedBy) out.push(at(RANK_OWNED_BY, ownedBySql(id, s.ownedBy)));
    if (s.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(`SEQUENCE ${name}`, s.comment)));
    return { statements: out };
  }
  if (c.op === 'drop') {
    // A sequence owned by a column that goes in this run goes with it: DROP SEQUENCE would then fail.
    const o = (c.before as SequenceInfo).ownedBy;
    const owner = o && to.tables.find((t) => t.schema === o.schema && t.name === o.table);
    if (o && !owner?.columns.some((col) => col.name === o.column)) return { statements: [] };
    return { statements: [at(RANK_DROP_SEQUENCE, `DROP SEQUENCE ${name};`)] };
  }
  if (c.attribute === 'ownedBy') return { statements: [at(RANK_OWNED_BY, ownedBySql(id, c.after as SequenceInfo['ownedBy']))] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(`SEQUENCE ${name}`, c.after))] };
  const words = SEQUENCE_WORDS[c.attribute];
  if (!words) return { statements: [], refused: `sequence attribute ${c.attribute} is not rendered` };
  return { statements: [at(RANK_ROUTINE, `ALTER SEQUENCE ${name} ${words(c.after)};`)] };
}

/** The signature line and the RETURNS line of pg_get_functiondef: what CREATE OR REPLACE cannot change. */
function header(definition: string): string {
  const lines = definition.trim().split('\n');
  const returns = lines.find((l) => /^\s*RETURNS\s/.test(l)) ?? '';
  return `${lines[0].trim()}\n${returns.trim()}`;
}

function renderFunctionChange(c: Change, to: Snapshot): TableRendering {
  const id = c.id;
  const what = `${id.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${qualified(id)}(${id.args ?? ''})`;
  if (c.op === 'add') {
    const f = c.after as FunctionInfo;
    const out = [at(f.late ? RANK_LATE_ROUTINE : RANK_ROUTINE, renderFunction(f))];
    if (f.comment !== undefined) out.push(at(RANK_COMMENT, commentSql(what, f.comment)));
    return { statements: out };
  }
  if (c.op === 'drop') return { statements: [at(RANK_DROP_ROUTINE, `DROP ${what};`)] };
  if (c.attribute === 'comment') return { statements: [at(RANK_COMMENT, commentSql(what, c.after))] };
  if (c.attribute !== 'definition') return { statements: [], refused: `${id.kind} attribute ${c.attribute} is not rendered` };
  const before = String(c.before);
  const after = String(c.after);
  const late = to.functions.find((f) => f.schema === id.schema && f.name === id.name && f.arguments === id.args)?.late ?? false;
  const create = at(late ? RANK_LATE_ROUTINE : RANK_ROUTINE, renderFunction({ definition: after } as FunctionInfo));
  if (header(before) === header(after)) return { statements: [create] };
  // Another return type or argument list: CREATE OR REPLACE refuses it, so the old one goes first.
  return { statements: [at(late ? RANK_LATE_ROUTINE_REPLACED : RANK_ROUTINE_REPLACED, `DROP ${what};`), create] };
}
