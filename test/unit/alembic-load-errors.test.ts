/**
 * Issue 11 §12: every error Alembic raises while loading a history (alembic/script/revision.py,
 * script/base.py) is an error of the doctor, with file and line. Each case runs through the whole
 * doctor (files written, read, every rule); when a Python with Alembic is at hand, Alembic itself
 * confirms that it refuses the bad histories and loads the good ones.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { check } from '../../src/api/check.js';
import { alembicUnavailable, loadWithAlembic } from '../support/alembic-oracle.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'tidemark-alembic-errors-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A revision file: the four module-level names Alembic reads, then upgrade/downgrade. */
function revision(id: string, down: string | string[] | null, extra: { labels?: string[]; deps?: string[] } = {}): string {
  const py = (v: string | string[] | null | undefined): string =>
    v === null || v === undefined ? 'None' : typeof v === 'string' ? `'${v}'` : `(${v.map((x) => `'${x}'`).join(', ')}${v.length === 1 ? ',' : ''})`;
  return `revision = '${id}'\ndown_revision = ${py(down)}\nbranch_labels = ${py(extra.labels)}\ndepends_on = ${py(extra.deps)}\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n`;
}

interface Case {
  name: string;
  files: Record<string, string>;
  /** The doctor's finding: rule, file name, line. */
  expect?: { rule: string; file: string; line: number | undefined; message?: RegExp };
  /** What Alembic raises (exception type and message); undefined: Alembic loads it. */
  alembic?: RegExp;
}

const BAD: Case[] = [
  ...(['-', '@', '+', ':'] as const).map((c) => ({
    name: `a revision id with '${c}'`,
    files: { 'a.py': revision(`add${c}users`, null) },
    expect: { rule: 'illegal-revision-id', file: 'a.py', line: 1 },
    alembic: new RegExp(`RevisionError: Character\\(s\\) '\\${c}' not allowed in revision identifier`),
  })),
  {
    name: 'a down_revision naming the revision itself',
    files: { 'a.py': revision('a1', 'a1') },
    expect: { rule: 'cycle', file: 'a.py', line: 1 },
    alembic: /LoopDetected: Self-loop is detected in revisions \(a1\)/,
  },
  {
    name: 'a depends_on naming the revision itself',
    files: { 'a.py': revision('a1', null, { deps: ['a1'] }) },
    expect: { rule: 'cycle', file: 'a.py', line: 1 },
    alembic: /DependencyLoopDetected: Dependency self-loop is detected in revisions \(a1\)/,
  },
  {
    name: 'a cycle through down_revision',
    files: { 'a.py': revision('a1', null), 'b.py': revision('b2', ['a1', 'c3']), 'c.py': revision('c3', 'b2') },
    expect: { rule: 'cycle', file: 'b.py', line: 1 },
    alembic: /CycleDetected: Cycle is detected in revisions \((a1, )?b2, c3\)/,
  },
  {
    name: 'a cycle through depends_on',
    files: { 'a.py': revision('a1', null, { deps: ['b2'] }), 'b.py': revision('b2', 'a1') },
    expect: { rule: 'cycle', file: 'a.py', line: 1 },
    alembic: /DependencyCycleDetected: Dependency cycle is detected in revisions \(a1, b2\)/,
  },
  {
    name: 'no base at all (every revision has a parent)',
    files: { 'a.py': revision('a1', 'b2'), 'b.py': revision('b2', 'a1') },
    expect: { rule: 'cycle', file: 'a.py', line: 1 },
    alembic: /CycleDetected: Cycle is detected in revisions/,
  },
  {
    name: 'a down_revision that no file declares',
    files: { 'a.py': revision('a1', null), 'b.py': revision('b2', 'zz9') },
    expect: { rule: 'missing-parent', file: 'b.py', line: 2 },
    alembic: /KeyError: 'zz9'/,
  },
  {
    name: 'an empty-string down_revision',
    files: { 'a.py': revision('a1', '') },
    expect: { rule: 'missing-parent', file: 'a.py', line: 2 },
    alembic: /KeyError: ''/,
  },
  {
    name: 'a depends_on that is neither a revision nor a branch label',
    files: { 'a.py': revision('a1', null), 'b.py': revision('b2', 'a1', { deps: ['nolabel'] }) },
    expect: { rule: 'missing-parent', file: 'b.py', line: 4 },
    alembic: /KeyError: 'nolabel'/,
  },
  {
    name: 'a down_revision naming a branch label',
    files: { 'a.py': revision('a1', null, { labels: ['core'] }), 'b.py': revision('b2', 'core') },
    expect: { rule: 'missing-parent', file: 'b.py', line: 2, message: /branch label "core" as its down_revision/ },
    alembic: /KeyError: 'core'|RevisionError/,
  },
  {
    name: 'a branch label that is another revision id',
    files: { 'a.py': revision('a1', null), 'b.py': revision('b2', 'a1', { labels: ['a1'] }) },
    expect: { rule: 'branch-label-conflict', file: 'b.py', line: 3 },
    alembic: /RevisionError: Branch name 'a1' in revision b2 already used by revision a1/,
  },
  {
    name: 'a branch label that is its own revision id',
    files: { 'a.py': revision('a1', null, { labels: ['a1'] }) },
    expect: { rule: 'branch-label-conflict', file: 'a.py', line: 3 },
    alembic: /RevisionError: Branch name 'a1' in revision a1 already used by revision a1/,
  },
  {
    name: 'two bases with the same branch label',
    files: { 'a.py': revision('a1', null, { labels: ['core'] }), 'b.py': revision('b2', null, { labels: ['core'] }) },
    expect: { rule: 'branch-label-conflict', file: 'b.py', line: 3 },
    alembic: /RevisionError: Branch name 'core' in revision (a1|b2) already used by revision (a1|b2)/,
  },
  {
    name: 'a branch label listed twice by one revision',
    files: { 'a.py': revision('a1', null, { labels: ['core', 'core'] }) },
    expect: { rule: 'branch-label-conflict', file: 'a.py', line: 3 },
    alembic: /RevisionError: Branch name 'core' in revision a1 already used by revision a1/,
  },
  {
    name: 'a file with no revision variable (and no legacy hex name)',
    files: { 'add_users.py': 'down_revision = None\n' },
    expect: { rule: 'alembic-file', file: 'add_users.py', line: undefined },
    alembic: /CommandError: Could not determine revision id from filename add_users\.py/,
  },
  {
    name: 'a revision with no down_revision',
    files: { 'a.py': "revision = 'a1'\n" },
    expect: { rule: 'alembic-file', file: 'a.py', line: 1 },
    alembic: /AttributeError: .*down_revision/,
  },
  {
    name: 'a revision id that is not a string',
    files: { 'a.py': 'revision = 42\ndown_revision = None\n' },
    expect: { rule: 'alembic-file', file: 'a.py', line: 1 },
    alembic: /TypeError/,
  },
  {
    name: 'a down_revision that is not a string',
    files: { 'a.py': "revision = 'a1'\ndown_revision = 5\n" },
    expect: { rule: 'alembic-file', file: 'a.py', line: 2 },
    alembic: /TypeError: sequence item 0: expected str instance, int found/,
  },
  {
    name: 'a file Python cannot import',
    files: { 'a.py': "revision = 'a1\ndown_revision = None\n" },
    expect: { rule: 'alembic-file', file: 'a.py', line: 1 },
    alembic: /SyntaxError/,
  },
  {
    // Alembic only warns and keeps the last file: it loads, one migration silently lost. The doctor fails.
    name: 'two files with the same revision id (Alembic warns only)',
    files: { 'a.py': revision('a1', null), 'b.py': revision('a1', null) },
    expect: { rule: 'duplicate-id', file: 'a.py', line: 1 },
  },
];

const GOOD: Case[] = [
  { name: 'a linear history', files: { 'a.py': revision('a1', null), 'b.py': revision('b2', 'a1'), 'c.py': revision('c3', 'b2') } },
  {
    name: 'two labelled branches, a depends_on naming a label, a merge',
    files: {
      'a.py': revision('a1', null, { labels: ['expand'] }),
      'b.py': revision('b2', null, { labels: ['contract'] }),
      'c.py': revision('c3', 'a1', { deps: ['contract'] }),
      'd.py': revision('d4', ['c3', 'b2']),
    },
  },
  { name: 'a depends_on that is also the down_revision', files: { 'a.py': revision('a1', null), 'b.py': revision('b2', 'a1', { deps: ['a1'] }) } },
  { name: 'ids with dots, underscores and capitals', files: { 'a.py': revision('V1.0_init', null), 'b.py': revision('20250915_124515', 'V1.0_init') } },
];

let n = 0;
function write(c: Case): string {
  const dir = path.join(root, String(++n), 'versions');
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(c.files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const dirs = new Map<Case, string>([...BAD, ...GOOD].map((c) => [c, write(c)]));

describe('the doctor reports every error Alembic raises while loading a history', () => {
  for (const c of BAD) {
    it(c.name, async () => {
      const dir = dirs.get(c)!;
      const report = await check({ alembic: [dir] });
      assert.equal(report.error, undefined, report.error?.message);
      assert.equal(report.ok, false, `clean: ${c.name}`);
      const e = c.expect!;
      const found = report.diagnostics.find((d) => d.rule === e.rule && d.severity === 'error');
      assert.ok(found, `no ${e.rule} in ${JSON.stringify(report.diagnostics.map((d) => [d.rule, d.message]))}`);
      assert.equal(found.file, path.join(dir, e.file));
      assert.equal(found.line, e.line);
      if (e.message) assert.match(found.message, e.message);
    });
  }
  for (const c of GOOD) {
    it(`clean: ${c.name}`, async () => {
      const report = await check({ alembic: [dirs.get(c)!] });
      assert.deepEqual(
        report.diagnostics.filter((d) => d.severity === 'error'),
        [],
      );
      assert.equal(report.ok, true);
    });
  }
});

describe('Alembic agrees (its own RevisionMap loads each case)', { skip: alembicUnavailable }, () => {
  it('refuses each bad history with the error named, and loads each good one', () => {
    const cases = [...BAD, ...GOOD];
    const loads = loadWithAlembic(cases.map((c) => dirs.get(c)!));
    const wrong = cases.flatMap((c, i) => {
      const got = loads[i];
      const right = c.alembic ? !got.ok && c.alembic.test(got.error ?? '') : got.ok;
      return right ? [] : [`${c.name}: ${got.ok ? 'loaded' : got.error}`];
    });
    assert.deepEqual(wrong, []);
  });
});
