import path from 'node:path';
import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

const CONFLICT_MARKER = /^(<{7}|={7}|>{7}|\|{7})(\s|$)/;

/**
 * sum-mismatch — a tidemark service's tidemark.sum does not match its migration files: missing, edited,
 * conflicted in a merge, or a file added, removed or changed without `tidemark new` / `tidemark sum`.
 */
export const rule: Rule = {
  id: 'sum-mismatch',
  severity: 'error',
  scope: 'files',
  doc:
    'Each tidemark migrations directory carries tidemark.sum: a total hash on line 1, then one line per ' +
    'migration file with the SHA-256 of that file alone (the checksum the ledger stores). Two branches that ' +
    'each add a migration both rewrite line 1, so git stops the merge with a conflict in tidemark.sum instead ' +
    'of letting two files with the same number land silently. This rule reports a missing sum file, an edited ' +
    'or badly merged total line, conflict markers or other unreadable lines, and every migration file that ' +
    'has no line, whose line names no file, or whose bytes no longer match its line. Fix: after a conflict, ' +
    'keep both migrations, run `tidemark renumber --service S`, then `tidemark sum`; after an intended edit of ' +
    'a migration nobody has applied, run `tidemark sum`.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'tidemark' || !s.sum) continue;
      const v = s.sum;
      const sumName = path.basename(v.file);
      const dir = path.dirname(v.file);
      const push = (file: string, line: number | undefined, message: string, hint: string) => out.push({ rule: 'sum-mismatch', severity: 'error', service: s.name, file, line, message, hint });

      if (!v.present) {
        // A service with no migration yet needs no sum.
        if (v.missing.length > 0) {
          push(v.file, undefined, `${s.name} has no ${sumName}.`, 'Run `tidemark sum` and commit tidemark.sum with the migrations.');
        }
        continue;
      }

      const conflictHint = `Keep both migrations, run \`tidemark renumber --service ${s.name}\` to give the later one the next number, then \`tidemark sum\`.`;
      // One diagnostic per conflict block (at its first marker); lines inside a block (the other side's
      // total line) are part of that conflict, not separate findings.
      let inConflict = false;
      for (const m of v.malformed) {
        const text = m.text.trim();
        if (CONFLICT_MARKER.test(text)) {
          if (!inConflict) push(v.file, m.line, `${sumName} has a merge conflict at line ${m.line}.`, conflictHint);
          inConflict = !text.startsWith('>>>>>>>');
        } else if (!inConflict) {
          push(v.file, m.line, `${sumName} line ${m.line} is not \`<file> h1:<sha256>\`: ${JSON.stringify(m.text.slice(0, 80))}.`, 'Run `tidemark sum` to rewrite it from the files.');
        }
      }

      // A broken total is what a conflict does to line 1; say it once, and only when nothing else explains it.
      if (!v.totalValid && v.malformed.length === 0) {
        push(
          v.file,
          1,
          `The total on line 1 of ${sumName} does not match the lines below it: it was edited or badly merged.`,
          `If the migrations are as they should be, run \`tidemark sum\`; after a merge, check for a duplicate number first (\`tidemark renumber --service ${s.name}\`).`,
        );
      }

      for (const name of v.missing) {
        push(path.join(dir, name), undefined, `${name} has no line in ${sumName}.`, 'Create migrations with `tidemark new`, or run `tidemark sum` and commit tidemark.sum with the file.');
      }
      for (const name of v.extra) {
        push(
          v.file,
          v.lines[name],
          `${sumName} line ${v.lines[name]} names ${name}, which does not exist.`,
          'Restore the file if a database applied it; if it was removed on purpose before anyone applied it, run `tidemark sum`.',
        );
      }
      for (const name of v.changed) {
        push(
          path.join(dir, name),
          undefined,
          `${name} does not match its hash in ${sumName} (line ${v.lines[name]}): the file was edited after it was written down.`,
          'Revert the edit and write a new migration for the change; if nobody has applied it yet, run `tidemark sum`.',
        );
      }
    }
    return out;
  },
};
