import type { Diagnostic } from '../../diagnostic.js';
import { findEffectiveHeads } from '../../history/graph/heads.js';
import { labelsOf } from '../../history/graph/labels.js';
import { displayPath } from '../../paths.js';
import type { Rule } from '../rule.js';

/**
 * multiple-heads — a history ends in several heads that are not named branches. `alembic upgrade
 * head` refuses, and which branch a database followed depends on who ran what (the CRM's
 * `c0eefe7ade9c_merge_multiple_heads.py` merged two heads; new ones grew again).
 */
export const rule: Rule = {
  id: 'multiple-heads',
  severity: 'error',
  scope: 'files',
  doc:
    'A history has more than one head (revisions nothing builds on, once depends_on is counted) and they are not ' +
    'distinct labelled branches (expand/contract style). `alembic upgrade head` refuses, and databases end up ' +
    'on different branches. Fix: merge the heads (`alembic merge heads`) or, better, give the service one linear ' +
    'history (tidemark numbers migrations per service, so a fork is a duplicate number caught by duplicate-id).',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      const heads = findEffectiveHeads(s.revisions);
      if (heads.length < 2) continue;
      // Independent branches that each carry their own label are a design, not an accident.
      const labels = heads.map((h) => labelsOf(s.revisions, h));
      const distinctLabelled = labels.every((l) => l.length > 0) && new Set(labels.map((l) => [...l].sort().join(','))).size === heads.length;
      if (distinctLabelled) continue;
      const revs = heads.map((h) => s.revisions.find((r) => r.id === h)!).filter(Boolean);
      out.push({
        rule: 'multiple-heads',
        severity: 'error',
        service: s.name,
        file: revs[0]?.file,
        line: revs[0]?.line,
        message: `${s.name} has ${heads.length} heads: ${revs.map((r) => `${r.id} (${displayPath(r.file)}:${r.line})`).join(', ')}.`,
        hint: 'Merge them into one (`alembic merge heads -m "…"`), or move the service to tidemark, whose per-service numbers cannot fork.',
      });
    }
    return out;
  },
};
