import type { TableReference } from './revision.js';
import { loadPgParser } from './pg-parser.js';

const STATEMENT_ACTIONS: Record<string, string> = {
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  AlterTableStmt: 'ALTER TABLE',
  IndexStmt: 'CREATE INDEX',
  DropStmt: 'DROP',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  SelectStmt: 'SELECT',
  TruncateStmt: 'TRUNCATE',
  ViewStmt: 'CREATE VIEW',
  RenameStmt: 'RENAME',
  CommentStmt: 'COMMENT ON',
  GrantStmt: 'GRANT',
  CreateTrigStmt: 'CREATE TRIGGER',
  RuleStmt: 'CREATE RULE',
  CopyStmt: 'COPY',
  CreatePolicyStmt: 'CREATE POLICY',
  ClusterStmt: 'CLUSTER',
  VacuumStmt: 'VACUUM',
  LockStmt: 'LOCK',
};

const DROPPABLE = new Set(['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE', 'OBJECT_SEQUENCE']);

/** Keys under which a statement names its own target table (UPDATE t, CREATE VIEW v, TRUNCATE a, b). */
const TARGET_KEYS = new Set(['relation', 'view', 'relations', 'into', 'rel', 'objects']);

function lineAt(bytes: Buffer, offset: number, firstLine: number): number {
  let line = firstLine;
  const end = Math.min(offset, bytes.length);
  for (let i = 0; i < end; i++) if (bytes[i] === 10) line++;
  return line;
}

interface RangeVarLike {
  relname: string;
  schemaname?: string;
  location?: number;
}

/**
 * The tables a piece of SQL touches, with the line of each mention, from the real PostgreSQL parse
 * tree: every RangeVar, REFERENCES targets, and the names in DROP / COMMENT ON TABLE. CTE names are
 * not tables. Bodies of functions are strings to the parser and are not looked into.
 * SQL that does not parse yields nothing here (the migration's own check reports the syntax error).
 */
export async function findTableReferences(sql: string, file: string, firstLine: number, via: 'sql' = 'sql'): Promise<TableReference[]> {
  const { parseSync } = await loadPgParser();
  let tree: { stmts?: { stmt: Record<string, unknown>; stmt_location?: number }[] };
  try {
    tree = parseSync(sql) as typeof tree;
  } catch {
    return [];
  }
  const bytes = Buffer.from(sql, 'utf8');
  const found: TableReference[] = [];
  for (const { stmt, stmt_location } of tree.stmts ?? []) {
    const kind = Object.keys(stmt)[0];
    const body = stmt[kind] as Record<string, unknown>;
    const action = STATEMENT_ACTIONS[kind] ?? kind.replace(/Stmt$/, '').toUpperCase();
    // CTE names are not tables; collected first, wherever the WITH sits in the tree.
    const ctes = new Set([...JSON.stringify(body).matchAll(/"ctename":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string));
    const add = (parts: string[], location: number | undefined, what: string) =>
      found.push({
        table: parts.join('.'),
        name: parts.length > 1 ? { schema: parts[parts.length - 2], name: parts[parts.length - 1] } : { schema: 'public', name: parts[0] },
        file,
        line: lineAt(bytes, location ?? stmt_location ?? 0, firstLine),
        via,
        action: what,
      });

    // Names that are lists of strings, not RangeVars: DROP TABLE a, b; COMMENT ON TABLE a.
    if (kind === 'DropStmt' && DROPPABLE.has(String(body.removeType))) {
      for (const obj of (body.objects as { List?: { items: { String: { sval: string } }[] } }[]) ?? []) {
        const parts = obj.List?.items.map((i) => i.String?.sval).filter(Boolean) ?? [];
        if (parts.length) add(parts, stmt_location, 'DROP');
      }
    }
    if (kind === 'CommentStmt' && ['OBJECT_TABLE', 'OBJECT_COLUMN'].includes(String(body.objtype))) {
      const items = (body.object as { List?: { items: { String: { sval: string } }[] } })?.List?.items.map((i) => i.String?.sval) ?? [];
      const parts = body.objtype === 'OBJECT_COLUMN' ? items.slice(0, -1) : items;
      if (parts.length) add(parts, stmt_location, 'COMMENT ON');
    }

    // Walk the tree iteratively; the statement's own relation gets the statement's action.
    const stack: { node: unknown; role: string }[] = [{ node: body, role: action }];
    while (stack.length) {
      const { node, role } = stack.pop()!;
      if (Array.isArray(node)) {
        for (const child of node) stack.push({ node: child, role });
        continue;
      }
      if (!node || typeof node !== 'object') continue;
      const obj = node as Record<string, unknown>;
      if (typeof obj.relname === 'string') {
        const rv = obj as unknown as RangeVarLike;
        if (!rv.schemaname && ctes.has(rv.relname)) continue;
        add(rv.schemaname ? [rv.schemaname, rv.relname] : [rv.relname], rv.location, role);
        continue;
      }
      for (const [key, value] of Object.entries(obj)) {
        if (!value || typeof value !== 'object') continue;
        // Only the statement's target keeps its action; anything else mentioned inside is read.
        // A capitalised key is a node-type wrapper ({ RangeVar: … }): it passes the role through.
        const childRole = key === 'pktable' ? 'REFERENCES' : role !== action || /^[A-Z]/.test(key) ? role : TARGET_KEYS.has(key) ? action : 'SELECT';
        stack.push({ node: value, role: childRole });
      }
    }
  }
  return found.sort((a, b) => a.line - b.line);
}
