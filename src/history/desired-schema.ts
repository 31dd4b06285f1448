/**
 * A desired schema (issue 13, `tidemark diff --to`): plain `.sql` files that say what a service's schema
 * should be, read as `{ file, sql }` in a fixed order, and the `-- tidemark:renamed-from <old>` comments
 * in them turned into Renames.
 *
 * A comment applies to the object whose definition starts next: a CREATE statement, a column or named
 * constraint inside CREATE TABLE, or an `ALTER TABLE … ADD CONSTRAINT name`. Comments and positions come
 * from libpg-query's scanner and parse tree, whose offsets are UTF-8 BYTE offsets (STACK), so all the
 * arithmetic here is on the file's bytes, never on JS string indexes. `<old>` is a name as SQL writes it
 * (unquoted folds to lower case, "quoted" keeps it); `schema.name` for a table, view, type or sequence
 * that also moved schema, in which case the Rename's `from` is `oldschema.oldname` (its `schema` is the new one).
 *
 * The file reading (readDesiredSchema) is apart from the parsing (findRenames), which takes strings.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TidemarkError } from '../errors.js';
import type { Rename } from '../schema/diff/renames.js';
import { loadPgParser } from './pg-parser.js';

export interface DesiredFile {
  /** The path as it will be named in messages (absolute when read by readDesiredSchema). */
  file: string;
  sql: string;
}

/**
 * Reads the desired schema at `paths`: a file as it is (any name), a directory as every `*.sql` file
 * below it, sorted by path. A path that does not exist, or a directory without a `.sql` file, is
 * `diff-source-invalid`.
 */
export async function readDesiredSchema(paths: readonly string[]): Promise<DesiredFile[]> {
  const files: string[] = [];
  for (const p of paths) {
    const stat = await fs.promises.stat(p).catch(() => undefined);
    if (!stat) throw new TidemarkError('diff-source-invalid', `${p} does not exist.`, { hint: 'Give a .sql file, a directory of them, `history[:ID]` or a database URL.' });
    if (!stat.isDirectory()) {
      files.push(p);
      continue;
    }
    const below = await sqlFilesBelow(p);
    if (below.length === 0) throw new TidemarkError('diff-source-invalid', `${p} holds no .sql file.`, { hint: 'A desired-schema directory is read as every *.sql file below it.' });
    files.push(...below);
  }
  return Promise.all(files.map(async (file) => ({ file, sql: await fs.promises.readFile(file, 'utf8') })));
}

async function sqlFilesBelow(dir: string): Promise<string[]> {
  // A walk by hand: `readdir({ recursive })` entries lack `parentPath` before Node 20.12 (engines: >=20).
  const found: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.promises.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.sql')) found.push(p);
    }
  };
  await walk(dir);
  // Code-unit order, not locale order: the same on every machine.
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const DIRECTIVE = /^--\s*tidemark:renamed-from(?:\s+(.*?))?\s*$/;

/** Where a definition starts (byte offset), and the Rename it gets, or what it is when it cannot be renamed. */
interface Candidate {
  start: number;
  target?: Omit<Rename, 'from' | 'file' | 'line'>;
  what: string;
}

type Node = Record<string, unknown>;
interface RangeVar {
  schemaname?: string;
  relname: string;
}

const PUBLIC = 'public';

/** The Renames of every `-- tidemark:renamed-from` comment in `files`; a misplaced or malformed one is `desired-schema-failed`. */
export async function findRenames(files: readonly DesiredFile[], service?: string): Promise<Rename[]> {
  const renames: Rename[] = [];
  for (const f of files) {
    // Only files that use the directive are parsed: the others' SQL may be newer than libpg-query's.
    if (f.sql.includes('tidemark:renamed-from')) renames.push(...(await renamesInFile(f, service)));
  }
  return renames;
}

async function renamesInFile(f: DesiredFile, service: string | undefined): Promise<Rename[]> {
  const { parseSync, scanSync } = await loadPgParser();
  const bytes = Buffer.from(f.sql, 'utf8');
  const fail = (line: number, message: string) => new TidemarkError('desired-schema-failed', `${f.file}:${line}: ${message}`, { file: f.file, line, service });
  let tree: { stmts?: { stmt: Node; stmt_location?: number }[] };
  try {
    tree = parseSync(f.sql) as typeof tree;
  } catch (err) {
    const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const at = e.sqlDetails?.cursorPosition;
    // cursorPosition counts code points (STACK), unlike the parse tree's byte offsets.
    const line = at === undefined ? 1 : 1 + countNewlines(Array.from(f.sql).slice(0, at).join(''));
    throw fail(line, `does not parse, so its renamed-from comments cannot be placed: ${e.message ?? String(err)}`);
  }
  const candidates = (tree.stmts ?? []).flatMap((s) => candidatesOf(s.stmt, s.stmt_location ?? 0)).sort((a, b) => a.start - b.start);
  const renames: Rename[] = [];
  const used = new Map<number, number>();
  for (const token of scanSync(f.sql).tokens) {
    if (token.tokenName !== 'SQL_COMMENT') continue;
    const m = DIRECTIVE.exec(token.text);
    if (!m) continue;
    const line = lineAtByte(bytes, token.start);
    const old = m[1] ? parseName(m[1]) : undefined;
    if (!old) throw fail(line, `-- tidemark:renamed-from needs the old name (\`name\` or \`schema.name\`, quoted as in SQL), got "${m[1] ?? ''}".`);
    const next = candidates.find((c) => c.start >= token.end);
    if (!next) throw fail(line, '-- tidemark:renamed-from is followed by nothing it can rename; put it on the line above the CREATE statement or column it renames.');
    if (!next.target)
      throw fail(line, `-- tidemark:renamed-from is followed by ${next.what}, which it cannot rename; put it on the line above a table, column, constraint, index, view, type or sequence.`);
    const earlier = used.get(next.start);
    if (earlier !== undefined) throw fail(line, `a second -- tidemark:renamed-from for the ${next.target.kind} ${next.target.to} (the first is on line ${earlier}).`);
    used.set(next.start, line);
    const { kind } = next.target;
    if (old.schema !== undefined && !['table', 'view', 'type', 'sequence'].includes(kind)) {
      throw fail(line, `a ${kind} is renamed within its table: give the old name without a schema, got "${m[1]}".`);
    }
    const from = old.schema === undefined || old.schema === next.target.schema ? old.name : `${old.schema}.${old.name}`;
    renames.push({ ...next.target, from, file: f.file, line });
  }
  return renames;
}

function candidatesOf(stmt: Node, start: number): Candidate[] {
  const [type, body] = Object.entries(stmt)[0] as [string, Node];
  const named = (kind: Rename['kind'], rv: RangeVar): Candidate => ({ start, what: type, target: { kind, schema: rv.schemaname ?? PUBLIC, to: rv.relname } });
  const typeName = (names: unknown): Candidate => {
    const parts = (names as { String: { sval: string } }[]).map((n) => n.String.sval);
    return { start, what: type, target: { kind: 'type', schema: parts.length > 1 ? parts[parts.length - 2] : PUBLIC, to: parts[parts.length - 1] } };
  };
  switch (type) {
    case 'CreateStmt': {
      const rv = body.relation as RangeVar;
      return [named('table', rv), ...tableElements(rv, (body.tableElts ?? []) as Node[])];
    }
    case 'ViewStmt':
      return [named('view', body.view as RangeVar)];
    case 'CreateSeqStmt':
      return [named('sequence', body.sequence as RangeVar)];
    case 'CompositeTypeStmt':
      return [{ ...named('type', body.typevar as RangeVar) }];
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
      return [typeName(body.typeName)];
    case 'CreateDomainStmt':
      return [typeName(body.domainname)];
    case 'IndexStmt': {
      const rv = body.relation as RangeVar;
      if (typeof body.idxname !== 'string') return [{ start, what: 'an index without a name' }];
      return [{ start, what: type, target: { kind: 'index', schema: rv.schemaname ?? PUBLIC, table: rv.relname, to: body.idxname } }];
    }
    case 'AlterTableStmt': {
      // `ALTER TABLE t ADD CONSTRAINT c …` is how declarative files often define constraints.
      const rv = body.relation as RangeVar;
      const cmds = ((body.cmds ?? []) as { AlterTableCmd: Node }[]).map((c) => c.AlterTableCmd);
      const added = cmds.length === 1 && cmds[0].subtype === 'AT_AddConstraint' ? ((cmds[0].def as { Constraint?: Node }).Constraint?.conname as string | undefined) : undefined;
      if (added === undefined) return [{ start, what: 'an ALTER TABLE that adds no named constraint' }];
      return [{ start, what: type, target: { kind: 'constraint', schema: rv.schemaname ?? PUBLIC, table: rv.relname, to: added } }];
    }
    default:
      return [{ start, what: `a ${type.replace(/Stmt$/, '')} statement` }];
  }
}

/** Columns and named constraints of a CREATE TABLE, each at its own location. */
function tableElements(rv: RangeVar, elements: readonly Node[]): Candidate[] {
  const schema = rv.schemaname ?? PUBLIC;
  const out: Candidate[] = [];
  const constraint = (c: Node) => {
    if (typeof c.conname === 'string' && typeof c.location === 'number') {
      out.push({ start: c.location, what: 'constraint', target: { kind: 'constraint', schema, table: rv.relname, to: c.conname } });
    }
  };
  for (const e of elements) {
    const column = e.ColumnDef as Node | undefined;
    if (column && typeof column.location === 'number') {
      out.push({ start: column.location, what: 'column', target: { kind: 'column', schema, table: rv.relname, to: column.colname as string } });
      for (const c of (column.constraints ?? []) as { Constraint: Node }[]) constraint(c.Constraint);
    }
    if (e.Constraint) constraint(e.Constraint as Node);
  }
  return out;
}

/** `name`, `"Name"`, `schema.name`: unquoted parts fold ASCII capitals as PostgreSQL does. Undefined when malformed. */
function parseName(text: string): { schema?: string; name: string } | undefined {
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    let part = '';
    if (text[i] === '"') {
      for (i++; i < text.length; i++) {
        if (text[i] === '"') {
          if (text[i + 1] !== '"') break;
          i++;
        }
        part += text[i];
      }
      if (text[i] !== '"' || part === '') return undefined;
      i++;
    } else {
      const m = /^[^\s."]+/.exec(text.slice(i));
      if (!m) return undefined;
      part = m[0].replace(/[A-Z]/g, (c) => c.toLowerCase());
      i += m[0].length;
    }
    parts.push(part);
    if (text[i] !== '.') break;
    i++;
  }
  if (i !== text.length || parts.length > 2) return undefined;
  return parts.length === 2 ? { schema: parts[0], name: parts[1] } : { name: parts[0] };
}

function lineAtByte(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 10) line++;
  return line;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const c of text) if (c === '\n') n++;
  return n;
}
