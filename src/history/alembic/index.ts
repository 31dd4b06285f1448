// The Alembic reader, without running Python. A revision file is tokenized (tokenize), its literals evaluated
// (evaluate), its module-level assignments (assignments) and op.* calls (references) read into a Revision
// (parse-source). A project's versions directories are found from a path (locate) through alembic.ini (ini)
// and pyproject.toml's [tool.alembic] (pyproject), merged option by option (project), then listed and read
// the way Alembic does (list, read-history). Code outside this folder imports from here.
export { parseIni, splitVersionLocations } from './ini.js';
export { resolveAlembicLocation } from './locate.js';
export type { AlembicLocation } from './location.js';
export { type AlembicSourceResult, parseAlembicSource } from './parse-source.js';
export { serviceNameFrom } from './project.js';
export { parseToolAlembic, type TomlValue } from './pyproject.js';
export { readAlembicHistory } from './read-history.js';
