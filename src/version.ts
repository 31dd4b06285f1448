import { readFileSync } from 'node:fs';
import os from 'node:os';

/** tidemark's own version, read once from its package.json (dist/src/version.js → ../../package.json). */
export const TOOL_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** Who runs tidemark, as recorded in the ledger: `user@host`. */
export const ACTOR: string = (() => {
  let user = process.env.USER ?? 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // some containers have no passwd entry for the uid
  }
  return `${user}@${os.hostname()}`;
})();
