// Moved to schema/introspect/ (issue 12 step G); this re-export keeps the old import path working.
export { introspect } from './introspect/index.js';
export type { SchemaScope } from './introspect/index.js';
