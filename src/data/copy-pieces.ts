/**
 * Restore's COPY input cut into pieces at record ends, for PGlite: its COPY takes the whole input as
 * ONE Blob held in memory, so restore issues the same COPY once per piece instead (same transaction),
 * and memory stays at about one piece whatever the table's size.
 *
 * - `csv` (FORMAT csv, HEADER MATCH): a record ends at a newline outside double quotes. Every `"`
 *   toggles "inside quotes" — as COPY's own line reader does — so `""` (an escaped quote) toggles
 *   twice and a newline inside a quoted value is data. The first record is the header: each piece
 *   after the first starts with that header again, byte for byte, so every piece is valid input for
 *   the same COPY … HEADER MATCH statement.
 * - `ndjson` (restore's json staging input, one JSON document per line): a record ends at a newline
 *   (JSON escapes newlines inside strings); no header.
 *
 * A piece holds at most `maxBytes` (the repeated header included), unless one record alone does not
 * fit: then that record is a piece by itself. The data after the last newline (a last record without
 * one) ends the last piece. The pieces minus their repeated headers are the input, byte for byte; an
 * empty input gives no piece.
 *
 * Pure logic, no I/O: it only reads the iterable it is given.
 */

export type CopyPieceFormat = 'csv' | 'ndjson';

export interface CopyPieceOptions {
  format: CopyPieceFormat;
  /** The largest piece wanted, in bytes (at least 1). */
  maxBytes: number;
}

const QUOTE = 0x22; // "
const NEWLINE = 0x0a;

/**
 * Finds record ends in a byte stream fed chunk by chunk, carrying the quote state across chunks.
 * csv is scanned byte by byte (~150 MB/s on a busy core: PGlite's COPY loads ~20 MB/s); ndjson
 * needs no quote state, so a native search for the newline does.
 */
class RecordEnds {
  private inQuotes = false;

  constructor(private readonly quoted: boolean) {}

  /**
   * Scans chunk[from, to) and returns the index just after the LAST record end in it, or -1. The
   * state afterwards is the state at `to`.
   */
  last(chunk: Buffer, from: number, to: number): number {
    if (!this.quoted) {
      const nl = chunk.subarray(from, to).lastIndexOf(NEWLINE);
      return nl < 0 ? -1 : from + nl + 1;
    }
    let inQuotes = this.inQuotes;
    let last = -1;
    for (let i = from; i < to; i++) {
      const b = chunk[i];
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (b === NEWLINE && !inQuotes) last = i + 1;
    }
    this.inQuotes = inQuotes;
    return last;
  }

  /**
   * Scans chunk[from, …) up to the FIRST record end and returns the index just after it, or -1 when
   * the chunk has none (the state is then the state at its end).
   */
  next(chunk: Buffer, from: number): number {
    if (!this.quoted) {
      const nl = chunk.indexOf(NEWLINE, from);
      return nl < 0 ? -1 : nl + 1;
    }
    let inQuotes = this.inQuotes;
    for (let i = from; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (b === NEWLINE && !inQuotes) {
        this.inQuotes = false;
        return i + 1;
      }
    }
    this.inQuotes = inQuotes;
    return -1;
  }
}

/** Bytes gathered for the piece being built: whole records first, then the start of the next one. */
class PieceBuffer {
  parts: Buffer[] = [];
  bytes = 0;
  /** How many of `bytes`, from the start, are whole records (0: not one yet). */
  recordBytes = 0;

  add(part: Buffer): void {
    if (!part.length) return;
    this.parts.push(part);
    this.bytes += part.length;
  }

  /** Takes the first `n` bytes out (as views); the rest stays as the start of the next piece. */
  take(n: number): Buffer[] {
    const head: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const part = this.parts[0];
      if (part.length <= left) {
        head.push(part);
        this.parts.shift();
        left -= part.length;
      } else {
        head.push(part.subarray(0, left));
        this.parts[0] = part.subarray(left);
        left = 0;
      }
    }
    this.bytes -= n;
    this.recordBytes = 0;
    return head;
  }
}

/** The input as pieces for the same COPY statement, each cut at a record end (see above). */
export async function* copyPieces(input: AsyncIterable<Uint8Array>, options: CopyPieceOptions): AsyncGenerator<Uint8Array> {
  const { format } = options;
  const maxBytes = Math.max(1, Math.floor(options.maxBytes));
  const ends = new RecordEnds(format === 'csv');
  const piece = new PieceBuffer();
  // csv: the header record, once whole; until then its bytes so far.
  let header: Buffer | undefined;
  const headerParts: Buffer[] = [];
  let pieces = 0;
  // One fresh buffer per piece: it keeps no input chunk alive once loaded.
  const out = (body: Buffer[]): Buffer => Buffer.concat(pieces++ === 0 || !header ? body : [header, ...body]);
  // The body bytes a piece may hold: later csv pieces also carry the header.
  const limit = () => Math.max(1, pieces === 0 || !header ? maxBytes : maxBytes - header.length);

  for await (const data of input) {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let pos = 0;
    if (format === 'csv' && !header) {
      // The header is in the first piece as it is; no cut right after it (a piece of only the
      // header would load nothing).
      const end = ends.next(chunk, 0);
      pos = end < 0 ? chunk.length : end;
      headerParts.push(chunk.subarray(0, pos));
      piece.add(chunk.subarray(0, pos));
      if (end < 0) continue;
      header = Buffer.concat(headerParts);
    }
    while (pos < chunk.length) {
      const room = limit() - piece.bytes;
      if (room > 0) {
        const to = Math.min(chunk.length, pos + room);
        const end = ends.last(chunk, pos, to);
        if (end >= 0) piece.recordBytes = piece.bytes + (end - pos);
        piece.add(chunk.subarray(pos, to));
        pos = to;
        // The chunk ran out, or the piece is full: then it is cut when a byte more comes (at the end
        // of the input, a last record without a newline that fits exactly stays in it).
        continue;
      }
      if (piece.recordBytes > 0) {
        // Full: cut after the last whole record; the bytes after it start the next piece. They hold
        // no record end (it would have been the last one), so their quote state is the scanner's.
        yield out(piece.take(piece.recordBytes));
        continue;
      }
      // One record larger than a piece: it goes alone, up to its end however far that is.
      const end = ends.next(chunk, pos);
      piece.add(chunk.subarray(pos, end < 0 ? chunk.length : end));
      if (end < 0) break;
      pos = end;
      yield out(piece.take(piece.bytes));
    }
  }
  if (piece.bytes > 0) yield out(piece.take(piece.bytes));
}
