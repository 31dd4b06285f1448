/**
 * The CRM Ditual's legacy Alembic example (examples/crm-ditual/legacy): its two histories have exactly the
 * seed's four problems and nothing else wrong, tidemark reads them without reader problems, the doctor finds
 * each problem where legacy/README.md says it is, and legacy-database.sql loads on PGlite and the server
 * with its contaminated alembic_version.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { check } from '../../src/api/check.js';
import type { Diagnostic } from '../../src/diagnostic.js';
import { openDatabase } from '../../src/db/open.js';
import { readAlembicHistory } from '../../src/history/alembic-lazy.js';
import { forEachBackend } from '../support/backends.js';

function findLegacyDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'examples', 'crm-ditual', 'legacy');
    if (existsSync(path.join(candidate, 'legacy-database.sql'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`examples/crm-ditual/legacy not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const LEGACY = findLegacyDir();
const SERVICES = ['user_service', 'budget_service'] as const;
type ServiceName = (typeof SERVICES)[number];
const versionsDir = (service: ServiceName) => path.join(LEGACY, 'services', service, 'alembic', 'versions');
const iniOf = (service: ServiceName) => path.join(LEGACY, 'services', service, 'alembic.ini');

// ---- a tiny reader, independent of src/history: enough for these well-formed files ----

interface Parsed {
  file: string;
  id: string;
  parents: string[];
  dependsOn: string[];
  typed: boolean;
  text: string;
}

/** `name = …` or `name: Type = …` at the start of a line; the value up to the end of the line. */
function assignment(text: string, name: string): { value: string; typed: boolean } | undefined {
  const m = new RegExp(`^${name}(\\s*:\\s*[^=\\n]+)?\\s*=\\s*(.+)$`, 'm').exec(text);
  return m ? { value: m[2].trim(), typed: m[1] !== undefined } : undefined;
}

/** None → [], 'x' → ['x'], ('x', 'y') → ['x', 'y']. */
function ids(value: string | undefined): string[] {
  if (value === undefined || value === 'None') return [];
  return [...value.matchAll(/['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

function parseVersions(service: ServiceName): Parsed[] {
  const dir = versionsDir(service);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => {
      const text = readFileSync(path.join(dir, f), 'utf8');
      const rev = assignment(text, 'revision');
      assert.ok(rev, `${f}: no revision`);
      return {
        file: f,
        id: ids(rev.value)[0],
        parents: ids(assignment(text, 'down_revision')?.value),
        dependsOn: ids(assignment(text, 'depends_on')?.value),
        typed: rev.typed,
        text,
      };
    });
}

const user = parseVersions('user_service');
const budget = parseVersions('budget_service');
const heads = (revs: Parsed[]) => [...new Set(revs.map((r) => r.id))].filter((id) => !revs.some((r) => r.parents.includes(id))).sort();
const idFormat = (id: string) => (/^\d{8}_\d{6}$/.test(id) ? 'timestamp' : /^[0-9a-f]{12}$/.test(id) && /[a-f]/.test(id) ? 'hex' : /^\d{3}$/.test(id) ? 'sequential' : 'other');

/** 1-based line of the first line of `file` (relative to LEGACY) that contains `needle` (or matches it). */
function lineOf(file: string, needle: string | RegExp): number {
  const match = (l: string) => (typeof needle === 'string' ? l.includes(needle) : needle.test(l));
  const i = readFileSync(path.join(LEGACY, file), 'utf8').split('\n').findIndex(match);
  assert.ok(i >= 0, `${file}: '${needle}' not found`);
  return i + 1;
}

describe("legacy example: the Alembic files have the seed's four problems, and only those", () => {
  it('looks like two real Alembic 1.x projects', () => {
    for (const service of SERVICES) {
      assert.match(readFileSync(iniOf(service), 'utf8'), /^script_location = %\(here\)s\/alembic$/m);
      assert.ok(existsSync(path.join(LEGACY, 'services', service, 'alembic', 'script.py.mako')));
      const env = readFileSync(path.join(LEGACY, 'services', service, 'alembic', 'env.py'), 'utf8');
      assert.match(env, /context\.configure\(/);
      // The bug: no version_table=…, so both services share Alembic's default alembic_version.
      assert.doesNotMatch(env.replace(/#.*$/gm, ''), /version_table\s*=/, `${service}/alembic/env.py`);
      for (const r of parseVersions(service)) {
        assert.match(r.text, /^from alembic import op$/m, r.file);
        assert.match(r.text, /^import sqlalchemy as sa$/m, r.file);
        assert.match(r.text, /^def upgrade\(\)/m, r.file);
        assert.match(r.text, /^def downgrade\(\)/m, r.file);
        // The docstring header agrees with the code, as `alembic revision` writes it.
        assert.match(r.text, new RegExp(`^Revision ID: ${r.id}$`, 'm'), r.file);
        assert.match(r.text, new RegExp(`^Revises: ?${r.parents.join(', ')}$`, 'm'), r.file);
        assert.match(r.text, /^Create Date: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/m, r.file);
        assert.ok(r.file.startsWith(`${r.id}_`), `${r.file}: named <revision>_<slug>.py`);
      }
    }
    // Both forms of the template: classic `revision = '…'` and typed `revision: str = '…'`.
    assert.ok(budget.some((r) => r.typed) && budget.some((r) => !r.typed));
  });

  it('user_service: one linear chain of four revisions', () => {
    assert.equal(user.length, 4);
    assert.deepEqual(heads(user), ['d7e1c4a9b320']);
    assert.deepEqual(
      user.filter((r) => r.parents.length === 0).map((r) => r.id),
      ['8c3e5a7b9d01'],
    );
    assert.ok(user.every((r) => r.parents.length <= 1 && r.dependsOn.length === 0));
    assert.ok(user.some((r) => r.id === '1f4f4176aeb7'));
  });

  it('budget_service: two revisions 005 on 004 (problem 1)', () => {
    const fives = budget.filter((r) => r.id === '005');
    assert.deepEqual(
      fives.map((r) => r.file),
      ['005_add_commission_percentage_actual.py', '005_remove_quantity_column.py'],
    );
    for (const r of fives) assert.deepEqual(r.parents, ['004']);
    assert.equal(new Set(budget.map((r) => r.id)).size, budget.length - 1, 'no other duplicate id');
  });

  it('budget_service reaches into user_service (problem 2)', () => {
    const userIds = new Set(user.map((r) => r.id));
    const budgetIds = new Set(budget.map((r) => r.id));
    const crossing = budget.filter((r) => [...r.parents, ...r.dependsOn].some((id) => userIds.has(id)));
    assert.deepEqual(
      crossing.map((r) => [r.file, r.dependsOn]),
      [['004_cancel_budgets_of_inactive_users.py', ['1f4f4176aeb7']]],
    );
    assert.ok(!budgetIds.has('1f4f4176aeb7'));
    assert.ok(
      budget.some((r) => /UPDATE users\b/.test(r.text)),
      'a budget migration changes users',
    );
    // No id is shared between the services (a shared id would hide the contamination).
    assert.ok([...userIds].every((id) => !budgetIds.has(id)));
  });

  it('budget_service mixes sequential, hex and timestamp ids (problem 3)', () => {
    const formats = new Map<string, string[]>();
    for (const r of budget) formats.set(idFormat(r.id), [...(formats.get(idFormat(r.id)) ?? []), r.id]);
    assert.deepEqual([...formats.keys()].sort(), ['hex', 'sequential', 'timestamp']);
    assert.ok(formats.get('sequential')!.includes('001'));
    assert.ok(formats.get('hex')!.includes('9d2a61c3b7e4'));
    assert.deepEqual(formats.get('timestamp'), ['20250915_124515']);
  });

  it('budget_service: the merge c0eefe7ade9c, then two heads again (problem 4)', () => {
    const merge = budget.find((r) => r.file === 'c0eefe7ade9c_merge_multiple_heads.py');
    assert.ok(merge);
    assert.equal(merge.id, 'c0eefe7ade9c');
    assert.deepEqual(merge.parents, ['005', '9d2a61c3b7e4']);
    assert.deepEqual(heads(budget), ['20250915_124515', 'e4b7a2c9f013']);
    assert.deepEqual(
      budget
        .filter((r) => r.parents.includes('c0eefe7ade9c'))
        .map((r) => r.id)
        .sort(),
      ['20250915_124515', 'e4b7a2c9f013'],
    );
  });

  it('has no accidental problem: every parent exists in its own service, one base each', () => {
    for (const revs of [user, budget]) {
      const own = new Set(revs.map((r) => r.id));
      for (const r of revs) for (const p of r.parents) assert.ok(own.has(p), `${r.file}: parent ${p} is missing`);
      assert.equal(revs.filter((r) => r.parents.length === 0).length, 1);
    }
    assert.equal(budget.length, 10);
  });

  it('readAlembicHistory reads them without problems, as the tiny reader does', async () => {
    for (const [service, parsed] of [
      ['user_service', user],
      ['budget_service', budget],
    ] as const) {
      const history = await readAlembicHistory(service, [versionsDir(service)]);
      assert.deepEqual(history.problems, [], `${service}: reader problems`);
      const got = history.revisions.map((r) => [path.basename(r.file), r.id, r.parents, r.dependsOn]).sort();
      const want = parsed.map((r) => [r.file, r.id, r.parents, r.dependsOn]).sort();
      assert.deepEqual(got, want);
      for (const r of history.revisions) {
        assert.equal(r.line, lineOf(`services/${service}/alembic/versions/${path.basename(r.file)}`, /^revision\b/), `${r.file}: line of revision`);
      }
    }
  });
});

// ---- the doctor finds each problem where legacy/README.md says it is ----

const B = 'services/budget_service/alembic/versions';
const at = (diags: Diagnostic[], rule: string, file: string, line: number) => diags.filter((d) => d.rule === rule && d.file !== undefined && path.relative(LEGACY, d.file) === file && d.line === line);

function assertTheFourProblems(diags: Diagnostic[]): void {
  const count = (rule: string) => diags.filter((d) => d.rule === rule).length;
  // 1: one diagnostic naming both 005 files
  assert.equal(count('duplicate-id'), 1);
  const dup = at(diags, 'duplicate-id', `${B}/005_add_commission_percentage_actual.py`, 15)[0];
  assert.ok(dup, 'duplicate-id at 005_add_commission_percentage_actual.py:15');
  assert.match(dup.message, /005_remove_quantity_column\.py:15/);
  // 2: depends_on on a user_service revision
  assert.equal(at(diags, 'cross-service-reference', `${B}/004_cancel_budgets_of_inactive_users.py`, 17).length, 1);
  // 3: one warning
  assert.equal(count('mixed-id-format'), 1);
  // 4: the two heads left after the merge
  assert.equal(count('multiple-heads'), 1);
  assert.match(diags.find((d) => d.rule === 'multiple-heads')!.message, /20250915_124515.*e4b7a2c9f013/);
  // user_service is clean
  assert.deepEqual(
    diags.filter((d) => d.service === 'user_service'),
    [],
  );
}

describe('legacy example: tidemark check', () => {
  it('--alembic with the two alembic.ini files (no config)', async () => {
    const report = await check({ alembic: [iniOf('user_service'), iniOf('budget_service')] });
    assert.equal(report.error, undefined, report.error?.message);
    assert.deepEqual(
      report.services.map((s) => s.service),
      ['user_service', 'budget_service'],
    );
    assertTheFourProblems(report.diagnostics);
    const graph = report.services[1].graph;
    assert.deepEqual(graph.heads, ['20250915_124515', 'e4b7a2c9f013']);
    assert.deepEqual(graph.mergePoints, ['c0eefe7ade9c']);
  });

  it('with tidemark.config.mjs: also the SQL and op.* on users', async () => {
    const report = await check({ configFile: path.join(LEGACY, 'tidemark.config.mjs') });
    assert.equal(report.error, undefined, report.error?.message);
    assertTheFourProblems(report.diagnostics);
    assert.equal(at(report.diagnostics, 'cross-service-reference', `${B}/001_create_budgets_table.py`, 30).length, 1, 'FK to users.id');
    assert.equal(at(report.diagnostics, 'cross-service-reference', `${B}/004_cancel_budgets_of_inactive_users.py`, 25).length, 1, 'FROM users');
    const update = at(report.diagnostics, 'cross-service-reference', `${B}/9d2a61c3b7e4_promote_budget_approvers_to_manager.py`, 26);
    assert.equal(update.length, 1, 'UPDATE users');
    assert.match(update[0].message, /changes table users/);
  });

  it('legacy/README.md names the lines the files have', () => {
    const readme = readFileSync(path.join(LEGACY, 'README.md'), 'utf8');
    const cites: [string, number, string][] = [
      [`${B}/005_add_commission_percentage_actual.py`, 15, "revision: str = '005'"],
      [`${B}/005_remove_quantity_column.py`, 15, "revision: str = '005'"],
      [`${B}/004_cancel_budgets_of_inactive_users.py`, 17, "depends_on = '1f4f4176aeb7'"],
      [`${B}/004_cancel_budgets_of_inactive_users.py`, 25, 'FROM users'],
      [`${B}/001_create_budgets_table.py`, 30, "['users.id']"],
      [`${B}/9d2a61c3b7e4_promote_budget_approvers_to_manager.py`, 26, 'UPDATE users'],
      [`${B}/001_create_budgets_table.py`, 13, "revision = '001'"],
      [`${B}/20250915_124515_add_budget_item_position.py`, 13, 'revision = "20250915_124515"'],
      [`${B}/c0eefe7ade9c_merge_multiple_heads.py`, 16, "('005', '9d2a61c3b7e4')"],
      [`${B}/e4b7a2c9f013_add_updated_at_checks.py`, 15, "revision: str = 'e4b7a2c9f013'"],
      ['legacy-database.sql', 118, "('d7e1c4a9b320')"],
      ['legacy-database.sql', 120, "('fix_2025_contamination')"],
    ];
    for (const [file, line, needle] of cites) {
      assert.equal(lineOf(file, needle), line, `${file}: '${needle}'`);
      const cited = file.startsWith(`${B}/`) ? `${path.basename(file)}:${line}` : 'legacy-database.sql:118-120';
      assert.ok(readme.includes(cited), `README cites ${cited}`);
    }
  });
});

// ---- the legacy database ----

const LEGACY_SQL = readFileSync(path.join(LEGACY, 'legacy-database.sql'), 'utf8');

forEachBackend('legacy example: legacy-database.sql', (backend) => {
  it('loads: three tables, a few rows, one alembic_version shared by both services', async () => {
    const created = await backend.createDatabase();
    try {
      const db = await openDatabase(created.url);
      try {
        await db.exec(LEGACY_SQL);
        const tables = await db.query<{ t: string }>(`SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
        assert.deepEqual(
          tables.rows.map((r) => r.t),
          ['alembic_version', 'budget_items', 'budgets', 'users'],
        );
        const counts = await db.query<{ users: number; budgets: number; items: number }>(
          `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM budgets)::int AS budgets,
                  (SELECT count(*) FROM budget_items)::int AS items`,
        );
        assert.deepEqual({ ...counts.rows[0] }, { users: 4, budgets: 4, items: 6 });
        // The schema after both 005s: commission_percentage_actual added, quantity gone, position there.
        const columns = await db.query<{ c: string }>(
          `SELECT table_name || '.' || column_name AS c FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name IN ('budgets', 'budget_items') ORDER BY 1`,
        );
        const cols = columns.rows.map((r) => r.c);
        assert.ok(cols.includes('budgets.commission_percentage_actual'));
        assert.ok(cols.includes('budget_items.position'));
        assert.ok(!cols.includes('budget_items.quantity'));
        // Every budget's total is the sum of its items; the identity sequences are past the explicit ids.
        const totals = await db.query<{ bad: number }>(
          `SELECT count(*)::int AS bad FROM budgets b
            WHERE b.total_amount <> (SELECT coalesce(sum(unit_price), 0) FROM budget_items i WHERE i.budget_id = b.id)`,
        );
        assert.equal(totals.rows[0].bad, 0);
        const next = await db.query<{ id: string }>(`INSERT INTO users (email, name) VALUES ('novo@ditual.com.br', 'Novo') RETURNING id::text AS id`);
        assert.equal(next.rows[0].id, '5');
        await db.exec(`DELETE FROM users WHERE id = 5`);

        const versions = await db.query<{ v: string }>(`SELECT version_num AS v FROM alembic_version ORDER BY 1`);
        assert.deepEqual(
          versions.rows.map((r) => r.v),
          ['20250915_124515', 'd7e1c4a9b320', 'fix_2025_contamination'],
        );

        // The doctor maps each row to its directory: one of each service, one of none.
        const report = await check({ configFile: path.join(LEGACY, 'tidemark.config.mjs'), database: db, db: true });
        assert.equal(report.error, undefined, report.error?.message);
        const contamination = report.diagnostics.filter((d) => d.rule === 'alembic-version-contamination');
        for (const v of ['d7e1c4a9b320', '20250915_124515', 'fix_2025_contamination']) {
          assert.equal(contamination.filter((d) => d.message.includes(v)).length, 1, `one diagnostic for row ${v}`);
        }
        assert.equal(contamination.length, 3);
        assert.deepEqual(
          report.diagnostics.filter((d) => d.rule === 'unowned-object'),
          [],
        );
      } finally {
        await db.close();
      }
    } finally {
      await created.drop();
    }
  });
});
