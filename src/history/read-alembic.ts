// Moved to history/alembic/ (issue 12); this file keeps the old import path until importers are repointed.
// Its entry points load the reader on first call, each from its own file: `tidemark check` on a tidemark
// workspace imports this file but never reads Alembic, and the reader is a dozen modules (the budget is
// 0.5 s, Node start included). The sync helpers (parseIni, splitVersionLocations, serviceNameFrom) are
// in alembic/index.js.
import type * as Reader from './alembic/index.js';

export type { AlembicLocation, TomlValue } from './alembic/index.js';

export async function readAlembicHistory(...args: Parameters<typeof Reader.readAlembicHistory>): ReturnType<typeof Reader.readAlembicHistory> {
  return (await import('./alembic/read-history.js')).readAlembicHistory(...args);
}

export async function resolveAlembicLocation(...args: Parameters<typeof Reader.resolveAlembicLocation>): ReturnType<typeof Reader.resolveAlembicLocation> {
  return (await import('./alembic/locate.js')).resolveAlembicLocation(...args);
}

