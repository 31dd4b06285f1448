/**
 * Check (c), `replay-equals-schema`: when `services.S.schema` is configured, the full replay of S's history
 * (the stairway ends there) must equal that desired schema, loaded as `tidemark diff` loads it
 * (flows/autogen/sources.ts) on the run's one shadow, emptied first. Each difference is named in words; the
 * fix is the migration `tidemark diff` writes. A service without `schema` gets no finding.
 */
import path from 'node:path';
import type { Service } from '../../config/types.js';
import type { Session } from '../../db/database.js';
import type { Shadow } from '../../db/shadow.js';
import { asTidemarkError } from '../../errors.js';
import { diff } from '../../schema/diff/diff.js';
import { describeChanges } from '../../schema/diff/words.js';
import type { Snapshot } from '../../schema/snapshot.js';
import type { Target } from '../../target/target.js';
import { loadSource } from '../autogen/sources.js';
import type { TestFinding } from './index.js';

/**
 * Compares `replayed` (S's snapshot after its whole history) with S's desired schema. `shadow` is the run's,
 * `empty` resets it: loadSource is given that one, so no second shadow is opened.
 */
export async function checkDesiredSchema(target: Target<Session>, service: Service, replayed: Snapshot, shadow: Shadow, empty: () => Promise<void>): Promise<TestFinding[]> {
  if (!service.schema || service.schema.length === 0) return [];
  const name = service.name;
  await empty();
  let desired: Snapshot;
  try {
    // The run's shadow: loadSource leaves a shadow it was given to the caller, who disposes of it.
    desired = (await loadSource(target, service, { kind: 'files', paths: service.schema }, false, { shadow })).snapshot;
  } catch (err) {
    const e = asTidemarkError(err);
    return [
      {
        check: 'replay-equals-schema',
        service: name,
        status: 'fail',
        message: `the desired schema of ${name} could not be loaded: ${e.message.replace(/\.$/, '')}`,
        ...(e.hint ? { hint: e.hint } : {}),
        ...(e.file ? { file: e.file } : {}),
        ...(e.line ? { line: e.line } : {}),
      },
    ];
  }
  const where = service.schema.map((p) => path.relative(target.paths.root, p) || '.').join(', ');
  // describeChanges says "in the <label>".
  const words = describeChanges(diff(replayed, desired), { expected: `replay of ${name}'s history`, actual: 'desired schema' });
  if (words.length === 0) return [{ check: 'replay-equals-schema', service: name, status: 'pass', message: `the replay of ${name}'s history equals its desired schema` }];
  return [
    {
      check: 'replay-equals-schema',
      service: name,
      status: 'fail',
      file: service.schema[0],
      message: `the replay of ${name}'s history differs from its desired schema (${where}): ${words.map((w) => w.message).join('; ')}`,
      hint: `Run \`tidemark diff --service ${name}\` to write the migration that brings the history to the desired schema (or correct the schema files).`,
    },
  ];
}
