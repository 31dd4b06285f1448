/**
 * What a relative `pglite:` URL (and a `protected` entry) is relative to: today's answer of each of the
 * seven places that decide it (issue 12, plan §1), pinned per case, and the one rule of src/target/paths.ts
 * that replaces them. target/resolve.ts is called for real; the other six decide inline inside functions that
 * open databases, so their expressions are transcribed here, each next to its file. When a place switches
 * to the one rule, its column here becomes the rule's, and `CHANGES` says which cases move.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveConnection } from '../../src/target/resolve.js';
import { urlBaseDir } from '../../src/target/paths.js';
import { makePaths } from '../../src/target/paths.js';
import type { DatabaseSource } from '../../src/target/target.js';

const ROOT = '/ws';
const SUB = '/ws/app';

/** One case: who named the database, and the options' cwd (undefined: the API caller gave none). */
interface Case {
  source: DatabaseSource;
  cwd: string | undefined;
}

/** A place's answer: the directory, or '-' when that place never resolves a relative pglite: URL for this case. */
type Answer = string | '-';
const P = () => process.cwd();

/** The workspace every case uses: its root is ROOT, its database (when the config names one) relative. */
const workspace = (c: Case) => ({ root: ROOT, configFile: `${ROOT}/tidemark.config.json`, database: c.source === 'config' ? 'pglite:./db' : undefined, protected: [] });

function withEnv<T>(c: Case, fn: () => T): T {
  const saved = process.env.DATABASE_URL;
  if (c.source === 'env') process.env.DATABASE_URL = 'pglite:./db';
  else delete process.env.DATABASE_URL;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

const PLACES: Record<string, (c: Case) => Answer> = {
  // target/resolve.ts resolveConnection (called for real).
  connect: (c) =>
    c.source === 'given'
      ? '-'
      : withEnv(c, () => {
          const t = resolveConnection({ cwd: c.cwd, database: c.source === 'option' ? 'pglite:./db' : undefined }, workspace(c)).target;
          assert.equal(t.backend, 'pglite');
          // The default is pglite:./.tidemark/db, the others pglite:./db: the base is what precedes that.
          const dir = t.backend === 'pglite' ? (t.dataDir as string) : '';
          const rel = c.source === 'default' ? '/.tidemark/db' : '/db';
          assert.ok(dir.endsWith(rel), dir);
          return dir.slice(0, -rel.length);
        }),
  // data/validate.ts shadowTarget: a given Database → options.cwd; else config|default → root, else cwd.
  validate: (c) => {
    const cwd = c.cwd ?? P();
    if (c.source === 'given') return cwd;
    return c.source === 'config' || c.source === 'default' ? ROOT : cwd;
  },
  // cli/schema-commands.ts runBaseline: config|default → workspace.root, else process.cwd() (the CLI has no cwd option).
  baselineCli: (c) => (c.source === 'given' ? '-' : c.source === 'config' || c.source === 'default' ? ROOT : P()),
  // apply/renumber.ts: config → root, else options.cwd; the default is never reached (no database named: not checked).
  renumber: (c) => (c.source === 'default' ? '-' : c.source === 'given' ? '-' : c.source === 'config' ? ROOT : (c.cwd ?? P())),
  // ledger/guard.ts connectGuarded/protectionOfConnection: `protected` entries from workspace.root, always.
  guardEntries: () => ROOT,
  // flows/rebaseline.ts replayOnShadow: the URL re-derived as `database string || DATABASE_URL || config`
  // (a given Database falls through to DATABASE_URL/config; the default to the target's displayUrl), all from options.cwd.
  rebaselineShadow: (c) => c.cwd ?? P(),
  // data/backup/snapshot.ts openSnapshotSession: options.cwd, but only for a server target (never a pglite: URL).
  backupSibling: () => '-',
};

/** Today's answers, per case (R = ROOT, C = the case's cwd, or process.cwd() when none was given). */
const TODAY: Record<string, Record<string, string>> = {
  //                       connect validate baselineCli renumber guardEntries rebaselineShadow backupSibling
  'option cwd=/ws/app': { connect: 'C', validate: 'C', baselineCli: 'P', renumber: 'C', guardEntries: 'R', rebaselineShadow: 'C', backupSibling: '-' },
  'env cwd=/ws/app': { connect: 'C', validate: 'C', baselineCli: 'P', renumber: 'C', guardEntries: 'R', rebaselineShadow: 'C', backupSibling: '-' },
  'config cwd=/ws/app': { connect: 'R', validate: 'R', baselineCli: 'R', renumber: 'R', guardEntries: 'R', rebaselineShadow: 'C', backupSibling: '-' },
  'default cwd=/ws/app': { connect: 'R', validate: 'R', baselineCli: 'R', renumber: '-', guardEntries: 'R', rebaselineShadow: 'C', backupSibling: '-' },
  'given cwd=/ws/app': { connect: '-', validate: 'C', baselineCli: '-', renumber: '-', guardEntries: 'R', rebaselineShadow: 'C', backupSibling: '-' },
  'option cwd=none': { connect: 'P', validate: 'P', baselineCli: 'P', renumber: 'P', guardEntries: 'R', rebaselineShadow: 'P', backupSibling: '-' },
  'config cwd=none': { connect: 'R', validate: 'R', baselineCli: 'R', renumber: 'R', guardEntries: 'R', rebaselineShadow: 'P', backupSibling: '-' },
  'default cwd=none': { connect: 'R', validate: 'R', baselineCli: 'R', renumber: '-', guardEntries: 'R', rebaselineShadow: 'P', backupSibling: '-' },
};

function caseOf(name: string): Case {
  const [source, cwd] = name.split(' ');
  return { source: source as DatabaseSource, cwd: cwd === 'cwd=none' ? undefined : cwd.slice('cwd='.length) };
}

const letter = (c: Case, dir: Answer) => (dir === '-' ? '-' : dir === ROOT ? 'R' : dir === (c.cwd ?? P()) ? (c.cwd === undefined ? 'P' : 'C') : dir === P() ? 'P' : dir);

/** The one rule: a URL's base for its source (the guard's entries are config-written: fromConfig). */
function oneRule(place: string, c: Case): string {
  const paths = makePaths(ROOT, c.cwd ?? P());
  if (place === 'guardEntries') return letter(c, path.dirname(paths.fromConfig('./x')));
  // The baseline CLI has no cwd option: its cwd is process.cwd().
  if (place === 'baselineCli') return letter(c, makePaths(ROOT, P()).urlBase(c.source)).replace('C', 'P');
  return letter(c, paths.urlBase(c.source));
}

/** Where a place's result changes when it switches to the one rule (reachable cases only). */
const CHANGES = [
  // rebaseline's shadow: a config URL and the default resolve from the root, as the target itself was opened.
  'rebaselineShadow config cwd=/ws/app: C → R',
  'rebaselineShadow default cwd=/ws/app: C → R',
  'rebaselineShadow config cwd=none: P → R',
  'rebaselineShadow default cwd=none: P → R',
];

describe('what a relative pglite: URL is relative to', () => {
  it('target/paths.ts urlBaseDir: config and default from the root, the rest from cwd; undefined stays undefined', () => {
    assert.equal(urlBaseDir('config', ROOT, SUB), ROOT);
    assert.equal(urlBaseDir('default', ROOT, SUB), ROOT);
    assert.equal(urlBaseDir('option', ROOT, SUB), SUB);
    assert.equal(urlBaseDir('env', ROOT, SUB), SUB);
    assert.equal(urlBaseDir('given', ROOT, SUB), SUB);
    assert.equal(urlBaseDir('config', undefined, SUB), SUB, 'no workspace: cwd');
    assert.equal(urlBaseDir('option', ROOT, undefined), undefined);
  });

  it('makePaths: config paths from the root, typed paths from cwd, both made absolute', () => {
    const p = makePaths('/ws/./x/..', 'rel');
    assert.equal(p.root, '/ws');
    assert.equal(p.cwd, path.resolve('rel'));
    assert.equal(p.fromConfig('migrations/a'), '/ws/migrations/a');
    assert.equal(p.fromConfig('/abs'), '/abs');
    assert.equal(p.fromUser('../out'), path.resolve('rel', '../out'));
    assert.equal(p.urlBase('config'), '/ws');
    assert.equal(p.urlBase('env'), path.resolve('rel'));
  });

  for (const [name, expected] of Object.entries(TODAY)) {
    it(`today, ${name}: each place's answer is pinned`, () => {
      const c = caseOf(name);
      const got = Object.fromEntries(Object.entries(PLACES).map(([place, fn]) => [place, letter(c, fn(c))]));
      assert.deepEqual(got, expected);
    });
  }

  it('switching every place to the one rule changes exactly the listed cases', () => {
    const changes: string[] = [];
    for (const [name, today] of Object.entries(TODAY)) {
      const c = caseOf(name);
      for (const [place, was] of Object.entries(today)) {
        if (was === '-') continue; // never reached today: nothing to change
        const now = oneRule(place, c);
        if (now !== was) changes.push(`${place} ${name}: ${was} → ${now}`);
      }
    }
    assert.deepEqual(changes.sort(), [...CHANGES].sort());
  });

  it('target/resolve.ts already follows the one rule (it calls it)', () => {
    for (const name of Object.keys(TODAY)) {
      const c = caseOf(name);
      if (c.source === 'given') continue;
      assert.equal(letter(c, PLACES.connect(c)), oneRule('connect', c), name);
    }
  });
});
