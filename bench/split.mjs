// Splitting one big migration into statements (issue 11 §7): time against size.
// Usage: npm run build && node bench/split.mjs
import { splitStatements } from '../dist/src/history/sql-statements.js';
import { loadPgParser } from '../dist/src/history/pg-parser.js';

await loadPgParser();
const inserts = (n) => Array.from({ length: n }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i}');`).join('\n');
const comment = `-- ${'c'.repeat(97)}\n`.repeat(50);
const cases = [
  ['2,000 INSERTs', () => inserts(2_000)],
  ['20,000 INSERTs', () => inserts(20_000)],
  ['200,000 INSERTs', () => inserts(200_000)],
  ['500,000 INSERTs', () => inserts(500_000)],
  ['10,000 INSERTs + 5 KB comment each', () => Array.from({ length: 10_000 }, (_, i) => `INSERT INTO t VALUES (${i});\n${comment}`).join('')],
  ['50,000 INSERTs of a 1 KB literal', () => Array.from({ length: 50_000 }, (_, i) => `INSERT INTO t VALUES (${i}, '${'x'.repeat(1000)}');`).join('\n')],
];
console.log('| file | size | statements | split |');
console.log('|---|---|---|---|');
for (const [name, make] of cases) {
  const text = make();
  const t0 = performance.now();
  const stmts = await splitStatements({ text, line: 2 }, 'bench.sql', 'bench');
  const ms = performance.now() - t0;
  console.log(`| ${name} | ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB | ${stmts.length} | ${ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`} |`);
}
