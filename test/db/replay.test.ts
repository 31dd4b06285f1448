/**
 * apply/replay.ts: replaying a history on a fresh database gives the snapshot `up` + introspect gives,
 * on PGlite and the server; a failing history rejects with the failing step's error. One database per
 * back-end: `up` + snapshot, `down --to base`, then replay on the same (now empty) database.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { down, up } from '../../src/api/migrate.js';
import { replay, replayMigrations } from '../../src/apply/replay.js';
import { loadWorkspace } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/open.js';
import { TidemarkError } from '../../src/errors.js';
import { readLedger } from '../../src/ledger/ledger.js';
import { introspect } from '../../src/schema/introspect/index.js';
import { forEachBackend } from '../support/backends.js';
import { copyCrmExample, sqlMigration } from '../support/workspace.js';

forEachBackend('replay', (backend) => {
  it('replays the CRM example to the snapshot up + introspect gives; the closure, the ledger rows and a failing step', async () => {
    const ws = copyCrmExample();
    const created = await backend.createDatabase();
    const db = await openDatabase(created.url);
    try {
      const workspace = await loadWorkspace({ cwd: ws.dir });

      // The reference: up, then what each service owns.
      const applied = await up({ workspace, database: db });
      assert.equal(applied.ok, true, applied.error?.message);
      const viaUp = { user: await introspect(db, { workspace, service: 'user' }), budget: await introspect(db, { workspace, service: 'budget' }) };
      assert.ok(
        viaUp.budget.tables.some((t) => t.name === 'budget_items'),
        'the reference snapshot is not empty',
      );
      for (const service of ['budget', 'user']) {
        const r = await down({ workspace, database: db, service, to: 'base' });
        assert.equal(r.ok, true, r.error?.message);
      }
      assert.deepEqual(await readLedger(db), []);

      // budget requires user: replaying budget alone brings user along, in requirement order.
      const events: string[] = [];
      const budget = await replay({ workspace, onEvent: (e) => e.type === 'step-start' && events.push(e.step.migration.id) }, 'budget', db);
      assert.deepEqual(events, ['user_001_initial_schema', 'budget_001_initial_schema']);
      assert.deepEqual(budget, viaUp.budget);
      assert.deepEqual(await introspect(db, { workspace, service: 'user' }), viaUp.user);
      // The ledger rows it wrote are the shadow's, as up writes them.
      assert.deepEqual(
        (await readLedger(db)).map((r) => `${r.service}/${r.migration}/${r.status}`),
        ['budget/budget_001_initial_schema/applied', 'user/user_001_initial_schema/applied'],
      );
      // Replaying again applies nothing and snapshots the same.
      assert.deepEqual(await replayMigrations({ workspace }, ['user', 'budget'], db), []);
      assert.deepEqual(await replay({ workspace }, 'user', db), viaUp.user);

      // A step that fails rejects with that step's error (file and line), not a result to inspect.
      const file = ws.write('migrations/user/user_002_broken.sql', sqlMigration('CREATE TABLE users (id int);', 'SELECT 1;'));
      const fresh = await loadWorkspace({ cwd: ws.dir });
      await assert.rejects(replay({ workspace: fresh }, 'user', db), (err: unknown) => {
        assert.ok(err instanceof TidemarkError, String(err));
        assert.equal(err.code, 'migration-failed');
        assert.equal(err.file, file);
        return true;
      });
      // Given histories are used as they are (not read again): one without the new file replays nothing.
      const { readHistories } = await import('../../src/apply/migrate.js');
      const before = (await readHistories(workspace, [])).map((h) => ({ ...h, migrations: h.migrations.filter((m) => !m.id.endsWith('broken')) }));
      assert.deepEqual(await replayMigrations({ workspace: fresh, histories: before }, ['user'], db), []);
      // An Alembic or unknown service is refused as up refuses it.
      await assert.rejects(replay({ workspace }, 'nobody', db), (err: unknown) => err instanceof TidemarkError && err.code === 'unknown-service');
    } finally {
      await db.close();
      await created.drop();
      ws.remove();
    }
  });
});
