import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isTidemarkError } from '../../src/errors.js';
import { splitStatements, topLevelSemicolons, type SqlStatement } from '../../src/history/sql-statements.js';
import { refusedInTransactionBlock, transactionChecker } from '../../src/history/transaction-control.js';
import { cpuNow } from '../support/cpu-time.js';

async function split(text: string, startLine = 1) {
  return splitStatements({ text, line: startLine }, 'm.sql', 'app_001_m');
}

/** The statements and what the checker says about each: undefined (allowed) or the error code. */
async function verdicts(text: string, transactional = true, serverVersionNum?: number): Promise<string | undefined> {
  const inspect = transactionChecker({ file: 'm.sql', migrationId: 'app_001_m', transactional, serverVersionNum });
  try {
    await splitStatements({ text, line: 1 }, 'm.sql', 'app_001_m', { inspect });
    return undefined;
  } catch (err) {
    assert.ok(isTidemarkError(err), String(err));
    assert.equal(err.kind, 'input');
    return `${err.code}@${err.line}`;
  }
}

describe('splitting SQL into statements', () => {
  it('cuts only at top-level semicolons', () => {
    const text = [
      `SELECT 'a;b', E'c\\';d', "e;f";`,
      `-- g;h`,
      `/* i; /* nested; */ j; */ SELECT 1;`,
      `CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;`,
      `CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;`,
      `SELECT (1;`,
      `);`,
      `SELECT $1, a$b, $$x;$$;`,
    ].join('\n');
    const ends = topLevelSemicolons(text).map((i) => text.slice(0, i).split('\n').length);
    assert.deepEqual(ends, [1, 3, 4, 5, 7, 8]);
  });

  it('gives each statement the line where it starts, after comments and blank lines', async () => {
    const stmts = await split('\n-- lead\nCREATE TABLE a (id int);\n\n/* c */\nINSERT INTO a\n  VALUES (1);\nSELECT 1', 10);
    assert.deepEqual(
      stmts.map((s) => [s.line, s.text]),
      [
        [12, 'CREATE TABLE a (id int)'],
        [15, 'INSERT INTO a\n  VALUES (1)'],
        [17, 'SELECT 1'],
      ],
    );
  });

  it('a big section is parsed in pieces with the same statements and lines as a small one', async () => {
    // Statements with semicolons inside strings, dollar quotes and multi-byte text, over many pieces.
    const parts: string[] = [];
    const expected: [number, string][] = [];
    let line = 1;
    let size = 0;
    for (let i = 0; size < 700_000; i++) {
      const stmt =
        i % 3 === 0
          ? `CREATE FUNCTION f${i}() RETURNS text LANGUAGE sql AS $q$ SELECT 'ä;${i}'; $q$`
          : i % 3 === 1
            ? `INSERT INTO t VALUES (${i}, 'x;\n${'é'.repeat(i % 50)}')`
            : `-- note ${i};\nSELECT ${i}`;
      const lead = stmt.startsWith('--') ? 1 : 0;
      expected.push([line + lead, stmt.startsWith('--') ? stmt.slice(stmt.indexOf('\n') + 1) : stmt]);
      parts.push(`${stmt};`);
      size += stmt.length + 2;
      line += stmt.split('\n').length;
    }
    const stmts = await split(parts.join('\n'));
    assert.equal(stmts.length, expected.length);
    assert.deepEqual(
      stmts.map((s) => [s.line, s.text]),
      expected,
    );
  });

  it('a syntax error in a later piece names its file line', async () => {
    const good = Array.from({ length: 20_000 }, (_, i) => `INSERT INTO t VALUES (${i});`).join('\n');
    await assert.rejects(split(`${good}\nSELEC 1;\n${good}`), (err: unknown) => {
      assert.ok(isTidemarkError(err));
      assert.equal(err.code, 'migration-syntax');
      assert.equal(err.line, 20_001);
      assert.match(err.message, /^m\.sql:20001: app_001_m: syntax error at or near "SELEC"/);
      return true;
    });
  });

  it('takes time linear in the size: 20,000 statements cost about 10× 2,000, not 100×', async () => {
    const make = (n: number) => Array.from({ length: n }, (_, i) => `INSERT INTO t VALUES (${i}, 'row ${i}');`).join('\n');
    const small = make(2_000);
    const large = make(20_000);
    const time = async (text: string) => {
      let best = Infinity;
      for (let r = 0; r < 3; r++) {
        const t0 = cpuNow();
        const stmts = await split(text);
        best = Math.min(best, cpuNow() - t0);
        assert.ok(stmts.length >= 2_000);
      }
      return best;
    };
    await time(small); // warm up the parser
    const a = await time(small);
    const b = await time(large);
    // Quadratic splitting measured 78× (0.5 s → 39.8 s) on this machine; linear is ~10×.
    assert.ok(b / a < 30, `2,000 statements ${a.toFixed(0)} ms, 20,000 statements ${b.toFixed(0)} ms: ratio ${(b / a).toFixed(1)}`);
  });

  it('never throws anything but a TidemarkError with a line, for any text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .array(fc.constantFrom("'", '"', '$$', '$a$', ';', '--', '/*', '*/', "E'", '\\', '\n', 'BEGIN', 'END', 'CASE', 'CREATE FUNCTION', '(', ')', 'SELECT 1', ' '), { maxLength: 60 })
            .map((a) => a.join('')),
        ),
        async (text) => {
          try {
            const stmts = await split(text, 3);
            for (const s of stmts) assert.ok(s.line >= 3 && s.line <= 3 + text.split('\n').length, `line ${s.line}`);
          } catch (err) {
            assert.ok(isTidemarkError(err), `not a TidemarkError: ${String(err)}`);
            assert.equal(err.kind, 'input');
            assert.ok(Number.isInteger(err.line) && err.line! >= 3, `line ${err.line}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("statements that break the migration's transaction", () => {
  it('refuses every transaction statement, with its line, in both kinds of migration', async () => {
    for (const stmt of [
      'BEGIN',
      'BEGIN ISOLATION LEVEL SERIALIZABLE',
      'START TRANSACTION',
      'COMMIT',
      'END',
      'COMMIT AND CHAIN',
      'ROLLBACK',
      'ABORT',
      'ROLLBACK AND CHAIN',
      "PREPARE TRANSACTION 'x'",
      "COMMIT PREPARED 'x'",
      "ROLLBACK PREPARED 'x'",
    ]) {
      assert.equal(await verdicts(`CREATE TABLE a (id int);\n\n${stmt};\nSELECT 1;`), 'transaction-control@3', stmt);
      assert.equal(await verdicts(`CREATE TABLE a (id int);\n${stmt};`, false), 'transaction-control@2', `${stmt} (no-transaction)`);
    }
  });

  it('allows savepoints the migration sets itself, refuses the others', async () => {
    assert.equal(await verdicts('SAVEPOINT a;\nSELECT 1;\nROLLBACK TO a;\nROLLBACK TO SAVEPOINT a;\nRELEASE a;\nSAVEPOINT b;'), undefined);
    assert.equal(await verdicts('SAVEPOINT a;\nRELEASE a;\nRELEASE a;'), 'transaction-control@3');
    assert.equal(await verdicts('SELECT 1;\nROLLBACK TO x;'), 'transaction-control@2');
    assert.equal(await verdicts('SAVEPOINT a;\nSAVEPOINT b;\nRELEASE a;\nROLLBACK TO b;'), 'transaction-control@4');
    assert.equal(await verdicts('SAVEPOINT a;', false), 'transaction-control@1');
  });

  it('refuses what PostgreSQL refuses in a transaction block, and allows it with no-transaction', async () => {
    const refused = [
      'CREATE INDEX CONCURRENTLY i ON t (a)',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)',
      'DROP INDEX CONCURRENTLY i',
      'REINDEX TABLE CONCURRENTLY t',
      'REINDEX (CONCURRENTLY) INDEX i',
      'REINDEX DATABASE d',
      'REINDEX SYSTEM d',
      'ALTER TABLE p DETACH PARTITION c CONCURRENTLY',
      'VACUUM',
      'VACUUM (ANALYZE) t',
      'VACUUM FULL t',
      'CLUSTER',
      'CREATE DATABASE x',
      'DROP DATABASE x',
      'DROP DATABASE IF EXISTS x WITH (FORCE)',
      'ALTER DATABASE x SET TABLESPACE y',
      "CREATE TABLESPACE t LOCATION '/x'",
      'DROP TABLESPACE t',
      'ALTER SYSTEM SET work_mem = 1',
      'ALTER SYSTEM RESET ALL',
      'DISCARD ALL',
      "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
      "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = true)",
      'ALTER SUBSCRIPTION s REFRESH PUBLICATION',
      'ALTER SUBSCRIPTION s SET PUBLICATION p',
      'DROP SUBSCRIPTION s',
    ];
    for (const stmt of refused) {
      assert.equal(await verdicts(`SELECT 1;\n${stmt};`), 'not-in-transaction@2', stmt);
      assert.equal(await verdicts(`SELECT 1;\n${stmt};`, false), undefined, `${stmt} (no-transaction)`);
    }
    const allowed = [
      'CREATE INDEX i ON t (a)',
      'DROP INDEX i',
      'REINDEX TABLE t',
      'ANALYZE t',
      'CLUSTER t USING i',
      'ALTER DATABASE x SET work_mem = 1',
      'DISCARD PLANS',
      'REFRESH MATERIALIZED VIEW CONCURRENTLY v',
      "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false)",
      "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = off)",
      'ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)',
      "ALTER TYPE e ADD VALUE 'x'",
      'DO $$ BEGIN COMMIT; END $$',
      'CALL p()',
    ];
    for (const stmt of allowed) assert.equal(await verdicts(`${stmt};`), undefined, stmt);
  });

  it('refuses ALTER TYPE … ADD VALUE in a transaction only before PostgreSQL 12', async () => {
    assert.equal(await verdicts("SELECT 1;\nALTER TYPE e ADD VALUE 'x';", true, 110000), 'not-in-transaction@2');
    assert.equal(await verdicts("SELECT 1;\nALTER TYPE e ADD VALUE 'x';", true, 150000), undefined);
    assert.equal(await verdicts("ALTER TYPE e RENAME VALUE 'a' TO 'b';", true, 110000), undefined);
    assert.equal(refusedInTransactionBlock({ AlterEnumStmt: { newVal: 'x' } }, 100000), 'ALTER TYPE … ADD VALUE (before PostgreSQL 12)');
  });

  it('names the statement and says what to do', async () => {
    const inspect = transactionChecker({ file: 'migrations/app/app_002_x.sql', migrationId: 'app_002_x', transactional: true });
    const statement: SqlStatement = { text: 'CREATE INDEX CONCURRENTLY i ON t (a)', line: 7 };
    assert.throws(
      () => inspect({ IndexStmt: { concurrent: true } }, statement),
      (err: unknown) => {
        assert.ok(isTidemarkError(err));
        assert.equal(err.message, 'migrations/app/app_002_x.sql:7: app_002_x: `CREATE INDEX CONCURRENTLY i ON t (a)` cannot run inside a transaction block (CREATE INDEX CONCURRENTLY).');
        assert.match(err.hint!, /-- tidemark:no-transaction/);
        return true;
      },
    );
  });
});
