import type { Diagnostic } from '../../diagnostic.js';
import { displayPath } from '../../paths.js';
import type { Revision } from '../../history/revision.js';
import type { Rule } from '../rule.js';

/**
 * branch-label-conflict — an Alembic branch label that is also a revision id, that two revisions both
 * declare, or that one revision lists twice. Alembic keeps ids and labels in one map and refuses the
 * second name (`_map_branch_labels`: "Branch name 'x' in revision R already used by revision S"), so the
 * history does not load. Two bases with the same label are this case too.
 */
export const rule: Rule = {
  id: 'branch-label-conflict',
  severity: 'error',
  scope: 'files',
  doc:
    'An Alembic branch label is already taken: it equals a revision id (of another revision or of its own), ' +
    'another revision declares the same label (two bases or two branches labelled alike), or one revision lists ' +
    "it twice. Alembic keeps revision ids and branch labels in one namespace and raises \"Branch name 'x' in " +
    'revision R already used by revision S": none of the history loads. Fix: give each branch a label no revision ' +
    'id and no other branch uses, declared once, on the first revision of its branch.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'alembic') continue;
      const ids = new Map<string, Revision>();
      for (const r of s.revisions) if (!ids.has(r.id)) ids.set(r.id, r);
      const declaredBy = new Map<string, Revision[]>();
      for (const r of s.revisions) {
        const seen = new Set<string>();
        for (const label of r.branchLabels) {
          const lineOf = r.labelLines?.[label] ?? r.line;
          if (seen.has(label)) {
            out.push({
              rule: 'branch-label-conflict',
              severity: 'error',
              service: s.name,
              file: r.file,
              line: lineOf,
              message: `${s.name} revision ${r.id} lists branch label ${JSON.stringify(label)} twice; Alembic refuses the second ("already used by revision ${r.id}").`,
              hint: 'List each branch label once.',
            });
            continue;
          }
          seen.add(label);
          const asId = ids.get(label);
          if (asId) {
            const own = asId.id === r.id;
            out.push({
              rule: 'branch-label-conflict',
              severity: 'error',
              service: s.name,
              file: r.file,
              line: lineOf,
              message: own
                ? `${s.name} revision ${r.id} uses its own revision id as a branch label; Alembic refuses a label that is a revision id.`
                : `${s.name} revision ${r.id} declares branch label ${JSON.stringify(label)}, which is the id of revision ${label} (${displayPath(asId.file)}:${asId.line}); Alembic refuses a label that is a revision id.`,
              hint: 'Choose a branch label that no revision uses as its id.',
            });
            continue;
          }
          declaredBy.set(label, [...(declaredBy.get(label) ?? []), r]);
        }
      }
      for (const [label, revs] of declaredBy) {
        if (revs.length < 2) continue;
        const [first, ...others] = revs;
        for (const r of others) {
          out.push({
            rule: 'branch-label-conflict',
            severity: 'error',
            service: s.name,
            file: r.file,
            line: r.labelLines?.[label] ?? r.line,
            message: `${s.name} revisions ${first.id} (${displayPath(first.file)}:${first.labelLines?.[label] ?? first.line}) and ${r.id} both declare branch label ${JSON.stringify(label)}; Alembic refuses a label used twice.`,
            hint: `Declare ${JSON.stringify(label)} once, on the first revision of its branch, or give the other branch its own label.`,
          });
        }
      }
    }
    return out;
  },
};
