/**
 * schema/catalog.ts on PGlite and the server: tables, constraints in key order, orphan counts and
 * row-security, with hostile names (dots, quotes, spaces, capitals, the words generated SQL uses).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { foreignKeys, liveTables, orphanCount, orphanSamples, rowSecurityActive, tableConstraints, ROW_SECURITY_OFF_SQL } from '../../src/schema/catalog.js';
import { quoteIdent as q, quoteQualified } from '../../src/sql/ident.js';
import { forEachBackend, withDatabase } from '../support/backends.js';

// A schema and table that read alike when joined with a dot, and names generated SQL uses as aliases.
const S1 = 'a.b';
const S2 = 'a';
const PARENT = { schema: S1, name: 'c' };
const TWIN = { schema: S2, name: 'b.c' };
const CHILD = { schema: S1, name: `p "x" 'y' Ünï 🙂` };

forEachBackend('catalog', (backend) => {
  it('lists tables, constraints in key order and foreign keys with what each caller needs, hostile names intact', () =>
    withDatabase(backend, async (db) => {
      await db.exec(`
        CREATE SCHEMA ${q(S1)}; CREATE SCHEMA ${q(S2)};
        CREATE TABLE ${quoteQualified(PARENT)} (${q('p')} int, ${q('c')} text, ${q('Order')} int, PRIMARY KEY (${q('c')}, ${q('p')}));
        CREATE TABLE ${quoteQualified(TWIN)} (id int PRIMARY KEY);
        CREATE TABLE ${quoteQualified(CHILD)} (
          id int PRIMARY KEY, ${q('p')} int, ${q('c')} text, twin int,
          CONSTRAINT ${q('fk "full"')} FOREIGN KEY (${q('c')}, ${q('p')}) REFERENCES ${quoteQualified(PARENT)} (${q('c')}, ${q('p')}) MATCH FULL,
          CONSTRAINT ${q('Chk')} CHECK (id > 0), UNIQUE (${q('c')}));
        ALTER TABLE ${quoteQualified(CHILD)} ADD FOREIGN KEY (twin) REFERENCES ${quoteQualified(TWIN)} NOT VALID;
        COMMENT ON CONSTRAINT ${q('fk "full"')} ON ${quoteQualified(CHILD)} IS 'it''s held';
        CREATE TABLE public.part (k int NOT NULL) PARTITION BY RANGE (k);
        CREATE TABLE public.part_1 PARTITION OF public.part FOR VALUES FROM (0) TO (10);
        CREATE SCHEMA tidemark; CREATE TABLE tidemark.applied (x int);`);
      const tables = await liveTables(db);
      assert.deepEqual(
        tables.map((t) => `${t.schema}|${t.name}|${t.kind}`),
        [`a|b.c|r`, `a.b|c|r`, `a.b|${CHILD.name}|r`, 'public|part|p'],
        'partitions, tidemark and system schemas left out; pairs kept apart; ordered by schema, name',
      );
      assert.ok(tables.every((t) => Number.isInteger(t.oid) && t.oid > 0));
      const oid = (n: { schema: string; name: string }) => tables.find((t) => t.schema === n.schema && t.name === n.name)!.oid;

      const all = await tableConstraints(db, [oid(CHILD)]);
      assert.deepEqual(
        all.map((c) => c.type),
        ['p', 'u', 'c', 'f', 'f'],
        'primary key, unique, check, then foreign keys',
      );
      assert.deepEqual(
        all.slice(2, 4).map((c) => c.name),
        ['Chk', 'fk "full"'],
      );
      const full = all.find((c) => c.name === 'fk "full"')!;
      assert.deepEqual(full.table, CHILD);
      assert.equal(full.tableOid, oid(CHILD));
      assert.deepEqual(full.columns, ['c', 'p'], 'key order, not column order');
      assert.equal(full.comment, "it's held");
      assert.equal(full.validated, true);
      assert.equal(full.inherited, false);
      assert.equal(full.ownedByRole, true);
      assert.match(full.definition, /^FOREIGN KEY \(c, p\) REFERENCES "a\.b"\.c\(c, p\) MATCH FULL$/);
      assert.deepEqual(full.references, { schema: S1, name: 'c', oid: oid(PARENT), kind: 'r', columns: ['c', 'p'], matchType: 'f', canReference: true });
      const twin = all.find((c) => c.type === 'f' && c !== full)!;
      assert.equal(twin.validated, false);
      assert.deepEqual({ ...twin.references, oid: 0 }, { schema: S2, name: 'b.c', oid: 0, kind: 'r', columns: ['id'], matchType: 's', canReference: true });
      assert.equal(all.find((c) => c.name === 'Chk')!.references, undefined);

      const fks = await foreignKeys(db, [oid(CHILD), oid(PARENT)]);
      assert.deepEqual(
        fks.map((c) => c.name),
        ['fk "full"', twin.name],
        'foreign keys only, by name',
      );
      assert.deepEqual(
        (await foreignKeys(db, [oid(CHILD)], [oid(TWIN)])).map((c) => c.name),
        [twin.name],
        'only those pointing into the given tables',
      );
      assert.deepEqual(await foreignKeys(db, []), []);
      const partKeys = await tableConstraints(db, [oid({ schema: 'public', name: 'part' })]);
      assert.deepEqual(partKeys, []);
    }));

  it('counts and samples orphans: MATCH SIMPLE and FULL, as text, ONLY; hostile column names', () =>
    withDatabase(backend, async (db) => {
      await db.exec(`
        CREATE SCHEMA ${q(S1)};
        CREATE TABLE ${quoteQualified(PARENT)} (${q('p')} int, ${q('c')} text);
        INSERT INTO ${quoteQualified(PARENT)} VALUES (1, 'x'), (2, 'y');
        CREATE TABLE ${quoteQualified(CHILD)} (${q('p')} int, ${q('c')} text);
        INSERT INTO ${quoteQualified(CHILD)} VALUES (1, 'x'), (2, 'x'), (3, NULL), (NULL, NULL), (9, 'z'), (9, 'z');
        CREATE TABLE ${q(S1)}.kid () INHERITS (${quoteQualified(CHILD)});
        INSERT INTO ${q(S1)}.kid VALUES (7, 'q');`);
      const key = { child: CHILD, columns: ['p', 'c'], parent: PARENT, referencedColumns: ['p', 'c'] };
      assert.equal(await orphanCount(db, key), 4, 'simple: (2,x), (9,z) twice and the inherited (7,q)');
      assert.equal(await orphanCount(db, { ...key, childOnly: true }), 3);
      assert.equal(await orphanCount(db, { ...key, childOnly: true, matchFull: true }), 4, 'full: (3,NULL) too, (NULL,NULL) passes');
      assert.deepEqual(await orphanSamples(db, { ...key, childOnly: true }, 10), ['(2,x)', '(9,z)']);
      assert.deepEqual(await orphanSamples(db, { ...key, childOnly: true }, 1), ['(2,x)']);
      const one = { child: CHILD, columns: ['p'], parent: PARENT, referencedColumns: ['p'], childOnly: true };
      assert.equal(await orphanCount(db, one), 3);
      assert.deepEqual(await orphanSamples(db, one, 5), ['3', '9']);
      // Different types compared as text (a soft relation): int against text.
      assert.equal(await orphanCount(db, { ...one, referencedColumns: ['c'], asText: true }), 5, 'no number is the text x or y');
    }));

  it('finds the tables whose row-level security applies to the role', () =>
    withDatabase(backend, async (db) => {
      const role = `tm role ${randomBytes(4).toString('hex')}`;
      await db.exec(`
        CREATE SCHEMA ${q(S1)};
        CREATE TABLE ${quoteQualified(PARENT)} (id int); CREATE TABLE ${quoteQualified(CHILD)} (id int);
        ALTER TABLE ${quoteQualified(PARENT)} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE ${quoteQualified(CHILD)} ENABLE ROW LEVEL SECURITY;
        CREATE ROLE ${q(role)};
        GRANT USAGE ON SCHEMA ${q(S1)} TO ${q(role)}; GRANT SELECT ON ${quoteQualified(CHILD)} TO ${q(role)};
        ALTER TABLE ${quoteQualified(PARENT)} OWNER TO ${q(role)};`);
      try {
        const oids = (await liveTables(db)).map((t) => t.oid);
        assert.deepEqual(await rowSecurityActive(db, oids), [], 'a superuser bypasses it');
        assert.deepEqual(await rowSecurityActive(db, []), []);
        // Everything below rolls back: the last statement fails, as the load would without the check.
        const done = db.transaction(async (tx) => {
          await tx.exec(`SET LOCAL ROLE ${q(role)}`);
          const active = await rowSecurityActive(tx, oids);
          assert.deepEqual(
            active.map((t) => [t.schema, t.name, t.force, t.owner, t.role]),
            [[S1, CHILD.name, false, false, role]],
            'the owner without FORCE is exempt',
          );
          await tx.exec(`ALTER TABLE ${quoteQualified(PARENT)} FORCE ROW LEVEL SECURITY`);
          const forced = await rowSecurityActive(tx, oids);
          assert.deepEqual(
            forced.map((t) => [t.name, t.force, t.owner]),
            [
              ['c', true, true],
              [CHILD.name, false, false],
            ],
          );
          await tx.exec(ROW_SECURITY_OFF_SQL);
          await tx.query(`SELECT * FROM ${quoteQualified(CHILD)}`);
        });
        await assert.rejects(done, /row-level security/);
      } finally {
        await db.exec(`DROP SCHEMA ${q(S1)} CASCADE; DROP ROLE ${q(role)}`);
      }
    }));
});
