import assert from 'node:assert/strict';
import { it } from 'node:test';
import { findTableReferences } from '../../src/history/sql-tables.js';

it('finds every table a migration touches, with its line and action', async () => {
  const sql = [
    'CREATE TABLE budgets (id int, user_id bigint REFERENCES users(id));',
    "WITH x AS (SELECT * FROM crm.users u) UPDATE budgets b SET title = 'x' FROM x WHERE b.user_id = x.id;",
    'ALTER TABLE "Users" ADD COLUMN z int;',
    'DROP TABLE IF EXISTS users, budget_items;',
    'INSERT INTO audit SELECT * FROM users;',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT count(*) FROM hidden $$;',
    "COMMENT ON COLUMN public.users.email IS 'é';",
    'CREATE VIEW v AS SELECT * FROM users;',
    'TRUNCATE users;',
  ].join('\n');
  const refs = await findTableReferences(sql, 'f.sql', 10);
  assert.deepEqual(
    refs.map((r) => `${r.line} ${r.action} ${r.table}`),
    [
      '10 REFERENCES users',
      '10 CREATE TABLE budgets',
      '11 SELECT crm.users',
      '11 UPDATE budgets',
      '12 ALTER TABLE Users',
      '13 DROP users',
      '13 DROP budget_items',
      '14 SELECT users',
      '14 INSERT audit',
      '16 COMMENT ON public.users',
      '17 SELECT users',
      '17 CREATE VIEW v',
      '18 TRUNCATE users',
    ],
  );
});

it('returns nothing for SQL that does not parse', async () => {
  assert.deepEqual(await findTableReferences('CREATE TABEL x ()', 'f.sql', 1), []);
});
