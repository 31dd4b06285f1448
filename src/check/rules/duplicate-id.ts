import type { Diagnostic } from '../../diagnostic.js';
import { displayPath } from '../../paths.js';
import type { Rule } from '../rule.js';

/**
 * duplicate-id — two files of one service declare the same revision id (Alembic) or the same number
 * (tidemark). Alembic only warns and keeps whichever file it loaded last, so one of the two
 * migrations silently never runs (the CRM's two `005` files). tidemark names every file and fails.
 */
export const rule: Rule = {
  id: 'duplicate-id',
  severity: 'error',
  scope: 'files',
  doc:
    'Two or more files of one service declare the same revision id (Alembic) or the same number (tidemark). ' +
    'Alembic warns and silently keeps the file it loaded last, so the other migration never runs; tidemark ' +
    'names every file involved and fails. Fix: give all but the earliest file a new id (tidemark: ' +
    '`tidemark renumber --service S`) and point its children at it.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      const groups = new Map<string, { file: string; line: number }[]>();
      if (s.format === 'tidemark') {
        for (const m of s.migrations ?? []) {
          const key = String(m.number).padStart(3, '0');
          groups.set(key, [...(groups.get(key) ?? []), { file: m.file, line: 1 }]);
        }
      } else {
        for (const r of s.revisions) groups.set(r.id, [...(groups.get(r.id) ?? []), { file: r.file, line: r.line }]);
      }
      for (const [id, places] of groups) {
        if (places.length < 2) continue;
        places.sort((a, b) => a.file.localeCompare(b.file));
        const where = places.map((p) => `${displayPath(p.file)}:${p.line}`).join(', ');
        const what = s.format === 'tidemark' ? `number ${id}` : `revision id ${id}`;
        out.push({
          rule: 'duplicate-id',
          severity: 'error',
          service: s.name,
          file: places[0].file,
          line: places[0].line,
          message: `${s.name} declares ${what} in ${places.length} files: ${where}${s.format === 'alembic' ? ' (Alembic would silently keep only the last one it loads)' : ''}.`,
          hint:
            s.format === 'tidemark'
              ? `Keep the earliest and renumber the others: \`tidemark renumber --service ${s.name}\`.`
              : 'Give all but one a new revision id and update the down_revision of their children.',
        });
      }
    }
    return out;
  },
};
