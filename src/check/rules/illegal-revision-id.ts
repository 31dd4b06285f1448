import type { Diagnostic } from '../../diagnostic.js';
import type { Rule } from '../rule.js';

/** Alembic's `_revision_illegal_chars` (alembic/script/revision.py): they are its revision-syntax operators. */
const ALEMBIC_ILLEGAL_ID_CHARS = ['@', '-', '+', ':'] as const;

/**
 * illegal-revision-id — an Alembic revision id holds a character Alembic refuses in ids: `@` (branch@rev),
 * `-` and `+` (relative steps, `head-1`), `:` (ranges, `a:b`). `Revision.verify_rev_id` raises
 * "Character(s) '-' not allowed in revision identifier" and the whole history fails to load.
 */
export const rule: Rule = {
  id: 'illegal-revision-id',
  severity: 'error',
  scope: 'files',
  doc:
    'An Alembic revision id contains a character Alembic forbids in revision identifiers: `@`, `-`, `+` or `:` ' +
    '(they mean branch@revision, relative steps such as head-1, and ranges a:b on its command line). Alembic ' +
    'raises "Character(s) \'-\' not allowed in revision identifier" and loads none of the history. Fix: give the ' +
    'revision an id without them (e.g. `_` instead of `-`) and update the down_revision / depends_on that name it.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'alembic') continue;
      for (const r of s.revisions) {
        const bad = ALEMBIC_ILLEGAL_ID_CHARS.filter((c) => r.id.includes(c));
        if (bad.length === 0) continue;
        out.push({
          rule: 'illegal-revision-id',
          severity: 'error',
          service: s.name,
          file: r.file,
          line: r.line,
          message: `${s.name} revision id ${JSON.stringify(r.id)} contains ${bad.map((c) => `'${c}'`).join(', ')}, which Alembic does not allow in revision identifiers, so it cannot load the history.`,
          hint: `Rename the revision (e.g. ${JSON.stringify(r.id.replace(/[@+:-]/g, '_'))}) and update every down_revision and depends_on that names it.`,
        });
      }
    }
    return out;
  },
};
