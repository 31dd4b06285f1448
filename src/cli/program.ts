/**
 * The command line as one commander program, built without running it: main.ts parses argv with it,
 * and tests build it in-process (test/unit/readme-commands.test.ts compares its options with the
 * README's command table). Each command's module is imported only when that command runs.
 */
import { Command, Option } from 'commander';
import { TidemarkError } from '../errors.js';
import { displayPath } from '../paths.js';
import { pc } from '../report/colors.js';
import { TOOL_VERSION } from '../version.js';
import { collect, forceProtectedOption, formatOption, lockTimeoutOption, once, onceOption, wholeNumber, yesIMeanOption } from './flags.js';
import { printJson, type GlobalOptions } from './output.js';
import { registerProtect } from './protect-command.js';

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function buildProgram(): Command {
  const program = new Command('tidemark')
    .description('PostgreSQL migrations for several services sharing one database')
    .version(TOOL_VERSION, '-v, --version')
    .option('-c, --config <file>', 'config file (default: tidemark.config.* here or in a parent directory)', once())
    .option('-d, --database <url>', 'postgres://…, pglite:PATH or pglite:memory (default: DATABASE_URL, the config, pglite:./.tidemark/db)', once())
    .option('--json', 'machine-readable output on stdout')
    .option('--debug', 'print stack traces of unexpected errors')
    .showHelpAfterError('(add --help for the commands and options)')
    .exitOverride();

  program
    .command('init')
    .description('scaffold tidemark.config and one migrations directory per service')
    .option('-s, --service <name>', 'a service (repeatable; default: app)', collect)
    .addOption(onceOption(new Option('--format <format>', 'config file format').choices(['ts', 'mjs', 'json']).default('ts')))
    .action(async (flags: { service?: string[]; format: 'ts' | 'mjs' | 'json' }, cmd: Command) => {
      const g = globals(cmd);
      const { initWorkspace } = await import('../config/init.js');
      const result = await initWorkspace(process.cwd(), flags.service?.length ? flags.service : ['app'], flags.format);
      if (g.json) return printJson(result);
      process.stdout.write(`Created ${displayPath(result.configFile)}\n`);
      for (const d of result.directories) process.stdout.write(`Created ${displayPath(d)}/\n`);
      process.stdout.write(`Next: tidemark new ${flags.service?.[0] ?? 'app'} initial_schema, then tidemark up\n`);
    });

  program
    .command('new')
    .description('write the next numbered migration file of a service')
    .argument('<service>', 'service name')
    .argument('<slug>', 'what the migration does, e.g. add_role')
    .addOption(onceOption(new Option('--kind <kind>', 'sql, or a js/ts data migration exporting up(ctx)/down(ctx)').choices(['sql', 'js', 'ts']).default('sql')))
    .action(async (service: string, slug: string, flags: { kind: 'sql' | 'js' | 'ts' }, cmd: Command) => {
      const g = globals(cmd);
      const [{ openScope }, { createMigrationFile }] = await Promise.all([import('../target/open.js'), import('../history/new-migration.js')]);
      const [s] = (await openScope({ configFile: g.config, service })).services;
      const created = await createMigrationFile(s.name, s.migrationsDir, slug, flags.kind);
      if (g.json) return printJson(created);
      process.stdout.write(`Created ${displayPath(created.file)}\n`);
      if (!created.sum.updated && created.sum.reason) process.stderr.write(`${pc.yellow('warning:')} ${created.sum.reason}\n`);
    });

  program
    .command('status')
    .description('applied, pending, failed and edited migrations per service')
    .option('-s, --service <name>', 'only this service (repeatable)', collect)
    .action(async (flags: { service?: string[] }, cmd: Command) => {
      const { runStatus } = await import('./migrate-commands.js');
      await runStatus({ ...globals(cmd), ...flags });
    });

  program
    .command('up')
    .description('apply pending migrations (all services in requirement order, or --service)')
    .option('-s, --service <name>', 'only this service (repeatable)', collect)
    .option('--to <id>', 'stop after this migration (e.g. user_003 or user_003_add_role)', once())
    .option('--dry-run', 'print the SQL that would run; change nothing')
    .addOption(lockTimeoutOption())
    .action(async (flags: { service?: string[]; to?: string; dryRun?: boolean; lockTimeout?: number }, cmd: Command) => {
      const { runMigrate } = await import('./migrate-commands.js');
      await runMigrate('up', { ...globals(cmd), ...flags });
    });

  program
    .command('down')
    .description('revert migrations of one service')
    .requiredOption('-s, --service <name>', 'the service', once())
    .option('--to <id>', 'revert every migration above this one (`base` for all)', once())
    .option('--steps <n>', 'revert the last n migrations', once())
    .option('--dry-run', 'print the SQL that would run; change nothing')
    .addOption(lockTimeoutOption())
    .action(async (flags: { service: string; to?: string; steps?: string; dryRun?: boolean; lockTimeout?: number }, cmd: Command) => {
      if ((flags.to === undefined) === (flags.steps === undefined)) {
        throw new TidemarkError('bad-usage', 'down needs exactly one of --to <id|base> or --steps <n>.', { kind: 'usage' });
      }
      const { runMigrate } = await import('./migrate-commands.js');
      await runMigrate('down', { ...globals(cmd), ...flags, service: [flags.service] });
    });

  program
    .command('stamp')
    .description('record a service as migrated up to an id without running SQL (`base` clears it)')
    .requiredOption('-s, --service <name>', 'the service', once())
    .requiredOption('--to <id>', 'the last migration to record as applied, or `base`', once())
    .addOption(lockTimeoutOption())
    .action(async (flags: { service: string; to: string; lockTimeout?: number }, cmd: Command) => {
      const { runStamp } = await import('./migrate-commands.js');
      await runStamp({ ...globals(cmd), ...flags });
    });

  program
    .command('check')
    .description('the doctor: duplicate ids, cross-service references, heads, sums… in tidemark and Alembic histories (and the database with --db)')
    .option('--db', 'also check the database (--database, DATABASE_URL or the config); on by default when the config names one')
    .option('--no-db', 'do not check the database, even one the config names')
    .option('--no-drift', "with the database: skip schema-drift (each service's applied history replayed on a shadow and compared with the live schema)")
    .addOption(onceOption(new Option('--format <format>', 'output').choices(['text', 'json', 'github']).default('text')))
    .option('--alembic <path...>', 'no config: Alembic versions dirs, environment dirs or alembic.ini files, one service each')
    .option('-s, --service <name>', 'only this service (repeatable)', collect)
    .action(async (flags: { db?: boolean; drift?: boolean; format?: 'text' | 'json' | 'github'; alembic?: string[]; service?: string[] }, cmd: Command) => {
      const { runCheck } = await import('./check-command.js');
      await runCheck({ ...globals(cmd), ...flags });
    });

  program
    .command('test')
    .description(
      'prove the migrations on a shadow database: history rules, up/down/up of each (stairway) with data kept, the replay against the desired schema, each service with only what it requires, every order requires allows',
    )
    .option('-s, --service <name>', 'only this service (repeatable; default: every tidemark service)', collect)
    .addOption(onceOption(new Option('--format <format>', 'output').choices(['text', 'json', 'github']).default('text')))
    .option('--require-down', 'a migration without a down section fails (default: reported)')
    .option('--shadow <url>', 'an empty database to run on (default: a temporary database on the target server, else in-process PGlite)', once())
    .option('--fixtures <dir>', 'a backup directory (tidemark backup) whose rows are loaded after the last migration it records, then kept by every later down', once())
    .action(async (flags: { service?: string[]; format?: 'text' | 'json' | 'github'; requireDown?: boolean; shadow?: string; fixtures?: string }, cmd: Command) => {
      const { runTest } = await import('./test-command.js');
      await runTest({ ...globals(cmd), ...flags });
    });

  program
    .command('diff')
    .description('write the next migration of a service from two schemas (default: its history → its configured desired schema), up and down, proven on a shadow first')
    .requiredOption('-s, --service <name>', 'the service', once())
    .option('--from <src>', 'history (default), history:ID, a database URL (postgres://…, pglite:PATH), or a .sql file or directory', once())
    .option('--to <src>', "same kinds as --from (default: the service's configured schema)", once())
    .option('--name <slug>', 'the slug of the file(s) written', once(), 'schema_change')
    .option('--dry-run', 'print the migration(s) and prove them; write nothing')
    .option('--one-file', 'one transactional file with plain forms (no CONCURRENTLY, no NOT VALID): for databases without rows yet')
    .option('--shadow <url>', 'an empty database for the shadows (default: a temporary database on the target server, else in-process PGlite)', once())
    .action(async (flags: { service: string; from?: string; to?: string; name?: string; dryRun?: boolean; oneFile?: boolean; shadow?: string }, cmd: Command) => {
      const { runDiff } = await import('./diff-command.js');
      await runDiff({ ...globals(cmd), ...flags });
    });

  program
    .command('graph')
    .description("draw every service's migration graph: mermaid, dot, svg or html")
    .addOption(onceOption(new Option('--format <format>', 'output').choices(['mermaid', 'dot', 'svg', 'html']).default('mermaid')))
    .option('-o, --out <file>', 'write to a file instead of stdout', once())
    .option('--alembic <path...>', 'no config: Alembic versions dirs, environment dirs or alembic.ini files')
    .action(async (flags: { format?: 'mermaid' | 'dot' | 'svg' | 'html'; out?: string; alembic?: string[] }, cmd: Command) => {
      const { runGraph } = await import('./graph-command.js');
      await runGraph({ ...globals(cmd), ...flags });
    });

  program
    .command('sum')
    .description('rewrite tidemark.sum of each (or the named) tidemark service')
    .option('-s, --service <name>', 'only this service (repeatable)', collect)
    .action(async (flags: { service?: string[] }, cmd: Command) => {
      const { runSum } = await import('./sum-commands.js');
      await runSum({ ...globals(cmd), ...flags });
    });

  program
    .command('renumber')
    .description('give duplicate numbers of a service the next free numbers (the later-added file moves)')
    .requiredOption('-s, --service <name>', 'the service', once())
    .option('--dry-run', 'say what would be renamed; change nothing')
    .action(async (flags: { service: string; dryRun?: boolean }, cmd: Command) => {
      const { runRenumber } = await import('./sum-commands.js');
      await runRenumber({ ...globals(cmd), ...flags });
    });

  program
    .command('backup')
    .description('back up the tables of services (or named tables) in one snapshot: data files, manifest.json, schema.sql')
    .option('-s, --service <name>', 'only the tables this service owns (repeatable; default: every service)', collect)
    .option('-t, --table <name>', 'a table, `table` or `schema.table` (repeatable)', collect)
    .addOption(formatOption('-f, --format <format>', 'pgdump is ndjson plus a pg_dump -Fc of the same snapshot, server only', ['ndjson', 'csv', 'pgdump'], 'ndjson'))
    .option('-o, --out <dir>', 'a new or empty directory (default: ./backups/<database>-<UTC timestamp>)', once())
    .option('--pg-dump <path>', 'with --format pgdump: the pg_dump to run (default: the first one as new as the server on PATH, then in /usr/lib/postgresql/*/bin)', once())
    .action(async (flags: { service?: string[]; table?: string[]; format?: string; out?: string; pgDump?: string }, cmd: Command) => {
      const { runBackup } = await import('./data-commands.js');
      await runBackup({ ...globals(cmd), ...flags });
    });

  program
    .command('verify-backup')
    .description('check a backup directory against its manifest: sizes, SHA-256, row counts, missing or extra files')
    .argument('<dir>', 'the backup directory')
    .action(async (dir: string, _flags: unknown, cmd: Command) => {
      const { runVerifyBackup } = await import('./data-commands.js');
      await runVerifyBackup(dir, globals(cmd));
    });

  program
    .command('restore')
    .description('restore a backup into the current schema: columns by name, foreign-key order, one transaction, digest-checked before COMMIT')
    .argument('<dir>', 'the backup directory')
    .option('-s, --service <name>', 'only the tables of this service in the backup (repeatable; default: all)', collect)
    .option('--replace', 'delete the rows of non-empty target tables first (same transaction)')
    .option('--fill <table.col=value>', 'a value for a NOT NULL column the backup lacks (repeatable)', collect)
    .addOption(lockTimeoutOption('another run of a restored service'))
    .addOption(forceProtectedOption())
    .addOption(yesIMeanOption())
    .action(async (dir: string, flags: { service?: string[]; replace?: boolean; fill?: string[]; lockTimeout?: number; forceProtected?: boolean; yesIMean?: string }, cmd: Command) => {
      const { runRestore } = await import('./restore-command.js');
      await runRestore(dir, { ...globals(cmd), ...flags });
    });

  program
    .command('validate')
    .description('check live data: owned tables against their migrations (replayed on a shadow database), row counts against a backup, orphans of foreign keys and soft relations')
    .option('-s, --service <name>', 'only the tables this service owns (repeatable; default: every tidemark service)', collect)
    .option('--against <dir>', 'a backup directory: compare live row counts with its manifest.json', once())
    .option('--no-structure', 'skip the structure check (no shadow replay of the migrations)')
    .option('--shadow <url>', 'an empty database to replay the migrations on (default: a temporary database on the target server, else in-process PGlite)', once())
    .action(async (flags: { service?: string[]; against?: string; structure?: boolean; shadow?: string }, cmd: Command) => {
      const { runValidate } = await import('./validate-command.js');
      await runValidate({ ...globals(cmd), ...flags });
    });

  program
    .command('reset')
    .description('dev only: drop the objects a service owns and re-apply its migrations (refuses protected and remote databases)')
    .requiredOption('-s, --service <name>', 'the service (repeatable: services reset together, dependents dropped first)', collect)
    .addOption(forceProtectedOption())
    .addOption(yesIMeanOption())
    .option('--dry-run', 'show what would be dropped; change nothing')
    .addOption(lockTimeoutOption())
    .action(async (flags: { service: string[]; forceProtected?: boolean; yesIMean?: string; dryRun?: boolean; lockTimeout?: number }, cmd: Command) => {
      const { runReset } = await import('./reset-command.js');
      await runReset({ ...globals(cmd), ...flags });
    });

  program
    .command('rebaseline')
    .description('production reset of a service onto its baseline: backup (verified), then ONE transaction that commits only if the data came back intact')
    .requiredOption('-s, --service <name>', 'the service', once())
    .option('--backup-dir <dir>', 'where the backup goes (default: ./backups/<database>-<UTC timestamp>)', once())
    .addOption(formatOption('-f, --format <format>', 'backup format', ['ndjson', 'csv'], 'ndjson'))
    .option('--retire-alembic <dir>', "the service's old Alembic versions directory: its rows leave the version table", once())
    .option('--version-table <name>', 'the Alembic version table (with --retire-alembic)', once(), 'alembic_version')
    .option('--shadow <url>', 'replay the baseline on this empty database (default: a temporary database on the same server, else PGlite)', once())
    .option('--force', 'go on although the doctor reports errors for the service')
    .option('--dry-run', 'preflight only: compare the live schema with the baseline and show the plan')
    .addOption(lockTimeoutOption())
    .addOption(forceProtectedOption())
    .addOption(yesIMeanOption())
    .action(
      async (
        flags: {
          service: string;
          backupDir?: string;
          format?: string;
          retireAlembic?: string;
          versionTable?: string;
          shadow?: string;
          force?: boolean;
          dryRun?: boolean;
          lockTimeout?: number;
          forceProtected?: boolean;
          yesIMean?: string;
        },
        cmd: Command,
      ) => {
        const { runRebaseline } = await import('./rebaseline-command.js');
        await runRebaseline({ ...globals(cmd), ...flags });
      },
    );

  program
    .command('adopt')
    .description('move a service from Alembic to tidemark: baseline from the live schema (proven on a shadow), stamped, its alembic_version rows retired')
    .requiredOption('-s, --service <name>', 'the Alembic service', once())
    .option('--as <name>', 'its name from now on (e.g. user_service → user, so files read user_001_…)', once())
    .option('--dir <dir>', 'the new migrations directory (default: migrations/<name>)', once())
    .option('--write', 'rewrite the config file (else the change is printed)')
    .option('--archive', 'move the old Alembic directory to archive/alembic/<service>')
    .addOption(lockTimeoutOption())
    .action(async (flags: { service: string; as?: string; dir?: string; write?: boolean; archive?: boolean; lockTimeout?: number }, cmd: Command) => {
      const { runAdopt } = await import('./adopt-command.js');
      await runAdopt({ ...globals(cmd), ...flags });
    });

  program
    .command('demo')
    .description('the CRM Ditual story end to end on an embedded PGlite: legacy database, doctor, backup, adopt, validate, new migrations')
    .option('--dir <dir>', 'build it here (a new or empty directory) and keep it', once())
    .option('--keep', 'keep the temporary directory afterwards')
    .addOption(onceOption(new Option('--users <n>', 'how many users (5 budgets each, 4 items a budget)').argParser(wholeNumber('--users', 1, '1000')).default(10000)))
    .action(async (flags: { dir?: string; keep?: boolean; users?: number }, cmd: Command) => {
      const { runDemo } = await import('./demo-command.js');
      await runDemo({ ...globals(cmd), ...flags });
    });

  program
    .command('baseline')
    .description('write <service>_001_initial_schema.sql from the live objects a service owns, proven on a PGlite shadow first')
    .requiredOption('-s, --service <name>', 'the service', once())
    .option('--dir <dir>', "write into this directory instead of the service's migrations directory", once())
    .option('--force', 'overwrite an existing <service>_001_initial_schema.sql (with --schema: the schema file)')
    .option('--dry-run', 'print the migration (with --schema: the desired schema) and prove it; write nothing')
    .option('--shadow <url>', 'prove it on this empty database instead of an in-process PGlite', once())
    .option('--schema', "write the proven up section alone as the service's desired schema (its configured schema file, else schema/<service>.sql)")
    .option('--out <file>', 'with --schema: write the desired schema to this file', once())
    .action(async (flags: { service: string; dir?: string; force?: boolean; dryRun?: boolean; shadow?: string; schema?: boolean; out?: string }, cmd: Command) => {
      const { runBaseline } = await import('./schema-commands.js');
      await runBaseline({ ...globals(cmd), ...flags });
    });

  program
    .command('squash')
    .description("replace a service's migrations up to --to by one file that creates what they leave, proven on a shadow; the old files move to squashed/")
    .requiredOption('-s, --service <name>', 'the service', once())
    .requiredOption('--to <id>', 'the last migration to squash (from the first one), e.g. user_003', once())
    .option('--dry-run', 'print the squash and prove it; write nothing')
    .option('--shadow <url>', 'prove it on this empty database (default: a temporary database on the same server, else PGlite)', once())
    .action(async (flags: { service: string; to: string; dryRun?: boolean; shadow?: string }, cmd: Command) => {
      const { runSquash } = await import('./squash-command.js');
      await runSquash({ ...globals(cmd), ...flags });
    });

  const alembic = program.command('alembic').description('helpers for services still kept by Alembic');
  alembic
    .command('split-version-table')
    .description('give each Alembic service its own version table, moving every row to its owner in one transaction')
    .option('--table <name>', 'the shared version table', once(), 'alembic_version')
    .option('--dry-run', 'show the moves; change nothing')
    .action(async (flags: { table?: string; dryRun?: boolean }, cmd: Command) => {
      const { runSplitVersionTable } = await import('./alembic-command.js');
      await runSplitVersionTable({ ...globals(cmd), ...flags });
    });

  registerProtect(program);
  return program;
}
