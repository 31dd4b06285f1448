/**
 * A Target built with no I/O, for tests that call a core with a target instead of options: a literal
 * Workspace, a Database the test opened itself, and an openShadow that counts its calls and hands them
 * to a function the test gives (by default it refuses: a test that expects no shadow fails loudly).
 *
 *   const db = await openDatabase('pglite:memory');
 *   const target = fakeTarget(workspace, db, { openShadow: () => openShadow({ prefer: 'pglite' }) });
 *   await core(target, {});
 *   assert.equal(target.shadowCalls.length, 1);
 */
import path from 'node:path';
import type { Workspace } from '../../src/config/types.js';
import type { Database } from '../../src/db/database.js';
import { protectionStatus } from '../../src/ledger/guard.js';
import type { Shadow, ShadowRequest } from '../../src/db/shadow.js';
import { makePaths } from '../../src/target/paths.js';
import type { Target } from '../../src/target/target.js';

export interface FakeTarget extends Target {
  /** Every openShadow request, in order. */
  readonly shadowCalls: ShadowRequest[];
}

export interface FakeTargetOptions {
  /** The services the command works on (default: every tidemark service of the workspace, in config order). */
  services?: readonly string[];
  /** Where the command was run from (default: the workspace root). */
  cwd?: string;
  /** What openShadow does with each request. */
  openShadow?: (request: ShadowRequest) => Promise<Shadow>;
}

export function fakeTarget(workspace: Workspace, db: Database, options: FakeTargetOptions = {}): FakeTarget {
  const shadowCalls: ShadowRequest[] = [];
  const names = options.services;
  const services = workspace.services.filter((s) => (names ? names.includes(s.name) : s.format === 'tidemark'));
  const display = db.displayUrl;
  return {
    workspace,
    services,
    paths: makePaths(workspace.root, options.cwd ?? workspace.root),
    db,
    name: { display, source: 'given', backend: db.backend, ...(db.backend === 'pglite' ? { pglitePath: path.resolve(workspace.root, display.replace(/^pglite:/, '')) } : {}) },
    shadowCalls,
    protection: () => protectionStatus(db, { protectedList: workspace.protected ?? [], cwd: workspace.root }),
    async openShadow(request: ShadowRequest = {}) {
      shadowCalls.push(request);
      if (!options.openShadow) throw new Error(`fakeTarget: openShadow(${JSON.stringify(request)}) was called, and the test gave no shadow`);
      return options.openShadow(request);
    },
  };
}
