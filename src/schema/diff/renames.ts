/**
 * Renames (issue 13): a desired schema's `-- tidemark:renamed-from <old>` comment, accepted, turns a drop +
 * add into a RENAME; a likely one found in the Changes is offered with the line to add, never applied
 * silently (Atlas's `renamed_from`; Alembic guesses nothing, Prisma drops). Types first: applying and
 * suggesting come with their tests.
 */

/** An accepted rename, from a `-- tidemark:renamed-from` comment at `file`:`line`. */
export interface Rename {
  kind: 'table' | 'column' | 'index' | 'constraint' | 'view' | 'type' | 'sequence';
  schema: string;
  /** The table of a column, index or constraint. */
  table?: string;
  from: string;
  to: string;
  file: string;
  line: number;
}

/** A drop + add that looks like a rename (same type and position, or the same columns), and the comment that accepts it. */
export interface RenameSuggestion {
  kind: Rename['kind'];
  object: string;
  old: string;
  new: string;
  /** The exact comment line to add above the new definition. */
  line: string;
}
