/**
 * history/desired-schema.ts: where a `-- tidemark:renamed-from` comment lands (the definition that starts
 * next, located by libpg-query's byte offsets), how its old name is read, the errors for a misplaced or
 * malformed one, and the order a directory's files are read in.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TidemarkError } from '../../src/errors.js';
import { findRenames, readDesiredSchema } from '../../src/history/desired-schema.js';

const renamesOf = (sql: string) => findRenames([{ file: 'schema/app.sql', sql }], 'app');

function refused(line: number, words: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, 'desired-schema-failed');
    assert.equal(err.file, 'schema/app.sql');
    assert.equal(err.line, line);
    assert.equal(err.service, 'app');
    assert.match(err.message, words);
    return true;
  };
}

describe('renamed-from placement', () => {
  it('applies to the CREATE statement below it, public when unqualified', async () => {
    const sql = ['CREATE TABLE other (id int);', '-- tidemark:renamed-from people', 'CREATE TABLE persons (', '  id int', ');'].join('\n');
    assert.deepEqual(await renamesOf(sql), [{ kind: 'table', schema: 'public', to: 'persons', from: 'people', file: 'schema/app.sql', line: 2 }]);
  });

  it('applies to a column when above its line, to the next column when below a line, never to the table', async () => {
    const sql = ['CREATE TABLE crm.people (', '  id int,', '  -- tidemark:renamed-from full_name', '  name text,', '  email text, -- tidemark:renamed-from mail', '  phone text', ');'].join('\n');
    assert.deepEqual(await renamesOf(sql), [
      { kind: 'column', schema: 'crm', table: 'people', to: 'name', from: 'full_name', file: 'schema/app.sql', line: 3 },
      // A comment after a column's text is followed by the next column's definition: that one is renamed.
      { kind: 'column', schema: 'crm', table: 'people', to: 'phone', from: 'mail', file: 'schema/app.sql', line: 5 },
    ]);
  });

  it('reads quoted names as SQL does, and a schema-qualified old name (SET SCHEMA)', async () => {
    const sql = [
      '-- tidemark:renamed-from "Old Name"',
      'CREATE TABLE "New Name" (id int);',
      '-- tidemark:renamed-from LEGACY.Status',
      "CREATE TYPE app.status AS ENUM ('a');",
      '-- tidemark:renamed-from app."x""y"',
      'CREATE SEQUENCE app.counter;',
      '-- tidemark:renamed-from by_mail',
      'CREATE INDEX people_email_idx ON app.people (email);',
      'CREATE TABLE t (',
      '  id int,',
      '  -- tidemark:renamed-from t_old_check',
      '  CONSTRAINT t_id_check CHECK (id > 0)',
      ');',
      '-- tidemark:renamed-from fk_old',
      'ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES t (id);',
    ].join('\n');
    const got = await renamesOf(sql);
    assert.deepEqual(
      got.map((r) => [r.kind, r.schema, r.table, r.from, r.to, r.line]),
      [
        ['table', 'public', undefined, 'Old Name', 'New Name', 1],
        ['type', 'app', undefined, 'legacy.status', 'status', 3],
        ['sequence', 'app', undefined, 'x"y', 'counter', 5],
        ['index', 'app', 'people', 'by_mail', 'people_email_idx', 7],
        ['constraint', 'public', 't', 't_old_check', 't_id_check', 11],
        ['constraint', 'public', 't', 'fk_old', 't_fk', 14],
      ],
    );
  });

  it('counts bytes, not characters: non-ASCII comments and names before the target', async () => {
    // Each é, ü and 🐘 is 2 to 4 UTF-8 bytes: a JS string index would land inside "kunden", before "straße".
    const sql = [
      '-- Kundenübersicht 🐘🐘🐘 für die Région',
      'CREATE TABLE "Bücher🐘" (titel text);',
      'CREATE TABLE kunden (',
      '  "name_é" text, -- ééééééééééééééééééééééééé',
      '  -- tidemark:renamed-from strasse',
      '  straße text',
      ');',
    ].join('\n');
    assert.deepEqual(await renamesOf(sql), [{ kind: 'column', schema: 'public', table: 'kunden', to: 'straße', from: 'strasse', file: 'schema/app.sql', line: 5 }]);
  });

  it('ignores the directive inside strings and function bodies', async () => {
    const sql = "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT '-- tidemark:renamed-from x' $$;\n";
    assert.deepEqual(await renamesOf(`${sql}-- plain comment\nCREATE TABLE a (id int);`), []);
  });

  it('refuses a comment followed by nothing renameable, by a statement it cannot rename, twice for one object, or without a name', async () => {
    await assert.rejects(renamesOf('CREATE TABLE a (id int);\n\n-- tidemark:renamed-from b\n'), refused(3, /followed by nothing/));
    await assert.rejects(renamesOf('-- tidemark:renamed-from g\nCREATE FUNCTION g() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;'), refused(1, /CreateFunction statement, which it cannot rename/));
    await assert.rejects(renamesOf('-- tidemark:renamed-from a\n-- tidemark:renamed-from b\nCREATE TABLE c (id int);'), refused(2, /second .* table c \(the first is on line 1\)/));
    await assert.rejects(renamesOf('-- tidemark:renamed-from\nCREATE TABLE c (id int);'), refused(1, /needs the old name/));
    await assert.rejects(renamesOf('-- tidemark:renamed-from a b\nCREATE TABLE c (id int);'), refused(1, /needs the old name/));
    await assert.rejects(renamesOf('CREATE TABLE c (\n  -- tidemark:renamed-from s.x\n  y int);'), refused(2, /column is renamed within its table/));
    await assert.rejects(renamesOf('-- tidemark:renamed-from a\nCREATE TABLE c (id int,);'), refused(2, /does not parse/));
  });
});

describe('readDesiredSchema', () => {
  it('reads every .sql file below a directory sorted by path, a file as given, and refuses what is not there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-desired-'));
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), text);
      };
      write('b.sql', 'B');
      write('a/z.sql', 'AZ');
      write('a.sql', 'A');
      write('notes.txt', 'not SQL');
      write('c/readme.md', 'no');
      const got = await readDesiredSchema([dir]);
      assert.deepEqual(
        got.map((f) => [path.relative(dir, f.file), f.sql]),
        [
          ['a.sql', 'A'],
          ['a/z.sql', 'AZ'],
          ['b.sql', 'B'],
        ],
      );
      assert.deepEqual(await readDesiredSchema([path.join(dir, 'notes.txt')]), [{ file: path.join(dir, 'notes.txt'), sql: 'not SQL' }]);
      const invalid = (words: RegExp) => (err: unknown) => err instanceof TidemarkError && err.code === 'diff-source-invalid' && words.test(err.message);
      await assert.rejects(readDesiredSchema([path.join(dir, 'missing')]), invalid(/does not exist/));
      await assert.rejects(readDesiredSchema([path.join(dir, 'c')]), invalid(/holds no \.sql file/));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
