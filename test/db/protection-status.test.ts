/**
 * `tidemark status` and `tidemark check --db` show whether the database is protected (issue 11 left the
 * `tidemark protect` mark invisible until a reset refused): `protection` in --json (protected, marked,
 * since, by, the other reasons) and a `protected yes/no` line in text. The verdict is the guard's own:
 * after `protect` the very reset it predicts is refused, and a config `protected` entry shows too.
 * In-process on both back-ends; the text through the CLI on the server only (the rendering does not
 * depend on the back-end, and a CLI run on PGlite costs a process and a PGlite start).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { status } from '../../src/api/migrate.js';
import { check } from '../../src/api/check.js';
import { openDatabase } from '../../src/db/open.js';
import { protect, reset } from '../../src/api/flows.js';
import { ACTOR } from '../../src/version.js';
import { forEachBackend } from '../support/backends.js';
import { makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

forEachBackend('protection in status and check --db', (backend) => {
  it('not protected, then marked (since, by), then listed in the config: status and check --db say so, as the guard decides', async () => {
    const created = await backend.createDatabase();
    const ws = makeWorkspace({ app: { owns: ['items'] } }, { 'migrations/app/app_001_items.sql': sqlMigration('CREATE TABLE items (id int);', 'DROP TABLE items;') });
    const cwd = ws.dir;
    const url = created.url;
    // One open for the mark's cases (a PGlite start is the expensive part); the URL for the config's list.
    const db = await openDatabase(url);
    try {
      const none = { protected: false, marked: false, reasons: [] };
      const s0 = await status({ cwd, database: db });
      assert.ifError(s0.error);
      assert.deepEqual(s0.protection, none);
      // drift: false here and below: only the guard's verdict is under test, and drift costs a shadow.
      const c0 = await check({ cwd, database: db, db: true, drift: false });
      assert.ifError(c0.error);
      assert.deepEqual(c0.protection, none);

      const marked = await protect({ cwd, database: db });
      assert.ifError(marked.error);
      const at = (await db.query<{ at: Date | string }>('SELECT protected_at AS at FROM tidemark.protection')).rows[0].at;
      const mark = { protected: true, marked: true, since: new Date(at).toISOString(), by: ACTOR, reasons: [] };
      assert.deepEqual((await status({ cwd, database: db })).protection, mark);
      assert.deepEqual((await check({ cwd, database: db, db: true, drift: false })).protection, mark);
      // What status predicts is what reset does.
      assert.equal((await reset({ cwd, database: db, service: 'app' })).error?.code, 'protected-target');

      if (backend.name === 'postgres') {
        const text = await runCli(['status', '--database', url], cwd);
        assert.equal(text.code, 0, text.stderr);
        const by = ACTOR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        assert.match(
          text.stdout,
          new RegExp(
            `^protected yes: marked inside the database \\(\`tidemark protect\`\\) since ${mark.since.slice(0, 16).replace('T', ' ')} UTC by ${by}; reset, rebaseline and restore --replace refuse it without --force-protected$`,
            'm',
          ),
        );
        const doctor = await runCli(['check', '--db', '--no-drift', '--database', url], cwd);
        assert.match(doctor.stdout, /^database postgres:\/\/\S+ protected yes: marked inside the database/m);
      }

      const off = await protect({ cwd, database: db, off: true, forceProtected: true, yesIMean: marked.name });
      assert.ifError(off.error);
      assert.deepEqual((await status({ cwd, database: db })).protection, none);
    } finally {
      await db.close();
    }
    try {
      // No mark, but the config's protected list names it: shown with its reason, through the URL.
      const config = path.join(cwd, 'tidemark.config.json');
      const name = backend.name === 'pglite' ? url : new URL(url).pathname.slice(1);
      fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), protected: [name] }));
      const s2 = await status({ cwd, database: url });
      assert.ifError(s2.error);
      assert.equal(s2.protection?.protected, true);
      assert.equal(s2.protection?.marked, false);
      assert.match(s2.protection!.reasons.join(' | '), /in the config's protected list/);
      assert.equal((await reset({ cwd, database: url, service: 'app' })).error?.code, 'protected-target');
    } finally {
      ws.remove();
      await created.drop();
    }
  });
});
