import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findConfigFile, loadWorkspace } from '../../src/config/load.js';
import { ownerOf } from '../../src/config/owns.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Service, Workspace } from '../../src/config/types.js';
import { TidemarkError } from '../../src/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A temp directory holding `files` (path → content); `/`-ending paths become directories. */
function workspace(files: Record<string, string | object>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-config-')));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const full = path.join(dir, name);
    if (name.endsWith('/')) {
      fs.mkdirSync(full, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

/** A JSON config plus a migrations dir for every service (unless it says otherwise). */
function jsonWorkspace(config: { services: Record<string, unknown> } & Record<string, unknown>, extra: Record<string, string | object> = {}) {
  const files: Record<string, string | object> = { 'tidemark.config.json': config, ...extra };
  for (const s of Object.values(config.services)) {
    const m = (s as { migrations?: unknown })?.migrations;
    if (typeof m === 'string') files[`${m}/`] = '';
  }
  return workspace(files);
}

/** Asserts a TidemarkError of kind input with `code` whose message mentions each of `mentions`. */
async function rejectsWith(promise: Promise<unknown>, code: string, mentions: (string | RegExp)[] = []): Promise<TidemarkError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof TidemarkError, `expected a TidemarkError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.kind, 'input');
  for (const m of mentions) {
    if (typeof m === 'string') assert.ok(caught.message.includes(m), `${JSON.stringify(caught.message)} should mention ${m}`);
    else assert.match(caught.message, m);
  }
  assert.doesNotMatch(caught.message, /\n\s+at /, 'no stack trace in the message');
  return caught;
}

const CONFIG = 'tidemark.config.json';

describe('findConfigFile', () => {
  test('finds the config in cwd, preferring .ts over .mjs, .js and .json', () => {
    const dir = workspace({ 'tidemark.config.json': '{}', 'tidemark.config.js': '', 'tidemark.config.ts': '' });
    assert.equal(findConfigFile(dir), path.join(dir, 'tidemark.config.ts'));
    fs.rmSync(path.join(dir, 'tidemark.config.ts'));
    assert.equal(findConfigFile(dir), path.join(dir, 'tidemark.config.js'));
  });

  test('walks up parent directories', () => {
    const dir = workspace({ 'tidemark.config.mjs': '', 'services/budget/src/': '' });
    assert.equal(findConfigFile(path.join(dir, 'services/budget/src')), path.join(dir, 'tidemark.config.mjs'));
  });

  test('ignores a directory named like a config', () => {
    const dir = workspace({ 'tidemark.config.ts/': '', 'tidemark.config.json': '{}' });
    assert.equal(findConfigFile(dir), path.join(dir, 'tidemark.config.json'));
  });

  test('returns undefined when there is none up to the filesystem root', (t) => {
    if (findConfigFile(os.tmpdir())) return t.skip('a tidemark.config.* exists above the temp directory');
    const dir = workspace({ 'a/b/': '' });
    assert.equal(findConfigFile(path.join(dir, 'a/b')), undefined);
  });
});

describe('loadWorkspace: reading files', () => {
  test('.json: absolute dirs, defaults, declaration order', async () => {
    const dir = jsonWorkspace({
      database: 'pglite:memory',
      services: {
        user: { migrations: 'db/user', owns: ['users', 'roles'] },
        budget: { migrations: './db/budget', owns: ['budget_*'], requires: ['user'], format: 'tidemark' },
        legacy: { migrations: 'alembic/versions', format: 'alembic' },
      },
      protected: ['*prod*'],
      softRelations: [{ from: 'budgets.user_id', to: 'users.id' }],
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.equal(ws.root, dir);
    assert.equal(ws.configFile, path.join(dir, CONFIG));
    assert.equal(ws.database, 'pglite:memory');
    assert.deepEqual(ws.protected, ['*prod*']);
    assert.deepEqual(ws.softRelations, [
      {
        from: 'budgets.user_id',
        to: 'users.id',
        fromColumn: { table: { schema: 'public', name: 'budgets' }, column: 'user_id' },
        toColumn: { table: { schema: 'public', name: 'users' }, column: 'id' },
      },
    ]);
    assert.deepEqual(
      ws.services.map((s) => s.name),
      ['user', 'budget', 'legacy'],
    );
    assert.deepEqual(ws.services[0], {
      name: 'user',
      migrationsDir: path.join(dir, 'db/user'),
      owns: ['users', 'roles'],
      requires: [],
      format: 'tidemark',
      versionTable: 'alembic_version',
      recursive: false,
    });
    assert.equal(ws.services[1].migrationsDir, path.join(dir, 'db/budget'));
    assert.deepEqual(ws.services[1].requires, ['user']);
    assert.equal(ws.services[2].format, 'alembic');
  });

  test('.json: defaults for a minimal config', async () => {
    const dir = jsonWorkspace({ services: { app: { migrations: 'migrations' } } });
    const ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(ws.protected, []);
    assert.deepEqual(ws.softRelations, []);
    assert.equal(ws.database, undefined);
    assert.deepEqual(ws.services, [{ name: 'app', migrationsDir: path.join(dir, 'migrations'), owns: [], requires: [], format: 'tidemark', versionTable: 'alembic_version', recursive: false }]);
  });

  test('.json: a syntax error names the file and its line', async () => {
    const dir = workspace({
      'tidemark.config.json': '{\n  "services": {\n    "app": { "migrations": "m" }\n    "budget": {}\n  }\n}\n',
    });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-syntax', [`${CONFIG}:4`, 'invalid JSON']);
    assert.equal(err.line, 4);
    assert.equal(err.file, path.join(dir, CONFIG));
  });

  test('.json: a bad token (no position in V8 message) still gets its line', async () => {
    const dir = workspace({ 'tidemark.config.json': '{\n  "services": {\n    "app": { "migrations": x }\n  }\n}\n' });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-syntax', [`${CONFIG}:3`]);
    assert.equal(err.line, 3);
    assert.doesNotMatch(err.message, /is not valid JSON/, 'V8 echoes the whole text; we do not');
  });

  test('.json: a truncated file points at its end', async () => {
    const dir = workspace({ 'tidemark.config.json': '{\n  "services": {\n' });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-syntax', [CONFIG]);
    assert.equal(err.line, 3);
  });

  test('.json: comments, trailing commas, bad escapes and control characters are errors on their own line', async () => {
    const cases: Array<[string, number]> = [
      ['{\n  "services": {\n    "app": { "migrations": "m" },\n  }\n}\n', 4], // trailing comma: the } after it
      ['{\n  // services\n  "services": {}\n}\n', 2],
      ['{\n  "services": {\n    "app": { "migrations": "a\\qb" }\n  }\n}\n', 3],
      ['{\n  "services": {\n    "app": { "migrations": "a\tb" }\n  }\n}\n', 3],
      ['{\n  "services": {}\n}\n\n}\n', 5],
    ];
    for (const [text, line] of cases) {
      const dir = workspace({ 'tidemark.config.json': text });
      const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-syntax', [`${CONFIG}:${line}: invalid JSON: `]);
      assert.equal(err.line, line, text);
      assert.doesNotMatch(err.message, /at position|is not valid JSON/, 'positions are lines, and the text is not echoed');
    }
  });

  test('.mjs: default export', async () => {
    const dir = workspace({
      'tidemark.config.mjs': "export default { services: { app: { migrations: './m', owns: ['app_*'] } } };\n",
      'm/': '',
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'm'));
    assert.deepEqual(ws.services[0].owns, ['app_*']);
  });

  test('.mjs: a default export that is a promise is awaited', async () => {
    const dir = workspace({
      'tidemark.config.mjs': "export default Promise.resolve({ services: { app: { migrations: 'm' } } });\n",
      'm/': '',
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.equal(ws.services[0].name, 'app');
  });

  test('.js: CommonJS module.exports in a "type": "commonjs" package', async () => {
    const dir = workspace({
      'package.json': { type: 'commonjs' },
      'tidemark.config.js': "module.exports = { services: { app: { migrations: 'm' }, billing: { migrations: 'b', requires: ['app'] } } };\n",
      'm/': '',
      'b/': '',
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(
      ws.services.map((s) => [s.name, s.requires]),
      [
        ['app', []],
        ['billing', ['app']],
      ],
    );
  });

  test('.js: ESM in a "type": "module" package', async () => {
    const dir = workspace({
      'package.json': { type: 'module' },
      'tidemark.config.js': "export default { services: { app: { migrations: 'm' } } };\n",
      'm/': '',
    });
    assert.equal((await loadWorkspace({ cwd: dir })).services[0].name, 'app');
  });

  test('.mjs: no default export', async () => {
    const dir = workspace({ 'tidemark.config.mjs': 'export const config = { services: {} };\n' });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', ['tidemark.config.mjs', 'no default export']);
  });

  test('.mjs: a syntax error names the file and line, without a stack', async () => {
    const dir = workspace({ 'tidemark.config.mjs': "export default {\n  services: {\n    app: { migrations: 'm' ]\n  }\n};\n" });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-syntax', ['tidemark.config.mjs:3', 'syntax error']);
    assert.equal(err.line, 3);
    assert.equal(err.message.split('\n').length, 1);
  });

  test('.mjs: an exception while evaluating is config-load-failed', async () => {
    const dir = workspace({ 'tidemark.config.mjs': "throw new Error('DATABASE_URL is not set');\nexport default {};\n" });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-load-failed', ['tidemark.config.mjs', 'DATABASE_URL is not set']);
  });

  test(".mjs: importing 'tidemark' where it is not installed gives a hint", async (t) => {
    const dir = workspace({
      'tidemark.config.mjs': "import { defineConfig } from 'tidemark';\nexport default defineConfig({ services: {} });\n",
    });
    let resolvable = true;
    try {
      // import.meta.resolve ignores its parent argument on Node 20, so resolve the CommonJS way.
      createRequire(path.join(dir, 'x.js')).resolve('tidemark');
    } catch {
      resolvable = false;
    }
    if (resolvable) return t.skip('tidemark resolves from the temp directory');
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-load-failed', ['tidemark.config.mjs']);
    assert.match(err.hint ?? '', /npm i -D tidemark/);
  });

  test('.ts: type annotations are stripped (jiti)', async () => {
    const dir = workspace({
      'tidemark.config.ts': [
        "type Format = 'tidemark' | 'alembic';",
        "const format: Format = 'alembic';",
        'interface Cfg { services: Record<string, { migrations: string; format?: Format }> }',
        "const config: Cfg = { services: { legacy: { migrations: 'alembic', format } } };",
        'export default config;',
        '',
      ].join('\n'),
      'alembic/': '',
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.equal(ws.services[0].format, 'alembic');
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'alembic'));
  });

  test(".ts: `import { defineConfig } from 'tidemark'` works without tidemark installed there", async () => {
    // The alias points at dist/src/index.js of this package, built with the tests.
    const entry = fileURLToPath(new URL('../../src/index.js', import.meta.url));
    assert.ok(fs.existsSync(entry), 'dist/src/index.js is built');
    const mod = (await import(pathToFileURL(entry).href)) as { defineConfig?: unknown };
    assert.equal(typeof mod.defineConfig, 'function', 'dist/src/index.js exports defineConfig');
    const dir = workspace({
      'tidemark.config.ts': [
        "import { defineConfig } from 'tidemark';",
        'export default defineConfig({',
        "  services: { user: { migrations: 'db/user', owns: ['users'] }, budget: { migrations: 'db/budget', requires: ['user'] } },",
        '});',
        '',
      ].join('\n'),
      'db/user/': '',
      'db/budget/': '',
    });
    const ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(
      ws.services.map((s) => s.name),
      ['user', 'budget'],
    );
  });

  test('.ts: validation errors carry the line of the offending key', async () => {
    const dir = workspace({
      'tidemark.config.ts': ['export default {', '  services: {', "    user: { migrations: 'db/user' },", '    budget: {', "      migration: 'db/budget',", '    },', '  },', '};', ''].join('\n'),
      'db/user/': '',
    });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', ['tidemark.config.ts:5', 'service budget', '`migration`', 'did you mean `migrations`?']);
    assert.equal(err.service, 'budget');
    assert.equal(err.line, 5);
    assert.equal(err.message.split('\n').length, 1, 'the typo is reported once, not also as a missing `migrations`');
  });

  test('a config in a parent directory: root is its directory, paths read from there', async () => {
    const dir = jsonWorkspace({ services: { app: { migrations: 'db/app' } } }, { 'services/app/src/': '' });
    const cwd = path.join(dir, 'services/app/src');
    const ws = await loadWorkspace({ cwd });
    assert.equal(ws.root, dir);
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'db/app'));
  });

  test('messages name a parent config by its relative path', async () => {
    const dir = workspace({ 'tidemark.config.json': { services: { app: { migrations: 'nope' } } }, 'sub/': '' });
    await rejectsWith(loadWorkspace({ cwd: path.join(dir, 'sub') }), 'missing-migrations-dir', [`..${path.sep}${CONFIG}`, 'service app']);
  });

  test('configFile option: used as given, no lookup', async () => {
    const dir = jsonWorkspace({ services: { app: { migrations: 'm' } } }, { 'conf/other.json': { services: { other: { migrations: '../m' } } } });
    const ws = await loadWorkspace({ cwd: dir, configFile: 'conf/other.json' });
    assert.equal(ws.configFile, path.join(dir, 'conf/other.json'));
    assert.equal(ws.root, path.join(dir, 'conf'));
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'm'));
  });

  test('configFile option: a missing file is config-not-found', async () => {
    const dir = workspace({});
    await rejectsWith(loadWorkspace({ cwd: dir, configFile: 'nope.config.ts' }), 'config-not-found', ['nope.config.ts']);
  });

  test('configFile option: an unsupported extension', async () => {
    const dir = workspace({ 'tidemark.config.yaml': 'services: {}\n' });
    await rejectsWith(loadWorkspace({ cwd: dir, configFile: 'tidemark.config.yaml' }), 'config-invalid', ['tidemark.config.yaml', '.yaml']);
  });

  test('no config anywhere: config-not-found with a hint to run init', async (t) => {
    if (findConfigFile(os.tmpdir())) return t.skip('a tidemark.config.* exists above the temp directory');
    const dir = workspace({});
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-not-found', [dir]);
    assert.equal(err.hint, 'run `tidemark init`');
  });

  test('a config passed as a value: root from options, "config" in messages', async () => {
    const dir = workspace({ 'm/': '' });
    const ws = await loadWorkspace({ cwd: dir, config: { services: { app: { migrations: 'm' } } } });
    assert.equal(ws.root, dir);
    assert.equal(ws.configFile, undefined);
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'm'));

    const other = workspace({ 'x/m/': '' });
    const ws2 = await loadWorkspace({ cwd: dir, root: path.join(other, 'x'), config: { services: { app: { migrations: 'm' } } } });
    assert.equal(ws2.services[0].migrationsDir, path.join(other, 'x/m'));

    await rejectsWith(loadWorkspace({ cwd: dir, config: { services: { app: { migrations: 'gone' } } } }), 'missing-migrations-dir', [/^config: service app/]);
  });
});

describe('loadWorkspace: validation', () => {
  const svc = (migrations: string, more: object = {}) => ({ migrations, ...more });

  test('unknown key in a service (typo protection)', async () => {
    const dir = jsonWorkspace({ services: { budget: { migrations: 'm', own: ['budgets'] } } });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget', '`own`', '`owns`']);
    assert.equal(err.service, 'budget');
  });

  test('unknown key with no close match lists the allowed ones', async () => {
    const dir = jsonWorkspace({ services: { budget: { migrations: 'm', colour: 'red' } } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget', '`colour`', 'allowed: migrations, owns, requires, format']);
  });

  test('unknown top-level key', async () => {
    const dir = workspace({ 'tidemark.config.json': { service: { app: { migrations: 'm' } } } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, '`service`', 'did you mean `services`?']);
  });

  test('$schema is allowed in JSON configs', async () => {
    const dir = jsonWorkspace({ $schema: './schema.json', services: { app: svc('m') } });
    assert.equal((await loadWorkspace({ cwd: dir })).services.length, 1);
  });

  test('missing migrations', async () => {
    const dir = jsonWorkspace({ services: { budget: { owns: ['budgets'] } } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget is missing `migrations`']);
  });

  test('wrong types: owns as a string, service as a string, services as a list', async () => {
    let dir = jsonWorkspace({ services: { budget: { migrations: 'm', owns: 'budgets' } } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget: `owns` must be a list, got "budgets"']);
    dir = workspace({ 'tidemark.config.json': { services: { budget: './m' } } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget must be an object']);
    dir = workspace({ 'tidemark.config.json': { services: ['budget'] } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, '`services` must be an object']);
  });

  test('schema: a file, files or a directory, resolved from the config, need not exist yet; tidemark services only', async () => {
    let dir = jsonWorkspace({ services: { budget: svc('m', { schema: 'schema/budget.sql' }), user: svc('m') } });
    let ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(ws.services[0].schema, [path.join(dir, 'schema/budget.sql')]);
    assert.equal('schema' in ws.services[1], false);
    dir = jsonWorkspace({ services: { budget: svc('m', { schema: ['schema/a.sql', 'schema/views'] }) } });
    ws = await loadWorkspace({ cwd: dir });
    assert.deepEqual(ws.services[0].schema, [path.join(dir, 'schema/a.sql'), path.join(dir, 'schema/views')]);
    for (const bad of ['', [], [''], 3]) {
      dir = jsonWorkspace({ services: { budget: svc('m', { schema: bad }) } });
      await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget', '`schema']);
    }
    dir = jsonWorkspace({ services: { budget: svc('m', { format: 'alembic', schema: 'schema/budget.sql' }) } });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget: `schema` is for tidemark services']);
    assert.equal(err.service, 'budget');
  });

  test('format is tidemark or alembic', async () => {
    const dir = jsonWorkspace({ services: { budget: svc('m', { format: 'flyway' }) } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service budget', '`format`', '"tidemark" or "alembic"', '"flyway"']);
  });

  test('a config that is not an object', async () => {
    const dir = workspace({ 'tidemark.config.json': '[]' });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'must export an object']);
  });

  test('no services', async () => {
    const dir = workspace({ 'tidemark.config.json': { services: {} } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'no service']);
  });

  test('service names must be lowercase identifiers', async () => {
    for (const name of ['Budget', '1budget', 'bud-get', '_budget', 'budget api']) {
      const dir = jsonWorkspace({ services: { [name]: svc('m') } });
      const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, JSON.stringify(name), 'prefixes migration file names']);
      assert.equal(err.service, name);
    }
    const dir = jsonWorkspace({ services: { budget_v2: svc('m') } });
    assert.equal((await loadWorkspace({ cwd: dir })).services[0].name, 'budget_v2');
  });

  test('requires an undeclared service', async () => {
    const dir = jsonWorkspace({ services: { user: svc('u'), budget: svc('b', { requires: ['users'] }) } });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'unknown-required-service', [
      CONFIG,
      'service budget requires users, which is not declared',
      'declared: user, budget',
      'did you mean user?',
    ]);
    assert.equal(err.service, 'budget');
  });

  test('a service requiring itself', async () => {
    const dir = jsonWorkspace({ services: { budget: svc('b', { requires: ['budget'] }) } });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'requires-cycle', [CONFIG, 'service budget requires itself']);
    assert.equal(err.service, 'budget');
  });

  test('a requires cycle is printed as a → b → a', async () => {
    const dir = jsonWorkspace({
      services: {
        a: svc('a', { requires: ['b'] }),
        b: svc('b', { requires: ['c'] }),
        c: svc('c', { requires: ['a'] }),
        d: svc('d', { requires: ['a'] }),
      },
    });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'requires-cycle', [CONFIG, 'a → b → c → a']);
    assert.equal(err.message.split('\n').length, 1, 'one cycle, reported once');
    assert.equal(err.service, 'a');
  });

  test('a diamond is not a cycle', async () => {
    const dir = jsonWorkspace({
      services: {
        base: svc('base'),
        left: svc('l', { requires: ['base'] }),
        right: svc('r', { requires: ['base'] }),
        top: svc('t', { requires: ['left', 'right', 'base'] }),
      },
    });
    assert.equal((await loadWorkspace({ cwd: dir })).services.length, 4);
  });

  test('missing migrations directory, for tidemark and alembic services', async () => {
    for (const format of ['tidemark', 'alembic']) {
      const dir = workspace({ 'tidemark.config.json': { services: { budget: { migrations: 'db/budget', format } } } });
      const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'missing-migrations-dir', [CONFIG, 'service budget: directory ./db/budget does not exist']);
      assert.match(err.hint ?? '', /tidemark init/);
      assert.equal(err.service, 'budget');
    }
  });

  test('a migrations path that is a file', async () => {
    const dir = workspace({ 'tidemark.config.json': { services: { budget: { migrations: 'm' } } }, m: 'not a dir' });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'missing-migrations-dir', [CONFIG, 'service budget', 'is not a directory']);
  });

  describe('owned twice', () => {
    const cases: [string, string[], string[], (string | RegExp)[]][] = [
      ['the same table', ['users'], ['users'], ['table users is owned by both user and budget']],
      ['table and public.table', ['users'], ['public.users'], ['table users is owned by both user (`users`) and budget (`public.users`)']],
      ['a name matched by a glob', ['budget_lines'], ['budget_*'], ['table budget_lines is owned by both user and budget (through `budget_*`)']],
      ['a glob matching a name (either order)', ['budget_*'], ['budget_lines'], ['table budget_lines is owned by both budget and user (through `budget_*`)']],
      ['a ? glob', ['user?'], ['users'], ['table users', 'through `user?`']],
      ['the same schema', ['schema:crm'], ['schema:crm'], ['`schema:crm` is owned by both user and budget']],
      ['a table in an owned schema', ['schema:crm'], ['crm.users'], ['table crm.users is owned by both budget and user (through `schema:crm`)']],
      ['an unqualified table and schema:public', ['schema:public'], ['users'], ['table public.users']],
      ['the same glob', ['budget_*'], ['budget_*'], ['`budget_*` is owned by both user and budget']],
      ['overlapping globs', ['budget_*'], ['*_lines'], ['`budget_*` (user) and `*_lines` (budget) overlap']],
    ];
    for (const [title, a, b, mentions] of cases) {
      test(title, async () => {
        const dir = jsonWorkspace({ services: { user: svc('u', { owns: a }), budget: svc('b', { owns: b }) } });
        const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'owned-twice', [CONFIG, ...mentions]);
        assert.equal(err.service, 'budget');
      });
    }

    test('disjoint names, globs and schemas are fine', async () => {
      const dir = jsonWorkspace({
        services: {
          user: svc('u', { owns: ['users', 'user_*', 'schema:auth'] }),
          budget: svc('b', { owns: ['budgets', 'budget_*', 'crm.users', 'schema:finance'] }),
        },
      });
      assert.equal((await loadWorkspace({ cwd: dir })).services.length, 2);
    });

    test('a service may list an entry twice itself', async () => {
      const dir = jsonWorkspace({ services: { user: svc('u', { owns: ['users', 'user*'] }) } });
      assert.equal((await loadWorkspace({ cwd: dir })).services.length, 1);
    });
  });

  test('owns entries must be names, globs or schema:<name>', async () => {
    for (const bad of ['', 'a.b.c', 'schema:', 'my table', '"open', 'a:b']) {
      const dir = jsonWorkspace({ services: { user: svc('u', { owns: [bad] }) } });
      await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'service user owns', `\`${bad}\``]);
    }
  });

  test('owns: quoted identifiers are accepted; capitals outside quotes and names over 63 bytes are errors with file:line', async () => {
    const ok = jsonWorkspace({
      services: { user: svc('u', { owns: ['"sales.orders"', '"My Schema".*', 'a."b.c"', '"Users"'] }), budget: svc('b', { owns: ['schema:"My"x', '"a.b".c', 'sales.orders'] }) },
    });
    assert.equal((await loadWorkspace({ cwd: ok })).services.length, 2);

    const text = '{\n  "services": {\n    "user": {\n      "migrations": "u",\n      "owns": ["Users"]\n    }\n  }\n}\n';
    const caps = workspace({ 'tidemark.config.json': text, 'u/': '' });
    const err = await rejectsWith(loadWorkspace({ cwd: caps }), 'config-invalid', [`${CONFIG}:5`, 'service user owns `Users`', 'capital letters outside quotes']);
    assert.equal(err.line, 5);
    assert.match(err.hint ?? '', /write "Users" for the name with capitals, or users for the lower-case one/);

    const long = 'x'.repeat(64);
    const dir = jsonWorkspace({ services: { user: svc('u', { owns: [`crm.${long}`] }) } });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, long, '64 bytes', 'limit of 63']);
  });

  test('owns: the same table spelled quoted and unquoted is owned twice; a dotted name and schema.table are not', async () => {
    const twice = jsonWorkspace({ services: { user: svc('u', { owns: ['orders'] }), budget: svc('b', { owns: ['"orders"'] }) } });
    await rejectsWith(loadWorkspace({ cwd: twice }), 'owned-twice', [CONFIG, 'owned by both user']);
    const apart = jsonWorkspace({ services: { user: svc('u', { owns: ['sales.orders'] }), budget: svc('b', { owns: ['"sales.orders"'] }) } });
    assert.equal((await loadWorkspace({ cwd: apart })).services.length, 2);
  });

  test('softRelations must be table.column', async () => {
    const dir = jsonWorkspace({ services: { user: svc('u') }, softRelations: [{ from: 'budgets.user_id', to: 'users' }] });
    await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, 'softRelations[0].to must be `table.column`', '"users"']);
    const dir2 = jsonWorkspace({ services: { user: svc('u') }, softRelations: [{ from: 'budgets.user_id', too: 'users.id' }] });
    await rejectsWith(loadWorkspace({ cwd: dir2 }), 'config-invalid', [CONFIG, 'softRelations[0]', '`too`']);
  });

  test('database must be a postgres or pglite URL, and a password is never echoed', async () => {
    const dir = jsonWorkspace({ database: 'mysql://root:s3cret@db/x', services: { user: svc('u') } });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'config-invalid', [CONFIG, '`database`', 'mysql']);
    assert.doesNotMatch(err.message, /s3cret/);
    for (const ok of ['postgres://u:p@h/db', 'postgresql://h/db', 'pglite:./data', 'pglite:memory']) {
      const d = jsonWorkspace({ database: ok, services: { user: svc('u') } });
      assert.equal((await loadWorkspace({ cwd: d })).database, ok);
    }
  });

  test('several problems: one per line, the first one decides the code', async () => {
    const dir = workspace({
      'tidemark.config.json': {
        services: {
          user: { migrations: 'u', owns: ['users'] },
          budget: { migrations: 'b', owns: ['users'], requires: ['ghost'] },
        },
      },
      'u/': '',
    });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'unknown-required-service');
    const lines = err.message.split('\n');
    assert.equal(lines.length, 3);
    for (const line of lines) assert.ok(line.startsWith(CONFIG), line);
    assert.match(lines[0], /requires ghost/);
    assert.match(lines[1], /table users is owned by both user and budget/);
    assert.match(lines[2], /directory \.\/b does not exist/);
  });

  test('JSON configs get line numbers on validation errors too', async () => {
    const dir = workspace({
      'tidemark.config.json': '{\n  "services": {\n    "user": { "migrations": "u" },\n    "budget": {\n      "migrations": "b",\n      "requires": ["ghost"]\n    }\n  }\n}\n',
      'u/': '',
      'b/': '',
    });
    const err = await rejectsWith(loadWorkspace({ cwd: dir }), 'unknown-required-service', [`${CONFIG}:6`]);
    assert.equal(err.line, 6);
  });
});

describe('validateConfig', () => {
  test('validates a value without touching any config file', () => {
    const dir = workspace({ 'm/': '' });
    const ws = validateConfig({ services: { app: { migrations: 'm' } } }, { root: dir });
    assert.equal(ws.services[0].migrationsDir, path.join(dir, 'm'));
    assert.throws(
      () => validateConfig({ services: { app: { migrations: 'm', requires: ['x'] } } }, { root: dir }),
      (err: unknown) => err instanceof TidemarkError && err.code === 'unknown-required-service' && err.message.startsWith('config: '),
    );
  });
});

describe('ownerOf', () => {
  const service = (name: string, owns: string[]): Service => ({ name, owns, migrationsDir: `/m/${name}`, requires: [], format: 'tidemark', versionTable: 'alembic_version', recursive: false });
  const ws: Workspace = {
    root: '/',
    services: [service('user', ['users', 'roles', 'user_*']), service('budget', ['budget_?', 'budgets', 'finance.ledger']), service('crm', ['schema:crm', 'schema:tenant_*'])],
    protected: [],
    softRelations: [],
  };
  const owner = (name: string, schema = 'public') => ownerOf(ws, { schema, name })?.name;

  test('exact names, in public by default', () => {
    assert.equal(owner('users'), 'user');
    assert.equal(owner('budgets'), 'budget');
    assert.equal(owner('users', 'public'), 'user');
    assert.equal(owner('public.users'), undefined, 'a table named public.users (with a dot) is not public.users');
    assert.equal(owner('users', 'other'), undefined, 'an unqualified entry means schema public');
  });

  test('schema-qualified entries', () => {
    assert.equal(owner('ledger', 'finance'), 'budget');
    assert.equal(owner('finance.ledger'), undefined, 'public."finance.ledger" is another table');
    assert.equal(owner('ledger'), undefined);
  });

  test('globs: * and ?', () => {
    assert.equal(owner('user_sessions'), 'user');
    assert.equal(owner('user_'), 'user');
    assert.equal(owner('budget_x'), 'budget');
    assert.equal(owner('budget_xy'), undefined, '? is exactly one character');
    assert.equal(owner('budget_'), undefined);
    assert.equal(owner('xusers'), undefined);
  });

  test('schema:<name> owns every table of that schema, globs allowed', () => {
    assert.equal(owner('anything', 'crm'), 'crm');
    assert.equal(owner('contacts', 'crm'), 'crm');
    assert.equal(owner('contacts', 'tenant_42'), 'crm');
    assert.equal(owner('contacts', 'crmx'), undefined);
  });

  test('unknown tables have no owner', () => {
    assert.equal(owner('orphans'), undefined);
    assert.equal(ownerOf({ ...ws, services: [] }, { schema: 'public', name: 'users' }), undefined);
  });

  test('an exact name wins over a glob, a glob over schema:', () => {
    const overlapping: Workspace = {
      ...ws,
      services: [service('whole', ['schema:public']), service('globs', ['audit_*']), service('exact', ['audit_log'])],
    };
    assert.equal(ownerOf(overlapping, { schema: 'public', name: 'audit_log' })?.name, 'exact');
    assert.equal(ownerOf(overlapping, { schema: 'public', name: 'audit_trail' })?.name, 'globs');
    assert.equal(ownerOf(overlapping, { schema: 'public', name: 'other' })?.name, 'whole');
  });

  test('works on a loaded workspace', async () => {
    const dir = jsonWorkspace({ services: { user: { migrations: 'u', owns: ['users'] }, budget: { migrations: 'b', owns: ['budget_*'] } } });
    const loaded = await loadWorkspace({ cwd: dir });
    assert.equal(ownerOf(loaded, { schema: 'public', name: 'budget_lines' })?.name, 'budget');
    assert.equal(ownerOf(loaded, { schema: 'public', name: 'users' })?.name, 'user');
  });
});
