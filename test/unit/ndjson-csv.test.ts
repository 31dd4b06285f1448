/**
 * ndjson → CSV (restore's client-side conversion): exact text for every kind of value, NULL vs '',
 * escapes, unicode, arrays, raw json, malformed lines, and the stream across chunk boundaries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ndjsonLineToCsv, ndjsonToCsv, type CsvColumn } from '../../src/data/ndjson-csv.js';

const scalar = (name: string): CsvColumn => ({ name, kind: 'scalar' });
const conv = (cols: CsvColumn[], line: string) => ndjsonLineToCsv(cols, line);

/** A minimal RFC 4180 reader (CSV mode as COPY reads it): fields, with null for an unquoted empty one. */
function parseCsvRecord(text: string): (string | null)[] {
  assert.ok(text.endsWith('\n'), 'one record with its newline');
  const out: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        v += text.slice(i, q);
        if (text[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      let j = i;
      while (text[j] !== ',' && text[j] !== '\n') j++;
      out.push(j === i ? null : text.slice(i, j));
      i = j;
    }
    if (text[i] === '\n') return out;
    assert.equal(text[i], ',');
    i++;
  }
}

describe('ndjson-csv', () => {
  it('numbers keep their exact text: big numerics, -0, 1e400, exponents; booleans as is', () => {
    const cols = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map(scalar);
    const line = '{"a":12345678901234567890.123456789,"b":-0,"c":1e400,"d":-3.4e+38,"e":9223372036854775807,"f":true,"g":false}';
    assert.equal(conv(cols, line), '12345678901234567890.123456789,-0,1e400,-3.4e+38,9223372036854775807,true,false\n');
  });

  it('NULL is an unquoted empty field, the empty string a quoted one', () => {
    const out = conv([scalar('a'), scalar('b'), scalar('c')], '{"a":null,"b":"","c":"null"}');
    assert.equal(out, ',"","null"\n');
    assert.deepEqual(parseCsvRecord(out), [null, '', 'null']);
  });

  it('unescapes strings: quotes, backslashes, slash, control characters, \\u escapes and surrogate pairs; raw UTF-8 copied', () => {
    const text = 'ünïcødé 美咲 🚚\nline 2\tcol "quoted" back\\slash, comma /\b\f\r\u0001\u001f\u007f';
    const line = JSON.stringify({ s: text }).replace('/', '\\/'); // JSON.stringify leaves '/' alone: escape one by hand
    const out = conv([scalar('s')], line);
    assert.deepEqual(parseCsvRecord(out), [text]);
    // \u escapes of non-ASCII (BMP and astral, as a surrogate pair) become UTF-8.
    const escaped = '{"s":"\\u00fc\\u7f8e\\ud83d\\ude9a\\u0022\\u005c"}';
    assert.deepEqual(parseCsvRecord(conv([scalar('s')], escaped)), ['ü美🚚"\\']);
    // A string with no escape at all is copied byte for byte.
    assert.equal(conv([scalar('s')], '{"s":"C:/Clientes — Ditual"}'), '"C:/Clientes — Ditual"\n');
  });

  it('json/jsonb columns: the raw JSON text, spaces and key order included; bare null is NULL, a spaced one a value', () => {
    const cols: CsvColumn[] = [{ name: 'j', kind: 'json' }, scalar('n')];
    const nested = '{"b" : 1,  "a":[1, 2.50, {"x":"}]\\"{"}], "s":"C:\\\\Clientes"}';
    assert.deepEqual(parseCsvRecord(conv(cols, `{"j":${nested},"n":1}`)), [nested, '1']);
    assert.deepEqual(parseCsvRecord(conv(cols, '{"j":  "x"  ,"n":1}')), ['  "x"  ', '1']);
    assert.deepEqual(parseCsvRecord(conv(cols, '{"j":null,"n":1}')), [null, '1']);
    assert.deepEqual(parseCsvRecord(conv(cols, '{"j": null,"n":1}')), [' null', '1']);
    assert.deepEqual(parseCsvRecord(conv(cols, '{"j":[],"n":null}')), ['[]', null]);
    assert.deepEqual(parseCsvRecord(conv(cols, '{"j":12345678901234567890.5,"n":null}')), ['12345678901234567890.5', null]);
  });

  it('arrays become PostgreSQL array literals: quoted elements, NULL, nesting, empty, the element delimiter', () => {
    const arr: CsvColumn = { name: 'a', kind: 'array' };
    const one = (line: string, col = arr) => parseCsvRecord(conv([col], line))[0];
    assert.equal(one('{"a":["x","y,z","\\"q\\"",null,"","NULL","back\\\\slash"]}'), '{"x","y,z","\\"q\\"",NULL,"","NULL","back\\\\slash"}');
    assert.equal(one('{"a":[[1,2],[3,null]]}'), '{{1,2},{3,NULL}}');
    assert.equal(one('{"a":[]}'), '{}');
    assert.equal(one('{"a":[true,false]}'), '{true,false}');
    assert.equal(one('{"a":[12345678901234567890.123456789,"NaN",-0]}'), '{12345678901234567890.123456789,"NaN",-0}');
    assert.equal(one('{"a":["(0,0),(1,1)","(2,2),(3,3)"]}', { name: 'a', kind: 'array', delimiter: ';' }), '{"(0,0),(1,1)";"(2,2),(3,3)"}');
    assert.equal(one('{"a":null}'), null);
    assert.equal(one('{"a":["\\u00fc\\n"]}'), '{"ü\n"}');
  });

  it("puts fields in the manifest's column order whatever the key order; escaped column names", () => {
    const cols = [scalar('id'), scalar('a"b'), scalar('Nome')];
    assert.equal(conv(cols, '{"id":1,"a\\"b":"x","Nome":"y"}'), '1,"x","y"\n');
    assert.equal(conv(cols, '{"Nome":"y","id":1,"a\\"b":"x"}'), '1,"x","y"\n');
  });

  it('refuses malformed lines, naming what is wrong', () => {
    const cols = [scalar('a'), scalar('b')];
    const bad: [string, RegExp][] = [
      ['{"a":1}', /missing column b/],
      ['{"a":1,"b":2,"c":3}', /column "c" is not in the manifest/],
      ['{"a":1,"a":2}', /appears twice/],
      ['{"a":1,"b":2} x', /unexpected text/],
      ['{"a":01,"b":2}', /not a JSON value/],
      ['{"a":"x,"b":2}', /./],
      ['{"a":"\\u0000","b":2}', /u0000/],
      ['{"a":[1],"b":2}', /an array where a plain value was expected/],
      ['{"a":{"x":1},"b":2}', /an object/],
      ['[1,2]', /expected \{/],
    ];
    for (const [line, re] of bad) {
      assert.throws(
        () => conv(cols, line),
        (err: Error & { code?: string }) => err.code === 'restore-bad-ndjson' && re.test(err.message),
        line,
      );
    }
    assert.throws(() => conv([{ name: 'a', kind: 'array' }], '{"a":[{"x":1}]}'), /an object inside an array/);
  });

  it('streams: a header, records across chunk boundaries (inside a multi-byte character too), a last line without newline', async () => {
    const cols = [scalar('id'), scalar('s')];
    const lines = Array.from({ length: 500 }, (_, i) => JSON.stringify({ id: i, s: `ü美🚚 ${'x'.repeat(i % 37)} "${i}"` }));
    const bytes = Buffer.from(`${lines.join('\n')}`, 'utf8'); // no final newline
    // Chunks of 7 bytes: lines and UTF-8 sequences are cut everywhere.
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    }
    const parts: Buffer[] = [];
    for await (const b of ndjsonToCsv(chunks(), cols, 'data/t.ndjson')) parts.push(Buffer.from(b));
    const text = Buffer.concat(parts).toString('utf8');
    const records = text.split(/\n(?=\d|$)/u);
    assert.equal(records[0], '"id","s"');
    const expected = lines.map((l) => {
      const o = JSON.parse(l) as { id: number; s: string };
      return `${o.id},"${o.s.replaceAll('"', '""')}"`;
    });
    assert.deepEqual(records.slice(1, -1), expected);
    assert.equal(records.at(-1), '');

    async function* broken() {
      yield Buffer.from('{"id":1,"s":"a"}\n{"id":2}\n');
    }
    await assert.rejects(
      (async () => {
        for await (const _ of ndjsonToCsv(broken(), cols, 'data/t.ndjson')) void _;
      })(),
      /data\/t\.ndjson line 2: missing column s; nothing restored/,
    );
  });
});
