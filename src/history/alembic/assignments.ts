// Module-level assignments to the names Alembic reads (`revision = …`, `down_revision: str | None = …`).
import { evalAssigned, type Value } from './evaluate.js';
import { C_COLON, C_EQ, C_SEMI, isClose, isOpen, T, type Tokens } from './tokenize.js';

/** A logical line starting with one of these is a compound statement: what follows `:` is not top level. */
const COMPOUND = new Set(['if', 'elif', 'else', 'for', 'while', 'with', 'def', 'class', 'try', 'except', 'finally', 'async', 'match', 'case']);
const TARGETS = new Set(['revision', 'down_revision', 'branch_labels', 'depends_on']);

export interface Assignment {
  name: string;
  line: number;
  value: Value;
}

/** True when token k is one of the names Alembic reads (length first: most names are not). */
function isTarget(t: Tokens, k: number): boolean {
  if (t.kind[k] !== T.Name) return false;
  const len = t.end[k] - t.start[k];
  return (len === 8 || len === 10 || len === 13) && TARGETS.has(t.text(k));
}

/** Module-level (unindented) assignments to the names Alembic reads. */
export function topLevelAssignments(t: Tokens): Assignment[] {
  const out: Assignment[] = [];
  const { kind, col, code } = t;
  let k = 0;
  while (k < t.n) {
    let end = k;
    let semicolon = false;
    while (end < t.n && kind[end] !== T.Newline) {
      if (code[end] === C_SEMI) semicolon = true;
      end++;
    }
    if (kind[k] === T.Name && col[k] === 0) {
      if (!semicolon) {
        if (isTarget(t, k)) {
          const a = statement(t, k, end);
          if (a) out.push(a);
        }
      } else if (!COMPOUND.has(t.text(k))) {
        // Simple statements separated by `;` are all top level.
        let depth = 0;
        let s = k;
        for (let j = k; j <= end; j++) {
          const c = j === end ? C_SEMI : code[j];
          if (c <= 0) continue;
          if (c === C_SEMI && depth === 0) {
            const a = isTarget(t, s) ? statement(t, s, j) : undefined;
            if (a) out.push(a);
            s = j + 1;
          } else if (isOpen(c)) depth++;
          else if (isClose(c)) depth--;
        }
      }
    }
    k = end + 1;
  }
  return out;
}

function statement(t: Tokens, s: number, e: number): Assignment | undefined {
  if (t.kind[s] !== T.Name || s + 1 >= e) return undefined;
  const name = t.text(s);
  if (!TARGETS.has(name)) return undefined;
  let valueStart: number;
  if (t.isOp(s + 1, C_EQ)) valueStart = s + 2;
  else if (t.isOp(s + 1, C_COLON)) {
    // Annotated: `down_revision: Union[str, Sequence[str], None] = …`; the annotation may hold brackets.
    let depth = 0;
    let eq = -1;
    for (let k = s + 2; k < e && eq < 0; k++) {
      const c = t.code[k];
      if (isOpen(c)) depth++;
      else if (isClose(c)) depth--;
      else if (c === C_EQ && depth === 0) eq = k;
    }
    if (eq < 0) return undefined; // a bare annotation assigns nothing
    valueStart = eq + 1;
  } else return undefined;
  // Chained `revision = rev = "x"`: the value is after the last `=`.
  let depth = 0;
  for (let k = valueStart; k < e; k++) {
    const c = t.code[k];
    if (isOpen(c)) depth++;
    else if (isClose(c)) depth--;
    else if (c === C_EQ && depth === 0) valueStart = k + 1;
  }
  return { name, line: t.line[s], value: evalAssigned(t, valueStart, e) };
}
