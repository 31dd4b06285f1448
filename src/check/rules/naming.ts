import path from 'node:path';
import type { Diagnostic } from '../../diagnostic.js';
import { normalizeSlug } from '../../history/new-migration.js';
import { parseMigrationName } from '../../history/tidemark-source.js';
import type { Rule } from '../rule.js';

const MIGRATION_LIKE = /\.(sql|ts|js|mjs)$/;

/**
 * naming — a file in a tidemark migrations directory that looks like a migration but is not named
 * `<service>_<NNN>_<slug>`: tidemark would not know its service or order, so it refuses to guess.
 */
export const rule: Rule = {
  id: 'naming',
  severity: 'error',
  scope: 'files',
  doc:
    'A .sql/.ts/.js/.mjs file in a tidemark migrations directory is not named <service>_<NNN>_<slug> for its ' +
    'service (e.g. 005_add.sql, or user_001_x.sql in the budget directory). The name carries the service and ' +
    'the order, so tidemark will not run such a file. Fix: rename it, e.g. with the next free number.',
  check(ctx) {
    const out: Diagnostic[] = [];
    for (const s of ctx.services) {
      if (s.format !== 'tidemark') continue;
      for (const file of s.files) {
        const name = path.basename(file);
        if (!MIGRATION_LIKE.test(name) || name.endsWith('.d.ts') || parseMigrationName(s.name, name)) continue;
        const stem = normalizeSlug(name.replace(/\.[^.]+$/, '').replace(/^\d+_?/, '')) || 'change';
        out.push({
          rule: 'naming',
          severity: 'error',
          service: s.name,
          file,
          message: `${name} is not named <service>_<NNN>_<slug> for service ${s.name}.`,
          hint: `Rename it, e.g. ${s.name}_NNN_${stem}${path.extname(name)} with the next free number (\`tidemark new ${s.name} ${stem}\` shows it).`,
        });
      }
    }
    return out;
  },
};
