/**
 * The every-common-column-type fixture of the backup and restore tests (issue 4: int, bigint,
 * numeric, real, text with unicode / newlines / tabs / quotes / backslashes, NULL vs '', bool, date,
 * timestamptz, uuid, jsonb, text[], bytea, an enum, a generated and an identity column).
 */
export const BIG_NUMERIC = '12345678901234567890.123456789';

export const ENUM_SQL = `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');`;

export const ALL_COLUMNS = ['id', 'i', 'big', 'n', 'money', 'r', 'd', 's', 'b', 'day', 'at', 'u', 'j', 'tags', 'raw', 'm', 'doubled'];

/** CREATE TABLE all_types; `extra` adds columns or constraints, `drop` leaves columns out (a changed schema). */
export function allTypesTableSql(extra = '', drop: string[] = []): string {
  const cols = [
    'id        int GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    'i         int',
    'big       bigint',
    'n         numeric',
    'money     numeric(14,2)',
    'r         real',
    'd         double precision',
    's         text',
    'b         boolean',
    'day       date',
    'at        timestamptz',
    'u         uuid',
    'j         jsonb',
    'tags      text[]',
    'raw       bytea',
    'm         mood',
    'doubled   bigint GENERATED ALWAYS AS (i::bigint * 2) STORED',
  ].filter((c) => !drop.includes(c.split(/\s+/)[0]));
  return `CREATE TABLE all_types (\n  ${cols.join(',\n  ')}${extra ? `,\n  ${extra}` : ''}\n);`;
}

/** Three rows: every edge value, then their opposites and empties, then all NULL. */
export const ALL_TYPES_INSERT_SQL = String.raw`
INSERT INTO all_types (i, big, n, money, r, d, s, b, day, at, u, j, tags, raw, m) VALUES
  (1, 9223372036854775807, ${BIG_NUMERIC}, 1234.50, 1.1, 0.1,
   e'ünïcødé 美咲 🚚\nline 2\tcol "quoted" back\\slash, comma', true, '2024-02-29',
   '2024-01-01 12:00:00.123456+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '{"path": "C:\\Clientes\\Ditual", "q": "say \"hi\"", "nested": {"a": [1, 2.50, null]}}',
   ARRAY['x', 'y,z', '"q"', NULL, ''], '\xdeadbeef00', 'happy'),
  (-2, -9223372036854775808, -0.000000000000000000001, 0, -3.4e38, 1e-300, '', false, '0001-01-01',
   '1970-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000', '[]', '{}', '\x', 'sad'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
`;

/** The type, the table and its rows. */
export const ALL_TYPES_SQL = `${ENUM_SQL}\n${allTypesTableSql()}\n${ALL_TYPES_INSERT_SQL}`;
