/**
 * Restore's COPY input in pieces for PGlite (copy-pieces.ts): cuts only at record ends (quoted
 * newlines and `""` are data), the csv header repeated on every later piece, pieces no larger than
 * asked unless one record is, and the pieces minus repeated headers equal to the input byte for byte.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyPieces, type CopyPieceFormat } from '../../src/data/copy-pieces.js';

async function* chunksOf(input: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let pos = 0;
  for (let i = 0; pos < input.length; i++) {
    const n = sizes[i % sizes.length];
    // Plain Uint8Arrays, not Buffers: the function must not rely on Buffer input.
    yield new Uint8Array(input.subarray(pos, pos + n));
    pos += n;
  }
}

async function split(input: string | Buffer, format: CopyPieceFormat, maxBytes: number, chunkSizes = [1 << 20]): Promise<string[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out: string[] = [];
  for await (const piece of copyPieces(chunksOf(bytes, chunkSizes), { format, maxBytes })) out.push(Buffer.from(piece).toString('latin1'));
  return out;
}

/** The input again: the pieces with the header taken off every piece after the first. */
function rejoin(pieces: string[], header: string): string {
  let text = pieces[0] ?? '';
  for (const [i, p] of pieces.entries()) {
    if (i === 0) continue;
    assert.ok(p.startsWith(header), `piece ${i} starts with the header`);
    text += p.slice(header.length);
  }
  return text;
}

/** The records of a COPY input, the naive way (byte by byte); a last one may lack its newline. */
function records(text: string, format: CopyPieceFormat): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (format === 'csv' && text[i] === '"') quoted = !quoted;
    else if (text[i] === '\n' && !quoted) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** What the pieces must be: greedy packing of whole records, at least one data record per piece. */
function expectedPieces(text: string, format: CopyPieceFormat, maxBytes: number): string[] {
  const all = records(text, format);
  const header = format === 'csv' && all.length ? all.shift()! : '';
  if (!all.length) return header ? [header] : [];
  const pieces: string[] = [];
  let current = header; // the first piece holds the header as the input has it
  let count = 0;
  for (const r of all) {
    if (count > 0 && current.length + r.length > maxBytes) {
      pieces.push(current);
      current = header;
      count = 0;
    }
    current += r;
    count++;
  }
  pieces.push(current);
  return pieces;
}

const lat = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('copyPieces', () => {
  it('cuts csv only at record ends, repeating the header, with records split across input chunks', async () => {
    const input = 'id,name\n1,alpha\n2,beta\n3,gamma\n4,delta\n';
    for (const sizes of [[1], [3], [5, 2, 7], [1 << 20]]) {
      const pieces = await split(input, 'csv', 23, sizes);
      assert.deepEqual(pieces, ['id,name\n1,alpha\n2,beta\n', 'id,name\n3,gamma\n', 'id,name\n4,delta\n'], `chunks of ${sizes.join(',')}`);
      assert.equal(rejoin(pieces, 'id,name\n'), input);
    }
  });

  it('keeps a newline inside double quotes as data, and `""` as an escaped quote', async () => {
    const input = 'id,s\n1,"two\nlines"\n2,"say ""hi""\nthere"\n3,"""\n"""\n4,x\n';
    for (const sizes of [[1], [2, 3], [1 << 20]]) {
      const pieces = await split(input, 'csv', 12, sizes);
      assert.deepEqual(pieces, ['id,s\n1,"two\nlines"\n', 'id,s\n2,"say ""hi""\nthere"\n', 'id,s\n3,"""\n"""\n', 'id,s\n4,x\n'], `chunks of ${sizes.join(',')}`);
      assert.equal(rejoin(pieces, 'id,s\n'), input);
    }
  });

  it('keeps CRLF line ends with their record, and repeats a CRLF header as it is', async () => {
    const input = 'id,s\r\n1,"a\r\nb"\r\n2,c\r\n3,d\r\n';
    const pieces = await split(input, 'csv', 16, [3]);
    assert.deepEqual(pieces, ['id,s\r\n1,"a\r\nb"\r\n', 'id,s\r\n2,c\r\n3,d\r\n']);
    assert.equal(rejoin(pieces, 'id,s\r\n'), input);
  });

  it('puts a record larger than a piece alone in its own piece', async () => {
    const big = `2,"${'x'.repeat(40)}\n${'y'.repeat(40)}"\n`;
    const input = `id,s\n1,a\n${big}3,b\n4,c\n`;
    for (const sizes of [[1], [7], [1 << 20]]) {
      const pieces = await split(input, 'csv', 16, sizes);
      assert.deepEqual(pieces, ['id,s\n1,a\n', `id,s\n${big}`, 'id,s\n3,b\n4,c\n'], `chunks of ${sizes.join(',')}`);
    }
    // Also when the header alone is larger than a piece: each piece still carries one record.
    assert.deepEqual(await split('a_long_header\n1\n2\n', 'csv', 4), ['a_long_header\n1\n', 'a_long_header\n2\n']);
  });

  it('gives no piece for an empty input, and the header alone for a table without rows', async () => {
    assert.deepEqual(await split('', 'csv', 8), []);
    assert.deepEqual(await split('', 'ndjson', 8), []);
    assert.deepEqual(await split('id,s\n', 'csv', 2, [1]), ['id,s\n']);
  });

  it('ends the last piece with a last record that has no newline', async () => {
    assert.deepEqual(await split('id\n1\n22\n333', 'csv', 9, [2]), ['id\n1\n22\n', 'id\n333']);
    assert.deepEqual(await split('{"a":1}\n{"a":22}', 'ndjson', 9, [2]), ['{"a":1}\n', '{"a":22}']);
    assert.deepEqual(await split('id,s\n1,"open\nquote', 'csv', 6), ['id,s\n1,"open\nquote']);
  });

  it('cuts ndjson at every newline, whatever quotes the lines hold, with no header', async () => {
    const input = '{"s":"a\\"b"}\n{"s":"\\"\\n"}\n{"s":"c"}\n';
    const pieces = await split(input, 'ndjson', 26, [1]);
    assert.deepEqual(pieces, ['{"s":"a\\"b"}\n{"s":"\\"\\n"}\n', '{"s":"c"}\n']);
    assert.equal(pieces.join(''), input);
  });

  it('never cuts inside a multi-byte character', async () => {
    const input = 'id,s\n1,ünï\n2,美咲\n3,🚚\n';
    const pieces = await split(input, 'csv', 14, [1]);
    assert.deepEqual(pieces, ['id,s\n1,ünï\n', 'id,s\n2,美咲\n', 'id,s\n3,🚚\n'].map(lat));
  });

  it('matches a byte-by-byte model on random inputs, chunkings and piece sizes', async () => {
    // A seeded generator (mulberry32): a failure reproduces.
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = ['a', 'b', ',', '"', '""', '\n', '\r\n', 'é'];
    for (let round = 0; round < 400; round++) {
      const length = Math.floor(rand() * 80);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
      const input = Buffer.from(text, 'utf8');
      const latin = input.toString('latin1');
      const maxBytes = 1 + Math.floor(rand() * 30);
      const sizes = [1 + Math.floor(rand() * 12), 1 + Math.floor(rand() * 12)];
      for (const format of ['csv', 'ndjson'] as const) {
        const pieces = await split(input, format, maxBytes, sizes);
        const what = `${format} ${JSON.stringify(text)} maxBytes ${maxBytes} chunks ${sizes.join(',')}`;
        assert.deepEqual(pieces, expectedPieces(latin, format, maxBytes), what);
        const header = format === 'csv' ? (records(latin, 'csv')[0] ?? '') : '';
        assert.equal(rejoin(pieces, header), latin, what);
      }
    }
  });
});
