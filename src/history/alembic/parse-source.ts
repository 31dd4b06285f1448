// One revision file → its Revision (or the problems that keep Alembic from loading it), table references
// and embedded SQL. Pure; never throws.
import { Buffer, isUtf8 } from 'node:buffer';
import path from 'node:path';
import type { Diagnostic } from '../../diagnostic.js';
import type { EmbeddedSql, Revision, TableReference } from '../revision.js';
import { type Assignment, topLevelAssignments } from './assignments.js';
import { scanReferences } from './references.js';
import { TOKENS, tokenize } from './tokenize.js';

/**
 * Reads an Alembic revision file WITHOUT running Python: a small tokenizer (strings of every form,
 * comments, brackets, continuations) and a reader for the module-level literal assignments Alembic
 * looks at (`revision`, `down_revision`, `branch_labels`, `depends_on`), plus best-effort table
 * references from `op.*` calls and SQL text from `*.execute(…)`. Pure; never throws.
 */
export interface AlembicSourceResult {
  revision?: Revision;
  tableReferences: TableReference[];
  embeddedSql: EmbeddedSql[];
  problems: Diagnostic[];
}

export const RULE = 'alembic-file';

/**
 * Parses one Alembic revision file. `text` may be the raw bytes (then invalid UTF-8 is reported) or
 * already-decoded text.
 */
export function parseAlembicSource(service: string, file: string, text: string | Uint8Array): AlembicSourceResult {
  const ctx: Ctx = { service, file, problems: [], broken: false };
  const result: AlembicSourceResult = { tableReferences: [], embeddedSql: [], problems: ctx.problems };
  try {
    const source = sourceText(ctx, text);
    if (source === undefined) return result;
    const t = TOKENS;
    const scan = tokenize(source, t);
    const first = scan.unterminated[0];
    // Only the first: Python stops at the first syntax error, and a later one is usually its tail.
    if (first) {
      report(
        ctx,
        first.line,
        `line ${first.line} starts a ${first.triple ? 'triple-quoted ' : ''}string that is never closed, so Python cannot import the file.`,
        `Close the string that starts on line ${first.line}.`,
      );
    } else if (scan.unclosed) {
      const u = scan.unclosed;
      report(ctx, u.line, `line ${u.line} opens a "${u.ch}" that is never closed, so Python cannot import the file.`, `Close the bracket opened on line ${u.line}.`);
    }
    ctx.broken = first !== undefined || scan.unclosed !== undefined;
    result.revision = revisionOf(ctx, topLevelAssignments(t));
    scanReferences(t, file, result.tableReferences, result.embeddedSql);
  } catch (err) {
    // A bug here must not take the whole check down: report it against the file.
    report(ctx, undefined, `could not be read: ${(err as Error)?.message ?? String(err)}.`, 'Report this as a tidemark bug, with the file.');
  }
  return result;
}

interface Ctx {
  service: string;
  file: string;
  problems: Diagnostic[];
  /** Not valid Python (reported once): later findings would only be its echoes. */
  broken: boolean;
}

/** One problem; the message continues the file's name (`x.py line 3 …`). */
function report(ctx: Ctx, line: number | undefined, message: string, hint: string): void {
  const base = path.basename(ctx.file);
  ctx.problems.push({ rule: RULE, severity: 'error', service: ctx.service, file: ctx.file, ...(line ? { line } : {}), message: `${base} ${message}`, hint });
}

/** The text to tokenize: UTF-8 checked, NUL bytes refused, BOM dropped, newlines made \n. */
function sourceText(ctx: Ctx, text: string | Uint8Array): string | undefined {
  let source: string;
  if (typeof text === 'string') source = text;
  else {
    // isUtf8 + toString (simdutf) is several times faster than a fatal TextDecoder.
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength);
    if (!isUtf8(bytes)) {
      report(ctx, undefined, 'is not valid UTF-8 text, so it is not a Python revision file tidemark can read.', 'Remove the file from the versions directory, or save it as UTF-8.');
      return undefined;
    }
    source = bytes.toString('utf8');
  }
  const nul = source.indexOf('\0');
  if (nul >= 0) {
    const line = lineAt(source, nul);
    report(ctx, line, `contains a NUL byte at line ${line}, so it is binary, not a Python revision file.`, 'Remove the file from the versions directory (Python cannot import it either).');
    return undefined;
  }
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  if (source.includes('\r')) source = source.replace(/\r\n?/g, '\n'); // CRLF and old-Mac CR, as Python reads them
  return source;
}

/** The last assignment to `name`, as Python keeps it; two of them are a merge gone wrong, so both lines are named. */
function lastOf(ctx: Ctx, all: Assignment[], name: string): Assignment | undefined {
  let last: Assignment | undefined;
  let lines: number[] | undefined;
  for (const a of all) {
    if (a.name !== name) continue;
    if (last) (lines ??= [last.line]).push(a.line);
    last = a;
  }
  if (lines && last) {
    // A generated or corrupted file may repeat it thousands of times: name a few lines, not all.
    const head = lines.length > 6 ? [...lines.slice(0, 5), '…'] : lines.slice(0, -1);
    const shown = `lines ${head.join(', ')} and ${lines[lines.length - 1]}`;
    report(ctx, last.line, `assigns ${name} ${lines.length} times (${shown}); Python keeps only the last one.`, `Keep one \`${name} = …\` line in ${path.basename(ctx.file)}.`);
  }
  return last;
}

const EXAMPLES: Record<string, string> = { down_revision: '"1f4f4176aeb7"', depends_on: 'None', branch_labels: '("label",)' };

/** The ids of a down_revision / depends_on / branch_labels value (none when absent), or undefined when unreadable. */
function idsOf(ctx: Ctx, a: Assignment | undefined): { value: string; line: number }[] | undefined {
  if (!a) return [];
  const v = a.value;
  if (v.kind === 'none') return [];
  if (v.kind === 'str') return [{ value: v.value, line: v.line }];
  if (v.kind === 'seq') return v.items;
  if (v.kind === 'bad' && !ctx.broken) {
    report(
      ctx,
      a.line,
      `line ${a.line} sets ${a.name} to ${v.what}, not a string, None, or a tuple or list of strings that tidemark can read without running Python.`,
      `Write ${a.name} as a literal, e.g. ${a.name} = ${EXAMPLES[a.name]}.`,
    );
  }
  return undefined;
}

function revisionOf(ctx: Ctx, all: Assignment[]): Revision | undefined {
  const rev = lastOf(ctx, all, 'revision');
  const down = lastOf(ctx, all, 'down_revision');
  const labels = lastOf(ctx, all, 'branch_labels');
  const deps = lastOf(ctx, all, 'depends_on');
  const parents = idsOf(ctx, down);
  const dependsOn = idsOf(ctx, deps);
  const branchLabels = idsOf(ctx, labels);
  if (!rev) {
    if (!ctx.broken) {
      report(
        ctx,
        undefined,
        'has no module-level `revision = "…"` assignment, so it is not a revision Alembic can load.',
        'Add `revision = "<id>"` at the top level of the file, or move the file out of the versions directory.',
      );
    }
    return undefined;
  }
  if (rev.value.kind !== 'str') {
    if (rev.value.kind !== 'broken' && !ctx.broken) {
      const what = rev.value.kind === 'none' ? 'None' : rev.value.what;
      report(ctx, rev.line, `line ${rev.line} sets revision to ${what}, not a string.`, 'Write the revision id as a string literal, e.g. revision = "ae1027a6acf".');
    }
    return undefined;
  }
  if (rev.value.value.trim() === '') {
    report(ctx, rev.line, `line ${rev.line} sets revision to an empty string.`, 'Give the revision an id, e.g. revision = "ae1027a6acf".');
    return undefined;
  }
  if (!down && !ctx.broken) {
    report(ctx, rev.line, 'has a revision but no module-level down_revision, so Alembic fails to load it.', 'Add `down_revision = None` for a first revision, or the id of its parent.');
  }
  const refLines: Record<string, number> = {};
  for (const list of [parents, dependsOn]) for (const x of list ?? []) if (!(x.value in refLines)) refLines[x.value] = x.line;
  const labelLines: Record<string, number> = {};
  for (const x of branchLabels ?? []) if (!(x.value in labelLines)) labelLines[x.value] = x.line;
  return {
    service: ctx.service,
    id: rev.value.value,
    file: ctx.file,
    line: rev.line,
    parents: (parents ?? []).map((x) => x.value),
    dependsOn: (dependsOn ?? []).map((x) => x.value),
    branchLabels: (branchLabels ?? []).map((x) => x.value),
    refLines,
    labelLines,
    format: 'alembic',
  };
}

function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf('\n'); i >= 0 && i < index; i = s.indexOf('\n', i + 1)) line++;
  return line;
}
