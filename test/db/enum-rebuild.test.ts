/**
 * The enum rebuild (render/enum-rebuild.ts) on PostgreSQL 15 and 18: from a schema with rows (a
 * column with a default, an array column, a text column whose default names the type, a CHECK and an index naming the type, a policy and a
 * trigger WHEN on the column, a view reading it), the up of renderChanges(diff(from, to)) leaves exactly `to`, its down
 * exactly `from`, and the rows keep their labels; a row holding the removed label makes the up fail
 * and, run in one transaction, change nothing. A label added and used in the same diff: its own file,
 * whose down (the rebuild) runs last; each file goes up, down and up again. One database per back-end; `to` is read by loading its
 * schema inside a transaction that is rolled back.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadWorkspace } from '../../src/config/load.js';
import type { Queryable, Session } from '../../src/db/database.js';
import { diff } from '../../src/schema/diff/diff.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import { draftMigrations } from '../../src/schema/render/drafts.js';
import type { Statement } from '../../src/schema/render/statement.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { makeWorkspace } from '../support/workspace.js';

const schema = (labels: string) => `
CREATE TYPE status AS ENUM (${labels});
CREATE TABLE orders (
  id int PRIMARY KEY,
  status status NOT NULL DEFAULT 'draft',
  history status[] NOT NULL DEFAULT '{draft}',
  note text DEFAULT ('open'::status)::text,
  CONSTRAINT orders_open_check CHECK (status <> 'open' OR id > 0)
);
CREATE INDEX orders_draft_idx ON orders (id) WHERE status = 'draft';
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_seen ON orders USING (status IS NOT NULL);
CREATE VIEW open_orders AS SELECT id, status FROM orders WHERE status = 'open';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_moved BEFORE UPDATE ON orders FOR EACH ROW WHEN (old.status IS DISTINCT FROM new.status) EXECUTE FUNCTION touch();
`;
// 'sent' goes, 'closed' comes at the end: one rebuild each way, no ADD VALUE.
const FROM = schema("'draft', 'sent', 'open'");
const TO = schema("'draft', 'open', 'closed'");
const DROP_ALL = 'DROP VIEW open_orders; DROP TABLE orders; DROP TYPE status; DROP FUNCTION touch();';

const rows = async (db: Queryable) => (await db.query<{ id: number; status: string; history: string }>('SELECT id, status::text AS status, history::text AS history FROM orders ORDER BY id')).rows;

async function run(db: Session, statements: readonly Statement[]): Promise<void> {
  assert.ok(
    statements.every((s) => s.phase === 'main'),
    'a rebuild runs in the main file',
  );
  await db.transaction(async (tx) => {
    for (const s of statements) await tx.exec(s.sql);
  });
}

/** One file's statements in one transaction, whatever their phase. */
async function runAny(db: Session, statements: readonly Statement[]): Promise<void> {
  await db.transaction(async (tx) => {
    for (const s of statements) await tx.exec(s.sql);
  });
}

forEachBackend('enum rebuild on a real database', (backend) => {
  it('up gives `to`, down gives `from` back, rows keep their labels; a row holding a removed label stops the up, changing nothing', async () => {
    const ws = makeWorkspace({ app: { owns: ['*'] } });
    try {
      const workspace = await loadWorkspace({ cwd: ws.dir });
      await withDatabase(backend, async (db) => {
        const scope = { workspace, service: 'app' };
        await db.exec(FROM);
        const from = await introspect(db, scope);
        let to: Snapshot | undefined;
        // `to` as PostgreSQL prints it, read in a transaction rolled back: the one database keeps `from`.
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.exec(DROP_ALL + TO);
            to = await introspect(tx, scope);
            throw new Error('rollback');
          }),
          /rollback/,
        );
        assert.ok(to);
        const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
        assert.deepEqual(r.refused, []);
        assert.deepEqual(
          r.hazards.map((h) => h.hazard),
          ['enum-rebuild', 'data-loss'],
        );

        await db.exec(`INSERT INTO orders VALUES (1, 'draft', '{draft,open}'), (2, 'open', DEFAULT), (3, 'sent', '{}')`);
        const before = await rows(db);
        // Row 3 holds 'sent': the cast fails loudly and the transaction leaves everything as it was.
        await assert.rejects(run(db, r.up), /invalid input value for enum status: "sent"/);
        // Checked by the catalog rather than a fourth introspection (PGlite answers each one slowly).
        const types = await db.query<{ name: string; labels: string }>(
          `SELECT typname AS name, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid) AS labels
             FROM pg_type t WHERE typname LIKE 'status%' ORDER BY 1`,
        );
        assert.deepEqual(types.rows, [{ name: 'status', labels: 'draft,sent,open' }]);
        assert.deepEqual(await rows(db), before);

        await db.exec(`UPDATE orders SET status = 'draft' WHERE id = 3`);
        await run(db, r.up);
        assert.deepEqual(diff(await introspect(db, scope), to), [], 'the up leaves the schema `to` describes');
        const kept = [
          { id: 1, status: 'draft', history: '{draft,open}' },
          { id: 2, status: 'open', history: '{draft}' },
          { id: 3, status: 'draft', history: '{}' },
        ];
        assert.deepEqual(await rows(db), kept);
        await db.exec(`INSERT INTO orders (id, status) VALUES (4, 'open')`);
        assert.deepEqual((await rows(db))[3], { id: 4, status: 'open', history: '{draft}' }, 'the defaults were set again');

        await run(db, r.down);
        assert.deepEqual(diff(await introspect(db, scope), from), [], 'the down gives `from` back');
        assert.deepEqual(await rows(db), [...kept, { id: 4, status: 'open', history: '{draft}' }]);

        // A label added and used at once: two files, each going up, down and up again as `tidemark
        // test` runs them, then both down in reverse; the labels file's down is the rebuild.
        // Written from `from` (a label cannot be added and used in one transaction to read it): the
        // diff after both ups proves it is what PostgreSQL prints.
        const used: Snapshot = structuredClone(from);
        const type = used.types.find((t) => t.name === 'status');
        const column = used.tables.find((t) => t.name === 'orders')?.columns.find((c) => c.name === 'status');
        assert.ok(type?.kind === 'enum' && column);
        type.labels.push('closed');
        column.default = "'closed'::status";
        const files = draftMigrations(renderChanges(diff(from, used), { from, to: used, existingTables: new Set(from.tables.map(nameKey)) }), 'close');
        assert.deepEqual(
          files.map((f) => f.slug),
          ['close_enum_values', 'close'],
        );
        const [labels, main] = files;
        for (const f of [labels, main]) {
          await runAny(db, f.up);
          await runAny(db, f.down);
          await runAny(db, f.up);
        }
        assert.deepEqual(diff(await introspect(db, scope), used), [], 'both ups give the new schema');
        await runAny(db, main.down);
        await runAny(db, labels.down);
        assert.deepEqual(diff(await introspect(db, scope), from), [], 'both downs give `from` back');
      });
    } finally {
      ws.remove();
    }
  });
});
