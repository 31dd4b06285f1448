/**
 * Check (d), isolation: each service replayed with only its `requires` closure, on an emptied shadow. A
 * migration that uses another service's object without requiring that service works when every service
 * is applied together (config order helps it), and breaks a database where it runs first. The undefined
 * object is named with its owner: "budget_001_x uses table users of service user; budget does not require user".
 *
 * The stairway walks exactly this closure (stairway.ts), so it reports isolation as it goes; `checkIsolation`
 * replays a service only when its walk stopped early for another reason.
 */
import { replayMigrations } from '../../apply/replay.js';
import { ownerOf, ownsWholeSchema } from '../../config/owns.js';
import { withRequiredServices } from '../../config/services.js';
import type { Service, Workspace } from '../../config/types.js';
import type { Database } from '../../db/database.js';
import type { History } from '../../history/migration.js';
import type { TestFinding } from './index.js';

/** SQLSTATEs of a missing relation, type, function or schema, and the word used for each. */
const UNDEFINED_OBJECT: Record<string, string> = { '42P01': 'table', '42704': 'type', '42883': 'function', '3F000': 'schema' };

function sqlstateOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

function databaseMessage(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause;
  return cause?.message ?? (err as Error).message ?? String(err);
}

/** The missing object's name as the server quotes it: `relation "users"`, `schema "crm"`, `function f(integer)`. */
function missingName(message: string): { schema: string; name: string } | undefined {
  const m = /(?:relation|type|schema) "([^"]+)"/.exec(message) ?? /function ([\w.]+)\(/.exec(message);
  if (!m) return undefined;
  const dot = m[1].lastIndexOf('.');
  return dot > 0 ? { schema: m[1].slice(0, dot), name: m[1].slice(dot + 1) } : { schema: 'public', name: m[1] };
}

/**
 * The isolation finding for a migration of `service` that failed with `err` while only `service`'s closure
 * was applied, or undefined when the error is not an undefined object another service owns outside that closure.
 */
export function isolationFinding(workspace: Workspace, service: string, migration: { id: string; file: string }, err: unknown): TestFinding | undefined {
  const state = sqlstateOf(err);
  const word = state ? UNDEFINED_OBJECT[state] : undefined;
  if (!word) return undefined;
  const missing = missingName(databaseMessage(err));
  if (!missing) return undefined;
  const owner = state === '3F000' ? workspace.services.find((s) => ownsWholeSchema(s.owns, missing.name)) : ownerOf<Service>(workspace, missing);
  const closure = withRequiredServices(workspace, [service]);
  if (!owner || closure.includes(owner.name)) return undefined;
  const name = state === '3F000' || missing.schema === 'public' ? missing.name : `${missing.schema}.${missing.name}`;
  return {
    check: 'isolation',
    service,
    migration: migration.id,
    status: 'fail',
    file: migration.file,
    message: `${migration.id} uses ${word} ${name} of service ${owner.name}; ${service} does not require ${owner.name}`,
    hint: `Add '${owner.name}' to services.${service}.requires in the config (and \`-- tidemark:requires\` the migration that creates it), or move the object to ${service}.`,
  };
}

/** Replays `service`'s closure alone on `db` (emptied by the caller) and says whether it stands on its own. */
export async function checkIsolation(workspace: Workspace, histories: readonly History[], service: string, db: Database): Promise<TestFinding> {
  try {
    await replayMigrations({ workspace, histories }, withRequiredServices(workspace, [service]), db);
    return { check: 'isolation', service, status: 'pass', message: `${service} applies with only the services it requires` };
  } catch (err) {
    const m = histories.flatMap((h) => h.migrations).find((x) => x.id === (err as { migration?: string }).migration);
    const mapped = m && isolationFinding(workspace, m.service, m, err);
    return (
      mapped ?? { check: 'isolation', service, status: 'fail', migration: m?.id, file: m?.file, message: `${service} does not apply with only the services it requires: ${(err as Error).message}` }
    );
  }
}
