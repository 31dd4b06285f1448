/**
 * switchServiceToTidemark: the CRM legacy config, a .ts config with defineConfig, JSON, comments and
 * strings holding braces, one-line entries, renames and added requires, and shapes it must refuse.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderServiceChange, switchServiceToTidemark, tokenize, type ConfigEdit } from '../../src/config/edit.js';
import { validateConfig } from '../../src/config/validate.js';
import { CRM_EXAMPLE } from '../support/workspace.js';

const LEGACY = fs.readFileSync(path.join(CRM_EXAMPLE, 'legacy', 'tidemark.config.mjs'), 'utf8');

function ok(edit: ConfigEdit): { text: string; changed: boolean; diff: string } {
  if ('error' in edit) assert.fail(edit.error);
  return edit;
}

function refused(edit: ConfigEdit): string {
  if (!('error' in edit)) assert.fail(`expected a refusal, got:\n${edit.text}`);
  return edit.error;
}

describe('switchServiceToTidemark on the CRM legacy config (.mjs)', () => {
  it('switches user_service: format goes, migrations points at the new directory, the rest is untouched', () => {
    const edit = ok(switchServiceToTidemark(LEGACY, '.mjs', 'user_service', 'migrations/user_service'));
    assert.equal(edit.changed, true);
    assert.equal(
      edit.text,
      LEGACY.replace(
        `    user_service: {\n      format: 'alembic',\n      migrations: 'services/user_service/alembic/versions',\n`,
        `    user_service: {\n      migrations: 'migrations/user_service',\n`,
      ),
    );
    assert.notEqual(edit.text, LEGACY);
    assert.equal(
      edit.diff,
      [
        '      user_service: {',
        "-       format: 'alembic',",
        "-       migrations: 'services/user_service/alembic/versions',",
        "+       migrations: 'migrations/user_service',",
        "        owns: ['users'],",
      ].join('\n'),
    );
    // Again: nothing left to change.
    const again = ok(switchServiceToTidemark(edit.text, '.mjs', 'user_service', 'migrations/user_service'));
    assert.equal(again.changed, false);
    assert.equal(again.text, edit.text);
    assert.equal(again.diff, '');
  });

  it('adopting both with new names gives the config of the tidemark example (requires renamed and added)', () => {
    const user = ok(switchServiceToTidemark(LEGACY, '.mjs', 'user_service', 'migrations/user', { rename: 'user' }));
    const both = ok(switchServiceToTidemark(user.text, '.mjs', 'budget_service', 'migrations/budget', { rename: 'budget', addRequires: ['user'] }));
    const header = LEGACY.slice(0, LEGACY.indexOf('export default'));
    assert.equal(
      both.text,
      `${header}export default {
  services: {
    user: {
      migrations: 'migrations/user',
      owns: ['users'],
    },
    budget: {
      migrations: 'migrations/budget',
      owns: ['budgets', 'budget_items'],
      requires: ['user'],
    },
  },
};
`,
    );
    assert.equal(
      both.diff,
      [
        '      },',
        '-     budget_service: {',
        "-       format: 'alembic',",
        "-       migrations: 'services/budget_service/alembic/versions',",
        '+     budget: {',
        "+       migrations: 'migrations/budget',",
        "        owns: ['budgets', 'budget_items'],",
        "+       requires: ['user'],",
        '      },',
      ].join('\n'),
    );
  });

  it('the edited file still loads as a valid config', async () => {
    const user = ok(switchServiceToTidemark(LEGACY, '.mjs', 'user_service', 'migrations/user', { rename: 'user' }));
    const both = ok(switchServiceToTidemark(user.text, '.mjs', 'budget_service', 'migrations/budget', { rename: 'budget', addRequires: ['user'] }));
    const raw = ((await import(`data:text/javascript,${encodeURIComponent(both.text)}`)) as { default: unknown }).default;
    // The example's own migrations directories exist, so the example's root makes this config load.
    const workspace = validateConfig(raw, { root: CRM_EXAMPLE });
    assert.deepEqual(
      workspace.services.map((s) => [s.name, s.format, s.migrationsDir, s.requires]),
      [
        ['user', 'tidemark', path.join(CRM_EXAMPLE, 'migrations/user'), []],
        ['budget', 'tidemark', path.join(CRM_EXAMPLE, 'migrations/budget'), ['user']],
      ],
    );
  });

  it('CRLF line endings stay CRLF', () => {
    const crlf = LEGACY.replace(/\n/g, '\r\n');
    const edit = ok(switchServiceToTidemark(crlf, '.mjs', 'budget_service', 'migrations/budget', { addRequires: ['user_service'] }));
    const lf = ok(switchServiceToTidemark(LEGACY, '.mjs', 'budget_service', 'migrations/budget', { addRequires: ['user_service'] }));
    assert.equal(edit.text, lf.text.replace(/\n/g, '\r\n'));
    assert.match(edit.text, /owns: \['budgets', 'budget_items'\],\r\n {6}requires: \['user_service'\],\r\n {4}\},/);
  });

  it('a rename reaches every other service that requires the old name', () => {
    const text = LEGACY.replace(`owns: ['budgets', 'budget_items'],`, `owns: ['budgets', 'budget_items'],\n      requires: ['user_service', "other"],`);
    const edit = ok(switchServiceToTidemark(text, '.mjs', 'user_service', 'migrations/user', { rename: 'user' }));
    assert.match(edit.text, /requires: \['user', "other"\],/);
    assert.match(edit.text, /\n {4}user: \{\n/);
  });

  it('an unknown service is refused with what to do by hand', () => {
    assert.equal(
      refused(switchServiceToTidemark(LEGACY, '.mjs', 'nope', 'migrations/nope')),
      "cannot edit tidemark.config.mjs safely: services has no entry nope; change it by hand: in services.nope set migrations to 'migrations/nope' and remove format, versionTable and recursive",
    );
  });
});

const TS_CONFIG = `import { defineConfig } from 'tidemark';

/* Services { the old ones } stay in this block comment: user_service: { format: 'alembic' } */
const versions = (name: string): string => \`services/\${name}/alembic/versions\`; // not used below } {

export default defineConfig({
  database: process.env.APP_DATABASE ?? "postgres://localhost/app?x={y}",
  services: {
    // user_service: { a brace in a comment
    "user_service": {
      format: "alembic", // leaving Alembic }
      migrations: "services/user_service/alembic/versions",
      owns: ["users", "weird}name{"],
      versionTable: "user_alembic_version",
      recursive: true
    },
    budget: { migrations: \`migrations/\${'budget'}\`, owns: ['budget_*'], requires: ["user_service"] },
  },
  softRelations: [{ from: 'budgets.user_id', to: 'users.id' }],
  protected: [/prod/.source, 'db.example.com'],
});
`;

describe('switchServiceToTidemark on a .ts config with defineConfig', () => {
  it('edits only the service entry; braces in comments, strings, templates and a regex do not count', () => {
    const edit = ok(switchServiceToTidemark(TS_CONFIG, '.ts', 'user_service', 'migrations/user'));
    assert.equal(
      edit.text,
      TS_CONFIG.replace(
        `    "user_service": {
      format: "alembic", // leaving Alembic }
      migrations: "services/user_service/alembic/versions",
      owns: ["users", "weird}name{"],
      versionTable: "user_alembic_version",
      recursive: true
    },`,
        `    "user_service": {
      // leaving Alembic }
      migrations: "migrations/user",
      owns: ["users", "weird}name{"]
    },`,
      ),
    );
  });

  it('rename keeps the quoted key style and updates the other service on one line', () => {
    const edit = ok(switchServiceToTidemark(TS_CONFIG, '.ts', 'user_service', 'migrations/user', { rename: 'user', addRequires: ['audit'] }));
    assert.match(edit.text, /\n {4}"user": \{\n/);
    assert.match(edit.text, /budget: \{ migrations: `migrations\/\$\{'budget'\}`, owns: \['budget_\*'\], requires: \["user"\] \},/);
    assert.match(edit.text, /owns: \["users", "weird\}name\{"\],\n {6}requires: \["audit"\]\n {4}\},/);
  });

  it('a one-line entry: the last properties go with the comma before them, requires is added in line', () => {
    const edit = ok(switchServiceToTidemark(TS_CONFIG, '.ts', 'budget', 'migrations/budget', { addRequires: ['user_service', 'billing'] }));
    assert.match(edit.text, /budget: \{ migrations: 'migrations\/budget', owns: \['budget_\*'\], requires: \["user_service", "billing"\] \},/);
    const oneLine = `export default { services: { s: { migrations: 'a', owns: ['t'], format: 'alembic', versionTable: 'v', recursive: false } } };\n`;
    assert.equal(
      ok(switchServiceToTidemark(oneLine, '.js', 's', 'migrations/s', { addRequires: ['u'] })).text,
      `export default { services: { s: { migrations: 'migrations/s', owns: ['t'], requires: ['u'] } } };\n`,
    );
  });

  it('a multi-line requires array grows by a line', () => {
    const text = `module.exports = {\n  services: {\n    s: {\n      migrations: 'a',\n      requires: [\n        'x',\n      ],\n      format: 'alembic',\n    },\n  },\n};\n`;
    assert.equal(
      ok(switchServiceToTidemark(text, '.js', 's', 'm/s', { addRequires: ['x', 'y'] })).text,
      `module.exports = {\n  services: {\n    s: {\n      migrations: 'm/s',\n      requires: [\n        'x',\n        'y',\n      ],\n    },\n  },\n};\n`,
    );
  });
});

describe('switchServiceToTidemark on JSON', () => {
  it('parses and writes back with 2-space indentation, key order kept', () => {
    const json = `{"database":"pglite:./db","services":{"user_service":{"format":"alembic","migrations":"old","owns":["users"],"versionTable":"v"},"budget":{"migrations":"migrations/budget","requires":["user_service"]}}}\n`;
    const edit = ok(switchServiceToTidemark(json, '.json', 'user_service', 'migrations/user', { rename: 'user', addRequires: ['audit'] }));
    assert.equal(
      edit.text,
      `{
  "database": "pglite:./db",
  "services": {
    "user": {
      "migrations": "migrations/user",
      "owns": [
        "users"
      ],
      "requires": [
        "audit"
      ]
    },
    "budget": {
      "migrations": "migrations/budget",
      "requires": [
        "user"
      ]
    }
  }
}
`,
    );
    assert.match(refused(switchServiceToTidemark('{"services": [', '.json', 'x', 'd')), /^cannot edit tidemark\.config\.json safely: it is not valid JSON/);
    assert.match(refused(switchServiceToTidemark('{"services": {}}', '.json', 'x', 'd')), /services has no object "x"/);
  });
});

describe('switchServiceToTidemark on a formatted JSON file keeps its layout', () => {
  it('edits in place: 4-space indentation, CRLF, one-line neighbours and key order stay', () => {
    const json = [
      '{',
      '    "$schema": "./s.json",',
      '    "services": {',
      '        "user_service": {',
      '            "format": "alembic",',
      '            "migrations": "old",',
      '            "requires": [',
      '                "base"',
      '            ],',
      '            "versionTable": "v"',
      '        },',
      '        "budget": { "migrations": "b", "requires": ["user_service", "base"] },',
      '        "base": { "migrations": "x", "owns": ["user_service"] }',
      '    }',
      '}',
      '',
    ].join('\r\n');
    const edit = ok(switchServiceToTidemark(json, '.json', 'user_service', 'migrations/user', { rename: 'user', addRequires: ['audit', 'base', 'audit'] }));
    assert.equal(
      edit.text,
      [
        '{',
        '    "$schema": "./s.json",',
        '    "services": {',
        '        "user": {',
        '            "migrations": "migrations/user",',
        '            "requires": [',
        '                "base",',
        '                "audit"',
        '            ]',
        '        },',
        '        "budget": { "migrations": "b", "requires": ["user", "base"] },',
        // Only `requires` names services: an owns entry spelled like the service is a table, and stays.
        '        "base": { "migrations": "x", "owns": ["user_service"] }',
        '    }',
        '}',
        '',
      ].join('\r\n'),
    );
    const again = ok(switchServiceToTidemark(edit.text, '.json', 'user', 'migrations/user', { addRequires: ['audit'] }));
    assert.equal(again.changed, false);
  });

  it("inserts with the file's own tab indentation, and refuses a rename onto a declared service", () => {
    const json = '{\n\t"services": {\n\t\t"a": {\n\t\t\t"migrations": "m",\n\t\t\t"format": "alembic"\n\t\t},\n\t\t"b": { "migrations": "n" }\n\t}\n}\n';
    const edit = ok(switchServiceToTidemark(json, '.json', 'a', 'm2', { addRequires: ['b'] }));
    assert.equal(edit.text, '{\n\t"services": {\n\t\t"a": {\n\t\t\t"migrations": "m2",\n\t\t\t"requires": [\n\t\t\t\t"b"\n\t\t\t]\n\t\t},\n\t\t"b": { "migrations": "n" }\n\t}\n}\n');
    assert.match(refused(switchServiceToTidemark(json, '.json', 'a', 'm2', { rename: 'b' })), /services already has an entry b; change it by hand/);
  });
});

describe('switchServiceToTidemark refuses shapes it cannot edit with certainty', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'a computed key',
      `const k = 'user_service';\nexport default { services: { [k]: { migrations: 'a' } } };`,
      /the service user_service is not written as `user_service: \{ … \}` in services \(it holds a computed key/,
    ],
    ['a spread at the services level', `export default { services: { ...legacy, budget: { migrations: 'b' } } };`, /\(it holds a spread \(`\.\.\.`\)\)/],
    [
      'the service built by a function call',
      `export default { services: { user_service: alembic('services/user_service') } };`,
      /services\.user_service is built by a function call \(alembic\(…\)\), not an object literal/,
    ],
    ['the service from a variable', `const u = { migrations: 'a' };\nexport default { services: { user_service: u } };`, /services\.user_service is a variable \(u\), not an object literal/],
    ['a spread inside the service', `export default { services: { user_service: { ...base, migrations: 'a' } } };`, /services\.user_service holds a spread/],
    ['a shorthand migrations', `const migrations = 'a';\nexport default { services: { user_service: { migrations } } };`, /services\.user_service holds a shorthand property \(`migrations`\)/],
    ['services from a variable', `const services = {};\nexport default { services };`, /no `services: \{ … \}` object was found/],
    ['services built by a call', `export default { services: build() };`, /`services` is not written as an object literal/],
    ['an unclosed string', `export default { services: { user_service: { migrations: 'a } } };`, /a string is not closed on its line/],
    [
      'a rename another service may hide behind',
      `export default { services: { user_service: { migrations: 'a' }, budget: make() } };`,
      /services\.budget is built by a function call \(make\(…\)\), which may require user_service/,
    ],
  ];
  for (const [title, text, message] of cases) {
    it(title, () => {
      const rename = title.startsWith('a rename') ? { rename: 'user' } : {};
      const error = refused(switchServiceToTidemark(text, '.ts', 'user_service', 'migrations/user', rename));
      assert.match(error, /^cannot edit tidemark\.config\.ts safely: /);
      assert.match(error, message);
      assert.match(error, /; change it by hand: in services\.user_service/);
    });
  }
  it('names the file when given', () => {
    assert.match(refused(switchServiceToTidemark(`export default {};`, '.mjs', 'a', 'b', { file: 'conf/tidemark.config.mjs' })), /^cannot edit conf\/tidemark\.config\.mjs safely: no `services/);
  });
});

describe('the tokenizer and the diff', () => {
  it('skips comments, strings, templates with nested code and regular expressions', () => {
    const tokens = tokenize(`a = { b: "}" /* { */, c: \`\${ { d: '}' } }\` // }\n, e: /[}/]{2}/g, f: x / 2 }`);
    assert.deepEqual(
      tokens.map((t) => (t.type === 'punct' || t.type === 'ident' ? t.value : t.type)),
      ['a', '=', '{', 'b', ':', 'string', ',', 'c', ':', 'template', ',', 'e', ':', 'regex', ',', 'f', ':', 'x', '/', 'number', '}'],
    );
    assert.equal(tokens[2].match, tokens.length - 1);
  });

  it('renderServiceChange shows changed lines with one line of context, and … between far hunks', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].join('\n');
    const after = ['a', 'B', 'c', 'd', 'e', 'F', 'g'].join('\n');
    assert.equal(renderServiceChange(before, after), ['  a', '- b', '+ B', '  c', '  …', '  e', '- f', '+ F', '  g'].join('\n'));
    assert.equal(renderServiceChange(before, before), '');
  });
});
