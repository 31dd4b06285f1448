// The Alembic reader's lazy entry points: each loads its part of history/alembic/ on first call, straight
// from its own file. `tidemark check` on a tidemark-only workspace imports this file but never reads
// Alembic, and the reader is a dozen modules (the budget is 0.5 s, Node start included). The sync
// helpers (parseIni, splitVersionLocations, serviceNameFrom) are in alembic/index.js.
import type * as Reader from './alembic/index.js';

export async function readAlembicHistory(...args: Parameters<typeof Reader.readAlembicHistory>): ReturnType<typeof Reader.readAlembicHistory> {
  return (await import('./alembic/read-history.js')).readAlembicHistory(...args);
}

export async function resolveAlembicLocation(...args: Parameters<typeof Reader.resolveAlembicLocation>): ReturnType<typeof Reader.resolveAlembicLocation> {
  return (await import('./alembic/locate.js')).resolveAlembicLocation(...args);
}
