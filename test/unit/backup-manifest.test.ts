/**
 * The one manifest reader and the data file names, without a database: identifiers kept apart
 * (`"a.b".c` vs `a."b.c"`), an ambiguous joined name of an old format refused, file names that cannot
 * collide and are safe (generated hostile names), and malformed manifests refused as bad input.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { dataFileName } from '../../src/data/backup/files.js';
import { isBadInput, readManifest } from '../../src/data/manifest.js';
import { hostileQualifiedName } from '../support/hostile-names.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function table(schema: string, name: string, file: string) {
  return {
    schema,
    name,
    format: 'ndjson',
    columns: [{ name: 'id', type: 'integer', nullable: false }],
    primaryKey: ['id'],
    foreignKeys: [],
    rowCount: 0,
    file,
    sha256: sha(''),
    bytes: 0,
    contentDigest: '0'.repeat(32),
    digestColumns: ['id'],
  };
}

function manifest(tables: unknown[], version = 3): Record<string, unknown> {
  return {
    formatVersion: version,
    tool: { name: 'tidemark', version: '0.0.0' },
    createdAt: '2026-01-01T00:00:00.000Z',
    serverVersion: '15.0',
    database: 'db',
    format: 'ndjson',
    contentDigestAlgorithm: 'hash64',
    services: [],
    tables,
    ledger: [],
    files: [],
  };
}

function write(m: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-mf-'));
  const text = JSON.stringify(m);
  fs.writeFileSync(path.join(dir, 'manifest.json'), text);
  fs.writeFileSync(path.join(dir, 'manifest.sha256'), `${sha(text)}  manifest.json\n`);
  return dir;
}

it('format 3 keeps "a.b".c and a."b.c" apart; their data files cannot collide', () => {
  const used = new Set<string>();
  const f1 = dataFileName({ schema: 'a.b', name: 'c' }, 'ndjson', used);
  const f2 = dataFileName({ schema: 'a', name: 'b.c' }, 'ndjson', used);
  assert.equal(f1, 'data/a%2Eb.c.ndjson');
  assert.equal(f2, 'data/a.b%2Ec.ndjson');
  const dir = write(manifest([table('a.b', 'c', f1), table('a', 'b.c', f2)]));
  try {
    const read = readManifest(dir);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(
      read.manifest!.tables.map((t) => [t.schema, t.name]),
      [
        ['a.b', 'c'],
        ['a', 'b.c'],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('a table without columns is a table: no columns, no digest columns, rows counted', () => {
  const dir = write(manifest([{ ...table('public', 'ticks', 'data/public.ticks.ndjson'), columns: [], primaryKey: [], digestColumns: [], rowCount: 3 }]));
  try {
    const read = readManifest(dir);
    assert.deepEqual(read.problems, []);
    assert.deepEqual(
      read.manifest!.tables.map((t) => [t.name, t.columns.length, t.rowCount]),
      [['ticks', 0, 3]],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('an old (format 2) manifest: a joined name read when unambiguous, refused naming it when it could be two tables', () => {
  const legacy = (name: string) => {
    const { schema: _s, name: _n, format: _f, ...rest } = table('x', 'y', 'data/t.ndjson');
    return { table: name, ...rest };
  };
  const ok = write(manifest([legacy('public.users')], 2));
  const bad = write(manifest([legacy('a.b.c')], 2));
  try {
    const read = readManifest(ok);
    assert.deepEqual(read.problems, []);
    assert.deepEqual([read.manifest!.tables[0].schema, read.manifest!.tables[0].name, read.manifest!.tables[0].format], ['public', 'users', 'ndjson']);
    const refused = readManifest(bad);
    assert.equal(refused.manifest, undefined);
    assert.match(refused.problems[0].message, /table "a\.b\.c" could name more than one table/);
    assert.ok(refused.problems.every(isBadInput));
  } finally {
    fs.rmSync(ok, { recursive: true, force: true });
    fs.rmSync(bad, { recursive: true, force: true });
  }
});

it('refuses malformed manifests as bad input: duplicates, ledger and system tables, paths out of data/, wrong types, unknown keys, columns missing', () => {
  const good = table('public', 'users', 'data/public.users.ndjson');
  const cases: [string, unknown[], RegExp][] = [
    ['twice', [good, { ...good, file: 'data/other.ndjson' }], /lists table public\.users twice/],
    ['shared file', [good, { ...good, name: 'other' }], /share the data file/],
    ['ledger', [{ ...good, schema: 'tidemark', name: 'applied' }], /tidemark's own ledger/],
    ['catalog', [{ ...good, schema: 'pg_catalog', name: 'pg_description' }], /system schema pg_catalog/],
    ['info schema', [{ ...good, schema: 'information_schema', name: 'tables' }], /system schema information_schema/],
    ['dotdot', [{ ...good, file: 'data/../../etc/passwd.ndjson' }], /not a data file inside data/],
    ['absolute', [{ ...good, file: '/etc/passwd' }], /not a data file inside data/],
    ['subdir', [{ ...good, file: 'data/x/y.ndjson' }], /not a data file inside data/],
    ['control', [{ ...good, file: 'data/a\u001b.ndjson' }], /not a data file inside data/],
    ['extension', [{ ...good, format: 'csv' }], /does not end in \.csv/],
    ['negative', [{ ...good, rowCount: -1 }], /rowCount/],
    ['string count', [{ ...good, bytes: '0' }], /bytes/],
    ['unknown key', [{ ...good, sql: 'DROP TABLE x' }], /sql/],
    ['columns gone, digest columns kept', [{ ...good, columns: [] }], /digest column "id" is not one of its columns/],
    ['NUL', [{ ...good, name: 'a\u0000b' }], /identifier/],
    ['digest column', [{ ...good, digestColumns: ['nope'] }], /digest column "nope"/],
  ];
  for (const [label, tables, pattern] of cases) {
    const dir = write(manifest(tables));
    try {
      const read = readManifest(dir);
      assert.equal(read.manifest, undefined, label);
      assert.ok(read.problems.length > 0 && read.problems.every(isBadInput), label);
      assert.match(read.problems.map((p) => p.message).join('\n'), pattern, label);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

it('a symlinked manifest is refused as unsafe', () => {
  const dir = write(manifest([]));
  try {
    fs.renameSync(path.join(dir, 'manifest.json'), path.join(dir, 'real.json'));
    fs.symlinkSync(path.join(dir, 'real.json'), path.join(dir, 'manifest.json'));
    const read = readManifest(dir);
    assert.equal(read.manifest, undefined);
    assert.equal(read.problems[0].kind, 'unsafe');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

it('data file names of generated hostile tables: unique (ignoring case too), safe, under NAME_MAX', () => {
  fc.assert(
    fc.property(fc.array(hostileQualifiedName(), { minLength: 1, maxLength: 12 }), (names) => {
      const unique = [...new Map(names.map((q) => [`${q.schema}\0${q.name}`, q])).values()];
      const used = new Set<string>();
      const files = unique.map((q) => dataFileName(q, 'ndjson', used));
      assert.equal(new Set(files.map((f) => f.toLowerCase())).size, files.length);
      for (const f of files) {
        const base = f.slice('data/'.length);
        assert.ok(f.startsWith('data/') && !base.includes('/') && !base.includes('\\'), f);
        assert.ok(base !== '.' && base !== '..' && !base.startsWith('..'), f);
        // eslint-disable-next-line no-control-regex
        assert.ok(!/[\u0000-\u001f\u007f]/.test(f), f);
        assert.ok(Buffer.byteLength(base) <= 240, `${Buffer.byteLength(base)} bytes`);
        assert.match(f, /^data\/[^/\\]+\.ndjson$/);
      }
    }),
    { numRuns: 300 },
  );
});
