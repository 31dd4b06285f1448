// Moved to history/alembic/ (issue 12); this re-export keeps old import paths compiling until they are repointed.
export { type AlembicSourceResult, parseAlembicSource } from './alembic/index.js';
