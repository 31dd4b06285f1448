/** The public adopt entry point (see api/migrate.ts for what this folder is). */
export { adopt } from '../flows/adopt.js';
export type { AdoptOptions, AdoptResult } from '../flows/adopt.js';
