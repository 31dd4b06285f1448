/**
 * flows/autogen/sources.ts on PGlite and the server: a desired-schema directory whose files are out of
 * dependency order loads through retries to the snapshot the service's history replays to; a real error
 * names its file and line; objects of another service, or of none, are refused by name; `history` and
 * `history:ID`; a URL source read through the target's session or the caller's opener. One target
 * database per back-end; every load opens a shadow and disposes of it (one database per back-end, emptied again).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import type { Service } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { baseline, emptyAgain, userObjects } from '../../src/db/shadow-empty.js';
import { TidemarkError } from '../../src/errors.js';
import { loadSource, parseSource, type SchemaSource } from '../../src/flows/autogen/sources.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { fakeTarget } from '../support/fake-target.js';
import { makeWorkspace, sqlMigration } from '../support/workspace.js';

const USERS = 'CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);';
const BUDGETS =
  "CREATE TYPE budget_state AS ENUM ('open', 'closed');\nCREATE TABLE budgets (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), state budget_state NOT NULL DEFAULT 'open');";
const ITEMS = 'CREATE TABLE budget_items (id serial PRIMARY KEY, budget_id int NOT NULL REFERENCES budgets (id), amount numeric(12, 2) NOT NULL);';
const TOTALS = 'CREATE VIEW budget_totals AS SELECT budget_id, sum(amount) AS total FROM budget_items GROUP BY budget_id;';

function workspaceFiles(): Record<string, string> {
  return {
    'migrations/user/user_001_users.sql': sqlMigration(USERS, 'DROP TABLE users;'),
    'migrations/user/user_002_email.sql': sqlMigration('ALTER TABLE users ADD COLUMN email text;', 'ALTER TABLE users DROP COLUMN email;'),
    'migrations/budget/budget_001_budgets.sql': sqlMigration(`${BUDGETS}\n${ITEMS}\n${TOTALS}`, 'DROP VIEW budget_totals; DROP TABLE budget_items; DROP TABLE budgets; DROP TYPE budget_state;'),
    // Out of dependency order by name: the view first, the table it reads next, what that references last.
    'schema/budget/a_totals.sql': TOTALS,
    'schema/budget/b/items.sql': `-- Beträge in € 🐘\n${ITEMS}`,
    'schema/budget/c_budgets.sql': BUDGETS.replace('CREATE TABLE budgets', '-- tidemark:renamed-from plans\nCREATE TABLE budgets'),
    'schema/broken.sql': "CREATE TABLE budgets (\n  id int, -- é ü 🐘\n  state text CHECK (state IN ('a',)),\n  x int\n);",
    'schema/missing.sql': "CREATE TABLE budgets (id int);\nCREATE VIEW budget_totals AS\n  SELECT 'é🐘' AS t\n  FROM nowhere;",
    'schema/foreign.sql': 'CREATE TABLE budgets (id int);\nCREATE TABLE audit_log (id int);',
    'schema/unowned.sql': 'CREATE TABLE budgets (id int);\nCREATE SEQUENCE budget_numbers;\nCREATE TABLE scratch (id int);',
  };
}

function refused(code: string, file: string, words: RegExp, line?: number) {
  return (err: unknown) => {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.file, file);
    assert.equal(err.service, 'budget');
    if (line !== undefined) assert.equal(err.line, line, err.message);
    assert.match(err.message, words);
    return true;
  };
}

forEachBackend('desired-schema sources', (backend) => {
  it('loads files through retries to what the history replays to; refuses errors, foreign and unowned objects; history:ID; URLs', () =>
    withDatabase(backend, async (db, url) => {
      const ws = makeWorkspace(
        { user: { owns: ['users'] }, budget: { owns: ['budgets', 'budget_items', 'budget_totals', 'budget_numbers'], requires: ['user'] }, audit: { owns: ['audit_log'] } },
        workspaceFiles(),
      );
      // One shadow database per back-end, emptied again at each dispose (as a `--shadow URL` is): a fresh
      // PGlite per load would cost seconds each.
      const created = await backend.createDatabase();
      const shadowDb = await openDatabase(created.url);
      try {
        const workspace = await loadWorkspace({ cwd: ws.dir });
        const empty = await baseline(shadowDb);
        let shadows = 0;
        let disposed = 0;
        const target = fakeTarget(workspace, db, {
          openShadow: async () => {
            shadows++;
            assert.equal(shadows, disposed + 1, 'the previous shadow was disposed of');
            assert.deepEqual(await userObjects(shadowDb), []);
            const dispose = async () => {
              disposed++;
              await emptyAgain(shadowDb, empty);
            };
            return { database: sharing(shadowDb, () => {}), description: `the test's shadow ${shadowDb.displayUrl}`, kind: 'url', dispose };
          },
        });
        const service = (name: string) => workspace.services.find((s) => s.name === name) as Service;
        const budget = service('budget');
        const load = (src: SchemaSource, s: Service = budget) => loadSource(target, s, src, false);

        const fromHistory = await load({ kind: 'history' });
        assert.deepEqual(
          fromHistory.snapshot.tables.map((t) => t.name),
          ['budget_items', 'budgets'],
        );
        assert.match(fromHistory.description, /the history of budget, replayed on /);
        const fromFiles = await load({ kind: 'files', paths: ['schema/budget'] });
        assert.deepEqual(fromFiles.snapshot, fromHistory.snapshot);
        assert.deepEqual(
          fromFiles.renames.map((r) => `${r.kind} ${r.from}→${r.to} ${r.file.slice(ws.dir.length)}:${r.line}`),
          ['table plans→budgets /schema/budget/c_budgets.sql:2'],
        );
        assert.match(fromFiles.description, /3 files from schema\/budget/);

        // history:ID stops the service's history there; what it requires comes whole.
        const user = service('user');
        const columns = async (src: SchemaSource) => (await load(src, user)).snapshot.tables.find((t) => t.name === 'users')?.columns.map((c) => c.name);
        // keepShadow hands the shadow back still open, with what the replay left on it.
        const kept = await loadSource(target, user, { kind: 'history', upTo: 'user_001' }, true);
        assert.deepEqual(
          kept.snapshot.tables.find((t) => t.name === 'users')?.columns.map((c) => c.name),
          ['id', 'name'],
        );
        const left = await kept.shadow!.database.query<{ users: string | null }>("SELECT to_regclass('public.users')::text AS users");
        assert.deepEqual([shadows - disposed, left.rows], [1, [{ users: 'users' }]]);
        await kept.shadow!.dispose();
        assert.deepEqual(await columns({ kind: 'history' }), ['id', 'name', 'email']);
        await assert.rejects(load({ kind: 'history', upTo: 'budget_001_budgets' }, user), (err: unknown) => err instanceof TidemarkError && err.code === 'unknown-target');

        // A real error fails at once, with the line of the server's position (counted in characters).
        const file = (name: string) => `${ws.dir}/schema/${name}`;
        await assert.rejects(load({ kind: 'files', paths: [file('broken.sql')] }), refused('desired-schema-failed', file('broken.sql'), /syntax error/, 3));
        // An undefined object is retried until no pass loads anything: then it is the answer.
        await assert.rejects(load({ kind: 'files', paths: [file('missing.sql')] }), refused('desired-schema-failed', file('missing.sql'), /"nowhere" does not exist.*42P01/, 4));
        await assert.rejects(load({ kind: 'files', paths: [file('foreign.sql')] }), refused('desired-schema-foreign-object', file('foreign.sql'), /table public\.audit_log, which service audit owns/));
        await assert.rejects(load({ kind: 'files', paths: [file('unowned.sql')] }), refused('desired-schema-unowned-object', file('unowned.sql'), /table public\.scratch, which no service owns/));

        // A URL: the target through its own session (read only), another through the caller's opener.
        await db.exec(USERS);
        const viaUrl = await load({ kind: 'url', url }, user);
        assert.deepEqual(viaUrl.snapshot, await introspect(db, { workspace, service: 'user' }));
        assert.match(viaUrl.description, /\(the target\)/);
        const other = 'postgres://someone@127.0.0.1:5432/elsewhere';
        await assert.rejects(load({ kind: 'url', url: other }), (err: unknown) => err instanceof TidemarkError && err.code === 'diff-source-invalid');
        const opened: string[] = [];
        let closed = 0;
        const viaOpener = await loadSource(target, user, { kind: 'url', url: other }, false, { open: async (u) => (opened.push(u), sharing(db, () => closed++)) });
        assert.deepEqual([opened, closed, viaOpener.snapshot], [[other], 1, viaUrl.snapshot]);
        assert.deepEqual([shadows, disposed], [9, 9]);
      } finally {
        await shadowDb.close();
        await created.drop();
        ws.remove();
      }
    }));
});

/** `db` handed out as if newly opened: closing it only counts. */
function sharing(db: Database, onClose: () => void): Database {
  return new Proxy(db, {
    get(t, p) {
      if (p === 'close') return async () => onClose();
      const v = Reflect.get(t, p, t);
      return typeof v === 'function' ? v.bind(t) : v;
    },
  });
}

describe('parseSource', () => {
  const fallback: SchemaSource = { kind: 'history' };
  it('reads history, history:ID, database URLs and paths; refuses what is none of them', () => {
    assert.deepEqual(parseSource(undefined, fallback), fallback);
    assert.deepEqual(parseSource('history', { kind: 'files', paths: ['x'] }), { kind: 'history' });
    assert.deepEqual(parseSource('history:user_003', fallback), { kind: 'history', upTo: 'user_003' });
    assert.deepEqual(parseSource('postgres://u:pw@db/app', fallback), { kind: 'url', url: 'postgres://u:pw@db/app' });
    assert.deepEqual(parseSource('postgresql://db/app', fallback), { kind: 'url', url: 'postgresql://db/app' });
    assert.deepEqual(parseSource('pglite:./.tidemark/db', fallback), { kind: 'url', url: 'pglite:./.tidemark/db' });
    assert.deepEqual(parseSource(' schema/user.sql ', fallback), { kind: 'files', paths: ['schema/user.sql'] });
    for (const bad of ['', '  ', 'history:', 'history:User 3', 'pglite:', 'pglite://x', 'mysql://db/app', 'postgres://']) {
      assert.throws(
        () => parseSource(bad, fallback),
        (err: unknown) => err instanceof TidemarkError && err.code === 'diff-source-invalid' && err.kind === 'usage',
        bad,
      );
    }
    // A password never shows in the message.
    assert.throws(
      () => parseSource('mysql://u:secret@db/app', fallback),
      (err: unknown) => err instanceof Error && !err.message.includes('secret'),
    );
  });
});
