// An Alembic project's locations from its alembic.ini and/or pyproject.toml, option by option as Alembic's Config.
import path from 'node:path';
import { checkNotPackageResource, interpolate, parseIni, splitVersionLocations } from './ini.js';
import { type AlembicLocation, locationError, readText } from './location.js';
import { type TomlValue, toolAlembicIn } from './pyproject.js';

/** Lower-cased, [a-z][a-z0-9_]*: a directory name made a service name. */
export function serviceNameFrom(name: string): string {
  const id = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '');
  return id || 'alembic';
}

export interface IniLocation {
  location: AlembicLocation;
  scriptDir: string;
}

export async function fromIni(ini: string): Promise<AlembicLocation> {
  return (await readProject(ini)).location;
}

/**
 * An Alembic project's locations from its alembic.ini and/or the pyproject.toml beside it. As in
 * Alembic's Config, an option in the ini wins; the [tool.alembic] table fills in what the ini lacks.
 */
export async function readProject(ini: string | undefined, toml?: { file: string; table: Map<string, TomlValue> }): Promise<IniLocation> {
  const here = path.dirname(ini ?? toml!.file);
  let section: Map<string, string> | undefined;
  let defaults = new Map<string, string>();
  if (ini) {
    const sections = parseIni(await readText(ini));
    defaults = new Map(sections.get('DEFAULT') ?? []);
    section = sections.get('alembic');
  }
  defaults.set('here', here);
  const get = (key: string): string | undefined => {
    const v = section?.get(key);
    return v === undefined ? undefined : interpolate(v, section!, defaults, ini!);
  };
  let tomlLoaded = ini === undefined;
  const fromToml = async (key: string): Promise<TomlValue | undefined> => {
    if (!tomlLoaded) {
      tomlLoaded = true;
      toml = await toolAlembicIn(here);
    }
    return toml?.table.get(key);
  };
  // Python's `value % {"here": …}`, as Alembic applies to TOML strings.
  const tomlString = (v: TomlValue, key: string): string => {
    if (typeof v !== 'string') {
      throw locationError(`${toml!.file}: ${key} in [tool.alembic] must be a string.`, `Write ${key} = "%(here)s/…".`, toml!.file);
    }
    return interpolate(v, new Map(), new Map([['here', path.dirname(toml!.file)]]), toml!.file);
  };

  let scriptLocation = get('script_location');
  let decidedBy = ini;
  if (!scriptLocation) {
    const v = await fromToml('script_location');
    if (v !== undefined) {
      scriptLocation = tomlString(v, 'script_location');
      decidedBy = toml!.file;
    }
  }
  if (!scriptLocation) {
    const where = ini ? `${ini} has no script_location in its [alembic] section${toml ? `, nor ${toml.file} in [tool.alembic]` : ''}.` : `${toml!.file} has no script_location in [tool.alembic].`;
    throw locationError(where, 'Add script_location = %(here)s/alembic, or pass the versions directory itself.', ini ?? toml!.file);
  }
  const source = decidedBy ?? toml!.file;
  checkNotPackageResource(scriptLocation, 'script_location', source);
  // Alembic resolves relative paths against the working directory, where alembic.ini normally sits.
  const scriptDir = path.resolve(here, scriptLocation);
  let dirs = [path.join(scriptDir, 'versions')];
  let locations: string[] = [];
  const versionLocations = get('version_locations');
  if (versionLocations) {
    const separator = get('path_separator') ?? get('version_path_separator');
    locations = splitVersionLocations(versionLocations, separator, ini);
    for (const l of locations) checkNotPackageResource(l, 'version_locations', ini!);
  } else {
    const v = await fromToml('version_locations');
    if (v !== undefined) {
      if (!Array.isArray(v)) {
        throw locationError(`${toml!.file}: version_locations in [tool.alembic] must be a list of strings.`, 'Write version_locations = ["%(here)s/alembic/versions", …].', toml!.file);
      }
      locations = v.map((x) => tomlString(x, 'version_locations')).filter((x) => x !== '');
      for (const l of locations) checkNotPackageResource(l, 'version_locations', toml!.file);
    }
  }
  if (locations.length) dirs = locations.map((l) => path.resolve(here, l));
  let recursive: boolean;
  const rvl = get('recursive_version_locations');
  if (rvl !== undefined)
    recursive = rvl === 'true'; // Alembic compares with "true" exactly
  else {
    const v = (await fromToml('recursive_version_locations')) ?? false;
    if (typeof v !== 'boolean') {
      throw locationError(
        `${toml!.file}: recursive_version_locations in [tool.alembic] must be true or false.`,
        'Write recursive_version_locations = true (a TOML boolean, not a string).',
        toml!.file,
      );
    }
    recursive = v;
  }
  const location: AlembicLocation = { service: serviceNameFrom(path.basename(here)), dirs, recursive, source };
  return { location, scriptDir };
}
