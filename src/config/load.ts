/**
 * Find and load tidemark.config.* (DESIGN §2, §7: src/config): the entry point of this folder. Reading a
 * file is read.ts, validating its value is validate.ts, the `requires` graph is services.ts.
 *
 * Every failure is a TidemarkError of kind 'input' whose message is one sentence per problem,
 * prefixed with the config file (and line when we can find it), and naming the service or field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import { displayPath, readConfigFile } from './read.js';
import type { TidemarkConfig, Workspace } from './types.js';
import { validateConfig } from './validate.js';

/** Looked for in this order in each directory. */
export const CONFIG_FILE_NAMES = ['tidemark.config.ts', 'tidemark.config.mjs', 'tidemark.config.js', 'tidemark.config.json'] as const;

export interface LoadOptions {
  /** Where the lookup starts and what relative paths in options are resolved from. Default: process.cwd(). */
  cwd?: string;
  /** Explicit config file (`--config`); no parent-directory lookup then. */
  configFile?: string;
  /** A config passed as a value instead of a file. */
  config?: TidemarkConfig;
  /** Directory that relative `migrations` paths are resolved from. Default: the config file's directory, else cwd. */
  root?: string;
}

/** The first tidemark.config.{ts,mjs,js,json} in `cwd` or one of its parents, or undefined. */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  let dir = path.resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Find (or take) the config, read it and validate it into a Workspace. */
export async function loadWorkspace(options: LoadOptions = {}): Promise<Workspace> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const explicitFile = options.configFile === undefined ? undefined : path.resolve(cwd, options.configFile);

  if (options.config !== undefined) {
    const root = path.resolve(cwd, options.root ?? (explicitFile ? path.dirname(explicitFile) : '.'));
    return validateConfig(options.config, { root, cwd, configFile: explicitFile });
  }

  let file: string | undefined;
  if (explicitFile) {
    if (!isFile(explicitFile)) {
      throw new TidemarkError('config-not-found', `Config file ${displayPath(explicitFile, cwd)} does not exist.`, {
        kind: 'input',
        file: explicitFile,
        hint: 'check the --config path, or run `tidemark init`',
      });
    }
    file = explicitFile;
  } else {
    file = findConfigFile(cwd);
    if (!file) {
      throw new TidemarkError('config-not-found', `No tidemark.config.ts, .mjs, .js or .json in ${cwd} or any parent directory.`, { kind: 'input', hint: 'run `tidemark init`' });
    }
  }

  const raw = await readConfigFile(file, cwd);
  const root = options.root !== undefined ? path.resolve(cwd, options.root) : path.dirname(file);
  return validateConfig(raw, { root, cwd, configFile: file });
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
