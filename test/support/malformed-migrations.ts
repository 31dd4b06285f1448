/**
 * Generated malformed migration files (issue 11 §6): every value is a file `up` must refuse before
 * anything runs: a transaction statement anywhere, what PostgreSQL refuses inside a transaction, a
 * misspelled or random directive, a NUL byte or invalid UTF-8, random bytes, a syntax error; some
 * runs put the defect after ~60,000 lines of valid SQL.
 */
import fc from 'fast-check';

const KNOWN = new Set(['up', 'down', 'no-transaction', 'requires']);
const valid = fc.constantFrom(
  'CREATE TABLE IF NOT EXISTS fz (id int)',
  'INSERT INTO base VALUES (7)',
  'SELECT 1',
  "COMMENT ON TABLE base IS 'fz'",
  'CREATE INDEX IF NOT EXISTS base_id ON base (id)',
  'DO $$ BEGIN PERFORM 1; END $$',
  "SELECT 'a;b', $x$;$x$",
);
const transactionStatement = fc.constantFrom(
  'BEGIN',
  'COMMIT',
  'END',
  'ROLLBACK',
  'ABORT',
  'START TRANSACTION',
  'COMMIT AND CHAIN',
  'ROLLBACK AND CHAIN',
  "PREPARE TRANSACTION 'fz'",
  "COMMIT PREPARED 'fz'",
  'RELEASE SAVEPOINT nope',
  'ROLLBACK TO SAVEPOINT nope',
);
const outsideOnly = fc.constantFrom('CREATE INDEX CONCURRENTLY fz_i ON base (id)', 'VACUUM', 'DISCARD ALL', 'CREATE DATABASE fz', 'ALTER SYSTEM SET work_mem = 1');
const badDirective = fc
  .oneof(fc.constantFrom('donw', 'upp', 'no_transaction', 'notransaction', 'require', 'rollback', 'transaction', ''), fc.stringMatching(/^[A-Za-z][\w-]{0,12}$/))
  .filter((w) => !KNOWN.has(w.toLowerCase()));
const statements = fc.array(valid, { minLength: 0, maxLength: 6 });
/** Some runs get a large file: the defect comes after this many lines of valid SQL. */
const padding = fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(60_000) });

export interface Generated {
  ext: 'sql' | 'mjs';
  bytes: Uint8Array;
  what: string;
}

const sqlFile = (stmts: string[], header = '') => `${header}-- tidemark:up\n${stmts.map((s) => `${s};`).join('\n')}\n`;
const text = (ext: 'sql' | 'mjs', body: string, what: string): Generated => ({ ext, bytes: Buffer.from(body, 'utf8'), what });

export const malformed: fc.Arbitrary<Generated> = fc.oneof(
  // a transaction statement anywhere between statements, with or without no-transaction
  fc.tuple(statements, transactionStatement, fc.nat(), fc.boolean(), padding).map(([s, t, at, noTx, pad]) => {
    const all = [...Array(pad).fill('SELECT 1'), ...s];
    all.splice(pad + (at % (s.length + 1)), 0, t);
    return text('sql', sqlFile(all, noTx ? '-- tidemark:no-transaction\n' : ''), `transaction statement ${t}`);
  }),
  // what PostgreSQL refuses inside a transaction block, in a transactional migration
  fc.tuple(statements, outsideOnly, fc.nat()).map(([s, t, at]) => {
    const all: string[] = [...s];
    all.splice(at % (s.length + 1), 0, t);
    return text('sql', sqlFile(all), `outside-only ${t}`);
  }),
  // a misspelled or random directive on any line
  fc.tuple(statements, badDirective, fc.nat(), fc.constantFrom('-- tidemark:', '--tidemark: ', '  --  tidemark:')).map(([s, d, at, prefix]) => {
    const lines = sqlFile(s).split('\n');
    lines.splice(at % lines.length, 0, `${prefix}${d}`);
    return text('sql', lines.join('\n'), `directive ${d}`);
  }),
  fc.tuple(badDirective).map(([d]) => text('mjs', `// tidemark:${d}\nexport async function up(ctx) { await ctx.db.exec('CREATE TABLE fz_script (id int)'); }\n`, `script directive ${d}`)),
  // a NUL byte or invalid UTF-8 anywhere in an otherwise valid file
  fc.tuple(statements, fc.nat(), fc.constantFrom([0x00], [0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80])).map(([s, at, bad]) => {
    const good = Buffer.from(sqlFile(['CREATE TABLE fz_bytes (id int)', ...s]), 'utf8');
    const cut = at % (good.length + 1);
    return { ext: 'sql' as const, bytes: Buffer.concat([good.subarray(0, cut), Buffer.from(bad), good.subarray(cut)]), what: `bytes ${bad}` };
  }),
  // random bytes
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => ({ ext: 'sql' as const, bytes, what: 'random bytes' })),
  // a syntax error somewhere
  fc.tuple(statements, fc.string({ maxLength: 30 }), fc.nat()).map(([s, junk, at]) => {
    const all = ['CREATE TABLE fz_syntax (id int)', ...s];
    all.splice(1 + (at % (s.length + 1)), 0, `)( ${junk.replaceAll('$', '')}`);
    return text('sql', sqlFile(all), 'syntax error');
  }),
);
