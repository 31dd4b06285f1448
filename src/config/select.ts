import { TidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import type { Service, Workspace } from './types.js';

/** The services named (or all tidemark services), refusing unknown and Alembic-kept ones. */
export function selectServices(workspace: Workspace, service: string | readonly string[] | undefined): Service[] {
  const names = service === undefined ? undefined : typeof service === 'string' ? [service] : [...service];
  if (!names) return workspace.services.filter((s) => s.format === 'tidemark');
  return names.map((name) => {
    const found = workspace.services.find((s) => s.name === name);
    if (!found) {
      throw new TidemarkError('unknown-service', `No service ${name} in ${workspace.configFile ? displayPath(workspace.configFile) : 'the config'}.`, {
        kind: 'usage',
        hint: `Declared services: ${workspace.services.map((s) => s.name).join(', ') || 'none'}.`,
      });
    }
    if (found.format !== 'tidemark') {
      throw new TidemarkError('alembic-service', `Service ${name} is kept by Alembic (format: 'alembic'); tidemark does not run its migrations.`, {
        kind: 'usage',
        hint: `Run Alembic for it, or move it to tidemark with \`tidemark adopt --service ${name}\`.`,
      });
    }
    return found;
  });
}
