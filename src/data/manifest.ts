/**
 * The backup manifest (`manifest.json` in a backup directory, DESIGN §2 "Backup"). Everything
 * `verify-backup` and `restore` need to trust a backup without the database that made it, and the ONE
 * reader of it (`readManifest`): verify-backup, restore and `validate --against` all go through it.
 *
 * Formats:
 * - 3 (written now): each table is a `schema` and a `name` kept apart (never a joined `schema.table`
 *   string: `"a.b".c` and `a."b.c"` are two tables), a foreign key's `references` likewise, and each
 *   table has its own data `format` (a table holding the JSON literal `null` in a json/jsonb column is
 *   written as csv in an ndjson backup, see backup.ts).
 * - 2 adds `contentDigestAlgorithm` (`hash64`) to 1, whose digests are md5-based (see digest.ts).
 * Formats 1 and 2 name a table `schema.table`: read when that is unambiguous (at most one dot), refused
 * naming the table otherwise. A tidemark that does not know a format refuses it by its version.
 *
 * The reader validates the whole shape with zod (types, no unknown keys, non-negative counts, hashes,
 * identifiers, unique tables, columns and files, data files inside `data/`, no system schema, no
 * ledger schema) and refuses symlinks: an edited manifest is bad input, refused before anything else.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { LEDGER_SCHEMA } from '../ledger/ledger.js';
import { MAX_IDENTIFIER_BYTES, displayName, displayQualified, identifierBytes, isSystemSchema, nameKey, type QualifiedName } from '../sql/ident.js';
import { TOOL_VERSION } from '../version.js';
import { DIGEST_ALGORITHM, type DigestAlgorithm } from './digest.js';

const MANIFEST_FORMAT_VERSION = 3;
const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2, 3];

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_SHA_FILE = 'manifest.sha256';
export const DATA_DIR = 'data';

export type DataFormat = 'ndjson' | 'csv';

export interface ManifestColumn {
  name: string;
  /** format_type() of the column, e.g. `numeric(14,2)`, `timestamp with time zone`, `text[]`. */
  type: string;
  nullable: boolean;
  /** Identity (`always` | `by default`) or generated (`stored`) columns, which restore treats apart. */
  identity?: 'always' | 'by default';
  generated?: 'stored' | 'virtual';
}

export interface ManifestForeignKey {
  name: string;
  columns: string[];
  /** The table referenced. */
  references: QualifiedName;
  referencedColumns: string[];
}

export interface ManifestTable extends QualifiedName {
  /** The service that owns it (from the config), when known. */
  service?: string;
  /** How its data file is written (format 3; older formats: the manifest's `format`). */
  format: DataFormat;
  columns: ManifestColumn[];
  primaryKey: string[];
  foreignKeys: ManifestForeignKey[];
  rowCount: number;
  /** Relative to the backup directory: `data/<schema>.<table>.ndjson` or `.csv` (see backup.ts dataFileName). */
  file: string;
  /** SHA-256 (hex) and size of the data file's bytes. */
  sha256: string;
  bytes: number;
  /**
   * An order-independent digest of the rows computed IN the database (see src/data/digest.ts), over
   * the columns listed here: restore recomputes it after loading and commits only if it matches.
   */
  contentDigest: string;
  digestColumns: string[];
}

export interface Manifest {
  formatVersion: number;
  tool: { name: 'tidemark'; version: string };
  createdAt: string;
  /** server_version of the source, e.g. `15.20` or `18.6 (PGlite)`. */
  serverVersion: string;
  /** Database name only: never a URL, never credentials. */
  database: string;
  /** The format asked for; a table may differ (ManifestTable.format). */
  format: DataFormat;
  /** How the tables' contentDigest was computed (format 2+); absent in format 1, meaning `md5`. */
  contentDigestAlgorithm?: DigestAlgorithm;
  services: string[];
  tables: ManifestTable[];
  /** tidemark.applied rows of the services backed up, as they were in the snapshot. */
  ledger: { service: string; migration: string; checksum: string; status: string; appliedAt: string }[];
  /** Files other than data files (schema.sql), with their hashes. */
  files: { file: string; sha256: string; bytes: number }[];
}

// ---------------------------------------------------------------------------------------------
// The shape

const identifier = z
  .string()
  .min(1)
  .refine((s) => !s.includes('\0') && identifierBytes(s) <= MAX_IDENTIFIER_BYTES, { message: `not a PostgreSQL identifier (1 to ${MAX_IDENTIFIER_BYTES} bytes, no NUL)` });
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const sha = z.string().regex(/^[0-9a-f]{64}$/, 'not a SHA-256 in hex');
const md5Hex = z.string().regex(/^[0-9a-f]{32}$/, 'not a content digest (32 hex digits)');
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
/** `data/<one file name>.ndjson|csv`: no other directory, no `..`, no control character, no backslash. */
const dataFile = z.string().refine((f) => /^data\/[^/\\]+\.(ndjson|csv)$/.test(f) && !CONTROL.test(f), { message: 'not a data file inside data/ (data/<name>.ndjson or .csv)' });
/** Another file at the top of the backup (schema.sql, dump.pgdump). */
const topFile = z.string().refine((f) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(f) && f !== MANIFEST_FILE && f !== MANIFEST_SHA_FILE, { message: 'not a plain file name at the top of the backup' });

const columnShape = z
  .object({
    name: identifier,
    type: z.string().min(1),
    nullable: z.boolean(),
    identity: z.enum(['always', 'by default']).optional(),
    generated: z.enum(['stored', 'virtual']).optional(),
  })
  .strict();

const tableCommon = {
  service: z.string().min(1).optional(),
  columns: z.array(columnShape), // none for a table without columns (its rows are empty lines)
  primaryKey: z.array(identifier),
  rowCount: count,
  file: dataFile,
  sha256: sha,
  bytes: count,
  contentDigest: md5Hex,
  digestColumns: z.array(identifier),
};

const tableV3 = z
  .object({
    schema: identifier,
    name: identifier,
    format: z.enum(['ndjson', 'csv']),
    foreignKeys: z.array(
      z.object({ name: identifier, columns: z.array(identifier), references: z.object({ schema: identifier, name: identifier }).strict(), referencedColumns: z.array(identifier) }).strict(),
    ),
    ...tableCommon,
  })
  .strict();

const tableLegacy = z
  .object({
    table: z.string().min(1),
    foreignKeys: z.array(z.object({ name: identifier, columns: z.array(identifier), references: z.string(), referencedColumns: z.array(identifier) }).strict()),
    ...tableCommon,
  })
  .strict();

const manifestCommon = {
  tool: z.object({ name: z.literal('tidemark'), version: z.string() }).strict(),
  createdAt: z.string(),
  serverVersion: z.string(),
  database: z.string(),
  format: z.enum(['ndjson', 'csv']),
  services: z.array(z.string().min(1)),
  ledger: z.array(z.object({ service: z.string(), migration: z.string(), checksum: z.string(), status: z.string(), appliedAt: z.string() }).strict()),
  files: z.array(z.object({ file: topFile, sha256: sha, bytes: count }).strict()),
};

const manifestV3 = z.object({ formatVersion: z.literal(3), contentDigestAlgorithm: z.enum(['hash64', 'md5']), tables: z.array(tableV3), ...manifestCommon }).strict();
const manifestV2 = z.object({ formatVersion: z.literal(2), contentDigestAlgorithm: z.enum(['hash64', 'md5']), tables: z.array(tableLegacy), ...manifestCommon }).strict();
const manifestV1 = z.object({ formatVersion: z.literal(1), tables: z.array(tableLegacy), ...manifestCommon }).strict();

// ---------------------------------------------------------------------------------------------
// The reader

export interface ManifestProblem {
  /** Relative to the backup directory. */
  file: string;
  /** `missing`/`sha256`: damage (verify-backup exit 1); `manifest`/`unsafe`: bad input (exit 2). */
  kind: 'missing' | 'sha256' | 'manifest' | 'unsafe';
  message: string;
}

export interface ManifestRead {
  /** Set when the manifest has the shape of one (even if its SHA-256 file disagrees). */
  manifest?: Manifest;
  problems: ManifestProblem[];
}

/**
 * Reads and checks `<root>/manifest.json` against `manifest.sha256`. `root` should be a real path
 * (the backup directory itself may be reached through a symlink; nothing inside it may be one).
 */
export function readManifest(root: string): ManifestRead {
  const problems: ManifestProblem[] = [];
  const problem = (file: string, kind: ManifestProblem['kind'], message: string) => problems.push({ file, kind, message: `${file}: ${message}` });
  const manifestPath = path.join(root, MANIFEST_FILE);
  const kindOf = (p: string): 'missing' | 'symlink' | 'other' | 'file' => {
    try {
      const s = fs.lstatSync(p);
      return s.isSymbolicLink() ? 'symlink' : s.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  };
  const mk = kindOf(manifestPath);
  if (mk === 'missing') {
    problem(MANIFEST_FILE, 'missing', 'missing: without it nothing in the backup can be checked or restored');
    return { problems };
  }
  if (mk !== 'file') {
    problem(MANIFEST_FILE, 'unsafe', mk === 'symlink' ? 'is a symbolic link: a backup holds its own files, refused' : 'is not a regular file');
    return { problems };
  }
  const bytes = fs.readFileSync(manifestPath);

  let recorded: string | undefined;
  const sk = kindOf(path.join(root, MANIFEST_SHA_FILE));
  if (sk === 'missing') problem(MANIFEST_SHA_FILE, 'missing', 'missing: the manifest cannot be proven unedited');
  else if (sk !== 'file') problem(MANIFEST_SHA_FILE, 'unsafe', sk === 'symlink' ? 'is a symbolic link: a backup holds its own files, refused' : 'is not a regular file');
  else {
    recorded = /^([0-9a-f]{64})\b/.exec(fs.readFileSync(path.join(root, MANIFEST_SHA_FILE), 'utf8'))?.[1];
    if (!recorded) problem(MANIFEST_SHA_FILE, 'manifest', 'does not hold a SHA-256');
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (recorded && recorded !== actual) problem(MANIFEST_FILE, 'sha256', `edited after the backup: its SHA-256 is not the one in ${MANIFEST_SHA_FILE}`);

  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    problem(MANIFEST_FILE, 'manifest', `not valid JSON (${(err as Error).message})`);
    return { problems };
  }
  const version = (raw as { formatVersion?: unknown } | null)?.formatVersion;
  if (typeof version !== 'number' || !READABLE_FORMAT_VERSIONS.includes(version)) {
    const newer = typeof version === 'number' && version > MANIFEST_FORMAT_VERSION;
    problem(
      MANIFEST_FILE,
      'manifest',
      `format version ${JSON.stringify(version) ?? 'missing'}, this tidemark reads versions ${READABLE_FORMAT_VERSIONS.join(', ')}${newer ? ': a newer tidemark wrote it, upgrade tidemark' : ''}`,
    );
    return { problems };
  }
  const schema = version === 3 ? manifestV3 : version === 2 ? manifestV2 : manifestV1;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`);
    problem(MANIFEST_FILE, 'manifest', `does not have the shape of a tidemark backup manifest (${first.join('; ')})`);
    return { problems };
  }
  const manifest = normalize(parsed.data as z.infer<typeof manifestV3> | z.infer<typeof manifestV2> | z.infer<typeof manifestV1>, (m) => problem(MANIFEST_FILE, 'manifest', m));
  if (!manifest) return { problems };
  const before = problems.length;
  checkMeaning(manifest, (m) => problem(MANIFEST_FILE, 'manifest', m));
  return problems.length > before ? { problems } : { manifest, problems };
}

/** True when a problem is bad input (a malformed or unsafe manifest), not damage. */
export function isBadInput(p: ManifestProblem | { kind: string }): boolean {
  return p.kind === 'manifest' || p.kind === 'unsafe';
}

type Parsed = z.infer<typeof manifestV3> | z.infer<typeof manifestV2> | z.infer<typeof manifestV1>;

/** Formats 1 and 2 into the format 3 model; undefined (after `refuse`) when a joined name is ambiguous. */
function normalize(m: Parsed, refuse: (message: string) => void): Manifest | undefined {
  if (m.formatVersion === 3) return { ...m, tables: m.tables.map((t) => ({ ...t })) } as Manifest;
  let ok = true;
  const split = (joined: string, what: string): QualifiedName => {
    const parts = joined.split('.');
    if (parts.length > 2) {
      ok = false;
      refuse(
        `${what} ${JSON.stringify(joined)} could name more than one table (format ${m.formatVersion} joins schema and table with a dot, and one of them holds a dot): refused rather than guessed`,
      );
      return { schema: '', name: joined };
    }
    return parts.length === 1 ? { schema: 'public', name: parts[0] } : { schema: parts[0], name: parts[1] };
  };
  const tables: ManifestTable[] = m.tables.map(({ table, foreignKeys, ...rest }) => ({
    ...split(table, 'table'),
    ...rest,
    format: m.format,
    foreignKeys: foreignKeys.map((fk) => ({ ...fk, references: split(fk.references, `foreign key ${fk.name} of ${table} references`) })),
  }));
  if (!ok) return undefined;
  const { tables: _drop, ...top } = m;
  return { ...top, contentDigestAlgorithm: 'contentDigestAlgorithm' in m ? m.contentDigestAlgorithm : undefined, tables } as Manifest;
}

/** What zod cannot say: identifiers, duplicates, references between fields. */
function checkMeaning(m: Manifest, refuse: (message: string) => void): void {
  const tables = new Set<string>();
  const files = new Map<string, string>();
  for (const f of m.files) files.set(f.file, 'the backup');
  for (const t of m.tables) {
    const label = displayQualified(t);
    for (const part of [t.schema, t.name]) {
      if (part === '' || part.includes('\0') || identifierBytes(part) > MAX_IDENTIFIER_BYTES) refuse(`table ${label}: not a PostgreSQL identifier`);
    }
    if (t.schema === LEDGER_SCHEMA) refuse(`names ${label}, a table of tidemark's own ledger (schema ${LEDGER_SCHEMA}): a backup never holds one, restore never writes one`);
    else if (isSystemSchema(t.schema)) refuse(`names ${label}, in the system schema ${displayName(t.schema)}: a backup never holds one, restore never writes one`);
    const key = nameKey(t);
    if (tables.has(key)) refuse(`lists table ${label} twice`);
    tables.add(key);
    const other = files.get(t.file);
    if (other !== undefined) refuse(`table ${label} and ${other} share the data file ${JSON.stringify(t.file)}`);
    files.set(t.file, `table ${label}`);
    if (!t.file.endsWith(`.${t.format}`)) refuse(`table ${label}: data file ${JSON.stringify(t.file)} does not end in .${t.format}`);
    if (t.service !== undefined && !m.services.includes(t.service)) refuse(`table ${label} names service ${JSON.stringify(t.service)}, which is not in its services`);
    const cols = new Set<string>();
    for (const c of t.columns) {
      if (cols.has(c.name)) refuse(`table ${label} lists column ${JSON.stringify(c.name)} twice`);
      cols.add(c.name);
    }
    const digestCols = new Set<string>();
    for (const c of t.digestColumns) {
      if (!cols.has(c)) refuse(`table ${label}: digest column ${JSON.stringify(c)} is not one of its columns`);
      if (digestCols.has(c)) refuse(`table ${label} lists digest column ${JSON.stringify(c)} twice`);
      digestCols.add(c);
    }
    for (const c of t.primaryKey) if (!cols.has(c)) refuse(`table ${label}: primary key column ${JSON.stringify(c)} is not one of its columns`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing one (backup)

/** What a backup read in its snapshot, for its manifest. */
export interface ManifestContent {
  serverVersion: string;
  database: string;
  format: DataFormat;
  services: string[];
  tables: ManifestTable[];
  ledger: readonly { service: string; migration: string; checksum: string; status: string; appliedAt: Date }[];
  files: Manifest['files'];
}

/** The manifest backup writes: this tool, now, the current format version and digest algorithm. */
export function buildManifest(content: ManifestContent): Manifest {
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    tool: { name: 'tidemark', version: TOOL_VERSION },
    createdAt: new Date().toISOString(),
    serverVersion: content.serverVersion,
    database: content.database,
    format: content.format,
    contentDigestAlgorithm: DIGEST_ALGORITHM,
    services: content.services,
    tables: content.tables,
    ledger: content.ledger.map((r) => ({ service: r.service, migration: r.migration, checksum: r.checksum, status: r.status, appliedAt: r.appliedAt.toISOString() })),
    files: content.files,
  };
}
