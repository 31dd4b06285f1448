/**
 * "A password is never shown" (issue 11 §5), grepped on every output path: the CLI's stdout, stderr and
 * --json of status, up, check --db, backup (ndjson and --format pgdump), restore, reset and validate,
 * with a URL holding a password (the test server has trust auth, so any password is accepted) and with
 * an unreachable one (a closed loopback port); and the argv and environment of pg_dump, recorded by a
 * fake `pg_dump` first on PATH. Server only: PGlite URLs hold no password.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { backends, freePort } from '../support/backends.js';
import { makeWorkspace, runCli, sqlMigration } from '../support/workspace.js';

const server = backends.find((b) => b.name === 'postgres');
const PASSWORD = 'QXZ7-p@ss:w/rd#?%&password=x';
const FORMS = [PASSWORD, encodeURIComponent(PASSWORD), 'QXZ7'];

function assertClean(where: string, text: string): void {
  for (const f of FORMS) assert.ok(!text.includes(f), `${where} shows the password (${JSON.stringify(f)}):\n${text.slice(0, 2000)}`);
}

it("no password in any output, in pg_dump's argv or environment, reachable or not", { skip: server ? false : 'no server' }, async () => {
  const created = await server!.createDatabase();
  const ws = makeWorkspace(
    { app: { owns: ['items'] } },
    { 'migrations/app/app_001_items.sql': sqlMigration(`CREATE TABLE items (id int PRIMARY KEY, name text);\nINSERT INTO items VALUES (1, 'a');`, 'DROP TABLE items;') },
  );
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-fakebin-'));
  const record = path.join(bin, 'record.txt');
  const passCopy = path.join(bin, 'passfile-copy');
  // A fake pg_dump: answers --version, records its argv, environment and passfile, then dies without a word.
  fs.writeFileSync(
    path.join(bin, 'pg_dump'),
    `#!/bin/sh
if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 99.0"; exit 0; fi
{ echo "ARGV:"; for a in "$@"; do echo "$a"; done; echo "ENV:"; env; echo "PASSFILE_MODE: $(stat -c %a "$PGPASSFILE" 2>/dev/null)"; } >> "${record}"
[ -n "$PGPASSFILE" ] && cp "$PGPASSFILE" "${passCopy}"
exit 1
`,
    { mode: 0o755 },
  );
  const env = { PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  try {
    const u = new URL(created.url);
    const name = u.pathname.slice(1);
    const port = u.port || '5432';
    const withPassword = [
      `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${name}`,
      `postgres://postgres@127.0.0.1:${port}/${name}?sslmode=disable&password=${encodeURIComponent(PASSWORD)}`,
    ];
    const closed = await freePort();
    const unreachable = `postgres://postgres:${encodeURIComponent(PASSWORD)}@127.0.0.1:${closed}/${name}`;
    let runs = 0;
    const run = async (args: string[], url: string) => {
      const r = await runCli([...args, '--database', url], ws.dir, env);
      runs++;
      assertClean(`tidemark ${args.join(' ')} (stdout)`, r.stdout);
      assertClean(`tidemark ${args.join(' ')} (stderr)`, r.stderr);
      assert.ok(!/\n\s+at .*\.js:\d+/.test(r.stderr), `no stack trace: ${r.stderr}`);
      return r;
    };

    const [first, second] = withPassword;
    const upped = await run(['up'], first);
    assert.equal(upped.code, 0, upped.stderr);
    for (const url of withPassword) {
      assert.equal((await run(['status'], url)).code, 0);
      const js = await run(['--json', 'status'], url);
      assert.equal(JSON.parse(js.stdout).databaseSource, 'option');
      await run(['check', '--db'], url);
      await run(['validate', '--no-structure'], url);
    }
    const out = path.join(ws.dir, 'bk');
    const b = await run(['backup', '--out', out], first);
    assert.equal(b.code, 0, b.stderr);
    const r = await run(['restore', out, '--replace'], second);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await run(['reset', '--service', 'app'], second)).code, 0);

    // pg_dump: the fake records, then dies without a message.
    for (const url of withPassword) {
      fs.rmSync(record, { force: true });
      const d = await run(['backup', '--format', 'pgdump', '--out', path.join(ws.dir, `pgd-${runs}`)], url);
      assert.equal(d.code, 1, d.stderr);
      assert.match(d.stderr, /pg_dump failed on postgres:\/\/postgres(:\*\*\*)?@127\.0\.0\.1.*without a message/);
      const recorded = fs.readFileSync(record, 'utf8');
      assertClean('pg_dump argv and environment', recorded);
      assert.match(recorded, /^-d\nhost='127\.0\.0\.1' port='\d+' user='postgres' dbname='tidemark_test_\w+'/m);
      assert.match(recorded, /PASSFILE_MODE: 600/);
      assert.equal(fs.readFileSync(passCopy, 'utf8'), `*:*:*:*:${PASSWORD.replace(/[\\:]/g, '\\$&')}\n`, 'the password reaches pg_dump through the passfile');
      const passfile = /^PGPASSFILE=(.*)$/m.exec(recorded)![1];
      assert.ok(!fs.existsSync(passfile) && !fs.existsSync(path.dirname(passfile)), 'the passfile and its directory are removed afterwards');
    }

    // Unreachable: every command fails, naming the redacted target only.
    for (const args of [
      ['status'],
      ['--json', 'status'],
      ['up'],
      ['check', '--db'],
      ['backup', '--format', 'pgdump', '--out', path.join(ws.dir, 'x')],
      ['restore', out],
      ['reset', '--service', 'app'],
      ['validate', '--no-structure'],
    ]) {
      const res = await run(args, unreachable);
      assert.notEqual(res.code, 0, `${args.join(' ')} against a closed port`);
      if (args[0] === '--json') {
        const j = JSON.parse(res.stdout);
        assert.equal(j.databaseSource, 'option');
        assert.equal(j.database, `postgres://postgres:***@127.0.0.1:${closed}/${name}`);
      }
    }
    assert.ok(runs >= 20, `${runs} runs`);
  } finally {
    ws.remove();
    fs.rmSync(bin, { recursive: true, force: true });
    await created.drop();
  }
});
