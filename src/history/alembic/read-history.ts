// One Alembic service's history from its versions directories: every revision file listed, read once by its
// real path, and parsed.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { AlembicHistory } from '../revision.js';
import { listPyFiles, readInto } from './list.js';
import { errCode } from './location.js';
import { parseAlembicSource, RULE } from './parse-source.js';

/** Files read between two turns of the event loop. */
const BATCH = 500;

/**
 * Reads one Alembic service's history from its versions directories. Problems (unreadable entries, files
 * that are not revisions, values tidemark cannot read without Python) come back as diagnostics; never throws.
 */
export async function readAlembicHistory(service: string, dirs: string[], options: { recursive?: boolean } = {}): Promise<AlembicHistory> {
  const absDirs = dirs.map((d) => path.resolve(d));
  const history: AlembicHistory = { service, dirs: absDirs, revisions: [], tableReferences: [], embeddedSql: [], problems: [] };
  // Like Alembic's _load_revisions, each file is read once by its real path: a directory listed twice in
  // version_locations (or through a symlink), or a symlink to a revision file, must not duplicate revisions.
  const listed: { file: string; real: string; link: boolean }[] = [];
  const roots = new Set<string>();
  for (const dir of absDirs) {
    const real = await fs.realpath(dir).catch(() => dir);
    if (roots.has(real)) continue;
    roots.add(real);
    const links = new Map<string, string>();
    for (const f of await listPyFiles(service, dir, options.recursive === true, history.problems, links)) {
      const link = links.get(f);
      listed.push({ file: f, real: link ?? real + f.slice(dir.length), link: link !== undefined });
    }
  }
  listed.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const byReal = new Map<string, number>();
  for (let i = 0; i < listed.length; i++) {
    const prior = byReal.get(listed[i].real);
    if (prior === undefined) {
      byReal.set(listed[i].real, i);
      continue;
    }
    // Keep the real file over a symlink to it, whichever sorts first.
    const [kept, dropped] = listed[prior].link && !listed[i].link ? [i, prior] : [prior, i];
    byReal.set(listed[i].real, kept);
    if (listed[dropped].link) {
      history.problems.push({
        rule: RULE,
        severity: 'warning',
        service,
        file: listed[dropped].file,
        message: `${path.basename(listed[dropped].file)} is a symlink to ${listed[kept].file}, which is already read; like Alembic, tidemark reads that revision once.`,
        hint: 'Remove the symlink: one revision, one file.',
      });
    }
  }
  const files = [...byReal.values()].sort((a, b) => a - b).map((i) => listed[i].file);
  // Synchronous reads into one reused buffer beat fs.promises.readFile by ~10x on small files (measured:
  // 10,000 files in ~45 ms against ~500 ms) and make no garbage; the event loop gets a turn between batches.
  for (let b = 0; b < files.length; b += BATCH) {
    if (b > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(files.length, b + BATCH);
    for (let i = b; i < end; i++) {
      const file = files[i];
      let r: ReturnType<typeof parseAlembicSource>;
      try {
        r = parseAlembicSource(service, file, readInto(file));
      } catch (err) {
        history.problems.push({
          rule: RULE,
          severity: 'error',
          service,
          file,
          message: `Cannot read ${path.basename(file)}: ${errCode(err)}.`,
          hint: 'Fix its permissions, or remove it from the versions directory.',
        });
        continue;
      }
      if (r.revision) history.revisions.push(r.revision);
      for (const x of r.tableReferences) history.tableReferences.push(x);
      for (const x of r.embeddedSql) history.embeddedSql.push(x);
      for (const x of r.problems) history.problems.push(x);
    }
  }
  return history;
}
