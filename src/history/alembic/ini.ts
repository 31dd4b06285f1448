// alembic.ini as Python's ConfigParser reads it (sections, multi-line values, %(name)s interpolation), and
// version_locations split as Alembic splits it.
import path from 'node:path';
import { locationError } from './location.js';

/** A ConfigParser-style .ini: sections of lower-cased keys, multi-line values, `#`/`;` comment lines. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let key: string | undefined;
  let keyIndent = 0;
  const values = new Map<Map<string, string>, Map<string, string[]>>();
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    const stripped = raw.trim();
    if (stripped.startsWith('#') || stripped.startsWith(';')) continue;
    const indent = raw.length - raw.trimStart().length;
    if (stripped === '') {
      if (current && key) values.get(current)!.get(key)!.push('');
      continue;
    }
    if (current && key && indent > keyIndent) {
      values.get(current)!.get(key)!.push(stripped); // continuation line
      continue;
    }
    const section = /^\[(.+)\]$/.exec(stripped);
    if (section) {
      current = sections.get(section[1]) ?? new Map();
      sections.set(section[1], current);
      if (!values.has(current)) values.set(current, new Map());
      key = undefined;
      continue;
    }
    if (!current) continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(stripped);
    if (!m) continue;
    key = m[1].toLowerCase();
    keyIndent = indent;
    values.get(current)!.set(key, [m[2]]);
  }
  for (const [section, vals] of values) {
    for (const [k, lines] of vals) section.set(k, lines.join('\n').trimEnd());
  }
  return sections;
}

/** ConfigParser's BasicInterpolation: `%(name)s` from the section, then the defaults; `%%` is `%`. */
export function interpolate(value: string, section: Map<string, string>, defaults: Map<string, string>, file: string, depth = 0): string {
  if (depth > 10) throw locationError(`${file}: interpolation of %(…)s nests too deep.`, 'Fix the %(…)s references in the [alembic] section.', file);
  return value.replace(/%%|%\(([^)]+)\)s/g, (_whole, name: string | undefined) => {
    if (!name) return '%';
    const v = section.get(name.toLowerCase()) ?? defaults.get(name.toLowerCase());
    if (v === undefined) throw locationError(`${file}: %(${name})s is not defined.`, `Define ${name} in [alembic] or [DEFAULT], or use %(here)s.`, file);
    return interpolate(v, section, defaults, file, depth + 1);
  });
}

/** `myapp:migrations` (not absolute, has a colon) is a Python package resource: unreadable without Python. */
export function checkNotPackageResource(value: string, key: string, ini: string): void {
  if (!path.isAbsolute(value) && value.includes(':')) {
    throw locationError(
      `${ini}: ${key} = ${value} is a Python package resource, which tidemark cannot resolve without running Python.`,
      'Pass the versions directory itself: tidemark check --alembic path/to/versions.',
      ini,
    );
  }
}

/** Splits version_locations as Alembic's Config.get_version_locations_list does. */
export function splitVersionLocations(value: string, separator: string | undefined, ini = 'alembic.ini'): string[] {
  if (separator === undefined) {
    // Legacy (no path_separator): split on spaces and commas.
    return value.split(/, *| +/).filter((x) => x !== '');
  }
  const chars: Record<string, string> = { space: ' ', newline: '\n', os: path.delimiter, ':': ':', ';': ';' };
  const ch = chars[separator];
  if (ch === undefined) {
    throw locationError(
      `${ini}: '${separator}' is not a valid path_separator; Alembic expects space, newline, os, ':' or ';'.`,
      'Set path_separator = os (or space, newline, :, ;) in [alembic].',
      ini,
    );
  }
  return value
    .split(ch)
    .filter((x) => x)
    .map((x) => x.trim())
    .filter((x) => x !== '');
}
