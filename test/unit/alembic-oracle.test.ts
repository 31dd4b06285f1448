/**
 * Generated histories (fast-check): whenever the doctor calls an Alembic history clean, Alembic's own
 * RevisionMap loads it. Ids, labels and references are drawn from small pools so that collisions,
 * forbidden characters, missing parents, labels used as parents, cycles and duplicate ids all occur.
 * Needs a Python with Alembic (test/support/alembic-oracle.ts); skipped without one.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import fc from 'fast-check';
import { check } from '../../src/api/check.js';
import { alembicUnavailable, loadWithAlembic } from '../support/alembic-oracle.js';

const IDS = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6', 'g-7', 'h@8', 'core'];
const LABELS = ['core', 'feat', 'a1', 'b2'];
const STRAY = ['zz', 'feat', 'core', ''];

interface Gen {
  id: number;
  down: number[];
  /** Index into STRAY when >= 0: a reference to something that may not exist. */
  stray: number;
  deps: number[];
  labels: number[];
}

const revisionArb = fc.record({
  id: fc.nat(IDS.length - 1),
  down: fc.array(fc.nat(20), { maxLength: 2 }),
  stray: fc.oneof({ arbitrary: fc.constant(-1), weight: 8 }, { arbitrary: fc.nat(STRAY.length - 1), weight: 1 }),
  deps: fc.oneof({ arbitrary: fc.constant([] as number[]), weight: 3 }, { arbitrary: fc.array(fc.nat(20), { maxLength: 2 }), weight: 1 }),
  labels: fc.oneof({ arbitrary: fc.constant([] as number[]), weight: 3 }, { arbitrary: fc.array(fc.nat(LABELS.length - 1), { maxLength: 2 }), weight: 1 }),
});

/** Mostly well-formed: ids mostly distinct, parents mostly earlier revisions, so that clean histories are common. */
function files(gens: Gen[]): Record<string, string> {
  const ids = gens.map((g, i) => (i % 3 === 2 ? IDS[g.id] : IDS[(g.id + i) % IDS.length]));
  const out: Record<string, string> = {};
  gens.forEach((g, i) => {
    const ref = (n: number): string => ids[i === 0 ? 0 : n % i === 0 && n % 7 === 0 ? n % gens.length : n % i];
    let down: string[] = i === 0 ? [] : [...new Set(g.down.map(ref))];
    if (g.stray >= 0) down = [STRAY[g.stray]];
    const deps = i === 0 ? [] : [...new Set(g.deps.map(ref))];
    const labels = g.labels.map((l) => LABELS[l]);
    const py = (v: string[]): string => (v.length === 0 ? 'None' : v.length === 1 ? `'${v[0]}'` : `(${v.map((x) => `'${x}'`).join(', ')})`);
    out[`r${i}.py`] =
      `revision = '${ids[i]}'\ndown_revision = ${py(down)}\nbranch_labels = ${labels.length ? `(${labels.map((x) => `'${x}'`).join(', ')},)` : 'None'}\n` +
      `depends_on = ${py(deps)}\n\n\ndef upgrade():\n    pass\n`;
  });
  return out;
}

it('a history the doctor calls clean is one Alembic loads (generated)', { skip: alembicUnavailable, timeout: 240_000 }, async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tidemark-alembic-oracle-'));
  try {
    const samples = fc.sample(fc.array(revisionArb, { minLength: 1, maxLength: 6 }), { numRuns: 400, seed: 11 });
    const dirs: string[] = [];
    const texts: Record<string, string>[] = [];
    for (const [k, gens] of samples.entries()) {
      const dir = path.join(root, String(k), 'versions');
      mkdirSync(dir, { recursive: true });
      const fs = files(gens);
      for (const [name, text] of Object.entries(fs)) writeFileSync(path.join(dir, name), text);
      dirs.push(dir);
      texts.push(fs);
    }
    const loads = loadWithAlembic(dirs);
    const tally = { bothClean: 0, bothRefuse: 0, doctorStricter: 0 };
    const stricter = new Map<string, number>();
    const misses: string[] = [];
    for (const [k, dir] of dirs.entries()) {
      const report = await check({ alembic: [dir] });
      assert.equal(report.error, undefined);
      const errors = report.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length === 0 && !loads[k].ok) misses.push(`${loads[k].error}\n${Object.values(texts[k]).join('---\n')}`);
      else if (errors.length === 0) tally.bothClean++;
      else if (!loads[k].ok) tally.bothRefuse++;
      else {
        tally.doctorStricter++;
        for (const rule of new Set(errors.map((d) => d.rule))) stricter.set(rule, (stricter.get(rule) ?? 0) + 1);
      }
    }
    t.diagnostic(`${dirs.length} histories: ${JSON.stringify(tally)}; the doctor refuses what Alembic loads by: ${JSON.stringify(Object.fromEntries(stricter))}`);
    assert.deepEqual(misses, [], 'histories the doctor calls clean that Alembic refuses');
    assert.ok(tally.bothClean >= 20 && tally.bothRefuse >= 20, JSON.stringify(tally));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
