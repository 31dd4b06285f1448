/** The public demo entry point (see api/migrate.ts for what this folder is). */
export { demo } from '../flows/demo.js';
export type { DemoOptions, DemoResult } from '../flows/demo.js';
