/**
 * Run by test/db/boundary.test.ts as `node --import dist/test/support/trap-boundary.js boundary-run.js URL`:
 * the CRM example through every core — up, status, check --db, backup, validate (with its shadow
 * replay), restore --replace, baseline (a dry run, proven on a shadow), rebaseline (the full path), down,
 * reset — each called with a Target this script builds itself. This script loads the config and opens the
 * database (it is the boundary here); the trap makes any core that reaches for the config loader or a
 * connection opener fail. Prints one line per step and `all ok`; exits 1 on the first failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { down, status, up } from '../../src/apply/migrate.js';
import { check } from '../../src/check/run.js';
import { loadWorkspace } from '../../src/config/load.js';
import { backup } from '../../src/data/backup/index.js';
import { restore } from '../../src/data/restore/index.js';
import { openDatabase } from '../../src/db/open.js';
import { openShadow } from '../../src/db/shadow.js';
import { baseline } from '../../src/flows/baseline.js';
import { rebaseline } from '../../src/flows/rebaseline.js';
import { reset } from '../../src/flows/reset.js';
import { validate } from '../../src/flows/validate.js';
import { fakeTarget } from './fake-target.js';
import { CRM_EXAMPLE, copyCrmExample } from './workspace.js';

interface Outcome {
  ok: boolean;
  error?: { code?: string; message?: string };
}

const url = process.argv[2];
const ws = copyCrmExample();
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-boundary-'));
const db = await openDatabase(url);
let failed = false;
try {
  const workspace = await loadWorkspace({ cwd: ws.dir });
  const target = (services?: string[]) => fakeTarget(workspace, db, { services, openShadow: (request) => openShadow({ target: db, shadowUrl: request.url, prefer: request.prefer }) });
  const step = (name: string, r: Outcome) => {
    if (!r.ok) throw new Error(`${name}: ${r.error?.code ?? ''} ${r.error?.message ?? JSON.stringify(r).slice(0, 500)}`);
    process.stdout.write(`${name} ok\n`);
  };

  step('up', await up(target()));
  const crm = (await import(pathToFileURL(path.join(CRM_EXAMPLE, 'data.mjs')).href)) as { crmDataStatements(o: { users: number }): string[] };
  for (const sql of crm.crmDataStatements({ users: 20 })) await db.exec(sql);
  const st = await status(target());
  step('status', { ok: st.ok && st.services.every((s) => s.migrations.every((m) => m.state === 'applied')), error: st.error });
  const t = target();
  const doctor = await check({ workspace, services: t.services, paths: t.paths, db, name: t.name, protection: t.protection });
  step('check --db', { ok: !doctor.error && doctor.database !== undefined, error: doctor.error });
  const written = await backup(target(), { out: path.join(out, 'bk') });
  step('backup', written);
  step('validate', await validate(target(), { against: written.dir }));
  step('restore --replace', await restore(target(), { dir: written.dir!, replace: true }));
  step('baseline --dry-run', await baseline(target(['budget']), { service: 'budget', dryRun: true }));
  await db.exec('CREATE INDEX budgets_boundary_idx ON budgets (title)');
  const rb = await rebaseline(target(['budget']), { backupDir: path.join(out, 'rb') });
  step('rebaseline', { ok: rb.ok && rb.mode === 'full', error: rb.error });
  step('down', await down(target(['budget']), { steps: 1 }));
  step('reset', await reset(target(['budget'])));
  process.stdout.write('all ok\n');
} catch (err) {
  failed = true;
  process.stdout.write(`FAILED ${(err as Error).message}\n`);
} finally {
  await db.close();
  ws.remove();
  fs.rmSync(out, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
