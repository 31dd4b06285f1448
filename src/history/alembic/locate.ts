// `tidemark check --alembic PATH` with no config: which versions directories PATH means.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type AlembicLocation, errCode, locationError, readText, statOf } from './location.js';
import { fromIni, type IniLocation, readProject, serviceNameFrom } from './project.js';
import { parseToolAlembic, toolAlembicIn } from './pyproject.js';

/** `services/budget_service/alembic` → budget_service; an env dir with its own name names itself. */
function serviceOfEnvDir(envDir: string): string {
  const name = path.basename(envDir);
  const generic = /^(alembic|migrations?)$/i.test(name);
  return serviceNameFrom(generic ? path.basename(path.dirname(envDir)) : name);
}

/** The alembic.ini (or pyproject.toml with [tool.alembic]) in envDir's parent or envDir itself that `accept`s. */
async function iniFor(envDir: string, accept: (r: IniLocation) => boolean): Promise<AlembicLocation | undefined> {
  for (const dir of [path.dirname(envDir), envDir]) {
    try {
      const ini = path.join(dir, 'alembic.ini');
      let r: IniLocation | undefined;
      if ((await statOf(ini))?.isFile()) r = await readProject(ini);
      else {
        const toml = await toolAlembicIn(dir);
        if (toml) r = await readProject(undefined, toml);
      }
      if (r && accept(r)) return r.location;
    } catch {
      // a config we cannot use does not stop reading the directory we were given
    }
  }
  return undefined;
}

/**
 * Resolves `tidemark check --alembic PATH` with no config. PATH is a versions directory, an Alembic
 * environment directory (env.py and/or versions/), an alembic.ini or a pyproject.toml with [tool.alembic],
 * or a directory holding one of them.
 * Throws TidemarkError `alembic-location` (kind input) when it is none of these.
 */
export async function resolveAlembicLocation(inputPath: string): Promise<AlembicLocation> {
  const abs = path.resolve(inputPath);
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(abs);
  } catch (err) {
    const code = errCode(err);
    // ENOENT is the common case; a looping or dangling symlink deserves its own words.
    const why = code === 'ENOENT' ? ((await fs.lstat(abs).catch(() => undefined)) ? 'is a symlink to nothing' : 'does not exist') : code === 'ELOOP' ? 'is a symlink loop' : `cannot be read (${code})`;
    throw locationError(`${inputPath} ${why}.`, 'Pass an Alembic versions directory, environment directory or alembic.ini.', abs);
  }
  if (st.isFile()) {
    if (abs.endsWith('.ini')) return fromIni(abs);
    if (abs.endsWith('.toml')) {
      const table = await parseToolAlembic(await readText(abs), abs);
      if (!table) throw locationError(`${inputPath} has no [tool.alembic] table.`, 'Pass alembic.ini, or the Alembic versions or environment directory.', abs);
      return (await readProject(undefined, { file: abs, table })).location;
    }
    throw locationError(`${inputPath} is a file but not an alembic.ini.`, 'Pass an Alembic versions directory, environment directory or alembic.ini.', abs);
  }
  if (!st.isDirectory()) throw locationError(`${inputPath} is neither a file nor a directory.`, 'Pass an Alembic versions directory, environment directory or alembic.ini.', abs);

  if ((await statOf(path.join(abs, 'alembic.ini')))?.isFile()) return fromIni(path.join(abs, 'alembic.ini'));
  const toml = await toolAlembicIn(abs); // a project configured in pyproject.toml only
  if (toml) return (await readProject(undefined, toml)).location;

  const hasEnv = (await statOf(path.join(abs, 'env.py')))?.isFile() ?? false;
  const hasVersions = (await statOf(path.join(abs, 'versions')))?.isDirectory() ?? false;
  if (hasEnv || hasVersions) {
    // An environment directory: its ini (if it points here) knows version_locations and recursion.
    const ini = await iniFor(abs, (r) => r.scriptDir === abs);
    if (ini) return ini;
    return { service: serviceOfEnvDir(abs), dirs: [path.join(abs, 'versions')], recursive: false, source: abs };
  }

  let entries: string[] = [];
  try {
    entries = await fs.readdir(abs);
  } catch (err) {
    throw locationError(`Cannot read ${inputPath}: ${errCode(err)}.`, 'Check its permissions.', abs);
  }
  const isVersions = path.basename(abs) === 'versions' || entries.some((e) => e.endsWith('.py') && !e.startsWith('__init__'));
  if (!isVersions) {
    throw locationError(
      `${inputPath} is not an Alembic versions directory, environment directory or alembic.ini.`,
      'Pass the directory holding the revision .py files, the one holding env.py, or alembic.ini.',
      abs,
    );
  }
  const envDir = path.basename(abs) === 'versions' ? path.dirname(abs) : abs;
  // The project's ini decides recursion for this directory when it lists it.
  const ini = await iniFor(envDir, (r) => r.location.dirs.includes(abs));
  const recursive = ini?.recursive ?? false;
  return { service: serviceOfEnvDir(envDir), dirs: [abs], recursive, source: abs };
}
