/** The composed flows' entry points, one file each (see api/migrate.ts for what this folder is); kept for src/index.ts and the tests. */
export * from './baseline.js';
export * from './reset.js';
export * from './protect.js';
export * from './rebaseline.js';
export * from './adopt.js';
export * from './demo.js';
