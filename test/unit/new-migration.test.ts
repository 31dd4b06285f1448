/**
 * history/new-migration.ts `writeMigrationFiles` (what `tidemark diff` writes with): all or nothing when a
 * second runner took one of the numbers, the sum rewritten when it was clean, left alone (with why) when not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { nextMigrationNumber, writeMigrationFiles } from '../../src/history/new-migration.js';
import { writeSumFile } from '../../src/history/sum-io.js';

const UP = '-- tidemark:up\nSELECT 1;\n-- tidemark:down\nSELECT 1;\n';

function dir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'tidemark-new-'));
}

it('writes every file and the sum; numbers continue after the highest', async () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'app_001_init.sql'), UP);
    await writeSumFile('app', d);
    assert.equal(await nextMigrationNumber('app', d), 2n);
    const r = await writeMigrationFiles('app', d, [
      { id: 'app_002_a', text: UP },
      { id: 'app_003_a_validate', text: UP },
    ]);
    assert.equal(r.sum.updated, true);
    assert.deepEqual(readdirSync(d).sort(), ['app_001_init.sql', 'app_002_a.sql', 'app_003_a_validate.sql', 'tidemark.sum']);
    assert.match(readFileSync(path.join(d, 'tidemark.sum'), 'utf8'), /app_003_a_validate\.sql/);
    assert.equal(await nextMigrationNumber('app', path.join(d, 'absent')), 1n);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

it('a number another runner took: file-exists, and the files already written are removed, the sum untouched', async () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'app_001_init.sql'), UP);
    await writeSumFile('app', d);
    const sum = readFileSync(path.join(d, 'tidemark.sum'), 'utf8');
    writeFileSync(path.join(d, 'app_003_a_validate.sql'), '-- the other runner\n');
    await assert.rejects(
      writeMigrationFiles('app', d, [
        { id: 'app_002_a', text: UP },
        { id: 'app_003_a_validate', text: UP },
      ]),
      (e: Error & { code?: string }) => e.code === 'file-exists' && /app_003_a_validate\.sql/.test(e.message),
    );
    assert.deepEqual(readdirSync(d).sort(), ['app_001_init.sql', 'app_003_a_validate.sql', 'tidemark.sum']);
    assert.equal(readFileSync(path.join(d, 'app_003_a_validate.sql'), 'utf8'), '-- the other runner\n', 'the other runner’s file is left as it was');
    assert.equal(readFileSync(path.join(d, 'tidemark.sum'), 'utf8'), sum);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

it('a sum that did not match before is not blessed: the files are written, the sum left, and why', async () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'app_001_init.sql'), UP);
    await writeSumFile('app', d);
    writeFileSync(path.join(d, 'app_001_init.sql'), `${UP}-- edited\n`);
    const sum = readFileSync(path.join(d, 'tidemark.sum'), 'utf8');
    const r = await writeMigrationFiles('app', d, [{ id: 'app_002_a', text: UP }]);
    assert.equal(r.sum.updated, false);
    assert.match(r.sum.reason ?? '', /did not match the migration files before/);
    assert.equal(readFileSync(path.join(d, 'tidemark.sum'), 'utf8'), sum);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

it('a second runner that took the same number under another slug: refused, ours removed, theirs and the sum untouched', async () => {
  const d = dir();
  try {
    writeFileSync(path.join(d, 'app_001_init.sql'), UP);
    await writeSumFile('app', d);
    const sum = readFileSync(path.join(d, 'tidemark.sum'), 'utf8');
    // The other runner listed the directory at the same time and wrote number 002 under its own slug.
    writeFileSync(path.join(d, 'app_002_other.sql'), '-- the other runner\n');
    await assert.rejects(
      writeMigrationFiles('app', d, [{ id: 'app_002_a', text: UP }]),
      (e: Error & { code?: string }) => e.code === 'file-exists' && /another run took number 002 of app/.test(e.message),
    );
    assert.deepEqual(readdirSync(d).sort(), ['app_001_init.sql', 'app_002_other.sql', 'tidemark.sum']);
    assert.equal(readFileSync(path.join(d, 'tidemark.sum'), 'utf8'), sum);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
