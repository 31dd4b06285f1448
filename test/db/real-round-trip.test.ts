/**
 * Stage 2 of the real-history round trips (issue 13, "How it is judged"; docs/plan-issue-13.md §3): one
 * cut per vendored project. `tidemark diff --from history:<k-th> --to history` writes the migration from
 * the project's first k migrations to all of them;
 * - on the server (PostgreSQL 15): the first k replayed plus the generated up dump (`pg_dump
 *   --schema-only`) exactly as the whole history replayed, and the generated down dumps as the first k;
 * - on PGlite (PostgreSQL 18): diff's own proof holds (after the up the shadow introspects as `to`, after
 *   the down as `from`). No pg_dump reads a PGlite database here (pglite-tools is not a dependency).
 * The pgpm projects need contrib extensions PGlite's adapter does not load (pinned by
 * real-histories.test.ts): server only. Every cut, several per project: bench/real-histories/round-trip.mjs.
 * Each cut was chosen to cover what a real history needed fixed (test/unit/render-real-fixes.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { up } from '../../src/api/migrate.js';
import type { Database } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { forEachBackend, type TestDatabase } from '../support/backends.js';
import { diffFromCut, ensureRoles, pgDumpSchema, REAL_HISTORIES, type RealWorkspace, readRealSource, realHistoryWorkspace, requirementsOf, serverRoundTrip } from '../support/real-histories.js';

/** One cut per project, and what it covers. */
const CUTS: Record<string, { k: number; why: string }> = {
  // Migrations 2–19: the legacy tables renamed away and rebuilt, late functions returning their row types.
  worker: { k: 6, why: 'functions returning a dropped table’s row type are dropped before it' },
  // 3 creates dbos.notifications, 5 its NOTIFY trigger: both land in the generated file.
  dbos: { k: 2, why: 'a new table comes with its trigger' },
  // Functions RETURNS app_jobs.jobs; the down drops them before the table.
  jobs: { k: 11, why: 'the down drops late functions before their table' },
  // Migration 000 installed citext; the first domain using it comes after the cut.
  types: { k: 1, why: 'an extension already there, unused, is created and kept by the down' },
};

forEachBackend('real histories: the migration between a cut and the whole history', (backend) => {
  const server = backend.name === 'postgres';
  const histories = REAL_HISTORIES.filter((h) => server || requirementsOf(h).extensions.length === 0);
  // One workspace per project, reused by its case; the server cases share one database, emptied between them.
  const fulls = new Map<string, RealWorkspace>();
  let created: TestDatabase | undefined;
  let db: Database | undefined;
  let dumpEmpty = '';
  before(async () => {
    for (const h of histories) fulls.set(h.service, await realHistoryWorkspace([h]));
    if (!server) return;
    created = await backend.createDatabase();
    db = await openDatabase(created.url);
    dumpEmpty = pgDumpSchema(created.url);
    await ensureRoles(db, [...new Set(histories.flatMap((h) => requirementsOf(h).roles))]);
  });
  after(async () => {
    try {
      await db?.close();
      await created?.drop();
    } finally {
      for (const f of fulls.values()) f.ws.remove();
    }
  });

  /** Back to an empty database: what each history creates goes with its schemas (public's domains by name). */
  async function empty(): Promise<void> {
    const database = db as Database;
    await database.exec('DROP SCHEMA IF EXISTS tidemark CASCADE');
    for (const h of histories) {
      for (const owned of h.owns.filter((o) => o.startsWith('schema:'))) await database.exec(`DROP SCHEMA IF EXISTS ${owned.slice('schema:'.length)} CASCADE`);
      for (const ext of requirementsOf(h).extensions) await database.exec(`DROP EXTENSION IF EXISTS "${ext}" CASCADE`);
    }
    const domains = await database.query<{ name: string }>(
      `SELECT quote_ident(t.typname) AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'd'`,
    );
    for (const d of domains.rows) await database.exec(`DROP DOMAIN ${d.name} CASCADE`);
  }

  for (const history of histories) {
    const { k, why } = CUTS[history.service] as { k: number; why: string };
    const n = readRealSource(history.fixture).migrations.length;
    const label = `${history.fixture}, first ${k} of ${n} → all (${why})`;
    if (server) {
      it(`${label}: pg_dump after the generated up equals the whole history's, after its down the first ${k}'s`, async () => {
        const full = fulls.get(history.service) as RealWorkspace;
        const url = (created as TestDatabase).url;
        const database = db as Database;
        await empty();
        const whole = await up({ cwd: full.ws.dir, database, service: history.service });
        assert.ifError(whole.error);
        const dumpAll = pgDumpSchema(url);
        await empty();
        assert.equal(pgDumpSchema(url), dumpEmpty, 'emptied between the replays');
        const trip = await serverRoundTrip(full, history, k, url, dumpAll);
        assert.ifError(trip.result.error);
        assert.ok(trip.result.files.length > 0, 'a migration was generated');
        assert.equal(trip.up, '', `after the generated up: ${trip.up}`);
        assert.equal(trip.down, '', `after the generated down: ${trip.down}`);
      });
    } else {
      it(`${label}: diff's proof holds on PGlite (up gives the whole history, down gives the first ${k} back)`, async () => {
        const full = fulls.get(history.service) as RealWorkspace;
        const result = await diffFromCut(full, history, k, 'pglite:memory');
        assert.ifError(result.error);
        assert.ok(result.files.length > 0, 'a migration was generated');
        assert.match(result.proof?.shadow ?? '', /PGlite/);
        assert.ok(result.changes.length > 0);
      });
    }
  }
});
