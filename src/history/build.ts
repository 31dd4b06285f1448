import type { Diagnostic } from '../diagnostic.js';
import type { History, MigrationFile } from './migration.js';
import { compareMigrationNumbers, formatMigrationNumber } from './tidemark-source.js';

/**
 * Orders a service's migrations by number and reports every number declared twice, naming all
 * the files (where Alembic keeps whichever file it loaded last). Pure.
 */
export function buildHistory(service: string, migrations: MigrationFile[], problems: Diagnostic[] = []): History {
  const byNumber = new Map<bigint, MigrationFile[]>();
  for (const m of migrations) {
    const list = byNumber.get(m.number) ?? [];
    list.push(m);
    byNumber.set(m.number, list);
  }
  const all = [...problems];
  for (const [number, list] of byNumber) {
    if (list.length < 2) continue;
    const files = list.map((m) => m.file).sort();
    const names = list.map((m) => m.id).sort();
    all.push({
      rule: 'duplicate-id',
      severity: 'error',
      service,
      file: files[0],
      message: `${service} has ${list.length} migrations numbered ${formatMigrationNumber(number)}: ${names.join(', ')}.`,
      hint: `Renumber all but the first (\`tidemark renumber --service ${service}\`), or rename the later file to the next free number.`,
    });
  }
  const sorted = [...migrations].sort((a, b) => compareMigrationNumbers(a.number, b.number) || a.id.localeCompare(b.id));
  return { service, migrations: sorted, problems: all };
}
