/**
 * `tidemark squash` through the api, on PGlite and on the server, ONE database per back-end walked through
 * the states a squash meets: at 002 (refused, nothing written), a script or a no-transaction file in the
 * range, an unknown or too short range (refused), at 004 (--dry-run writes nothing; the squash is written,
 * the files moved, the sum and the doctor clean, up runs nothing, down through the squash removes every row),
 * then, emptied by that down, the new history built fresh: equal to what the old one built.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { check } from '../../src/api/check.js';
import { down, status, up } from '../../src/api/migrate.js';
import { squash } from '../../src/api/squash.js';
import { loadWorkspace } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/open.js';
import { sumIsClean } from '../../src/history/sum-file.js';
import { readSumVerification, writeSumFile } from '../../src/history/sum-io.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { compareSnapshots } from '../../src/schema/diff/compare.js';
import { introspect } from '../../src/schema/introspect/index.js';
import type { Snapshot } from '../../src/schema/snapshot.js';
import type { Database } from '../../src/db/database.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { makeWorkspace, runCli, sqlMigration, type TempWorkspace } from '../support/workspace.js';

const HISTORY: Record<string, string> = {
  'migrations/shop/shop_001_items.sql': sqlMigration('CREATE TABLE shop_items (id bigint PRIMARY KEY, name text NOT NULL);', 'DROP TABLE shop_items;'),
  'migrations/shop/shop_002_price.sql': sqlMigration(
    "ALTER TABLE shop_items ADD COLUMN price numeric(10,2) NOT NULL DEFAULT 0;\nCOMMENT ON COLUMN shop_items.price IS 'in euros';",
    'ALTER TABLE shop_items DROP COLUMN price;',
  ),
  'migrations/shop/shop_003_orders.sql': sqlMigration(
    'CREATE TABLE shop_orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item bigint NOT NULL REFERENCES shop_items);\nCREATE INDEX shop_orders_item ON shop_orders (item);\nCREATE VIEW shop_priced AS SELECT id, name FROM shop_items WHERE price > 0;',
    'DROP VIEW shop_priced;\nDROP TABLE shop_orders;',
  ),
  'migrations/shop/shop_004_notes.sql': sqlMigration('ALTER TABLE shop_orders ADD COLUMN note text;', 'ALTER TABLE shop_orders DROP COLUMN note;'),
};
const RANGE = ['shop_001_items', 'shop_002_price', 'shop_003_orders'];
const migrationsOf = (ws: TempWorkspace) => path.join(ws.dir, 'migrations/shop');
const listing = (dir: string) => fs.readdirSync(dir).sort();

async function snapshotOf(dir: string, db: Database): Promise<Snapshot> {
  return introspect(db, { workspace: await loadWorkspace({ cwd: dir }), service: 'shop' });
}

async function shopRows(db: Database): Promise<string[]> {
  return (await readLedger(db, ['shop'])).map((r) => r.migration).sort();
}

forEachBackend('tidemark squash', (backend) => {
  let database: TestDatabase;
  // One session for every call (the api leaves a given Database open): PGlite opens its directory once.
  let db: Database;
  let ws: TempWorkspace;
  before(async () => {
    database = await backend.createDatabase();
    db = await openDatabase(database.url);
    ws = makeWorkspace({ shop: { owns: ['shop_*'] } }, HISTORY);
  });
  after(async () => {
    ws?.remove();
    await db?.close();
    await database?.drop();
  });
  const at = () => ({ configFile: path.join(ws.dir, 'tidemark.config.json'), database: db });

  it('a database at 002 refuses squash --to 003 (squash-partially-applied), nothing written', async () => {
    assert.equal((await up({ ...at(), to: 'shop_002' })).ok, true);
    const before = listing(migrationsOf(ws));
    const refused = await squash({ ...at(), service: 'shop', to: 'shop_003' });
    assert.equal(refused.error?.code, 'squash-partially-applied', refused.error?.message);
    assert.match(refused.error!.message, /shop_001_items, shop_002_price applied, shop_003_orders not/);
    assert.equal(refused.written, false);
    assert.deepEqual(listing(migrationsOf(ws)), before);
  });

  it('refuses a script or a no-transaction file in the range, an unknown id and a range of one', async () => {
    const other = makeWorkspace(
      { shop: { owns: ['shop_*'] } },
      {
        ...HISTORY,
        'migrations/shop/shop_002_price.sql': sqlMigration('CREATE INDEX CONCURRENTLY shop_items_name ON shop_items (name);', 'DROP INDEX shop_items_name;', '-- tidemark:no-transaction\n'),
        'migrations/shop/shop_003_orders.js': 'export async function up(ctx) { await ctx.db.exec("SELECT 1"); }\n',
      },
    );
    fs.rmSync(path.join(migrationsOf(other), 'shop_003_orders.sql'));
    try {
      const where = { configFile: path.join(other.dir, 'tidemark.config.json'), database: db };
      const script = await squash({ ...where, service: 'shop', to: 'shop_004' });
      assert.equal(script.error?.code, 'squash-has-script', script.error?.message);
      assert.match(script.error!.message, /shop_003_orders is a script \(shop_003_orders\.js\)/);
      const noTx = await squash({ ...where, service: 'shop', to: 'shop_002' });
      assert.equal(noTx.error?.code, 'squash-range-invalid', noTx.error?.message);
      assert.match(noTx.error!.message, /shop_002_price is -- tidemark:no-transaction/);
      const unknown = await squash({ ...at(), service: 'shop', to: 'shop_009' });
      assert.equal(unknown.error?.code, 'squash-range-invalid');
      assert.match(unknown.error!.message, /No migration shop_009 in shop/);
      const one = await squash({ ...at(), service: 'shop', to: 'shop_001' });
      assert.equal(one.error?.code, 'squash-range-invalid');
      assert.match(one.error!.message, /shop_001_items is shop's first migration/);
      assert.ok(!fs.existsSync(path.join(migrationsOf(other), 'squashed')));
    } finally {
      other.remove();
    }
  });

  it('refuses, before anything is written: a file edited since this database applied it, a tidemark.sum that no longer matches, a squashed/ that is a file', async () => {
    // The database is at 002 (the first case).
    const dir = migrationsOf(ws);
    const before = listing(dir);
    const file = path.join(dir, 'shop_002_price.sql');
    const original = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, original.replace("'in euros'", "'in dollars'"));
    try {
      const edited = await squash({ ...at(), service: 'shop', to: 'shop_002' });
      assert.equal(edited.error?.code, 'checksum-drift', edited.error?.message);
      assert.match(edited.error!.message, /shop_002_price\.sql was edited after .* applied it/);
      assert.deepEqual(listing(dir), before);
    } finally {
      fs.writeFileSync(file, original);
    }

    await writeSumFile('shop', dir);
    const later = path.join(dir, 'shop_004_notes.sql');
    const laterText = fs.readFileSync(later, 'utf8');
    fs.writeFileSync(later, `${laterText}-- edited\n`);
    try {
      const sum = fs.readFileSync(path.join(dir, 'tidemark.sum'), 'utf8');
      const stale = await squash({ ...at(), service: 'shop', to: 'shop_002' });
      assert.equal(stale.error?.code, 'sum-mismatch', stale.error?.message);
      assert.equal(fs.readFileSync(path.join(dir, 'tidemark.sum'), 'utf8'), sum, 'the sum is not rewritten over the edit');
    } finally {
      fs.writeFileSync(later, laterText);
      fs.rmSync(path.join(dir, 'tidemark.sum'));
    }

    fs.writeFileSync(path.join(dir, 'squashed'), 'not a directory\n');
    try {
      const blocked = await squash({ ...at(), service: 'shop', to: 'shop_002' });
      assert.equal(blocked.error?.code, 'squash-range-invalid', blocked.error?.message);
      assert.match(blocked.error!.message, /squashed is a file/);
      assert.equal(blocked.written, false);
      assert.deepEqual(listing(dir), [...before, 'squashed'].sort());
    } finally {
      fs.rmSync(path.join(dir, 'squashed'));
    }
  });

  it('squashes 001…003 of a database at 004: files moved, sum and doctor clean, up runs nothing, down removes the rows; a fresh database builds the same', async () => {
    assert.equal((await up(at())).ok, true);
    const old = await snapshotOf(ws.dir, db);
    const dir = migrationsOf(ws);
    const files = listing(dir);

    const dry = await squash({ ...at(), service: 'shop', to: 'shop_003', dryRun: true });
    assert.equal(dry.ok, true, dry.error?.message);
    assert.equal(dry.written, false);
    assert.match(
      dry.sql,
      /^-- tidemark:squashes shop_001_items shop_002_price shop_003_orders\n-- tidemark:up\n-- shop: shop_001_items…shop_003_orders squashed by `tidemark squash` from their replay \(PostgreSQL \d+\.\d+\)\.\n/,
    );
    assert.match(dry.sql, /CREATE TABLE shop_orders/);
    assert.match(dry.sql, /-- tidemark:down\n/);
    assert.deepEqual(listing(dir), files);

    const done = await squash({ ...at(), service: 'shop', to: 'shop_003' });
    assert.equal(done.ok, true, done.error?.message);
    assert.deepEqual(done.squashes, RANGE);
    assert.equal(done.sql, dry.sql);
    assert.deepEqual(listing(dir), ['shop_003_squashed.sql', 'shop_004_notes.sql', 'squashed', 'tidemark.sum']);
    assert.deepEqual(
      listing(path.join(dir, 'squashed')),
      RANGE.map((id) => `${id}.sql`),
    );
    const sum = await readSumVerification('shop', dir);
    assert.ok(sumIsClean(sum), JSON.stringify(sum));
    const doctor = await check({ configFile: at().configFile, db: false });
    assert.deepEqual(
      doctor.diagnostics.map((d) => `${d.rule}: ${d.message}`),
      [],
    );

    // The database at 004 takes the squash as applied through the rows of what it squashes.
    const st = await status(at());
    const shop = st.services.find((s) => s.service === 'shop')!;
    assert.equal(shop.pending, 0, JSON.stringify(shop.migrations));
    assert.deepEqual(
      shop.migrations.map((m) => `${m.migration} ${m.state}`),
      ['shop_003_squashed applied', 'shop_004_notes applied'],
    );
    const again = await up(at());
    assert.equal(again.ok, true, again.error?.message);
    assert.deepEqual(again.results, []);

    // A squash cannot be undone in part; down through it runs its down and forgets every row it stands for.
    const partly = await down({ ...at(), service: 'shop', to: 'shop_002' });
    assert.equal(partly.error?.code, 'unknown-target');
    assert.match(partly.error!.message, /shop_003_squashed squashes it/);
    const reverted = await down({ ...at(), service: 'shop', to: 'base' });
    assert.equal(reverted.ok, true, reverted.error?.message);
    assert.deepEqual(
      reverted.results.map((r) => `${r.migration} ${r.status}`),
      ['shop_004_notes reverted', 'shop_003_squashed reverted'],
    );
    assert.deepEqual(await shopRows(db), []);
    const emptied = await snapshotOf(ws.dir, db);
    assert.equal(emptied.tables.length + emptied.views.length, 0);

    // Emptied by that down, the database is a fresh one: the squash and 004 build what the old history built.
    const fresh = await up(at());
    assert.equal(fresh.ok, true, fresh.error?.message);
    assert.deepEqual(
      fresh.results.map((r) => `${r.migration} ${r.status}`),
      ['shop_003_squashed applied', 'shop_004_notes applied'],
    );
    assert.deepEqual(compareSnapshots(old, await snapshotOf(ws.dir, db)), []);
    assert.deepEqual(await shopRows(db), ['shop_003_squashed', 'shop_004_notes']);
  });

  // Last: its own workspace's ids are not in this database's ledger (it now holds the squash and 004).
  it('refuses a range that creates what the squash cannot reproduce (squash-proof-failed), nothing written', async () => {
    const other = makeWorkspace(
      { shop: { owns: ['shop_*'] } },
      {
        'migrations/shop/shop_001_items.sql': HISTORY['migrations/shop/shop_001_items.sql'],
        'migrations/shop/shop_002_log.sql': sqlMigration('CREATE TABLE shop_log (at date NOT NULL) PARTITION BY RANGE (at);', 'DROP TABLE shop_log;'),
      },
    );
    try {
      const files = listing(migrationsOf(other));
      const refused = await squash({ configFile: path.join(other.dir, 'tidemark.config.json'), database: db, service: 'shop', to: 'shop_002' });
      assert.equal(refused.error?.code, 'squash-proof-failed', refused.error?.message);
      assert.match(refused.error!.message, /tidemark cannot reproduce partitioned table shop_log, which they create; nothing was written/);
      assert.deepEqual(listing(migrationsOf(other)), files);
    } finally {
      other.remove();
    }
  });
});

// The command line's words and exit class; the range is refused before the (lazily opened) database is reached.
it('CLI: squash --to the first migration exits 2 naming why (squash-range-invalid)', async () => {
  const ws = makeWorkspace({ shop: { owns: ['shop_*'] } }, HISTORY);
  try {
    const run = await runCli(['squash', '--service', 'shop', '--to', 'shop_001'], ws.dir, { DATABASE_URL: 'pglite:memory' });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /shop_001_items is shop's first migration: a squash replaces two migrations or more\.\nhint: Give a later migration with --to\./);
    assert.deepEqual(
      listing(migrationsOf(ws)),
      Object.keys(HISTORY)
        .map((f) => path.basename(f))
        .sort(),
    );
  } finally {
    ws.remove();
  }
});
