/**
 * The catalogue of every error code tidemark reports: the contract behind exit codes and `--json`.
 *
 * One entry per code, one line each, in alphabetical order (add a code on its own line where it sorts):
 * - `kind`    `usage` (bad flags or arguments) or `input` (bad config, migration file, backup, target) → exit 2;
 *             `failure` (the work itself failed: SQL error, database unreachable, lock timeout) → exit 1.
 *             A code has ONE kind: `new TidemarkError(code, …)` takes it from here, never from its call site.
 * - `fields`  the named fields an error of this code may carry (besides message and hint), for `--json`.
 * - `meaning` one line for the README's table.
 * - `message` the shape of the message, `{placeholders}` for what the call site fills in; the call site composes
 *             the sentence itself (this is documentation, not a format string).
 *
 * Diagnostic rule ids of `tidemark check` (src/check/rules) are a separate namespace and not listed here.
 * The README's "Error codes" table is generated from this file (`node dist/test/support/error-codes-table.js`)
 * and test/unit/error-codes.test.ts fails when the two differ.
 */
export type ErrorKind = 'usage' | 'input' | 'failure';

/** Named fields a TidemarkError can carry (see ErrorDetails in src/errors.ts). */
export type ErrorField = 'file' | 'line' | 'service' | 'migration';

export interface ErrorCodeEntry {
  readonly kind: ErrorKind;
  readonly fields: readonly ErrorField[];
  readonly meaning: string;
  readonly message: string;
}

// biome-ignore format: one line per code, the layout the catalogue test and the README table generator read
export const ERROR_CODES = {
  'adopt-archive-exists': { kind: 'input', fields: [], meaning: 'adopt --archive: the folder the Alembic directory would be archived to already exists; nothing changed', message: '{dir} already exists, so the Alembic directory cannot be archived there; nothing was changed.' },
  'adopt-archive-failed': { kind: 'failure', fields: ['service', 'migration'], meaning: 'adopt: the adoption committed, but moving the Alembic directory to the archive failed; it is left in place', message: '{service} is adopted ({migration} recorded as applied; config {state}), but its Alembic directory could not be archived: {errno}. Finish by hand: {command}' },
  'adopt-baseline-missing': { kind: 'failure', fields: [], meaning: 'adopt: the new migrations directory does not hold exactly the baseline it just wrote', message: '{dir} should hold exactly the baseline after adopt; found {n} migrations.' },
  'adopt-dir-not-empty': { kind: 'input', fields: ['service'], meaning: 'adopt: the service\'s new migrations directory already holds migrations', message: '{dir} already holds migrations; adopt writes the service\'s first one there.' },
  'adopt-failed': { kind: 'failure', fields: [], meaning: 'adopt failed for a reason below tidemark (file system, driver); what it wrote is removed', message: 'adopt failed: {reason}' },
  'adopt-name-taken': { kind: 'usage', fields: [], meaning: 'adopt --name: a service of that name already exists', message: 'A service named {name} already exists in {config}.' },
  'adopt-order': { kind: 'input', fields: ['service'], meaning: 'adopt: the service references objects of a service still kept by Alembic; adopt that one first', message: '{service} references {objects} of service {other}, which is still kept by Alembic: adopt {other} first.' },
  'alembic-location': { kind: 'input', fields: ['file'], meaning: 'an Alembic service\'s script location (alembic.ini / env) cannot be read or resolved', message: '{file}: {reason}' },
  'alembic-retire-empty': { kind: 'input', fields: ['service'], meaning: 'no Alembic revision found for the service: cannot tell which version-table rows are its own', message: 'No Alembic revision found in {dirs}: cannot tell which {table} rows belong to {service}.' },
  'alembic-service': { kind: 'usage', fields: [], meaning: 'the command runs migrations, and the named service is kept by Alembic', message: 'Service {service} is kept by Alembic (format: \'alembic\'); tidemark does not run its migrations.' },
  'already-tidemark': { kind: 'usage', fields: [], meaning: 'adopt: the service is already kept by tidemark', message: 'Service {service} is already kept by tidemark ({dir}); nothing to adopt.' },
  'applied-missing': { kind: 'input', fields: ['service', 'migration'], meaning: 'down: an applied migration\'s file is no longer in the migrations directory', message: 'Cannot revert {migration}: its file is not in {service}\'s migrations directory.' },
  'backup-corrupt': { kind: 'input', fields: [], meaning: 'restore: the backup does not verify (missing or altered files, bad manifest); nothing restored', message: '{dir} is not a trustworthy backup, nothing restored: {problems}' },
  'backup-count-mismatch': { kind: 'failure', fields: [], meaning: 'backup: COPY wrote another number of rows than the snapshot counted', message: '{table}: COPY wrote {n} rows but the snapshot counts {count}; nothing was written.' },
  'backup-failed': { kind: 'failure', fields: [], meaning: 'backup failed for a reason below tidemark (file system, driver); no partial backup is left', message: 'Backup failed: {reason}' },
  'backup-manifest-invalid': { kind: 'input', fields: ['file'], meaning: 'verify-backup / restore: manifest.json is malformed or unsafe (duplicate table, unknown digest column, ledger or system table, path outside data/, symlink)', message: '{file}: {problem}; nothing was restored.' },
  'backup-not-found': { kind: 'usage', fields: [], meaning: 'the backup directory given does not exist or is not a directory', message: '{dir} does not exist.' },
  'backup-row-security': { kind: 'failure', fields: [], meaning: 'backup: row-level security would hide rows of a table from this role; the backup would be partial', message: 'Row-level security applies to {role} on {table}: a backup would miss rows. Nothing was written.' },
  'backup-target-exists': { kind: 'usage', fields: [], meaning: 'backup --out names a file or a non-empty directory: a backup never overwrites one', message: '{dir} already exists and is not empty: a backup never overwrites one.' },
  'backup-target-symlink': { kind: 'usage', fields: [], meaning: 'backup --out is a symbolic link', message: '{dir} is a symbolic link; give a real directory.' },
  'bad-database-url': { kind: 'usage', fields: [], meaning: 'the database URL cannot be parsed or uses an unsupported scheme', message: 'cannot parse database URL "{url}": {reason}' },
  'bad-fill': { kind: 'usage', fields: [], meaning: 'restore --fill names no column the backup lacks (unknown, already in the backup, or generated)', message: '--fill {table.column}: no such column among the tables restored.' },
  'bad-graph-view': { kind: 'input', fields: [], meaning: 'the graph renderer was given something that is not a graph view', message: 'Cannot draw the graph: expected { services: [{ name, revisions: [{ id, … }] }] }.' },
  'bad-lock-key': { kind: 'failure', fields: [], meaning: 'an advisory lock key is not two int4 numbers (a bug in the caller)', message: 'advisory lock key ({a}, {b}) is not two int4 numbers' },
  'bad-manifest': { kind: 'input', fields: ['file'], meaning: 'validate --against: manifest.json is not JSON or not a tidemark manifest', message: '{file} is not a tidemark backup manifest (no tables with table and rowCount).' },
  'bad-requirement': { kind: 'input', fields: ['file', 'line', 'service', 'migration'], meaning: '-- tidemark:requires names a migration of the same service', message: '{file}:{line}: {migration} requires {target} of its own service.' },
  'bad-service-name': { kind: 'usage', fields: [], meaning: 'a service name is not lower-case letters, digits and _', message: 'Service name "{name}" must be lower-case letters, digits and _ (it prefixes migration file names).' },
  'bad-slug': { kind: 'usage', fields: [], meaning: 'new: the slug has no letters or digits', message: 'The slug "{slug}" has no letters or digits.' },
  'bad-table-name': { kind: 'usage', fields: [], meaning: '--table text is not a table name in the owns grammar (`table`, `schema.table`, quoted identifiers)', message: '--table {text}: {reason}.' },
  'bad-usage': { kind: 'usage', fields: [], meaning: 'a flag or argument is missing, malformed or contradicts another', message: '{flag} …: {what to give instead}.' },
  'bad-version-table': { kind: 'usage', fields: [], meaning: 'alembic split-version-table --table is not a plain table name', message: '{table} is not a plain table name.' },
  'baseline-differs': { kind: 'failure', fields: ['service'], meaning: 'baseline: the rendered baseline does not reproduce the live schema on the shadow; nothing written', message: 'The baseline of {service} does not reproduce the live schema ({n} differences): {differences}. Nothing was written.' },
  'baseline-empty': { kind: 'input', fields: ['service'], meaning: 'baseline: the service owns nothing in the database', message: 'Service {service} owns nothing in {database} (owns: {owns}); nothing to baseline.' },
  'baseline-exists': { kind: 'input', fields: ['file', 'service'], meaning: 'baseline: migration 001 (or the baseline file) already exists; --force to overwrite it', message: '{file} already exists; baseline does not overwrite it without --force.' },
  'baseline-failed': { kind: 'failure', fields: ['service'], meaning: 'baseline failed for a reason below tidemark (file system, driver)', message: '{reason}' },
  'baseline-prerequisite-failed': { kind: 'failure', fields: ['service'], meaning: 'baseline: the services it requires do not rebuild on the shadow, so it cannot be proven', message: 'Cannot prove the baseline of {service}: the migrations of {required} (which it requires) do not replay on the shadow database: {reason}' },
  'baseline-replay-failed': { kind: 'failure', fields: ['service'], meaning: 'baseline: the rendered baseline does not run on the shadow database; nothing written', message: 'The baseline of {service} does not run on the shadow database ({shadow}): {reason}. Nothing was written.' },
  'baseline-shared-function': { kind: 'input', fields: ['service'], meaning: 'baseline: a function no service owns is used by tables of two services', message: 'Function {function} is used by {service} and by {others}, and no service owns it.' },
  'baseline-unsupported': { kind: 'input', fields: ['service'], meaning: 'baseline: the service owns objects tidemark cannot reproduce; nothing written', message: 'Cannot baseline service {service}: tidemark cannot reproduce {objects}; nothing was written.' },
  'checksum-drift': { kind: 'input', fields: ['file', 'service', 'migration'], meaning: 'a migration file was edited after it was applied', message: '{file} was edited after it was applied (checksum differs from the ledger).' },
  'config-exists': { kind: 'usage', fields: [], meaning: 'init: a config file already exists', message: '{file} already exists in {dir}.' },
  'config-invalid': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'the config does not have the expected shape (unknown key, wrong type, bad owns entry, no default export)', message: '{file}:{line}: services.{service}.{key}: {what is wrong}.' },
  'config-load-failed': { kind: 'input', fields: ['file', 'line'], meaning: 'the config module throws or cannot be imported', message: '{file}:{line} could not be loaded: {reason}.' },
  'config-not-found': { kind: 'input', fields: ['file'], meaning: 'no config file found (or --config names a missing file)', message: 'No tidemark.config.ts, .mjs, .js or .json in {dir} or any parent directory.' },
  'config-syntax': { kind: 'input', fields: ['file', 'line'], meaning: 'the config file is not valid JSON / TypeScript / JavaScript', message: '{file}:{line}: syntax error: {reason}.' },
  'copy-needs-stream': { kind: 'input', fields: [], meaning: 'a COPY … STDIN/STDOUT statement was run as a plain statement on PGlite, or copyIn/copyOut was given another statement', message: 'COPY … {FROM STDIN|TO STDOUT} cannot run as a plain statement on PGlite: use {copyIn|copyOut}' },
  'database-in-use': { kind: 'failure', fields: [], meaning: 'the embedded (PGlite) data directory is held by another process', message: 'database {dir} is in use by process {pid}' },
  'database-unreachable': { kind: 'failure', fields: [], meaning: 'cannot connect to the database server', message: 'cannot connect to {url}: {reason}' },
  'demo-adopt': { kind: 'failure', fields: [], meaning: 'demo: the adopt step failed (the error below it in the message, its code in brackets)', message: 'The demo\'s adopt step failed for {service} → {name}: {reason} [{code}]' },
  'demo-autogenerate': { kind: 'failure', fields: [], meaning: 'demo: writing the desired schema, tidemark diff, applying its migration or tidemark test failed', message: 'The demo\'s autogenerate step (desired schema, tidemark diff, tidemark test) failed: {reason} [{code}]' },
  'demo-backup': { kind: 'failure', fields: [], meaning: 'demo: the backup step failed or the backup does not verify', message: 'The demo\'s backup step failed: {reason}' },
  'demo-dir-not-empty': { kind: 'usage', fields: [], meaning: 'demo: the directory given is not empty', message: '{dir} is not empty: the demo builds its project in a new or empty directory.' },
  'demo-doctor': { kind: 'failure', fields: [], meaning: 'demo: the last doctor still reports errors after the adoption (or could not run)', message: 'The demo\'s last doctor failed: it still reports {n} errors after the adoption: {findings}' },
  'demo-failed': { kind: 'failure', fields: [], meaning: 'demo: building the legacy database or the doctor on it failed (the file system, or a bug)', message: 'The demo failed while building the legacy database: {reason}' },
  'demo-up': { kind: 'failure', fields: [], meaning: 'demo: writing or applying the new migrations failed', message: 'The demo\'s up step (new migrations, applied) failed: {reason} [{code}]' },
  'demo-validate': { kind: 'failure', fields: [], meaning: 'demo: validate against the backup failed or found differences', message: 'The demo\'s validate step failed: it found {n} differences with the backup: {findings}' },
  'desired-schema-failed': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'a desired-schema file fails on the shadow database (after every other file was tried first), or a renamed-from comment in it is malformed or misplaced', message: '{file}:{line}: the desired schema of {service} does not load: {reason}' },
  'desired-schema-foreign-object': { kind: 'input', fields: ['file', 'service'], meaning: 'a desired-schema file creates a table, view, sequence, type or function another service owns', message: '{file} creates {object}, which service {owner} owns, not {service}.' },
  'desired-schema-unowned-object': { kind: 'input', fields: ['file', 'service'], meaning: 'a desired-schema file creates a table, view or sequence no service owns: it would vanish from the snapshot', message: '{file} creates {object}, which no service owns: add it to services.{service}.owns or remove it.' },
  'diff-breaks-dependents': { kind: 'input', fields: ['service'], meaning: 'diff: a change would drop or alter an object another service\'s objects depend on (its foreign key onto it)', message: 'Service {service}: {objects} would change under objects of other services: {dependents}. Nothing was written.' },
  'diff-cannot-render': { kind: 'input', fields: ['service'], meaning: 'diff: a change has no SQL tidemark writes (an unsupported object, an extension dropped, a base type changed)', message: 'Service {service}: tidemark diff cannot write {object} ({reason}). Nothing was written.' },
  'diff-proof-failed': { kind: 'failure', fields: ['service', 'migration'], meaning: 'diff: the generated migration fails on the shadow, or its up does not give the desired schema, or its down does not give the schema back', message: 'Service {service}: the generated migration does not round-trip (after its {up|down}: {differences}). Nothing was written.' },
  'diff-source-invalid': { kind: 'usage', fields: [], meaning: 'a schema source (--from / --to) is neither history[:ID], a database URL nor an existing .sql file or directory', message: '{source}: {reason}' },
  'duplicate-id': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'two migration files of a service have the same number (run `tidemark renumber`)', message: '{file}: {problem} (and {n} more problems; `tidemark check` lists them).' },
  'failed-migration': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'a no-transaction migration failed on an earlier run and was left half-applied', message: '{migration} failed on an earlier run and was left half-applied (it runs outside a transaction).' },
  'file-exists': { kind: 'input', fields: ['file', 'service'], meaning: 'new / renumber: the file to create already exists (EEXIST: another run took the number)', message: 'Cannot create {file}: it already exists (EEXIST). / Cannot rename {file}: {to} already exists.' },
  'graph-render-failed': { kind: 'failure', fields: [], meaning: 'Graphviz could not draw the graph', message: 'Graphviz could not draw the graph: {reason}' },
  'ledger-too-new': { kind: 'failure', fields: [], meaning: 'the ledger schema was written by a newer tidemark', message: 'The ledger (schema {schema}) is at version {version}, newer than this tidemark {tool} knows ({known}).' },
  'lock-timeout': { kind: 'failure', fields: ['service'], meaning: 'another run held the service\'s advisory lock for longer than the lock timeout; nothing changed', message: 'Another tidemark run on service {service} held its lock for longer than the lock timeout; timed out after {n} s waiting for advisory lock ({a}, {b}).' },
  'migration-escaped-transaction': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'a data migration (.js/.ts) committed, rolled back or began its own transaction, or left one open', message: '{migration} escaped its transaction: {what}.' },
  'migration-failed': { kind: 'failure', fields: ['file', 'line', 'service', 'migration'], meaning: 'a migration\'s SQL or code failed while running; its transaction rolled back', message: '{file}:{line}: {migration} failed: {reason} (SQLSTATE {sqlstate}).' },
  'migration-file': { kind: 'input', fields: ['file', 'line', 'service', 'migration'], meaning: 'a migration file is malformed (name, sections, directives, a script without up)', message: '{file}:{line}: {problem}.' },
  'migration-load': { kind: 'input', fields: ['file', 'service', 'migration'], meaning: 'a .js/.ts data migration cannot be imported', message: '{file}: cannot load {migration}: {reason}.' },
  'migration-syntax': { kind: 'input', fields: ['file', 'line', 'migration'], meaning: 'a migration\'s SQL does not parse', message: '{file}:{line}: {migration}: {reason}.' },
  'migration-too-large': { kind: 'input', fields: ['file', 'line', 'migration'], meaning: 'a single statement of a migration is larger than the parser can hold (64 MiB)', message: '{file}:{line}: {migration}: a statement of {size} is too large to parse.' },
  'migration-unparsable': { kind: 'input', fields: ['file', 'line', 'migration'], meaning: 'the SQL parser failed on a migration without reporting a syntax error', message: '{file}:{line}: {migration}: the SQL parser failed: {reason}.' },
  'migration-write-failed': { kind: 'failure', fields: ['file', 'service'], meaning: 'new: the migration file could not be created (a missing or blocked path, permissions, a full disk); nothing written', message: 'Cannot create {file}: {errno} ({what it means}). Nothing was written.' },
  'migrations-dir-unreadable': { kind: 'input', fields: ['file', 'service'], meaning: 'a service\'s migrations directory cannot be read', message: 'Cannot read the migrations directory of {service}, {dir}: {errno}.' },
  'missing-migrations-dir': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'a service\'s migrations directory does not exist or is not a directory', message: '{file}:{line}: service {service}: directory {dir} does not exist.' },
  'nested-transaction': { kind: 'failure', fields: [], meaning: 'transaction() was called on a Database inside its open transaction, or a second savepoint beside one still open (a bug in the caller)', message: 'a transaction is already open on this connection (transaction() is not reentrant)' },
  'no-alembic-service': { kind: 'usage', fields: [], meaning: 'alembic split-version-table: the config declares no Alembic service', message: 'The config declares no service with format: \'alembic\'.' },
  'no-baseline': { kind: 'input', fields: ['service'], meaning: 'rebaseline: the service has no migration to rebaseline onto', message: 'Service {service} has no migration in {dir}: nothing to rebaseline onto.' },
  'no-down-section': { kind: 'input', fields: ['file', 'service', 'migration'], meaning: 'down: the migration has no down section (or a script has no down export)', message: '{file} has no `-- tidemark:down` section, so {migration} cannot be reverted.' },
  'no-manifest': { kind: 'input', fields: ['file'], meaning: 'validate --against: the backup has no readable manifest.json', message: '{file} does not exist.' },
  'no-version-table': { kind: 'input', fields: [], meaning: 'alembic split-version-table: the shared version table does not exist', message: '{database} has no table {table}: nothing to split.' },
  'not-a-database-dir': { kind: 'input', fields: [], meaning: 'the embedded database path is a non-empty directory that is not a PGlite data directory', message: '{dir} is not empty and is not a PGlite data directory' },
  'not-in-transaction': { kind: 'input', fields: ['file', 'line', 'migration'], meaning: 'a statement PostgreSQL refuses inside a transaction block, in a migration without -- tidemark:no-transaction', message: '{file}:{line}: {migration}: `{statement}` cannot run inside a transaction block.' },
  'nothing-to-back-up': { kind: 'input', fields: [], meaning: 'backup: the selected services own no table', message: 'No table to back up: {services} own no table in the database.' },
  'nothing-to-revert': { kind: 'usage', fields: ['service'], meaning: 'down: nothing above the target is applied', message: 'Nothing to revert for {service}: {why}.' },
  'owned-twice': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'config: two services claim the same object in owns', message: '{file}:{line}: {entry} of {service} and {entry} of {other} claim the same tables.' },
  'pending-before-applied': { kind: 'input', fields: ['file', 'service', 'migration'], meaning: 'a migration is pending while a later number of its service is applied', message: '{migration} is not applied but {later}, a later number, already is.' },
  'pgdump-embedded': { kind: 'usage', fields: [], meaning: 'backup --format pgdump on an embedded (PGlite) database', message: 'pg_dump cannot read an embedded (PGlite) database: --format pgdump needs a PostgreSQL server (postgres://…).' },
  'pgdump-failed': { kind: 'failure', fields: [], meaning: 'backup --format pgdump: pg_dump exited with an error', message: 'pg_dump failed: {stderr}' },
  'pgdump-needs-url': { kind: 'usage', fields: [], meaning: 'backup --format pgdump through the API with a Database object instead of a URL', message: '--format pgdump needs the database as a connection URL (pg_dump opens its own connection).' },
  'pgdump-not-found': { kind: 'usage', fields: [], meaning: 'backup --format pgdump: no pg_dump on PATH or in /usr/lib/postgresql/*/bin, or --pg-dump names no executable pg_dump', message: 'No pg_dump found (looked on PATH and in /usr/lib/postgresql/*/bin): --format pgdump runs pg_dump -Fc. | --pg-dump {path} is not an executable file: …' },
  'pgdump-too-old': { kind: 'usage', fields: [], meaning: 'backup --format pgdump: every pg_dump found (or the one --pg-dump names) is older than the server', message: 'pg_dump is too old for the server: the server is PostgreSQL {major} and {found}; pg_dump must be version {major} or newer.' },
  'protect-failed': { kind: 'failure', fields: [], meaning: 'protect failed for a reason below tidemark (driver, permissions, a read-only database)', message: 'Cannot mark {database} as protected: {reason}.' },
  'protected-target': { kind: 'usage', fields: [], meaning: 'a destructive command (reset, rebaseline, restore --replace) refused a protected database', message: 'Refusing to {command} {database}: {why}. Nothing was changed.' },
  'rebaseline-backup-corrupt': { kind: 'failure', fields: ['service'], meaning: 'rebaseline: the backup it just wrote does not verify; nothing changed', message: 'The backup just written to {dir} does not verify ({problems}); nothing was changed.' },
  'rebaseline-baseline-failed': { kind: 'failure', fields: ['file', 'line', 'service'], meaning: 'rebaseline: the baseline failed inside the rebaseline transaction; everything rolled back', message: '{file}:{line}: {migration} failed inside the rebaseline transaction: {reason} (SQLSTATE {sqlstate}); everything rolled back.' },
  'rebaseline-baseline-fails': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'rebaseline: the baseline does not replay on a fresh shadow; nothing changed', message: 'The baseline of {service} does not replay on a fresh shadow database ({shadow}): {reason}; nothing was changed.' },
  'rebaseline-dependents': { kind: 'input', fields: ['service'], meaning: 'rebaseline: objects of another service depend on what a full rebaseline would drop', message: '{objects} of service {other} depend on {service}; {what to do}.' },
  'rebaseline-doctor': { kind: 'input', fields: ['service'], meaning: 'rebaseline: the doctor reports errors for the service; nothing changed', message: 'The doctor reports {n} errors for {service} (first: {file}:{line}: {message}); nothing was changed.' },
  'rebaseline-failed': { kind: 'failure', fields: [], meaning: 'rebaseline failed for a reason below tidemark; rolled back', message: 'Rebaseline failed and rolled back: {reason}' },
  'rebaseline-not-transactional': { kind: 'input', fields: ['file', 'service'], meaning: 'rebaseline: a migration of the service is a script or no-transaction', message: '{file}: {migration} is marked no-transaction; rebaseline runs the baseline inside ONE transaction, so every migration of {service} must be transactional SQL.' },
  'rebaseline-structure': { kind: 'failure', fields: [], meaning: 'rebaseline: after the baseline, the schema still differs from the replayed baseline; rolled back', message: 'After applying the baseline, {service}\'s schema still differs from the replayed baseline: {differences}.' },
  'rebaseline-unsupported': { kind: 'input', fields: ['service'], meaning: 'rebaseline: the service owns objects tidemark cannot reproduce; nothing changed', message: 'Service {service} owns {objects}, which tidemark cannot reproduce; nothing was changed.' },
  'rebaseline-validation': { kind: 'failure', fields: [], meaning: 'rebaseline: validation failed after the restore; rolled back', message: 'Validation failed after the restore: {findings}.' },
  'rename-failed': { kind: 'failure', fields: ['file', 'service'], meaning: 'renumber: a file could not be renamed; what was renamed is put back (or named, if that fails too)', message: 'Cannot rename {file} to {name}: {errno}. Nothing was renamed.' },
  'renamed-from-unknown': { kind: 'input', fields: ['file', 'line'], meaning: 'a desired schema\'s `-- tidemark:renamed-from` names an object that is in neither schema being compared', message: '{file}:{line}: renamed-from {old}: neither {old} nor {new} is in the schema diffed from.' },
  'renumber-applied': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'renumber: a migration it would rename is already applied in the database', message: '{migrations} are already applied in {database}; renumbering would leave its ledger naming a file that no longer exists. Nothing was renamed.' },
  'required-by-applied': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'down: an applied migration of another service requires the one to revert', message: 'Cannot revert {target}: {migration} of {service} requires it and is applied.' },
  'requirement-cycle': { kind: 'input', fields: ['file'], meaning: '-- tidemark:requires directives form a cycle', message: 'Requirements form a cycle between {migrations}.' },
  'requirement-not-applied': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'up: a migration requires one of another service that is not applied and not part of this run', message: '{migration} requires {required}, which is not applied and not part of this run.' },
  'requires-cycle': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'config: the services\' requires form a cycle', message: '{file}:{line}: services require each other in a cycle: {a} → {b} → {a}.' },
  'reset-dependents': { kind: 'input', fields: [], meaning: 'reset: objects of other services depend on what it would drop; nothing changed', message: 'Cannot reset {services}: {reason} ({detail}). Nothing was changed.' },
  'reset-failed': { kind: 'failure', fields: [], meaning: 'reset: the drop failed and rolled back; nothing changed', message: 'Cannot reset {services}: {reason}. Nothing was changed (the drop rolled back).' },
  'reset-reapply-failed': { kind: 'failure', fields: ['file', 'line', 'service'], meaning: 'reset: the owned objects were dropped but re-applying the migrations failed', message: 'Reset dropped {objects} but re-applying the migrations failed: {reason}' },
  'reset-unsupported': { kind: 'input', fields: ['service'], meaning: 'reset: the service owns objects tidemark cannot drop and recreate; nothing changed', message: 'Cannot reset service {service}: tidemark cannot drop and recreate {objects}. Nothing was changed.' },
  'restore-bad-ndjson': { kind: 'input', fields: [], meaning: 'restore: a data file has a line that is not a valid row; nothing restored', message: '{file} line {n}: {reason}; nothing restored.' },
  'restore-digest-mismatch': { kind: 'failure', fields: [], meaning: 'restore: the restored rows differ from the backup\'s digest; rolled back', message: 'Restored data differs from the backup, rolled back, nothing restored: {tables}.' },
  'restore-failed': { kind: 'failure', fields: [], meaning: 'restore failed for a reason below tidemark (SQL, driver); rolled back', message: 'Restore failed, rolled back, nothing restored: {reason}' },
  'restore-foreign-key': { kind: 'input', fields: [], meaning: 'restore: restored rows break a foreign key; rolled back', message: 'Restored rows of {table} break its foreign key {constraint} ({columns} → {referenced}): {n} rows reference no row there; rolled back, nothing restored.' },
  'restore-missing-column': { kind: 'input', fields: [], meaning: 'restore: the backup lacks a NOT NULL column without default (use --fill)', message: 'The backup has no values for {columns} (NOT NULL, no default): nothing restored.' },
  'restore-no-table': { kind: 'input', fields: [], meaning: 'restore: a table of the backup does not exist in the database', message: 'Table {table} is in the backup but not in the database: nothing restored.' },
  'restore-not-a-table': { kind: 'input', fields: [], meaning: 'restore: the manifest names a view, materialized view, foreign, temporary or other relation that is not an ordinary table', message: '{table} is a {kind}, not a table; nothing was restored.' },
  'restore-not-owned': { kind: 'input', fields: ['service'], meaning: 'restore: a table is not one the current config assigns to the service (ledger, system, another service, no one)', message: '{table} is not owned by {service} in the current config; nothing was restored.' },
  'restore-row-security': { kind: 'failure', fields: [], meaning: 'restore: row-level security applies to the restoring role on a table', message: 'Row-level security applies to {role} on {table}; nothing was restored.' },
  'restore-target-not-empty': { kind: 'input', fields: [], meaning: 'restore: a target table is not empty (use --replace)', message: 'Refusing to restore into non-empty tables {tables}: nothing restored.' },
  'restore-would-cascade': { kind: 'input', fields: [], meaning: 'restore --replace would change rows of tables it does not load', message: '--replace would change rows of tables this restore does not load: {tables}. Nothing restored.' },
  'schema-not-configured': { kind: 'usage', fields: ['service'], meaning: 'diff: no --to given and the service has no `schema` in the config', message: 'Service {service} has no desired schema: set services.{service}.schema in the config, or give --to.' },
  'shadow-is-target': { kind: 'usage', fields: [], meaning: '--shadow names the target database itself', message: 'the shadow database {database} is the target database itself; replaying migrations there would change it' },
  'shadow-not-dropped': { kind: 'failure', fields: [], meaning: 'the temporary shadow database could not be dropped', message: 'the temporary shadow database {database} could not be dropped: {reason}' },
  'shadow-not-emptied': { kind: 'failure', fields: [], meaning: 'the shadow database could not be emptied after the replay', message: 'the shadow database {database} could not be emptied after the replay: {reason}' },
  'shadow-not-empty': { kind: 'input', fields: [], meaning: '--shadow names a database that is not empty', message: 'the shadow database {database} is not empty (it holds {objects}); replaying migrations into it would mix them with what is there' },
  'squash-has-script': { kind: 'input', fields: ['file', 'service', 'migration'], meaning: 'squash: a script migration (.ts/.js) is in the range; its data work cannot be folded into SQL', message: 'Cannot squash {first}…{last}: {migration} is a script ({file}); nothing was written.' },
  'squash-partially-applied': { kind: 'failure', fields: ['file', 'service', 'migration'], meaning: 'up, down or squash: the database applied only part of the migrations a squash replaces (or would replace); nothing is run, reverted or written', message: '{migration} squashes migrations of which this database applied only part: {applied} applied, {missing} not.' },
  'squash-proof-failed': { kind: 'failure', fields: ['service'], meaning: 'squash: the new history (the squash, then the later migrations) does not replay to what the old one builds; nothing was written', message: 'The squashed history of {service} does not build what the old one builds ({n} differences): {differences}. Nothing was written.' },
  'squash-range-invalid': { kind: 'usage', fields: ['file', 'service', 'migration'], meaning: 'squash: --to is unknown or the first migration, or the range holds a no-transaction file or a squash, or another service requires one of it', message: 'Cannot squash {first}…{last}: {reason}; nothing was written.' },
  'sum-mismatch': { kind: 'input', fields: ['file', 'service'], meaning: 'squash: tidemark.sum does not match the migration files (an edit, a bad merge), so it is not rewritten over that', message: '{file} does not match {service}\'s migration files (an edit, a bad merge): a squash would rewrite it over that; nothing was written.' },
  'sum-write-failed': { kind: 'failure', fields: ['file', 'service'], meaning: 'tidemark.sum could not be written', message: 'Cannot write {file}: {errno}.' },
  'target-in-recovery': { kind: 'usage', fields: [], meaning: 'the target server is a standby in recovery: a destructive command or protect refuses it', message: 'Refusing to change {database}: the server is a standby in recovery.' },
  'too-few-applied': { kind: 'usage', fields: ['service'], meaning: 'down --steps N: fewer than N migrations are applied', message: '{service} has {n} applied migrations; --steps {steps} reverts nothing.' },
  'transaction-closed': { kind: 'failure', fields: [], meaning: 'a transaction handle was used after its transaction ended (a bug in the caller)', message: 'this transaction has already ended' },
  'transaction-control': { kind: 'input', fields: ['file', 'line', 'migration'], meaning: 'a migration ends, starts or escapes its transaction (BEGIN, COMMIT, ROLLBACK, savepoint misuse, PREPARE TRANSACTION…)', message: '{file}:{line}: {migration}: `{statement}` {why}.' },
  'transaction-rolled-back': { kind: 'failure', fields: [], meaning: 'COMMIT (or RELEASE SAVEPOINT) rolled back because a statement of the transaction or savepoint had failed', message: 'COMMIT rolled back: a statement in the transaction failed earlier' },
  'undeclared-requirement': { kind: 'input', fields: ['file', 'line', 'service', 'migration'], meaning: '-- tidemark:requires names a service the config does not list in requires', message: '{file}:{line}: {migration} requires {target}, but service {service} does not list {other} in `requires`.' },
  'unexpected': { kind: 'failure', fields: [], meaning: 'an error tidemark did not anticipate (a bug: run again with --debug and report it)', message: '{reason}' },
  'unknown-required-service': { kind: 'input', fields: ['file', 'line', 'service'], meaning: 'config: requires names a service that does not exist', message: '{file}:{line}: service {service} requires {other}, which is not declared (declared: {services}); did you mean {guess}?' },
  'unknown-requirement': { kind: 'input', fields: ['file', 'line', 'service', 'migration'], meaning: '-- tidemark:requires names a migration no service has', message: '{file}:{line}: {migration} requires {ref}, which no service of this workspace has.' },
  'unknown-service': { kind: 'usage', fields: [], meaning: '--service (or a backup) names a service the config does not have', message: 'No service {service} in {config}.' },
  'unknown-table': { kind: 'usage', fields: [], meaning: 'backup --table names a table that does not exist', message: 'No table {table} in the database.' },
  'unknown-target': { kind: 'usage', fields: [], meaning: '--to names no migration of the selected services', message: 'No migration {to} in service {service}.' },
  'verify-failed': { kind: 'failure', fields: [], meaning: 'verify-backup could not read the backup (file system)', message: 'Cannot verify {dir}: {reason}' },
} as const satisfies Record<string, ErrorCodeEntry>;

/** Every code tidemark reports; `new TidemarkError(code, …)` accepts only these. */
export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** usage and input → 2, failure → 1. */
export function exitCodeOfKind(kind: ErrorKind): 1 | 2 {
  return kind === 'failure' ? 1 : 2;
}
