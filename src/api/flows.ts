/** The public entry points of the composed flows (see api/migrate.ts for what this folder is). */
export { baseline } from '../flows/baseline.js';
export type { BaselineOptions, BaselineResult } from '../flows/baseline.js';
export { reset } from '../flows/reset.js';
export type { ResetOptions, ResetResult, ResetServiceResult } from '../flows/reset.js';
export { protect } from '../flows/guard.js';
export type { ProtectOptions, ProtectResult } from '../flows/guard.js';
export { rebaseline } from '../flows/rebaseline.js';
export type { RebaselineOptions, RebaselineResult, RebaselineStep, RebaselineStepName } from '../flows/rebaseline.js';
export { adopt } from '../flows/adopt.js';
export type { AdoptOptions, AdoptResult } from '../flows/adopt.js';
export { demo } from '../flows/demo.js';
export type { DemoOptions, DemoResult } from '../flows/demo.js';
