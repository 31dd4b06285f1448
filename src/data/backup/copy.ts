// The data: COPY statements, their output batched into the file, records counted.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Session } from '../../db/database.js';
import { quoteIdent } from '../../sql/ident.js';
import type { LiveTable } from '../../schema/catalog.js';
import { ownRows } from '../digest.js';
import type { DataFormat } from '../manifest.js';
import type { BackupFormat } from './types.js';

const FLUSH_BYTES = 1 << 20; // write in ~1 MiB slices: COPY hands out many small chunks
const PROGRESS_EVERY_MS = 1000;

/** `where` restricts the rows (a ctid range); `header` (csv) is for the first piece of a file only. */
export function copySql(format: DataFormat, t: LiveTable, columns: string[], where = '', header = true): string {
  const qualified = ownRows(t, t.kind);
  const filter = where ? ` WHERE ${where}` : '';
  if (format === 'ndjson') {
    // CSV mode with quote and delimiter set to bytes JSON never contains raw (row_to_json escapes
    // control characters): exact JSON lines. Text mode would double every backslash in the JSON.
    // `t.*`, not `t`: a bare `t` means a column named t when the table has one.
    return `COPY (SELECT pg_catalog.row_to_json(t.*) FROM ${qualified} AS t${filter}) TO STDOUT WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')`;
  }
  // Explicit columns: a virtual generated column (PostgreSQL 18) is not copied by `COPY table`.
  const list = columns.map((c) => `t.${quoteIdent(c)}`).join(', ');
  return `COPY (SELECT ${list} FROM ${qualified} AS t${filter}) TO STDOUT WITH (FORMAT csv${header ? ', HEADER' : ''})`;
}

/** Bytes from one COPY, batched into ~1 MiB writes (COPY hands out many small chunks). */
class PieceWriter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  bytes = 0;
  readonly counter: RecordCounter;

  constructor(
    private readonly fh: fs.promises.FileHandle,
    format: BackupFormat,
    header: boolean,
    private readonly hash?: ReturnType<typeof createHash>,
  ) {
    this.counter = new RecordCounter(format, header);
  }

  async add(chunk: Uint8Array): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    // Hash and count a block at a time: far fewer calls than per COPY chunk.
    this.hash?.update(buf);
    this.counter.feed(buf);
    await this.fh.write(buf);
  }
}

/**
 * Streams a table's COPY pieces into `file` (0600) through SHA-256 and a byte and record counter,
 * in the pieces' order. On the server the chunks come from pg-copy-streams, so memory stays flat;
 * PGlite hands each COPY over as one blob, so there a table is read in page ranges (readPlan).
 * With `parallel` the last piece is read at the same time on `helper` into a side file, appended
 * (and hashed) once the first is written.
 */
export async function copyTable(
  db: Session,
  helper: Session | undefined,
  pieces: { sql: string[]; parallel: boolean },
  file: string,
  format: BackupFormat,
  onProgress: (rows: number, bytes: number) => void,
): Promise<{ sha256: string; bytes: number; records: number; pieces: number; parallel: boolean }> {
  const hash = createHash('sha256');
  const fh = await fs.promises.open(file, 'wx', 0o600);
  const parallel = pieces.parallel && helper !== undefined;
  const writers: PieceWriter[] = [];
  let lastProgress = performance.now();
  const progress = () => {
    if (performance.now() - lastProgress < PROGRESS_EVERY_MS) return;
    lastProgress = performance.now();
    onProgress(
      writers.reduce((n, w) => n + w.counter.records, 0),
      writers.reduce((n, w) => n + w.bytes, 0),
    );
  };
  const read = async (from: Session, sql: string, writer: PieceWriter) => {
    writers.push(writer);
    for await (const chunk of from.copyOut(sql)) {
      await writer.add(chunk);
      progress();
    }
    await writer.flush();
  };
  const side = `${file}.part`;
  let sideHandle: fs.promises.FileHandle | undefined;
  try {
    if (parallel && helper) {
      sideHandle = await fs.promises.open(side, 'wx', 0o600);
      const first = new PieceWriter(fh, format, true, hash);
      const second = new PieceWriter(sideHandle, format, false);
      // Both settle before anything else happens: a failed half never leaves the other writing.
      const settled = await Promise.allSettled([read(db, pieces.sql[0], first), read(helper, pieces.sql[1], second)]);
      for (const s of settled) if (s.status === 'rejected') throw s.reason;
      await sideHandle.close();
      sideHandle = undefined;
      // Append the second half: hashed in file order, read back from the page cache.
      for await (const chunk of fs.createReadStream(side, { highWaterMark: FLUSH_BYTES })) {
        hash.update(chunk as Buffer);
        await fh.write(chunk as Buffer);
      }
    } else {
      for (const [i, sql] of pieces.sql.entries()) await read(db, sql, new PieceWriter(fh, format, i === 0, hash));
    }
    await fh.sync();
  } finally {
    await fh.close();
    await sideHandle?.close().catch(() => {});
    await fs.promises.rm(side, { force: true });
  }
  return {
    sha256: hash.digest('hex'),
    bytes: writers.reduce((n, w) => n + w.bytes, 0),
    records: writers.reduce((n, w) => n + w.counter.records, 0),
    pieces: pieces.sql.length,
    parallel,
  };
}

/**
 * Counts records in COPY output: ndjson lines, or CSV records minus the header. A CSV newline inside
 * double quotes is data, not a record end; `""` inside quotes toggles twice, so a plain toggle is exact.
 */
export class RecordCounter {
  private lines = 0;
  private inQuotes = false;
  private sawData = false;

  /** `header`: csv output that starts with a header line (the first piece of a file). */
  constructor(
    private readonly format: BackupFormat,
    private readonly header = true,
  ) {}

  feed(chunk: Uint8Array): void {
    if (this.format === 'ndjson') {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) this.lines++;
      return;
    }
    let quotes = this.inQuotes;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 34) quotes = !quotes;
      else if (b === 10 && !quotes) this.lines++;
    }
    this.inQuotes = quotes;
    if (chunk.length) this.sawData = true;
  }

  /** Data records (the CSV header line is not one). */
  get records(): number {
    return this.format === 'csv' && this.header ? Math.max(0, this.lines - (this.sawData ? 1 : 0)) : this.lines;
  }
}
