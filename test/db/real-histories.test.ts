/**
 * Stage 1 of the real-history round trips (docs/plan-issue-13.md §3, §4 S1-G): each vendored project's
 * whole history (test/fixtures/real, turned into a tidemark workspace by test/support/real-histories.ts)
 * runs with `up` (one service at a time, all in one database per back-end), every migration lands in
 * the ledger, and introspecting the service gives a non-empty snapshot with nothing refused. The pgpm
 * projects need contrib extensions, which PGlite's adapter does not load: on PGlite the test pins that
 * (CREATE EXTENSION fails for each) instead of running them. Before that, without a database: the generated workspaces.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import { loadWorkspace } from '../../src/config/load.js';
import type { Workspace } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { readTidemarkHistory } from '../../src/history/read-tidemark.js';
import { sumIsClean } from '../../src/history/sum-file.js';
import { readSumVerification } from '../../src/history/sum-io.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { quoteIdent } from '../../src/sql/ident.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { ensureRoles, REAL_HISTORIES, type RealHistory, type RealHistorySource, type RealWorkspace, readRealSource, realHistoryWorkspace } from '../support/real-histories.js';

it('turns each fixture into a clean tidemark history: migration 000, downs where there are reverts, no-transaction marks, the sum, a cut at k', async () => {
  const { ws, ids } = await realHistoryWorkspace(REAL_HISTORIES);
  const cut = await realHistoryWorkspace(REAL_HISTORIES, { k: 3 });
  try {
    for (const h of REAL_HISTORIES) {
      const source = readRealSource(h.fixture);
      const dir = path.join(ws.dir, 'migrations', h.service);
      const history = await readTidemarkHistory(h.service, dir);
      assert.deepEqual(history.problems, [], h.fixture);
      assert.ok(sumIsClean(await readSumVerification(h.service, dir)), `${h.fixture}: tidemark.sum matches the files`);
      const extra = source.prelude || source.requires?.extensions.length ? 1 : 0;
      assert.equal(history.migrations.length, source.migrations.length + extra, h.fixture);
      assert.deepEqual(
        history.migrations.map((m) => m.id),
        ids[h.service],
      );
      const numbers = source.migrations.map((m) => BigInt(m.number));
      assert.deepEqual(
        history.migrations.slice(extra).map((m) => m.number),
        numbers,
        `${h.fixture}: numbers kept`,
      );
      assert.deepEqual(
        history.migrations.slice(extra).map((m) => [m.down !== undefined, !m.transactional]),
        source.migrations.map((m) => [m.down !== undefined, m.noTransaction === true]),
        `${h.fixture}: downs and no-transaction marks`,
      );
      assert.deepEqual(cut.ids[h.service], ids[h.service]?.slice(0, 3 + extra), `${h.fixture}: cut at k = 3`);
    }
    // The one history with no-transaction entries: dbos's 26 CREATE INDEX CONCURRENTLY.
    const dbos = await readTidemarkHistory('dbos', path.join(ws.dir, 'migrations/dbos'));
    assert.equal(dbos.migrations.filter((m) => !m.transactional).length, 26);
  } finally {
    ws.remove();
    cut.ws.remove();
  }
});

forEachBackend('real histories', (backend) => {
  const sources = new Map(REAL_HISTORIES.map((h) => [h.fixture, readRealSource(h.fixture)]));
  const needsContrib = (h: RealHistory) => (sources.get(h.fixture)?.requires?.extensions ?? []).length > 0;
  const runnable = REAL_HISTORIES.filter((h) => backend.name !== 'pglite' || !needsContrib(h));
  // One workspace (a service per project) and one database for the back-end: opening a PGlite
  // database costs seconds, a history's objects never collide with another's.
  let real: RealWorkspace;
  let created: TestDatabase;
  let db: Database;
  let workspace: Workspace;
  before(async () => {
    real = await realHistoryWorkspace(runnable);
    workspace = await loadWorkspace({ cwd: real.ws.dir });
    created = await backend.createDatabase();
    db = await openDatabase(created.url);
    await ensureRoles(db, [...new Set(runnable.flatMap((h) => sources.get(h.fixture)?.requires?.roles ?? []))]);
  });
  after(async () => {
    try {
      await db?.close();
      await created?.drop();
    } finally {
      real?.ws.remove();
    }
  });

  for (const history of REAL_HISTORIES) {
    const source = sources.get(history.fixture) as RealHistorySource;
    const label = `${history.fixture} (${source.migrations.length} migrations)`;
    if (!runnable.includes(history)) {
      const extensions = source.requires?.extensions.join(', ');
      // Not a skip: the reason is pinned, so the day the adapter loads contrib this fails and says so.
      it(`${label}: on PGlite its contrib extensions (${extensions}) do not load (the adapter loads none), so its history is run on the server only`, async () => {
        for (const ext of source.requires?.extensions ?? []) {
          await assert.rejects(
            db.transaction((tx) => tx.exec(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(ext)}`)),
            (err: Error) => new RegExp(`extension "${ext}"|${ext}\\.control`).test(err.message),
            `${ext} loaded on PGlite: run ${history.fixture} there too`,
          );
        }
      });
      continue;
    }
    it(`${label}: up runs the whole history and introspect gives a non-empty snapshot`, async () => {
      const { service } = history;
      const result = await up({ workspace, database: db, service });
      assert.equal(result.ok, true, `${history.fixture}: ${result.error?.message}`);
      assert.deepEqual(
        (await readLedger(db, [service])).map((r) => `${r.migration}/${r.status}`),
        real.ids[service]?.map((id) => `${id}/applied`),
      );
      const snapshot = await introspect(db, { workspace, service });
      const objects = snapshot.tables.length + snapshot.types.length + snapshot.functions.length + snapshot.views.length;
      assert.ok(objects > 0, `${history.fixture}: the snapshot holds no table, type, function or view`);
      assert.deepEqual(snapshot.unsupported, [], `${history.fixture}: introspect refuses objects`);
    });
  }
});
