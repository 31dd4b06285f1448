/**
 * The one place src/data asks the config who owns a table: backup, restore and validate all call
 * this with the table's (schema, name) pair, never a joined string.
 */
import { ownerOf } from '../config/owns.js';
import type { Service, Workspace } from '../config/types.js';
import type { QualifiedName } from '../sql/ident.js';

export function ownerOfTable(workspace: Workspace | undefined, table: QualifiedName): Service | undefined {
  return workspace ? ownerOf(workspace, { schema: table.schema, name: table.name }) : undefined;
}
