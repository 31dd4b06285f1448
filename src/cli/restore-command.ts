import { pc } from '../report/colors.js';
import type { RestoreResult } from '../api/restore.js';
import { parseColumnRef } from '../config/column-ref.js';
import { TidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import { displayName, escapeControl } from '../sql/ident.js';
import { lockTimeoutMs } from './flags.js';
import { finish, formatMs, note, printJson, type GlobalOptions } from './output.js';

export interface RestoreFlags extends GlobalOptions {
  service?: string[];
  replace?: boolean;
  /** `table.col=value`, repeatable. */
  fill?: string[];
  /** Seconds to wait for another run holding a restored service's lock. */
  lockTimeout?: number;
  forceProtected?: boolean;
  yesIMean?: string;
}

/**
 * `--fill table.col=value` flags → the API's map; a malformed one is bad usage. The column is
 * `[schema.]table.column` in the owns grammar (`'"a.b".c.col=x'`), so the `=` that ends it is the
 * first one outside double quotes.
 */
export function parseFill(fill: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fill ?? []) {
    let eq = -1;
    let quoted = false;
    for (let i = 0; i < f.length && eq < 0; i++) {
      if (f[i] === '"') quoted = !quoted;
      else if (f[i] === '=' && !quoted) eq = i;
    }
    const parsed = eq < 0 ? undefined : parseColumnRef(f.slice(0, eq));
    if (!parsed?.ok) {
      const why = parsed && !parsed.ok ? `: the column ${parsed.error.message}` : '';
      throw new TidemarkError('bad-usage', `--fill ${f}${why}; write --fill table.column=value (or schema.table.column=value).`, {
        kind: 'usage',
        hint: parsed && !parsed.ok && parsed.error.hint ? parsed.error.hint : 'quote a name with dots, spaces or capitals as in psql, and the whole flag for the shell: --fill \'"a.b".c.col=value\'',
      });
    }
    out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}

/** `tidemark restore DIR`: exit 0 restored, 1 failed or rolled back, 2 bad usage or refused input. */
export async function runRestore(dir: string, flags: RestoreFlags): Promise<void> {
  let fill: Record<string, string>;
  try {
    fill = parseFill(flags.fill); // (--lock-timeout is checked while parsing: flags.ts)
  } catch (err) {
    return finish(err, flags);
  }
  const { restore } = await import('../api/restore.js');
  const result: RestoreResult = await restore({
    dir,
    configFile: flags.config,
    database: flags.database,
    onConnect: (database, source) => {
      if (!flags.json && source === 'default') note(`Using the embedded database ${database} (no --database, DATABASE_URL or config database).`);
    },
    service: flags.service?.length ? flags.service : undefined,
    replace: flags.replace,
    forceProtected: flags.forceProtected,
    yesIMean: flags.yesIMean,
    ask: async (question: string) => (await import('./ask.js')).askOnTty(question),
    fill,
    lockTimeoutMs: lockTimeoutMs(flags),
    onWait: (service) => {
      if (!flags.json) note(`Waiting for another tidemark run on ${service} to finish…`);
    },
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  for (const n of result.notes) note(n);
  for (const t of result.tables) {
    const extra: string[] = [];
    // Table labels come escaped (sql/ident.ts displayQualified); column names and values are escaped here.
    if (t.skippedColumns.length) extra.push(`skipped ${t.skippedColumns.map(displayName).join(', ')}`);
    const filled = t.filledColumns.filter((f) => f.from !== 'identity' && f.from !== 'generated');
    if (filled.length) extra.push(`filled ${filled.map((f) => `${displayName(f.column)} (${f.from === 'fill' ? `= ${escapeControl(f.value ?? '')}` : f.from})`).join(', ')}`);
    const mark = t.digestMatched ? pc.green('✓') : pc.red('✗');
    process.stdout.write(`${mark} ${t.table} ${t.rows.toLocaleString('en-US')} rows${extra.length ? ` ${pc.dim(`(${extra.join('; ')})`)}` : ''}\n`);
  }
  if (result.ok) {
    process.stdout.write(
      `Restored ${result.tables.length} table${result.tables.length === 1 ? '' : 's'} (${result.rows.toLocaleString('en-US')} rows) from ${displayPath(result.dir)} in ${formatMs(result.durationMs)} ${pc.dim(`(load ${formatMs(result.loadMs)}, verify ${formatMs(result.verifyMs)})`)}; digests match.\n`,
    );
  }
  finish(result.error, flags);
}
