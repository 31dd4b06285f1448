/**
 * The README's "Error codes" table, generated from the catalogue (src/error-codes.ts).
 * `node dist/test/support/error-codes-table.js --write` rewrites it in README.md between the markers;
 * test/unit/error-codes.test.ts fails when README.md and the catalogue differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, exitCodeOfKind, type ErrorCode } from '../../src/error-codes.js';
import { REPO_ROOT } from './workspace.js';

export const TABLE_START = '<!-- error-codes:start (generated from src/error-codes.ts; node dist/test/support/error-codes-table.js --write) -->';
export const TABLE_END = '<!-- error-codes:end -->';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function renderErrorCodesTable(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).sort().map((code) => {
    const e = ERROR_CODES[code];
    const fields = e.fields.length ? e.fields.join(', ') : '';
    return `| \`${code}\` | ${exitCodeOfKind(e.kind)} | ${cell(e.meaning)} | ${fields} |`;
  });
  return [TABLE_START, '| code | exit | meaning | fields |', '|---|---|---|---|', ...rows, TABLE_END].join('\n');
}

/** The table as it stands in README.md (markers included), or undefined when the markers are missing. */
export function readmeErrorCodesTable(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start, end + TABLE_END.length);
}

export const README = path.join(REPO_ROOT, 'README.md');

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && process.argv.includes('--write')) {
  const readme = readFileSync(README, 'utf8');
  const current = readmeErrorCodesTable(readme);
  if (current === undefined) {
    process.stderr.write(`README.md has no ${TABLE_START} … ${TABLE_END} markers.\n`);
    process.exit(2);
  }
  writeFileSync(README, readme.replace(current, renderErrorCodesTable()));
  process.stdout.write(`README.md: ${Object.keys(ERROR_CODES).length} error codes.\n`);
}
