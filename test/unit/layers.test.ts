/**
 * The layers of DESIGN §7, held on the source: every relative import (static `from '…'` and `import('…')`)
 * of src/ points down, and the modules that load a config or open a connection (the boundary's) are
 * imported only at the boundary. Type-only imports create no load order and are not counted.
 * A scan of the text, no compiler: it runs in a few milliseconds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../support/source-tree.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Top to bottom. A file may import its own layer or one below it. `base` is src/*.ts (errors, paths…). */
const ORDER = ['index', 'cli', 'api', 'target', 'flows', 'apply', 'check', 'data', 'schema', 'history', 'ledger', 'db', 'config', 'report', 'sql', 'types', 'base'] as const;
type Layer = (typeof ORDER)[number];

/** Loads a config or opens a connection: only the boundary (cli, api, target) and the db and config layers themselves may import these. */
const BOUNDARY_MODULES = ['config/load.ts', 'db/open.ts', 'target/resolve.ts', 'target/open.ts'];
const MAY_IMPORT_BOUNDARY: ReadonlySet<Layer> = new Set(['index', 'cli', 'api', 'target', 'db', 'config']);

function layerOf(rel: string): Layer {
  if (rel === 'index.ts') return 'index';
  // Types and pure helpers every layer may name (DESIGN: cores import target.ts and nothing else from target/).
  if (rel === 'target/target.ts') return 'types';
  if (!rel.includes('/')) return 'base';
  const top = rel.split('/')[0];
  if ((ORDER as readonly string[]).includes(top)) return top as Layer;
  throw new Error(`src/${rel}: a folder the layers test does not know (add it to ORDER, where DESIGN §7 puts it)`);
}

interface Edge {
  from: string;
  to: string;
  lazy: boolean;
}

/** The runtime imports of one file: `import … from`, `export … from` and `import()`, minus `import type` / `export type`. */
function importsOf(file: string): Edge[] {
  // Comments out first: a sentence saying "import … from" must not read as an import.
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const edges: Edge[] = [];
  const re = /(?:^|[\s;])(import|export)\s+(type\s+)?[^'";]*?\sfrom\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const m of text.matchAll(re)) {
    if (m[2]) continue;
    const spec = m[3] ?? m[4];
    const to = path
      .relative(SRC, path.resolve(path.dirname(file), spec))
      .replace(/\.js$/, '.ts')
      .split(path.sep)
      .join('/');
    edges.push({ from: path.relative(SRC, file).split(path.sep).join('/'), to, lazy: m[4] !== undefined });
  }
  return edges;
}

const EDGES = sourceFiles(SRC).flatMap(importsOf);

it('the scan sees the imports (a sanity floor, so a broken pattern cannot pass by finding nothing)', () => {
  assert.ok(EDGES.length > 400, `${EDGES.length} imports found`);
  assert.ok(EDGES.filter((e) => e.lazy).length > 40, 'the lazy import()s are seen');
  assert.ok(!EDGES.some((e) => e.from === 'target/target.ts'), 'type-only imports are not counted');
});

it('every import points down the layers of DESIGN §7', () => {
  const up = EDGES.filter((e) => ORDER.indexOf(layerOf(e.to)) < ORDER.indexOf(layerOf(e.from)));
  assert.deepEqual(
    up.map((e) => `${e.from} -> ${e.to}`),
    [],
  );
});

it('only the boundary imports the modules that load a config or open a connection', () => {
  const crossing = EDGES.filter((e) => BOUNDARY_MODULES.includes(e.to) && !MAY_IMPORT_BOUNDARY.has(layerOf(e.from)));
  assert.deepEqual(
    crossing.map((e) => `${e.from} -> ${e.to}`),
    [],
  );
});
