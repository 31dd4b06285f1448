// Moved to history/alembic/ (issue 12); this re-export keeps old import paths compiling until they are repointed.
export {
  type AlembicLocation,
  parseIni,
  parseToolAlembic,
  readAlembicHistory,
  resolveAlembicLocation,
  serviceNameFrom,
  splitVersionLocations,
  type TomlValue,
} from './alembic/index.js';
