import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { SUM_FILE_NAME, computeSum, diffSum, formatSum, parseSum, sumIsClean, sumTotal, verifySum } from '../../src/history/sum-file.js';

const enc = (s: string) => new TextEncoder().encode(s);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const files = [
  { name: 'budget_002_add_lines.sql', bytes: enc('-- tidemark:up\nCREATE TABLE lines ();\n') },
  { name: 'budget_001_initial_schema.sql', bytes: enc('-- tidemark:up\nCREATE TABLE budgets ();\n') },
  { name: 'budget_010_backfill.ts', bytes: enc('export async function up() {}\n') },
];
const FILE = '/w/migrations/budget/tidemark.sum';

describe('sum file', () => {
  it('is named tidemark.sum', () => assert.equal(SUM_FILE_NAME, 'tidemark.sum'));

  it('formats the total first, then one line per file sorted by name, each the SHA-256 of that file alone', () => {
    const text = formatSum(computeSum(files));
    const lines = text.split('\n');
    assert.equal(lines.length, 5); // total, 3 entries, trailing ''
    assert.equal(lines[4], '');
    assert.deepEqual(
      lines.slice(1, 4).map((l) => l.split(' ')[0]),
      ['budget_001_initial_schema.sql', 'budget_002_add_lines.sql', 'budget_010_backfill.ts'],
    );
    assert.equal(lines[1], `budget_001_initial_schema.sql h1:${sha('-- tidemark:up\nCREATE TABLE budgets ();\n')}`);
    // The total is the SHA-256 of the entry lines exactly as written.
    assert.equal(lines[0], `h1:${sha(lines.slice(1).join('\n'))}`);
    assert.equal(lines[0], `h1:${sumTotal(computeSum(files))}`);
  });

  it('is deterministic whatever order the files come in', () => {
    assert.equal(formatSum(computeSum(files)), formatSum(computeSum([...files].reverse())));
  });

  it('each line depends only on its own file (unlike a running hash)', () => {
    const a = formatSum(computeSum(files)).split('\n');
    const changed = [{ ...files[0], bytes: enc('changed') }, files[1], files[2]];
    const b = formatSum(computeSum(changed)).split('\n');
    assert.notEqual(a[0], b[0]);
    assert.equal(a[1], b[1]); // 001 untouched
    assert.notEqual(a[2], b[2]); // 002 changed
    assert.equal(a[3], b[3]); // 010 untouched
  });

  it('round-trips: parse(format(sum)) gives the same entries, a valid total and line numbers', () => {
    const sum = computeSum(files);
    const parsed = parseSum(formatSum(sum));
    assert.deepEqual(parsed.sum, sum);
    assert.equal(parsed.totalValid, true);
    assert.deepEqual(parsed.malformed, []);
    assert.deepEqual(parsed.lines, { 'budget_001_initial_schema.sql': 2, 'budget_002_add_lines.sql': 3, 'budget_010_backfill.ts': 4 });
    assert.equal(formatSum(parsed.sum!), formatSum(sum));
  });

  it('accepts CRLF line endings', () => {
    const parsed = parseSum(formatSum(computeSum(files)).replace(/\n/g, '\r\n'));
    assert.equal(parsed.totalValid, true);
    assert.deepEqual(parsed.malformed, []);
  });

  it('an empty directory has just a total line, and it verifies', () => {
    const text = formatSum(computeSum([]));
    assert.equal(text, `h1:${sha('')}\n`);
    assert.ok(sumIsClean(verifySum(FILE, text, [])));
  });

  it('verifySum: clean', () => {
    const v = verifySum(FILE, formatSum(computeSum(files)), files);
    assert.deepEqual(v, {
      file: FILE,
      present: true,
      totalValid: true,
      missing: [],
      extra: [],
      changed: [],
      lines: { 'budget_001_initial_schema.sql': 2, 'budget_002_add_lines.sql': 3, 'budget_010_backfill.ts': 4 },
      malformed: [],
    });
    assert.ok(sumIsClean(v));
  });

  it('verifySum: no sum file', () => {
    const v = verifySum(FILE, undefined, files);
    assert.equal(v.present, false);
    assert.equal(v.totalValid, false);
    assert.deepEqual(v.missing, ['budget_001_initial_schema.sql', 'budget_002_add_lines.sql', 'budget_010_backfill.ts']);
    assert.ok(!sumIsClean(v));
  });

  it('verifySum: a file with no line is missing (the total still matches the lines written)', () => {
    const text = formatSum(computeSum(files.slice(1)));
    const v = verifySum(FILE, text, files);
    assert.deepEqual([v.missing, v.extra, v.changed, v.totalValid], [['budget_002_add_lines.sql'], [], [], true]);
  });

  it('verifySum: a line with no file is extra', () => {
    const v = verifySum(FILE, formatSum(computeSum(files)), files.slice(0, 2));
    assert.deepEqual([v.missing, v.extra, v.changed], [[], ['budget_010_backfill.ts'], []]);
    assert.equal(v.lines['budget_010_backfill.ts'], 4);
  });

  it('verifySum: an edited file is changed, named, with its line', () => {
    const edited = [{ ...files[0], bytes: enc('-- tidemark:up\nDROP TABLE lines;\n') }, files[1], files[2]];
    const v = verifySum(FILE, formatSum(computeSum(files)), edited);
    assert.deepEqual([v.missing, v.extra, v.changed, v.totalValid], [[], [], ['budget_002_add_lines.sql'], true]);
    assert.equal(v.lines['budget_002_add_lines.sql'], 3);
  });

  it('verifySum: an edited line breaks the total', () => {
    const text = formatSum(computeSum(files));
    const lines = text.split('\n');
    lines[2] = `budget_002_add_lines.sql h1:${sha('something else')}`;
    const v = verifySum(FILE, lines.join('\n'), files);
    assert.equal(v.totalValid, false);
    assert.deepEqual(v.changed, ['budget_002_add_lines.sql']);
  });

  it('verifySum: a missing total line is invalid, and the entry on line 1 still counts', () => {
    const body = formatSum(computeSum(files)).split('\n').slice(1).join('\n');
    const v = verifySum(FILE, body, files);
    assert.equal(v.totalValid, false);
    assert.deepEqual([v.missing, v.extra, v.changed, v.malformed], [[], [], [], []]);
    assert.equal(v.lines['budget_001_initial_schema.sql'], 1);
  });

  it("parseSum: git conflict markers are malformed lines, never a throw; both sides' entries are read", () => {
    const base = files.slice(0, 2);
    const a = [...base, { name: 'budget_005_add_commission.sql', bytes: enc('a') }];
    const b = [...base, { name: 'budget_005_remove_quantity.sql', bytes: enc('b') }];
    const la = formatSum(computeSum(a)).split('\n');
    const lb = formatSum(computeSum(b)).split('\n');
    const text = ['<<<<<<< HEAD', la[0], '=======', lb[0], '>>>>>>> remove-quantity', la[1], la[2], '<<<<<<< HEAD', la[3], '=======', lb[3], '>>>>>>> remove-quantity', ''].join('\n');
    const parsed = parseSum(text);
    assert.equal(parsed.totalValid, false);
    assert.equal(parsed.total, undefined);
    assert.deepEqual(
      parsed.malformed.map((m) => m.line),
      [1, 2, 3, 4, 5, 8, 10, 12],
    );
    assert.equal(parsed.malformed[0].text, '<<<<<<< HEAD');
    assert.deepEqual(
      parsed.sum!.entries.map((e) => e.name),
      ['budget_001_initial_schema.sql', 'budget_002_add_lines.sql', 'budget_005_add_commission.sql', 'budget_005_remove_quantity.sql'],
    );
    const v = verifySum(FILE, text, [...base, a[2], b[2]]);
    assert.deepEqual([v.missing, v.extra, v.changed], [[], [], []]);
    assert.equal(v.malformed.length, 8);
  });

  it('parseSum: garbage, a duplicate entry and a bad hash are malformed', () => {
    const good = formatSum(computeSum(files)).split('\n');
    const text = [good[0], good[1], good[1], 'hello world', 'budget_003_x.sql h1:XYZ', good[2], good[3], ''].join('\n');
    const parsed = parseSum(text);
    assert.deepEqual(parsed.malformed, [
      { line: 3, text: good[1] },
      { line: 4, text: 'hello world' },
      { line: 5, text: 'budget_003_x.sql h1:XYZ' },
    ]);
    assert.equal(parsed.totalValid, true);
  });

  it('parseSum: binary garbage and an empty text do not throw', () => {
    assert.deepEqual(parseSum(''), { sum: undefined, total: undefined, totalValid: false, lines: {}, malformed: [] });
    const parsed = parseSum('\u0000\u0001\uFFFD\n\n\u00ff');
    assert.equal(parsed.totalValid, false);
    assert.equal(parsed.malformed.length, 2);
  });

  it('diffSum names each file that differs', () => {
    const recorded = computeSum(files);
    const actual = computeSum([{ ...files[0], bytes: enc('x') }, files[1], { name: 'budget_011_new.sql', bytes: enc('n') }]);
    assert.deepEqual(diffSum(recorded, actual), { missing: ['budget_011_new.sql'], extra: ['budget_010_backfill.ts'], changed: ['budget_002_add_lines.sql'] });
  });
});
