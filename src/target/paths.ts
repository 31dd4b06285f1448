/**
 * The one rule for relative paths at the boundary. A path the config wrote (a service's migrations, a
 * `protected` PGlite entry, the config's database URL, and the embedded default that stands in for it)
 * is relative to the workspace root; a path the user typed (a flag, DATABASE_URL, --shadow) to cwd.
 * The URL half of the rule lives in src/paths.ts so that db/connect.ts shares it without importing
 * the boundary.
 */
import path from 'node:path';
import { urlBaseDir } from '../paths.js';
import type { DatabaseSource, Paths } from './target.js';

export function makePaths(root: string, cwd: string): Paths {
  const r = path.resolve(root);
  const c = path.resolve(cwd);
  return {
    root: r,
    cwd: c,
    fromConfig: (p) => path.resolve(r, p),
    fromUser: (p) => path.resolve(c, p),
    urlBase: (source: DatabaseSource) => urlBaseDir(source, r, c) as string,
  };
}
