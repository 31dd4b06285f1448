// pg_dump (--format pgdump): finding one new enough, running it on the backup's snapshot.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../../db/database.js';
import type { ServerTarget } from '../../db/url.js';
import { redactUrl } from '../../db/redact.js';
import { TidemarkError, type ErrorCode } from '../../errors.js';
import { dumpPattern, escapeControl } from '../../sql/ident.js';
import type { LiveTable } from '../../schema/catalog.js';

export const PGDUMP_FILE = 'dump.pgdump';

function usage(code: ErrorCode, message: string, hint?: string): TidemarkError {
  return new TidemarkError(code, message, hint ? { hint } : {});
}

function run(bin: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ ok: boolean; stdout: string; stderr: string; exit: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      // Never err.message: it repeats the whole command line.
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      const exit = !e ? '' : e.signal ? `was killed by ${e.signal}` : typeof e.code === 'number' ? `exited with code ${e.code}` : `could not run (${String(e.code ?? 'unknown error')})`;
      resolve({ ok: !err, stdout: String(stdout), stderr: String(stderr ?? ''), exit });
    });
  });
}

/** `pg_dump (PostgreSQL) 15.20 (Debian …)` → 15 (major; 9.6 → 9). */
function pgDumpMajor(versionText: string): number | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/u.exec(versionText) ?? /(\d+)(?:\.(\d+))?/u.exec(versionText);
  return m ? Number(m[1]) : undefined;
}

/** Candidates: PATH's pg_dump first, then /usr/lib/postgresql/<N>/bin/pg_dump, highest N first. */
function pgDumpCandidates(): string[] {
  const found: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const bin = path.join(dir, 'pg_dump');
    if (isExecutable(bin)) {
      found.push(bin);
      break;
    }
  }
  let versions: string[] = [];
  try {
    versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+(\.\d+)?$/u.test(v));
  } catch {
    // no Debian-style install
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = `/usr/lib/postgresql/${v}/bin/pg_dump`;
    if (isExecutable(bin)) found.push(bin);
  }
  return found;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** How pg_dump is run: the binary and the server target the backup's own connection was opened from. */
export interface PgDumpCommand {
  bin: string;
  target: ServerTarget;
}

/**
 * Refuses PGlite, finds a pg_dump at least as new as the server, and takes the connection's own
 * server target: `server` (the target's), else the one a Database handed in was opened from. `named`:
 * `--pg-dump`, already absolute. The server's version is asked first: that is the first use of the
 * database, so a database that cannot be opened is reported before the refusals below, as always.
 */
export async function preparePgDump(db: Database, server: ServerTarget | undefined, named: string | undefined): Promise<PgDumpCommand> {
  const serverNum = Number((await db.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0].v);
  if (db.backend === 'pglite') {
    throw usage(
      'pgdump-embedded',
      'pg_dump cannot read an embedded (PGlite) database: --format pgdump needs a PostgreSQL server (postgres://…).',
      'Use --format ndjson or csv for an embedded database.',
    );
  }
  let target = server;
  if (!target) {
    const { serverTargetOf } = await import('../../db/postgres.js');
    target = serverTargetOf(db);
  }
  if (!target) {
    throw usage('pgdump-needs-url', '--format pgdump needs the database as a connection URL (pg_dump opens its own connection).');
  }

  const serverMajor = Math.floor(serverNum / 10000); // 150020 → 15, 90624 → 9
  const install = `Install the PostgreSQL ${serverMajor} client tools (e.g. apt-get install postgresql-client-${serverMajor}, brew install libpq)`;
  // A pg_dump named with --pg-dump is the only candidate: never a silent fallback to another one.
  const shown = named === undefined ? '' : escapeControl(named);
  if (named !== undefined && !isExecutable(named)) {
    throw usage(
      'pgdump-not-found',
      `--pg-dump ${shown} is not an executable file: --format pgdump runs pg_dump -Fc.`,
      `Name the pg_dump of PostgreSQL ${serverMajor} or newer (e.g. /usr/lib/postgresql/${serverMajor}/bin/pg_dump), or leave --pg-dump out to look on PATH and in /usr/lib/postgresql/*/bin.`,
    );
  }
  const tried: string[] = [];
  for (const bin of named !== undefined ? [named] : pgDumpCandidates()) {
    const v = await run(bin, ['--version']);
    const major = v.ok ? pgDumpMajor(v.stdout) : undefined;
    if (major === undefined) continue;
    if (major >= serverMajor) return { bin, target };
    tried.push(`${escapeControl(bin)} is version ${major}`);
  }
  if (named !== undefined && !tried.length) {
    throw usage(
      'pgdump-not-found',
      `--pg-dump ${shown} does not answer --version as pg_dump does (\`pg_dump (PostgreSQL) ${serverMajor}…\`): --format pgdump runs pg_dump -Fc.`,
      `Name the pg_dump of PostgreSQL ${serverMajor} or newer, or leave --pg-dump out to look on PATH and in /usr/lib/postgresql/*/bin.`,
    );
  }
  if (!tried.length) {
    throw usage(
      'pgdump-not-found',
      'No pg_dump found (looked on PATH and in /usr/lib/postgresql/*/bin): --format pgdump runs pg_dump -Fc.',
      `${install}, name one with --pg-dump PATH, or use --format ndjson or csv.`,
    );
  }
  throw usage(
    'pgdump-too-old',
    `pg_dump is too old for the server: the server is PostgreSQL ${serverMajor} and ${tried.join(', ')}; pg_dump must be version ${serverMajor} or newer.`,
    named !== undefined ? `${install}, or name a newer pg_dump with --pg-dump.` : `${install}, put a newer pg_dump first on PATH, or name one with --pg-dump PATH.`,
  );
}

/** A libpq conninfo value: single-quoted, `\` and `'` escaped. */
const conninfoValue = (v: string | number) => `'${String(v).replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** A .pgpass field: `\` and `:` escaped. */
const passfileField = (v: string) => v.replace(/[\\:]/g, (c) => `\\${c}`);

/**
 * pg_dump's command line names the server (host, port, user, database: the very target the backup's
 * connection uses) and never the password: that goes into a 0600 PGPASSFILE in a private 0700
 * directory removed afterwards (or, for a password with a line break, which a passfile cannot hold,
 * the child's environment). PG* variables that could send libpq elsewhere are dropped.
 */
export async function runPgDump(pgDump: PgDumpCommand, snapshot: string, tables: LiveTable[], file: string): Promise<{ sha256: string; bytes: number }> {
  const { target } = pgDump;
  const conninfo = [
    `host=${conninfoValue(target.host)}`,
    `port=${conninfoValue(target.port)}`,
    `user=${conninfoValue(target.user)}`,
    `dbname=${conninfoValue(target.database)}`,
    ...Object.entries(target.libpq).map(([k, v]) => `${k}=${conninfoValue(v)}`),
  ].join(' ');
  const args = ['-Fc', '--no-owner', `--snapshot=${snapshot}`, ...tables.flatMap((t) => ['-t', dumpPattern(t)]), '-f', file, '-d', conninfo];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['PGPASSWORD', 'PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGSERVICE', 'PGSERVICEFILE']) delete env[k];
  const password = target.password;
  let secretDir: string | undefined;
  try {
    if (password !== undefined && /[\r\n]/.test(password)) {
      env.PGPASSWORD = password;
    } else if (password !== undefined) {
      secretDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-pgpass-'));
      fs.chmodSync(secretDir, 0o700);
      const passfile = path.join(secretDir, 'pgpass');
      fs.writeFileSync(passfile, `*:*:*:*:${passfileField(password)}\n`, { mode: 0o600, flag: 'wx' });
      fs.chmodSync(passfile, 0o600); // libpq ignores a passfile others can read
      env.PGPASSFILE = passfile;
    }
    const r = await run(pgDump.bin, args, env);
    if (!r.ok) {
      let detail = redactUrl(r.stderr.trim().split('\n').filter(Boolean).slice(0, 3).join('; '));
      if (password) detail = detail.replaceAll(password, '***');
      throw new TidemarkError('pgdump-failed', `pg_dump failed on ${target.display}: ${detail || `it ${r.exit} without a message`}.`, {
        hint: 'Run pg_dump by hand against the same server to see why; the ndjson part of the backup needs no pg_dump (--format ndjson).',
      });
    }
  } finally {
    if (secretDir) fs.rmSync(secretDir, { recursive: true, force: true });
  }
  fs.chmodSync(file, 0o600);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}
