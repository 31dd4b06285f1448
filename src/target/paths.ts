/**
 * The one rule for relative paths at the boundary. A path the config wrote (a service's migrations, a
 * `protected` PGlite entry, the config's database URL, and the embedded default that stands in for it)
 * is relative to the workspace root; a path the user typed (a flag, DATABASE_URL, --shadow) to cwd.
 * urlBaseDir is the URL half of the rule; resolve.ts applies it to the URL it opens.
 */
import path from 'node:path';
import type { DatabaseSource, Paths } from './target.js';

/**
 * What a relative `pglite:` URL is relative to: one the config wrote, or the embedded default that
 * stands in for one, resolves from the workspace root; one the user typed (a flag, DATABASE_URL) or
 * handed in, from cwd. Undefined in, undefined out (then the URL parser falls back to process.cwd()).
 */
export function urlBaseDir(source: DatabaseSource, root: string | undefined, cwd: string | undefined): string | undefined {
  return source === 'config' || source === 'default' ? (root ?? cwd) : cwd;
}

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
