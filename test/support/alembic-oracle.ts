/**
 * Alembic itself as the oracle for "a history the doctor calls clean is one Alembic can load".
 * Needs a Python with Alembic: $TIDEMARK_ALEMBIC_PYTHON (default python3), with $TIDEMARK_ALEMBIC_PYTHONPATH
 * prepended to its path (e.g. a checkout of sqlalchemy/alembic). Without one, the tests that need it skip.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './workspace.js';

export interface AlembicLoad {
  ok: boolean;
  error?: string;
  warnings: string[];
}

const SCRIPT = path.join(REPO_ROOT, 'test/support/alembic_oracle.py');

function env(): NodeJS.ProcessEnv {
  const extra = process.env.TIDEMARK_ALEMBIC_PYTHONPATH;
  return {
    ...process.env,
    PYTHONDONTWRITEBYTECODE: '1',
    ...(extra ? { PYTHONPATH: [extra, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter) } : {}),
  };
}

const python = process.env.TIDEMARK_ALEMBIC_PYTHON ?? 'python3';

/** Undefined when Alembic can be run; else why not (the skip reason). */
export const alembicUnavailable: string | undefined = (() => {
  const r = spawnSync(python, ['-c', 'import alembic.script, sys; sys.stdout.write(alembic.__version__)'], { env: env(), encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? undefined : `no Python with Alembic (${python}; set TIDEMARK_ALEMBIC_PYTHON / TIDEMARK_ALEMBIC_PYTHONPATH)`;
})();

export const alembicVersion: string | undefined = alembicUnavailable
  ? undefined
  : spawnSync(python, ['-c', 'import alembic, sys; sys.stdout.write(alembic.__version__)'], { env: env(), encoding: 'utf8' }).stdout;

/** Loads each versions directory with Alembic's ScriptDirectory / RevisionMap, in one Python process. */
export function loadWithAlembic(dirs: readonly string[]): AlembicLoad[] {
  const r = spawnSync(python, [SCRIPT], { env: env(), input: JSON.stringify(dirs), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`the Alembic oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as AlembicLoad[];
}
