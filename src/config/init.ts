import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { CONFIG_FILE_NAMES } from './load.js';

export type ConfigFormat = 'ts' | 'mjs' | 'json';

function renderConfig(format: ConfigFormat, services: readonly string[]): string {
  const entries = services.map((s) => ({ name: s, migrations: `migrations/${s}` }));
  if (format === 'json') {
    const services = Object.fromEntries(entries.map((e) => [e.name, { migrations: e.migrations, owns: [], requires: [] }]));
    return `${JSON.stringify({ services }, null, 2)}\n`;
  }
  const body = entries
    .map(
      (e) =>
        `    ${e.name}: {\n      migrations: '${e.migrations}',\n      // tables this service owns: names, globs like '${e.name}_*', or 'schema:<name>'\n      owns: [],\n      // services whose tables this one may reference\n      requires: [],\n    },`,
    )
    .join('\n');
  const head = format === 'ts' ? `import { defineConfig } from 'tidemark';\n\nexport default defineConfig({` : `/** @type {import('tidemark').TidemarkConfig} */\nexport default {`;
  const tail = format === 'ts' ? '});' : '};';
  return `${head}
  // database: 'postgres://user@host/db', // else DATABASE_URL, else the embedded pglite:./.tidemark/db
  services: {
${body}
  },
  // databases that \`tidemark reset\` must refuse (names, hosts or URLs; globs allowed)
  protected: [],
${tail}
`;
}

/** Scaffolds tidemark.config.<format> and one migrations directory per service. Refuses an existing config. */
export async function initWorkspace(dir: string, services: readonly string[], format: ConfigFormat = 'ts'): Promise<{ configFile: string; directories: string[] }> {
  for (const name of CONFIG_FILE_NAMES) {
    const existing = path.join(dir, name);
    if (
      await fs.stat(existing).then(
        () => true,
        () => false,
      )
    ) {
      throw new TidemarkError('config-exists', `${name} already exists in ${dir}.`, { kind: 'usage', hint: 'Edit it, or remove it to start again.' });
    }
  }
  for (const s of services) {
    if (!/^[a-z][a-z0-9_]*$/.test(s)) {
      throw new TidemarkError('bad-service-name', `Service name "${s}" must be lower-case letters, digits and _ (it prefixes migration file names).`, {
        kind: 'usage',
      });
    }
  }
  const configFile = path.join(dir, `tidemark.config.${format}`);
  const directories: string[] = [];
  for (const s of services) {
    const d = path.join(dir, 'migrations', s);
    await fs.mkdir(d, { recursive: true });
    directories.push(d);
  }
  await fs.writeFile(configFile, renderConfig(format, services), { flag: 'wx' });
  return { configFile, directories };
}
