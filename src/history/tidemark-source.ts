import { createHash } from 'node:crypto';
import type { Diagnostic } from '../diagnostic.js';
import type { MigrationFile, Requirement, SqlSection } from './migration.js';

/** Extensions a tidemark migration may have: SQL, or a script exporting up(ctx)/down(ctx). */
const MIGRATION_EXTENSIONS = ['sql', 'ts', 'js', 'mjs'] as const;

const MIGRATION_LIKE = new RegExp(`\\.(?:${MIGRATION_EXTENSIONS.join('|')})$`);

/**
 * A directory entry the history reader takes for a migration, or reports as a misnamed or misplaced
 * one (any service's name, a directory too): a migration extension, not a dotfile, not a `.d.ts`.
 */
export function isMigrationLikeName(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('.d.ts') && MIGRATION_LIKE.test(name);
}

export interface MigrationName {
  /** Exact (a bigint, not a float): `…_9007199254740993_…` and `…_9007199254740992_…` are two numbers. */
  number: bigint;
  slug: string;
  id: string;
  kind: 'sql' | 'script';
}

/**
 * `<service>_<NNN>_<slug>.<ext>` → its parts, or undefined if the name is not one. The service is known,
 * so its name is taken as a prefix: a slug may start with digits (`user_002_2024_fix.sql` is user's
 * migration 2, as `tidemark new user 2024_fix` writes it), which a pattern guessing where the service
 * name ends would read as service `user_002`.
 */
export function parseMigrationName(service: string, fileName: string): MigrationName | undefined {
  if (fileName.endsWith('.d.ts') || !fileName.startsWith(`${service}_`)) return undefined;
  const m = /^(\d+)_([a-z0-9][a-z0-9_]*)\.(sql|ts|js|mjs)$/.exec(fileName.slice(service.length + 1));
  if (!m) return undefined;
  return {
    number: BigInt(m[1]),
    slug: m[2],
    id: fileName.slice(0, fileName.length - m[3].length - 1),
    kind: m[3] === 'sql' ? 'sql' : 'script',
  };
}

export function formatMigrationId(service: string, number: bigint, slug: string): string {
  return `${service}_${formatMigrationNumber(number)}_${slug}`;
}

/**
 * Migration numbers are compared exactly, as Flyway compares its version parts (BigInteger): a
 * number is a bigint everywhere, never a float, so numbers past 2^53 (19-digit nanosecond
 * timestamps from golang-migrate, for one) neither collide nor reorder. `005` and `5` are one number.
 */
export function compareMigrationNumbers(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `5n` → `005`: how numbers are written in file names and messages. */
export function formatMigrationNumber(number: bigint): string {
  return String(number).padStart(3, '0');
}

/** The largest of the numbers, or 0n for none. */
export function highestMigrationNumber(numbers: Iterable<bigint>): bigint {
  let highest = 0n;
  for (const n of numbers) if (n > highest) highest = n;
  return highest;
}

export function checksumOf(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface ParsedSource {
  migration?: MigrationFile;
  problems: Diagnostic[];
}

const SQL_DIRECTIVE = /^\s*--\s*tidemark:\s*([A-Za-z][\w-]*)?(.*)$/;
const SCRIPT_DIRECTIVE = /^\s*\/\/\s*tidemark:\s*([A-Za-z][\w-]*)?(.*)$/;

/**
 * Parses one migration file's bytes. Pure: the caller read the file.
 * Every problem is returned as a Diagnostic naming file and line; `migration` is set only when
 * the file is usable (no error-level problem).
 */
export function parseMigrationSource(service: string, file: string, name: MigrationName, bytes: Uint8Array): ParsedSource {
  const problems: Diagnostic[] = [];
  const problem = (line: number | undefined, message: string, hint?: string) => problems.push({ rule: 'migration-file', severity: 'error', service, file, line, message, hint });

  const text = Buffer.from(bytes).toString('utf8');
  if (text.includes('\u0000') || text.includes('\uFFFD')) {
    problem(undefined, `${name.id} is not a UTF-8 text file.`, 'A migration must be UTF-8 text; restore the file from version control.');
    return { problems };
  }
  const lines = text.split(/\r?\n/);
  const requires: Requirement[] = [];
  let transactional = true;
  let lossyDown = false;
  let noTransactionLine: number | undefined;
  const squashes: string[] = [];
  let up: SqlSection | undefined;
  let down: SqlSection | undefined;

  const addRequires = (args: string, line: number) => {
    const refs = args.split(/[\s,]+/).filter(Boolean);
    if (refs.length === 0) {
      problem(line, `${name.id}: \`tidemark:requires\` needs a migration id, e.g. \`-- tidemark:requires user_001_initial_schema\`.`);
    }
    for (const ref of refs) {
      if (!/^[a-z][a-z0-9_]*_\d+(_[a-z0-9_]+)?$/.test(ref)) {
        problem(line, `${name.id}: \`${ref}\` is not a migration id (expected <service>_<NNN>_<slug>).`);
      } else requires.push({ ref, line });
    }
  };

  // `-- tidemark:squashes <id> …` (a squash file): earlier migrations of this service, by full id, that this one replaces.
  const addSquashes = (args: string, line: number) => {
    const ids = args.split(/[\s,]+/).filter(Boolean);
    if (ids.length === 0)
      problem(line, `${name.id}: \`tidemark:squashes\` needs the ids of the migrations it replaces, e.g. \`-- tidemark:squashes ${service}_001_initial_schema ${service}_002_add_role\`.`);
    for (const id of ids) {
      const squashed = parseMigrationName(service, `${id}.sql`);
      if (!squashed || squashed.id !== id)
        problem(line, `${name.id}: \`${id}\` is not a migration id of ${service} (expected ${service}_<NNN>_<slug>).`, 'A squash replaces migrations of its own service, named in full.');
      else if (id === name.id) problem(line, `${name.id}: a migration cannot squash itself.`);
      else if (squashed.number > name.number)
        problem(line, `${name.id}: squashes ${id}, a later migration.`, `A squash is numbered like the last migration it replaces; ${id} comes after ${name.id}.`);
      else if (squashes.includes(id)) problem(line, `${name.id}: \`${id}\` is named twice in \`tidemark:squashes\`.`);
      else squashes.push(id);
    }
  };
  const setLossyDown = (args: string, line: number) => {
    if (args) problem(line, `${name.id}: \`tidemark:lossy-down\` takes no argument.`);
    lossyDown = true;
  };

  if (name.kind === 'script') {
    lines.forEach((raw, i) => {
      const m = SCRIPT_DIRECTIVE.exec(raw);
      if (!m) return;
      const directive = (m[1] ?? '').toLowerCase();
      if (directive === 'no-transaction') transactional = false;
      else if (directive === 'requires') addRequires(m[2], i + 1);
      else if (directive === 'lossy-down') setLossyDown(m[2].trim(), i + 1);
      else
        problem(
          i + 1,
          `${name.id}: unknown directive \`tidemark:${m[1] ?? ''}\`.`,
          'Script migrations accept `// tidemark:no-transaction`, `// tidemark:requires <id>` and `// tidemark:lossy-down` (a squash is SQL).',
        );
    });
  } else {
    // header → up → down; a section's text runs from the line after its marker to the next marker.
    let state: 'header' | 'up' | 'down' = 'header';
    let sectionStart = 0;
    const sectionLines: string[] = [];
    let inBlockComment = false;
    let firstSqlInHeader: number | undefined;
    const closeSection = () => {
      const section = { text: sectionLines.join('\n'), line: sectionStart };
      if (state === 'up') up = section;
      else if (state === 'down') down = section;
      sectionLines.length = 0;
    };
    lines.forEach((raw, i) => {
      const lineNo = i + 1;
      const m = SQL_DIRECTIVE.exec(raw);
      if (m) {
        const directive = (m[1] ?? '').toLowerCase();
        const args = m[2].trim();
        if (directive === 'up' || directive === 'down') {
          if (args) problem(lineNo, `${name.id}: \`tidemark:${directive}\` takes no argument.`);
          if ((directive === 'up' && (up || state === 'up')) || (directive === 'down' && (down || state === 'down'))) {
            problem(lineNo, `${name.id}: a second \`-- tidemark:${directive}\` section.`, 'A migration has one up section and at most one down section.');
            return;
          }
          if (directive === 'down' && state === 'header') {
            problem(lineNo, `${name.id}: \`-- tidemark:down\` comes before \`-- tidemark:up\`.`, 'Put the up section first.');
            return;
          }
          closeSection();
          state = directive;
          sectionStart = lineNo + 1;
          return;
        }
        if (directive === 'no-transaction' || directive === 'requires' || directive === 'squashes' || directive === 'lossy-down') {
          if (state !== 'header') {
            problem(lineNo, `${name.id}: \`tidemark:${directive}\` must come before \`-- tidemark:up\`.`, 'Header directives go at the top of the file.');
            return;
          }
          if (directive === 'no-transaction') {
            if (args) problem(lineNo, `${name.id}: \`tidemark:no-transaction\` takes no argument.`);
            transactional = false;
            noTransactionLine = lineNo;
          } else if (directive === 'requires') addRequires(args, lineNo);
          else if (directive === 'squashes') addSquashes(args, lineNo);
          else setLossyDown(args, lineNo);
          return;
        }
        problem(lineNo, `${name.id}: unknown directive \`tidemark:${m[1] ?? ''}\`.`, 'Known directives: up, down, no-transaction, requires, squashes, lossy-down.');
        return;
      }
      if (state !== 'header') {
        sectionLines.push(raw);
        return;
      }
      // Only comments and blank lines may precede the up section.
      const trimmed = raw.trim();
      if (inBlockComment) {
        if (trimmed.includes('*/')) inBlockComment = false;
        return;
      }
      if (trimmed === '' || trimmed.startsWith('--')) return;
      if (trimmed.startsWith('/*')) {
        inBlockComment = !trimmed.includes('*/', 2);
        return;
      }
      firstSqlInHeader ??= lineNo;
    });
    closeSection();
    if (!up) {
      problem(firstSqlInHeader, `${name.id} has no \`-- tidemark:up\` section.`, 'Put a line `-- tidemark:up` above the statements (and `-- tidemark:down` above their reverse).');
    } else if (firstSqlInHeader !== undefined) {
      problem(firstSqlInHeader, `${name.id}: SQL before \`-- tidemark:up\`.`, 'Only comments and directives may come before `-- tidemark:up`.');
    }
  }

  // A squash replaces its ids' rows in the transaction that runs it (or reverts it): it needs one.
  if (squashes.length > 0 && !transactional) {
    problem(
      noTransactionLine,
      `${name.id}: a squash (\`tidemark:squashes\`) cannot be \`tidemark:no-transaction\`.`,
      'Remove `-- tidemark:no-transaction`: the squash and the ledger rows it replaces change in one transaction.',
    );
  }
  if (problems.length > 0) return { problems };
  return {
    problems,
    migration: {
      service,
      id: name.id,
      number: name.number,
      slug: name.slug,
      file,
      kind: name.kind,
      checksum: checksumOf(bytes),
      transactional,
      requires,
      up,
      down,
      // Absent unless written, so a migration without them reads as it always has.
      ...(squashes.length > 0 ? { squashes } : {}),
      ...(lossyDown ? { lossyDown } : {}),
    },
  };
}
