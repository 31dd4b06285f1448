/** Migration references (`-- tidemark:requires`, `--to`): pure lookups over the histories. */
import type { History, MigrationFile } from './migration.js';

/** The service a reference belongs to: the longest service name followed by `_<number>`. */
function serviceOfRef(ref: string, services: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const s of services) {
    if (ref.startsWith(`${s}_`) && /^\d+(_|$)/.test(ref.slice(s.length + 1)) && (!best || s.length > best.length)) best = s;
  }
  return best;
}

/** Finds a migration by full id, or by the short form `<service>_<NNN>`. */
export function resolveMigration(histories: readonly History[], ref: string): MigrationFile | undefined {
  const service = serviceOfRef(
    ref,
    histories.map((h) => h.service),
  );
  const history = histories.find((h) => h.service === service);
  if (!history) return undefined;
  const exact = history.migrations.find((m) => m.id === ref);
  if (exact) return exact;
  const short = /^(\d+)$/.exec(ref.slice(history.service.length + 1));
  return short ? history.migrations.find((m) => m.number === BigInt(short[1])) : undefined;
}
