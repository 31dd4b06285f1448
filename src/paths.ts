import path from 'node:path';

/** A path as a person would type it from the current directory: relative when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

/** A path or argument as one shell word to copy into a command: bare when plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * THE rule for what a relative `pglite:` URL is relative to (db/connect.ts and target/paths.ts both use
 * it): a URL the config wrote, or the embedded default that stands in for one, resolves from the
 * workspace root; one the user typed (a flag, DATABASE_URL) or handed in, from cwd. Here, at the bottom,
 * so the db layer can use it without importing the boundary. Undefined in, undefined out (then the URL
 * parser falls back to process.cwd()).
 */
export function urlBaseDir(source: 'option' | 'env' | 'config' | 'default' | 'given', root: string | undefined, cwd: string | undefined): string | undefined {
  return source === 'config' || source === 'default' ? (root ?? cwd) : cwd;
}
