/**
 * Issue 11 §8 and §11: a baseline reproduces exactly, or refuses by name before writing anything.
 * - column settings pg_dump emits (SET STORAGE, SET STATISTICS, SET COMPRESSION, attribute options),
 *   REPLICA IDENTITY and CLUSTER ON round-trip;
 * - creation order from pg_depend: a domain whose CHECK calls a function, a BEGIN ATOMIC function that
 *   reads a table and is the default of another table, SQL and plpgsql functions reading tables, views
 *   over views and functions: the baseline runs on an empty database and its down section drops it all;
 * - objects of kinds a snapshot does not hold (an operator, a cast, an aggregate over an owned
 *   function, a collation used by a column) are refused by name, nothing written;
 * - a trigger function no service owns, used by two services' tables, is refused naming both;
 * - names equal to the aliases the catalog queries use, and hostile names, round-trip.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { loadWorkspace } from '../../src/config/load.js';
import type { Workspace } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { baseline } from '../../src/api/flows.js';
import { compareSnapshots } from '../../src/schema/diff/compare.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { renderBaseline, unsupportedObjects } from '../../src/schema/render/baseline.js';
import { quoteIdent, quoteQualified } from '../../src/sql/ident.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { GENERATED_SQL_WORDS, hostileIdentifier } from '../support/hostile-names.js';
import { makeWorkspace } from '../support/workspace.js';

const ORDERED = `
SET check_function_bodies = off; -- as pg_dump's output and most schema files do: app_next_id reads app_log, created below
CREATE FUNCTION app_is_code(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t ~ '^[A-Z]+$' $$;
CREATE DOMAIN app_code AS text CONSTRAINT app_code_check CHECK (app_is_code(VALUE));
CREATE TABLE app_items (id integer PRIMARY KEY, code app_code, body text, blob bytea);
ALTER TABLE app_items ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE app_items ALTER COLUMN code SET STATISTICS 500;
ALTER TABLE app_items ALTER COLUMN blob SET COMPRESSION pglz;
ALTER TABLE app_items ALTER COLUMN id SET (n_distinct = -1);
ALTER TABLE app_items REPLICA IDENTITY FULL;
CREATE INDEX app_items_code_idx ON app_items (code);
ALTER TABLE app_items CLUSTER ON app_items_code_idx;
CREATE FUNCTION app_count() RETURNS bigint LANGUAGE sql STABLE BEGIN ATOMIC SELECT count(*) FROM app_items; END;
CREATE FUNCTION app_next_id() RETURNS integer LANGUAGE sql VOLATILE AS $$ SELECT coalesce(max(id), 0) + 1 FROM app_log $$;
CREATE TABLE app_log (id integer PRIMARY KEY DEFAULT app_next_id(), items bigint DEFAULT app_count(), item_id integer REFERENCES app_items (id));
ALTER TABLE app_log REPLICA IDENTITY USING INDEX app_log_pkey;
CREATE FUNCTION app_total() RETURNS bigint LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN (SELECT count(*) FROM app_log); END $$;
CREATE VIEW app_v1 AS SELECT id, code FROM app_items;
CREATE VIEW app_v2 AS SELECT v.id, app_count() AS n, app_total() AS t FROM app_v1 v;
`;

function appWorkspace(extra: Record<string, { owns: string[] }> = {}) {
  return makeWorkspace({ app: { owns: ['app_*'] }, ...extra }, {});
}

async function replayed(workspace: Workspace, live: Awaited<ReturnType<typeof introspect>>, fresh: Database) {
  const rendered = renderBaseline(live, 'app');
  await fresh.transaction((tx) => tx.exec(rendered.up));
  return { rendered, again: await introspect(fresh, { workspace, service: 'app' }) };
}

forEachBackend('baseline fidelity', (backend) => {
  it('column settings, replica identity, CLUSTER ON and dependency order round-trip; the down section drops everything', () =>
    withDatabase(backend, async (db) => {
      const ws = appWorkspace();
      try {
        const workspace = await loadWorkspace({ cwd: ws.dir });
        await db.exec(ORDERED);
        const live = await introspect(db, { workspace, service: 'app' });
        assert.deepEqual(unsupportedObjects(live), []);
        const items = live.tables.find((t) => t.name === 'app_items')!;
        const col = (n: string) => items.columns.find((c) => c.name === n)!;
        assert.equal(col('body').storage, 'EXTERNAL');
        assert.equal(col('code').statistics, 500);
        assert.equal(col('blob').compression, 'pglz');
        assert.deepEqual(col('id').options, ['n_distinct=-1']);
        assert.deepEqual(items.replicaIdentity, { kind: 'full' });
        assert.equal(items.clusterOn, 'app_items_code_idx');
        assert.deepEqual(live.tables.find((t) => t.name === 'app_log')!.replicaIdentity, { kind: 'index', index: 'app_log_pkey' });

        const order = live.createOrder!.map((k) => JSON.parse(k)[2] as string);
        const before = (a: string, b: string) => assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b} in ${order.join(', ')}`);
        before('app_is_code', 'app_code');
        before('app_items', 'app_count');
        before('app_count', 'app_log');
        before('app_v1', 'app_v2');

        await withDatabase(backend, async (fresh) => {
          const { rendered, again } = await replayed(workspace, live, fresh);
          assert.deepEqual(compareSnapshots(live, again), []);
          assert.match(rendered.up, /ALTER TABLE ONLY app_items ALTER COLUMN body SET STORAGE EXTERNAL;/);
          assert.match(rendered.up, /ALTER TABLE ONLY app_items REPLICA IDENTITY FULL;/);
          assert.match(rendered.up, /ALTER TABLE ONLY app_items CLUSTER ON app_items_code_idx;/);
          await fresh.transaction((tx) => tx.exec(rendered.down));
          const left = await fresh.query<{ n: number }>(
            `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public')
                  + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')
                  + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public') AS n`,
          );
          assert.equal(Number(left.rows[0].n), 0);
        });

        const proven = await baseline({ workspace, database: db, service: 'app', dryRun: true });
        assert.ifError(proven.error);
        assert.deepEqual(proven.differences, []);
      } finally {
        ws.remove();
      }
    }));

  it('an operator, a cast and an aggregate over an owned function, and a collation a column uses, are refused by name before anything is written', () =>
    withDatabase(backend, async (db) => {
      const ws = appWorkspace();
      try {
        const workspace = await loadWorkspace({ cwd: ws.dir });
        await db.exec(`
          CREATE TYPE app_pair AS (a integer, b integer);
          CREATE FUNCTION app_same(x integer, y integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT x = y $$;
          CREATE OPERATOR === (LEFTARG = integer, RIGHTARG = integer, FUNCTION = app_same);
          CREATE FUNCTION app_to_pair(x integer) RETURNS app_pair LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(x, x)::app_pair $$;
          CREATE CAST (integer AS app_pair) WITH FUNCTION app_to_pair(integer);
          CREATE FUNCTION app_add(s integer, x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT s + x $$;
          CREATE AGGREGATE my_sum (integer) (SFUNC = app_add, STYPE = integer, INITCOND = '0');
          CREATE COLLATION my_c FROM "C";
          CREATE TABLE app_names (n text COLLATE my_c);
        `);
        const live = await introspect(db, { workspace, service: 'app' });
        const refused = unsupportedObjects(live).join('\n');
        assert.match(refused, /^operator public\.===\(integer,integer\) \(depends on function app_same\(x integer, y integer\)\)$/m);
        assert.match(refused, /^cast \(integer AS public\.app_pair\) /m);
        assert.match(refused, /^aggregate my_sum\(integer\) \(uses function app_add\(s integer, x integer\)\)$/m);
        assert.match(refused, /^collation public\.my_c \(used by table app_names\)$/m);
        const result = await baseline({ workspace, database: db, service: 'app', dir: ws.dir });
        assert.equal(result.error?.code, 'baseline-unsupported');
        assert.equal(result.written, false);
        assert.match(result.error!.message, /operator public\.===/);
      } finally {
        ws.remove();
      }
    }));

  it('a trigger function no service owns, used by two services, is refused naming both; owned by one, each baseline is proven', () =>
    withDatabase(backend, async (db) => {
      const ws = makeWorkspace({ app: { owns: ['app_*'] }, crm: { owns: ['crm_*'] } }, {});
      try {
        await db.exec(`
          CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.at := now(); RETURN NEW; END $$;
          CREATE TABLE app_a (id int PRIMARY KEY, at timestamptz);
          CREATE TABLE crm_b (id int PRIMARY KEY, at timestamptz);
          CREATE TRIGGER a_touch BEFORE UPDATE ON app_a FOR EACH ROW EXECUTE FUNCTION touch();
          CREATE TRIGGER b_touch BEFORE UPDATE ON crm_b FOR EACH ROW EXECUTE FUNCTION touch();
        `);
        const workspace = await loadWorkspace({ cwd: ws.dir });
        for (const [service, other] of [
          ['app', 'crm_b (service crm)'],
          ['crm', 'app_a (service app)'],
        ]) {
          const result = await baseline({ workspace, database: db, service, dir: ws.dir });
          assert.equal(result.error?.code, 'baseline-shared-function', service);
          assert.ok(result.error!.message.includes(`touch() is also used by table ${other}`), result.error!.message);
          assert.match(result.error!.message, /`owns` of one service/);
          assert.equal(result.written, false);
        }
        // Owned by app, required by crm: app's baseline creates it, crm's references it.
        const ws2 = makeWorkspace({ app: { owns: ['app_*', 'touch'] }, crm: { owns: ['crm_*'], requires: ['app'] } }, {});
        try {
          const w2 = await loadWorkspace({ cwd: ws2.dir });
          const app = await introspect(db, { workspace: w2, service: 'app' });
          const crm = await introspect(db, { workspace: w2, service: 'crm' });
          assert.deepEqual(unsupportedObjects(app), []);
          assert.deepEqual(unsupportedObjects(crm), []);
          assert.deepEqual(
            app.functions.map((f) => f.name),
            ['touch'],
          );
          assert.deepEqual(crm.functions, []);
          assert.deepEqual(
            crm.references.map((r) => `${r.service}: ${r.object}`),
            ['app: function touch()'],
          );
        } finally {
          ws2.remove();
        }
      } finally {
        ws.remove();
      }
    }));

  it("tables and columns named like the catalog queries' aliases, keywords and hostile names round-trip", () =>
    withDatabase(backend, async (db) => {
      const ws = makeWorkspace({ app: { owns: ['schema:app'] } }, {});
      try {
        const workspace = await loadWorkspace({ cwd: ws.dir });
        await db.exec('CREATE SCHEMA app');
        const system = new Set(['ctid', 'tableoid', 'xmin', 'xmax', 'cmin', 'cmax']);
        const aliases = [...new Set([...GENERATED_SQL_WORDS.filter((w) => !system.has(w)), 'e', 'rel', 'name', 'def', 'kind', 'schema', 'comment', 'position'])];
        await db.exec(
          `CREATE TABLE app.c (${aliases.map((a) => `${quoteIdent(a)} text`).join(', ')}, PRIMARY KEY (${quoteIdent('oid')}));
           CREATE INDEX ON app.c (${quoteIdent('select')}) WHERE ${quoteIdent('n')} IS NOT NULL;
           CREATE VIEW app.n AS SELECT ${quoteIdent('a')}, ${quoteIdent('t')} FROM app.c;`,
        );
        let tables = 0;
        await fc.assert(
          fc.asyncProperty(
            fc.uniqueArray(
              hostileIdentifier().filter((x) => !system.has(x)),
              { minLength: 2, maxLength: 3 },
            ),
            async (names) => {
              const [table, ...cols] = names;
              const q = { schema: 'app', name: table };
              await db.exec(`CREATE TABLE IF NOT EXISTS ${quoteQualified(q)} (${cols.map((c) => `${quoteIdent(c)} integer`).join(', ')})`);
              tables++;
            },
          ),
          { numRuns: 15 },
        );
        // An Alembic version table named with its schema is left out in that schema only: app's own
        // table of that name is the service's (it was left out by name alone before).
        await db.exec('CREATE TABLE app.alembic_version (version_num text PRIMARY KEY)');
        (workspace.services.find((x) => x.name === 'app') as { versionTable: string }).versionTable = 'public.alembic_version';
        const live = await introspect(db, { workspace, service: 'app' });
        assert.deepEqual(unsupportedObjects(live), []);
        assert.ok(live.tables.length >= 1 + Math.min(tables, 1));
        assert.ok(live.tables.some((t) => t.schema === 'app' && t.name === 'alembic_version'));
        await withDatabase(backend, async (fresh) => {
          const { again } = await replayed(workspace, live, fresh);
          assert.deepEqual(compareSnapshots(live, again), []);
        });
      } finally {
        ws.remove();
      }
    }));
});
