/** The public validate entry point (see api/migrate.ts for what this folder is). */
export { validate } from '../flows/validate.js';
export type { ValidateOptions, ValidateResult, ValidateFinding, ValidateCheck, CountComparison, RelationshipCheck } from '../data/validate.js';
