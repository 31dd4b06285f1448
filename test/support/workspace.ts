import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from dist/test/support. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = path.join(REPO_ROOT, 'dist/src/cli/main.js');
export const CRM_EXAMPLE = path.join(REPO_ROOT, 'examples/crm-ditual');

export interface TempWorkspace {
  dir: string;
  write(relative: string, text: string): string;
  remove(): void;
}

/**
 * A workspace in a temp dir: tidemark.config.json with the given services (migrations under
 * migrations/<name>) and the given files (paths relative to the workspace).
 */
export function makeWorkspace(services: Record<string, { owns?: string[]; requires?: string[] }>, files: Record<string, string> = {}): TempWorkspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-ws-'));
  const config = {
    services: Object.fromEntries(Object.entries(services).map(([name, s]) => [name, { migrations: `migrations/${name}`, owns: s.owns ?? [], requires: s.requires ?? [] }])),
  };
  for (const name of Object.keys(services)) mkdirSync(path.join(dir, 'migrations', name), { recursive: true });
  writeFileSync(path.join(dir, 'tidemark.config.json'), JSON.stringify(config, null, 2));
  const ws: TempWorkspace = {
    dir,
    write(relative, text) {
      const file = path.join(dir, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const [relative, text] of Object.entries(files)) ws.write(relative, text);
  return ws;
}

/** A copy of examples/crm-ditual in a temp dir. */
export function copyCrmExample(): TempWorkspace {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-crm-'));
  cpSync(CRM_EXAMPLE, dir, { recursive: true });
  return {
    dir,
    write(relative, text) {
      const file = path.join(dir, relative);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sqlMigration(up: string, down?: string, header = ''): string {
  return `${header}-- tidemark:up\n${up}\n${down === undefined ? '' : `-- tidemark:down\n${down}\n`}`;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, in `cwd`, without colour. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
