import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildHistory } from '../../src/history/build.js';
import { createMigrationFile } from '../../src/history/new-migration.js';
import { readTidemarkHistory, squashedStillPresent } from '../../src/history/read-tidemark.js';
import { parseMigrationName, parseMigrationSource } from '../../src/history/tidemark-source.js';

const parse = (text: string, fileName = 'user_003_add_role.sql') => parseMigrationSource('user', `/m/${fileName}`, parseMigrationName('user', fileName)!, Buffer.from(text));

describe('parseMigrationName', () => {
  it('reads <service>_<NNN>_<slug>.<ext>', () => {
    assert.deepEqual(parseMigrationName('user', 'user_003_add_role.sql'), { number: 3n, slug: 'add_role', id: 'user_003_add_role', kind: 'sql' });
    assert.deepEqual(parseMigrationName('budget_service', 'budget_service_010_fill.ts'), {
      number: 10n,
      slug: 'fill',
      id: 'budget_service_010_fill',
      kind: 'script',
    });
  });
  it('reads numbers exactly, past 2^53: 9007199254740993 and 9007199254740992 are two numbers', () => {
    const a = parseMigrationName('user', 'user_9007199254740993_b.sql')!;
    const b = parseMigrationName('user', 'user_9007199254740992_a.sql')!;
    assert.equal(a.number, 9007199254740993n);
    assert.equal(b.number, 9007199254740992n);
    assert.notEqual(a.number, b.number);
    assert.equal(Number('9007199254740993'), Number('9007199254740992'), 'as JavaScript numbers they would be one');
  });
  it('a slug may start with digits, as `tidemark new user 2024_fix` writes it; a service name may end in digits', () => {
    assert.deepEqual(parseMigrationName('user', 'user_002_2024_fix.sql'), { number: 2n, slug: '2024_fix', id: 'user_002_2024_fix', kind: 'sql' });
    assert.deepEqual(parseMigrationName('dbos', 'dbos_001_20240123182943_schema.sql')?.slug, '20240123182943_schema');
    assert.deepEqual(parseMigrationName('svc_2', 'svc_2_001_x.sql'), { number: 1n, slug: 'x', id: 'svc_2_001_x', kind: 'sql' });
    assert.equal(parseMigrationName('svc', 'svc2_001_x.sql'), undefined);
  });
  it("what `tidemark new` writes for a slug starting with digits reads back as that service's migration, with no problem", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tidemark-slug-'));
    try {
      await createMigrationFile('user', dir, 'first');
      const made = await createMigrationFile('user', dir, '2024 fix');
      assert.equal(made.id, 'user_002_2024_fix');
      const history = await readTidemarkHistory('user', dir);
      assert.deepEqual(history.problems, []);
      assert.deepEqual(
        history.migrations.map((m) => m.id),
        ['user_001_first', 'user_002_2024_fix'],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('rejects other names and other services', () => {
    for (const n of ['005_add.sql', 'user_add.sql', 'budget_001_x.sql', 'user_001_X.sql', 'user_001_x.py', 'user_001_x.d.ts', 'user_001_.sql']) {
      assert.equal(parseMigrationName('user', n), undefined, n);
    }
  });
});

describe('parseMigrationSource', () => {
  it('splits header, up and down, with the line each section starts on', () => {
    const { migration, problems } = parse(
      '-- adds a role\n-- tidemark:requires budget_001_initial_schema\n-- tidemark:no-transaction\n\n-- tidemark:up\nALTER TABLE users ADD role text;\n-- tidemark:down\nALTER TABLE users DROP role;\n',
    );
    assert.deepEqual(problems, []);
    assert.equal(migration!.transactional, false);
    assert.deepEqual(migration!.requires, [{ ref: 'budget_001_initial_schema', line: 2 }]);
    assert.deepEqual(migration!.up, { text: 'ALTER TABLE users ADD role text;', line: 6 });
    assert.deepEqual(migration!.down, { text: 'ALTER TABLE users DROP role;\n', line: 8 });
    assert.match(migration!.checksum, /^[0-9a-f]{64}$/);
  });
  it('accepts CRLF and a block comment header', () => {
    const { migration, problems } = parse('/* licence\n   text */\r\n-- tidemark:up\r\nSELECT 1;\r\n');
    assert.deepEqual(problems, []);
    assert.equal(migration!.up!.line, 4);
  });
  it('a down section is optional', () => {
    assert.equal(parse('-- tidemark:up\nSELECT 1;').migration!.down, undefined);
  });

  const bad: [string, string, RegExp, number | undefined][] = [
    ['no up section', 'CREATE TABLE x();\nSELECT 1;\n', /has no `-- tidemark:up` section/, 1],
    ['SQL before up', 'SELECT 1;\n-- tidemark:up\nSELECT 2;', /SQL before `-- tidemark:up`/, 1],
    ['only comments', '-- nothing here\n', /has no `-- tidemark:up` section/, undefined],
    ['unknown directive', '-- tidemark:up\nSELECT 1;\n-- tidemark:donw\n', /unknown directive `tidemark:donw`/, 3],
    ['two up sections', '-- tidemark:up\nSELECT 1;\n-- tidemark:up\n', /a second `-- tidemark:up`/, 3],
    ['down before up', '-- tidemark:down\n-- tidemark:up\n', /comes before/, 1],
    ['directive after up', '-- tidemark:up\n-- tidemark:no-transaction\nSELECT 1;', /must come before/, 2],
    ['requires without id', '-- tidemark:requires\n-- tidemark:up\nSELECT 1;', /needs a migration id/, 1],
    ['requires a non-id', '-- tidemark:requires users\n-- tidemark:up\nSELECT 1;', /`users` is not a migration id/, 1],
    ['squashes without ids', '-- x\n-- tidemark:squashes\n-- tidemark:up\nSELECT 1;', /`tidemark:squashes` needs the ids of the migrations it replaces/, 2],
    ['squashes a short id', '-- tidemark:squashes user_001\n-- tidemark:up\nSELECT 1;', /`user_001` is not a migration id of user/, 1],
    ['squashes another service', '-- tidemark:squashes budget_001_initial\n-- tidemark:up\nSELECT 1;', /`budget_001_initial` is not a migration id of user/, 1],
    ['squashes itself', '-- tidemark:squashes user_001_a user_003_add_role\n-- tidemark:up\nSELECT 1;', /cannot squash itself/, 1],
    ['squashes a later migration', '-- tidemark:squashes user_001_a user_004_b\n-- tidemark:up\nSELECT 1;', /squashes user_004_b, a later migration/, 1],
    ['squashes one id twice', '-- tidemark:squashes user_001_a\n-- tidemark:squashes user_001_a\n-- tidemark:up\nSELECT 1;', /`user_001_a` is named twice/, 2],
    ['squashes after up', '-- tidemark:up\n-- tidemark:squashes user_001_a\nSELECT 1;', /`tidemark:squashes` must come before/, 2],
    [
      'a squash without a transaction',
      '-- tidemark:squashes user_001_a\n-- tidemark:no-transaction\n-- tidemark:up\nSELECT 1;',
      /a squash \(`tidemark:squashes`\) cannot be `tidemark:no-transaction`/,
      2,
    ],
    ['lossy-down with an argument', '-- tidemark:lossy-down yes\n-- tidemark:up\nSELECT 1;', /`tidemark:lossy-down` takes no argument/, 1],
    ['lossy-down after up', '-- tidemark:up\nSELECT 1;\n-- tidemark:down\n-- tidemark:lossy-down\nSELECT 2;', /`tidemark:lossy-down` must come before/, 4],
  ];
  for (const [title, text, message, line] of bad) {
    it(`reports ${title} with file and line`, () => {
      const { migration, problems } = parse(text);
      assert.equal(migration, undefined);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0].message, message);
      assert.equal(problems[0].line, line);
      assert.equal(problems[0].file, '/m/user_003_add_role.sql');
      assert.equal(problems[0].rule, 'migration-file');
    });
  }
  it('reports binary garbage as not text', () => {
    const { problems } = parseMigrationSource('user', '/m/user_001_x.sql', parseMigrationName('user', 'user_001_x.sql')!, Buffer.from([0, 159, 146, 150]));
    assert.match(problems[0].message, /not a UTF-8 text file/);
  });
  it('reads a squash header: squashes (over several lines, ids of this service up to its own number) and lossy-down', () => {
    const { migration, problems } = parse(
      '-- tidemark:squashes user_001_initial_schema, user_002_add_email\n-- tidemark:squashes user_003_add_role\n-- tidemark:lossy-down\n-- tidemark:up\nSELECT 1;\n-- tidemark:down\nSELECT 2;\n',
      'user_003_squashed.sql',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(migration!.squashes, ['user_001_initial_schema', 'user_002_add_email', 'user_003_add_role']);
    assert.equal(migration!.lossyDown, true);
  });
  it('leaves squashes and lossyDown out of a migration without them', () => {
    const { migration } = parse('-- tidemark:up\nSELECT 1;');
    assert.equal('squashes' in migration!, false);
    assert.equal('lossyDown' in migration!, false);
  });
  it('takes lossy-down in a script, but not squashes (a squash is SQL)', () => {
    assert.equal(parse('// tidemark:lossy-down\nexport async function up() {}\n', 'user_004_fill.ts').migration!.lossyDown, true);
    const { problems } = parse('// tidemark:squashes user_001_a\nexport async function up() {}\n', 'user_004_fill.ts');
    assert.equal(problems.length, 1);
    assert.match(problems[0].message, /unknown directive `tidemark:squashes`/);
    assert.equal(problems[0].line, 1);
    assert.match(problems[0].hint!, /a squash is SQL/);
  });
  it('reads script directives from // comments', () => {
    const { migration, problems } = parse('// tidemark:no-transaction\n// tidemark:requires budget_002\nexport async function up() {}\n', 'user_004_fill.ts');
    assert.deepEqual(problems, []);
    assert.equal(migration!.kind, 'script');
    assert.equal(migration!.transactional, false);
    assert.deepEqual(migration!.requires, [{ ref: 'budget_002', line: 2 }]);
  });
});

describe('squashedStillPresent', () => {
  it('names a squashed migration still beside its squash, and nothing once it is moved', () => {
    const m = (file: string, text = '-- tidemark:up\nSELECT 1;') => parse(text, file).migration!;
    const squash = m('user_002_squashed.sql', '-- tidemark:squashes user_001_a user_002_b\n-- tidemark:up\nSELECT 1;');
    const problems = squashedStillPresent('user', [m('user_001_a.sql'), squash, m('user_003_c.sql')]);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].file, '/m/user_001_a.sql');
    assert.equal(problems[0].message, 'user_001_a is squashed by user_002_squashed but is still in the migrations directory: both would run.');
    assert.match(problems[0].hint!, /Move user_001_a\.sql to \/m\/squashed\//);
    assert.deepEqual(squashedStillPresent('user', [squash, m('user_003_c.sql')]), []);
  });
});

describe('buildHistory', () => {
  it('orders by number and names every file of a duplicate number', () => {
    const m = (file: string) => parse('-- tidemark:up\nSELECT 1;', file).migration!;
    const h = buildHistory('user', [m('user_005_b.sql'), m('user_001_a.sql'), m('user_005_a.sql')]);
    assert.deepEqual(
      h.migrations.map((x) => x.id),
      ['user_001_a', 'user_005_a', 'user_005_b'],
    );
    assert.equal(h.problems.length, 1);
    assert.equal(h.problems[0].rule, 'duplicate-id');
    assert.match(h.problems[0].message, /user has 2 migrations numbered 005: user_005_a, user_005_b\./);
  });
});
