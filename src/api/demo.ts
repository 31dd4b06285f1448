/**
 * The public demo entry point (see api/migrate.ts for what this folder is). The demo is its own boundary:
 * it builds its project and its PGlite, opens its one target around them and closes it (flows/demo.ts),
 * so there is nothing to resolve here and this stays a re-export.
 */
export { demo } from '../flows/demo.js';
export type { DemoOptions, DemoResult } from '../flows/demo.js';
