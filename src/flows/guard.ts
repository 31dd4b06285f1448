/**
 * Which databases destructive commands (`reset`) refuse, and how a user overrides that.
 *
 * A target is guarded when it matches an entry of the config's `protected` list (a URL, a database
 * name or a host name, `*`/`?` globs allowed) or when its host is not this machine. Overriding takes
 * two deliberate acts, as `dropdb` and Prisma's `migrate reset` ask for: `--force-protected` AND the
 * database name typed back (at a prompt, or `--yes-i-mean <name>` for scripts).
 */
import { databaseNameOf, hostOf, parseDatabaseUrl, redactUrl } from '../db/url.js';
import { TidemarkError } from '../errors.js';

export interface TargetGuard {
  /** What the user must type back: the database name, or the PGlite path. */
  name: string;
  /** Why the target is guarded; empty when it is not. */
  reasons: string[];
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1']);

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Pure: the guard for a target URL given the config's `protected` list. */
export function guardTarget(url: string, protectedList: readonly string[], cwd = process.cwd()): TargetGuard {
  const parsed = parseDatabaseUrl(url, cwd);
  const reasons: string[] = [];
  if (parsed.backend === 'pglite') {
    const name = parsed.displayPath;
    for (const entry of protectedList) {
      if (globToRegExp(entry).test(name) || globToRegExp(entry).test(`pglite:${name}`)) {
        reasons.push(`it matches \`${entry}\` in the config's protected list`);
      }
    }
    return { name, reasons };
  }
  const name = databaseNameOf(url) ?? 'postgres';
  const host = hostOf(url);
  const shown = redactUrl(url);
  for (const entry of protectedList) {
    const re = globToRegExp(entry);
    const isUrl = /^postgres(ql)?:\/\//i.test(entry);
    if ((isUrl && re.test(shown)) || (isUrl && re.test(url)) || (!isUrl && (re.test(name) || (host !== undefined && re.test(host))))) {
      reasons.push(`it matches \`${entry}\` in the config's protected list`);
    }
  }
  if (host !== undefined && !host.startsWith('/') && !LOCAL_HOSTS.has(host)) {
    reasons.push(`its host ${host} is not this machine`);
  }
  return { name, reasons };
}

export interface GuardOverride {
  forceProtected?: boolean;
  /** `--yes-i-mean <name>`. */
  yesIMean?: string;
  /** Asks for the name on a TTY; undefined when there is no one to ask. */
  ask?: (question: string) => Promise<string | undefined>;
}

/** Throws unless the target is unguarded or the user overrode the guard with both acts. */
export async function enforceGuard(command: string, guard: TargetGuard, displayUrl: string, override: GuardOverride): Promise<void> {
  if (guard.reasons.length === 0) return;
  const why = guard.reasons.join(' and ');
  if (!override.forceProtected) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: ${why}. Nothing was changed.`, {
      kind: 'usage',
      hint: `If you really mean this database, pass --force-protected and type its name back (or --yes-i-mean ${guard.name}).`,
    });
  }
  let typed = override.yesIMean;
  if (typed === undefined && override.ask) typed = (await override.ask(`${displayUrl} is protected (${why}). Type the database name to ${command} it: `))?.trim();
  if (typed === undefined) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: ${why}, and no one typed its name back. Nothing was changed.`, {
      kind: 'usage',
      hint: `Without a terminal, pass --yes-i-mean ${guard.name} next to --force-protected.`,
    });
  }
  if (typed !== guard.name) {
    throw new TidemarkError('protected-target', `Refusing to ${command} ${displayUrl}: the name typed back (${typed}) is not ${guard.name}. Nothing was changed.`, {
      kind: 'usage',
    });
  }
}
