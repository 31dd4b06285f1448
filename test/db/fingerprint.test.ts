import assert from 'node:assert/strict';
import { it } from 'node:test';
import { forEachBackend, withDatabase } from '../support/backends.js';
import { fingerprint, fingerprintDiff } from '../support/fingerprint.js';

// The yardstick of "nothing changed" must itself see every kind of change.
forEachBackend('test fingerprint', (backend) => {
  it('is stable, and changes with a row, a column default, a comment, a sequence and an index', () =>
    withDatabase(backend, async (db) => {
      await db.exec(`CREATE SCHEMA "a.b"; CREATE TABLE "a.b".c (id serial PRIMARY KEY, v text DEFAULT 'x');
                     INSERT INTO "a.b".c (v) VALUES ('one'), ('two');`);
      const base = await fingerprint(db);
      assert.equal(await fingerprint(db), base);
      const changes: [string, string][] = [
        [`UPDATE "a.b".c SET v = 'uno' WHERE v = 'one'`, 'rows "a.b"."c"'],
        [`ALTER TABLE "a.b".c ALTER v SET DEFAULT 'y'`, 'columns'],
        [`COMMENT ON TABLE "a.b".c IS 'hi'`, 'comments'],
        [`SELECT nextval('"a.b".c_id_seq')`, 'rows "a.b"."c_id_seq"'],
        [`CREATE INDEX ON "a.b".c (v)`, 'indexes'],
      ];
      for (const [sql, part] of changes) {
        const before = await fingerprint(db);
        await db.exec(sql);
        const after = await fingerprint(db);
        assert.ok(fingerprintDiff(before, after).includes(part), `${sql} → ${fingerprintDiff(before, after).join(', ')}`);
      }
    }));
});
