import { checksumOf } from './tidemark-source.js';
import type { SumVerification } from './revision.js';

/**
 * `tidemark.sum`: a small value type after Atlas's HashFile, with one difference — each line is the
 * SHA-256 of that migration file ALONE (the `checksum` the ledger stores), so a mismatch names the
 * file that differs instead of every file after it.
 *
 *     h1:<sha256 hex of the entry lines below, exactly as written, each ending in "\n">
 *     budget_001_initial_schema.sql h1:<sha256 hex of that file's bytes>
 *     budget_002_add_lines.sql h1:<…>
 *
 * Entries are sorted by file name (code-unit order, not locale), so the text is deterministic. Two
 * branches that each add a file both rewrite the first line, so `git merge` reports a conflict.
 * Pure: no I/O here (src/history/sum-io.ts reads and writes the file).
 */

export const SUM_FILE_NAME = 'tidemark.sum';

export interface SumEntry {
  /** The migration file's base name, e.g. `budget_001_initial_schema.sql`. */
  name: string;
  /** SHA-256 hex (64 lower-case digits) of the file's bytes. */
  hash: string;
}

export interface SumFile {
  /** Sorted by name. */
  entries: SumEntry[];
}

export interface ParsedSum {
  /** The entries that parsed (absent only when the text has no total line and no entry). */
  sum?: SumFile;
  /** The total line as written (hex), if line 1 is a total line. */
  total?: string;
  /** True when line 1 is `h1:<hex>` and equals the total recomputed from the parsed entries. */
  totalValid: boolean;
  /** 1-based line of each entry. */
  lines: Record<string, number>;
  /** Lines that are neither the total (line 1) nor an entry: merge conflict markers, garbage, duplicates. */
  malformed: { line: number; text: string }[];
}

const TOTAL_LINE = /^h1:([0-9a-f]{64})$/;
const ENTRY_LINE = /^(\S+) h1:([0-9a-f]{64})$/;

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function entryLine(e: SumEntry): string {
  return `${e.name} h1:${e.hash}\n`;
}

/** The sum of a set of migration files (their base names and bytes). */
export function computeSum(files: readonly { name: string; bytes: Uint8Array }[]): SumFile {
  const entries = files.map((f) => ({ name: f.name, hash: checksumOf(f.bytes) }));
  entries.sort((a, b) => byName(a.name, b.name));
  return { entries };
}

/** The total hash (hex): SHA-256 over the entry lines in name order, each `name h1:hash\n`. */
export function sumTotal(sum: SumFile): string {
  const sorted = [...sum.entries].sort((a, b) => byName(a.name, b.name));
  return checksumOf(sorted.map(entryLine).join(''));
}

/** The text of `tidemark.sum`: total line first, then one line per file, `\n` line endings. */
export function formatSum(sum: SumFile): string {
  const sorted = [...sum.entries].sort((a, b) => byName(a.name, b.name));
  return `h1:${sumTotal(sum)}\n${sorted.map(entryLine).join('')}`;
}

/**
 * Reads `tidemark.sum` text. Never throws: conflict markers, a second total line, a duplicate entry
 * or any other line that is not `<file> h1:<hex>` lands in `malformed`. CRLF and blank lines are accepted.
 */
export function parseSum(text: string): ParsedSum {
  const rawLines = text.split('\n');
  if (rawLines.length > 0 && rawLines[rawLines.length - 1] === '') rawLines.pop();
  const entries: SumEntry[] = [];
  const lines: Record<string, number> = {};
  const malformed: { line: number; text: string }[] = [];
  let total: string | undefined;
  rawLines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (lineNo === 1) {
      const t = TOTAL_LINE.exec(line.trim());
      if (t) {
        total = t[1];
        return;
      }
    }
    if (line.trim() === '') return;
    const m = ENTRY_LINE.exec(line.trim());
    if (!m || Object.hasOwn(lines, m[1])) {
      malformed.push({ line: lineNo, text: line });
      return;
    }
    lines[m[1]] = lineNo;
    entries.push({ name: m[1], hash: m[2] });
  });
  entries.sort((a, b) => byName(a.name, b.name));
  const sum = total !== undefined || entries.length > 0 ? { entries } : undefined;
  const totalValid = total !== undefined && total === sumTotal({ entries });
  return { sum, total, totalValid, lines, malformed };
}

/** Which names differ between the sum written down (`recorded`) and the one computed from the files (`actual`). */
export function diffSum(recorded: SumFile, actual: SumFile): { missing: string[]; extra: string[]; changed: string[] } {
  const want = new Map(recorded.entries.map((e) => [e.name, e.hash]));
  const have = new Map(actual.entries.map((e) => [e.name, e.hash]));
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [name, hash] of have) {
    const recordedHash = want.get(name);
    if (recordedHash === undefined) missing.push(name);
    else if (recordedHash !== hash) changed.push(name);
  }
  const extra = [...want.keys()].filter((name) => !have.has(name));
  return { missing: missing.sort(byName), extra: extra.sort(byName), changed: changed.sort(byName) };
}

/**
 * Compares the text of `tidemark.sum` (undefined when there is none) with the migration files.
 * With no sum file, `present` is false, `totalValid` false and every file is `missing`.
 */
export function verifySum(file: string, text: string | undefined, files: readonly { name: string; bytes: Uint8Array }[]): SumVerification {
  return verifySumEntries(file, text, computeSum(files));
}

/** verifySum from hashes already computed (the history reader hashes every file once). */
export function verifySumEntries(file: string, text: string | undefined, actual: SumFile): SumVerification {
  actual = { entries: [...actual.entries].sort((a, b) => byName(a.name, b.name)) };
  if (text === undefined) {
    return {
      file,
      present: false,
      totalValid: false,
      missing: actual.entries.map((e) => e.name),
      extra: [],
      changed: [],
      lines: {},
      malformed: [],
    };
  }
  const parsed = parseSum(text);
  const diff = diffSum(parsed.sum ?? { entries: [] }, actual);
  return { file, present: true, totalValid: parsed.totalValid, ...diff, lines: parsed.lines, malformed: parsed.malformed };
}

/** True when the sum file exists and matches the files exactly. */
export function sumIsClean(v: SumVerification): boolean {
  return v.present && v.totalValid && v.malformed.length === 0 && v.missing.length + v.extra.length + v.changed.length === 0;
}
