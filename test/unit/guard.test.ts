import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Database } from '../../src/db/database.js';
import { resolveTarget, type Env } from '../../src/db/url.js';
import { enforceGuard, guardConnected, guardTarget, protectedGlobMatches } from '../../src/ledger/guard.js';
import { requirementOrder } from '../../src/config/services.js';
import type { Workspace } from '../../src/config/types.js';

describe('guardTarget', () => {
  it('leaves a local server database and an embedded one unguarded', () => {
    assert.deepEqual(guardTarget('postgres://postgres@127.0.0.1:5432/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres://u@localhost/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres://u@[::1]:5432/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres://u@localhost/app_dev?host=/var/run/postgresql', []).reasons, []);
    assert.deepEqual(guardTarget('pglite:./.tidemark/db', []).reasons, []);
    assert.equal(guardTarget('postgres://u@localhost/app_dev', []).name, 'app_dev');
  });

  it('guards a remote host', () => {
    const g = guardTarget('postgres://admin:s3cret@db.prod.internal:5432/crm', []);
    assert.equal(g.name, 'crm');
    assert.deepEqual(g.reasons, ['its host db.prod.internal is not this machine']);
  });

  it('guards database names, hosts and URLs of the protected list, globs included', () => {
    assert.equal(guardTarget('postgres://u@localhost/crm_prod', ['*_prod']).reasons.length, 1);
    assert.equal(guardTarget('postgres://u@localhost/crm_dev', ['*_prod']).reasons.length, 0);
    assert.equal(guardTarget('postgres://u@127.0.0.1/crm', ['127.0.0.1']).reasons.length, 1);
    assert.equal(guardTarget('postgres://u:pw@localhost/crm', ['postgres://u:***@localhost/crm']).reasons.length, 1);
    assert.equal(guardTarget('pglite:./shared/db', ['pglite:./shared/*']).reasons.length, 1);
  });
});

/** The guard on a URL resolved under a given environment (as the driver will resolve it). */
const guardWith = (url: string, list: readonly string[], env: Env = { USER: 'dev' }) => guardTarget(resolveTarget(url, '/work', env), list);

describe('guardTarget: every spelling of the issue resolves to the target the driver connects to', () => {
  it('PGDATABASE fills a URL without a path (`PGDATABASE=prod … postgres://postgres@127.0.0.1:5432`)', () => {
    const g = guardWith('postgres://postgres@127.0.0.1:5432', ['prod'], { PGDATABASE: 'prod' });
    assert.equal(g.name, 'prod');
    assert.equal(g.reasons.length, 1);
  });
  it('?host=localhost&host=<other>: the last host is the one guarded', () => {
    assert.deepEqual(guardWith('postgres://u@localhost/app?host=localhost&host=db.prod.internal', []).reasons, ['its host db.prod.internal is not this machine']);
    assert.equal(guardWith('postgres://u@localhost/app?host=localhost&host=db.prod.internal', ['db.prod.internal']).reasons.length, 2);
  });
  it('PGHOST=<other> with postgres:///db', () => {
    assert.deepEqual(guardWith('postgres:///db', [], { USER: 'dev', PGHOST: 'remote.example' }).reasons, ['its host remote.example is not this machine']);
  });
  it('?dbname= does not hide the database the path (or PGDATABASE, or the user) names', () => {
    assert.equal(guardWith('postgres://u@localhost/prod?dbname=scratch', ['prod']).reasons.length, 1);
    assert.equal(guardWith('postgres://prod@localhost?dbname=scratch', ['prod']).reasons.length, 1);
    assert.equal(guardWith('postgres://u@localhost/scratch?dbname=prod', ['prod']).reasons.length, 0, 'dbname= is not what pg connects to');
  });
  it('socket directories, [::1], upper case, trailing dots, postgresql://, percent-encoding', () => {
    assert.equal(guardWith('postgres://u@localhost/prod?host=%2Fvar%2Frun%2Fpostgresql', ['prod']).reasons.length, 1);
    assert.equal(guardWith('postgres://u@[::1]:5432/prod', ['prod']).reasons.length, 1);
    assert.equal(guardWith('postgresql://u@DB.PROD.INTERNAL./crm', ['db.prod.internal']).reasons.length, 2);
    assert.equal(guardWith('postgres://u@localhost/PR%4FD', ['prod']).reasons.length, 1, 'PROD: names compare case-insensitively');
    assert.equal(guardWith('postgres://u@localhost/pr%6Fd', ['prod']).reasons.length, 1);
    assert.equal(guardWith('postgres://u@127.0.0.2/app', []).reasons.length, 1, '127.0.0.2 is not counted as this machine');
  });
  it('a protected URL matches every spelling of the same target (loopback aliases are one host)', () => {
    const list = ['postgres://localhost:5432/prod'];
    for (const url of ['postgres://u@127.0.0.1/prod', 'postgres://u@[::1]:5432/prod', 'postgres://u@other.example/prod?host=localhost&port=5432&dbname=y', 'postgresql://u:pw@LOCALHOST./prod']) {
      assert.ok(
        guardWith(url, list).reasons.some((r) => r.includes('protected list')),
        url,
      );
    }
    assert.equal(guardWith('postgres://u@localhost:6543/prod', list).reasons.length, 0, 'another port is another server');
  });
  it('a protected target is never left unguarded, whatever the spelling (generated)', () => {
    const host = fc.constantFrom('localhost', '127.0.0.1', '[::1]', 'LOCALHOST.', '', '%2Ftmp');
    const scheme = fc.constantFrom('postgres://', 'postgresql://');
    fc.assert(
      fc.property(scheme, host, fc.constantFrom('', ':5432'), fc.constantFrom('prod', 'pr%6Fd', 'PROD', 'Prod'), fc.boolean(), fc.boolean(), (sc, h, p, db, viaEnv, dbnameDecoy) => {
        const url = `${sc}u@${h}${p}${viaEnv ? '' : `/${db}`}${dbnameDecoy ? '?dbname=scratch' : ''}`;
        const env = { USER: 'dev', ...(viaEnv ? { PGDATABASE: decodeURIComponent(db) } : {}) };
        let reasons: string[];
        try {
          reasons = guardWith(url, ['prod'], env).reasons;
        } catch (err) {
          assert.equal((err as { code?: string }).code, 'bad-database-url', url); // refused as unusable: also safe
          return;
        }
        assert.ok(reasons.length > 0, url);
      }),
      { numRuns: 300 },
    );
  });
});

describe('enforceGuard', () => {
  const guarded = { name: 'crm', reasons: ['its host db.prod.internal is not this machine'] };
  const url = 'postgres://admin:***@db.prod.internal:5432/crm';

  it('passes an unguarded target without asking', async () => {
    await enforceGuard('reset', { name: 'x', reasons: [] }, 'pglite:x', { ask: async () => assert.fail('must not ask') });
  });

  it('refuses without --force-protected, naming the reason and never the password', async () => {
    await assert.rejects(enforceGuard('reset', guarded, url, {}), (e: Error) => {
      assert.match(e.message, /Refusing to reset .*db\.prod\.internal is not this machine/);
      assert.doesNotMatch(e.message, /s3cret/);
      return true;
    });
  });

  it('with --force-protected, needs the name typed back: flag, prompt, wrong name, nobody to ask', async () => {
    await enforceGuard('reset', guarded, url, { forceProtected: true, yesIMean: 'crm' });
    await enforceGuard('reset', guarded, url, { forceProtected: true, ask: async () => ' crm\n' });
    await assert.rejects(enforceGuard('reset', guarded, url, { forceProtected: true, yesIMean: 'crm_dev' }), /typed back \(crm_dev\) is not crm/);
    await assert.rejects(enforceGuard('reset', guarded, url, { forceProtected: true, ask: async () => undefined }), /no one typed its name back/);
  });
});

describe('requirementOrder', () => {
  const ws = {
    services: [
      { name: 'budget', requires: ['user'] },
      { name: 'report', requires: ['budget', 'user'] },
      { name: 'user', requires: [] },
    ],
  } as unknown as Workspace;
  it('puts required services first, keeping only the ones asked for', () => {
    assert.deepEqual(requirementOrder(ws, ['budget', 'user']), ['user', 'budget']);
    assert.deepEqual(requirementOrder(ws, ['report', 'user', 'budget']), ['user', 'budget', 'report']);
    assert.deepEqual(requirementOrder(ws, ['report']), ['report']);
  });
});

describe('guardConnected', () => {
  /** A stand-in Database answering the guard's two questions. */
  const fakeDb = (facts: { db: string; addr: string | null; port: number | null; recovery: boolean }, marked = false) =>
    ({
      backend: 'postgres',
      displayUrl: 'postgres://u:***@localhost/x',
      query: async (sql: string) => {
        if (/current_database\(\)/.test(sql)) return { rows: [facts], rowCount: 1 };
        if (/to_regclass/.test(sql)) return { rows: [{ present: marked }], rowCount: 1 };
        return { rows: marked ? [{ database: facts.db, protected_at: new Date('2026-01-02'), protected_by: 'ops@host' }] : [], rowCount: marked ? 1 : 0 };
      },
    }) as unknown as Database;

  it('refuses a standby in recovery outright, whatever the flags', async () => {
    await assert.rejects(guardConnected(fakeDb({ db: 'app', addr: '127.0.0.1', port: 5432, recovery: true }), []), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'target-in-recovery');
      assert.match(e.message, /standby in recovery/);
      return true;
    });
  });

  it('checks the protected list against what the server says (name, address, port) and reads the mark', async () => {
    const facts = { db: 'prod', addr: '10.1.2.3', port: 5432, recovery: false };
    assert.equal((await guardConnected(fakeDb(facts), [])).reasons.length, 0, 'no list, no mark: a server address elsewhere alone is not a reason (a local proxy or container)');
    assert.match((await guardConnected(fakeDb(facts), ['prod'])).reasons[0], /the server says it is prod at 10\.1\.2\.3:5432/);
    assert.equal((await guardConnected(fakeDb(facts), ['10.1.2.*'])).reasons.length, 1);
    assert.equal((await guardConnected(fakeDb(facts), ['postgres://10.1.2.3:5432/prod'])).reasons.length, 1);
    assert.equal((await guardConnected(fakeDb(facts), ['postgres://10.1.2.3:6543/prod'])).reasons.length, 0);
    const marked = await guardConnected(fakeDb(facts, true), []);
    assert.equal(marked.name, 'prod');
    assert.match(marked.reasons[0], /marked protected inside the database .*2026-01-02 by ops@host/);
  });
});

describe('guard messages', () => {
  it('never show a password written into a protected URL entry', () => {
    const g = guardWith('postgres://u@localhost/crm', ['postgres://admin:QXZ7secret@localhost/crm']);
    assert.equal(g.reasons.length, 1);
    assert.ok(!g.reasons[0].includes('QXZ7'), g.reasons[0]);
  });
});

describe("the protected list's globs (pinned before the matcher was swapped: the table must not change)", () => {
  // [glob, text, matches]. `*` is any run and `?` any one character, both crossing `/ . :`; case-insensitive;
  // every other character is literal (brackets, braces, parentheses, `!`, `+`, `@`, `$`, `^`, `|`, `\\`).
  const table: [string, string, boolean][] = [
    ['*_prod', 'crm_prod', true],
    ['*_prod', 'crm_dev', false],
    ['*_prod', '_prod', true],
    ['CRM_*', 'crm_prod', true],
    ['crm_prod', 'CRM_PROD', true],
    ['crm?prod', 'crm_prod', true],
    ['crm?prod', 'crm__prod', false],
    ['crm?prod', 'crmprod', false],
    ['*', '', true],
    ['*', 'anything/at all.here:5432', true],
    ['?', '/', true],
    ['a?b', 'a.b', true],
    ['a?b', 'a:b', true],
    ['a?b', 'a/b', true],
    ['a.b', 'aXb', false],
    ['a.b', 'a.b', true],
    ['db.*', 'db.prod.internal', true],
    ['*.internal', 'db.prod.internal', true],
    ['10.1.2.*', '10.1.2.3', true],
    ['10.1.2.*', '10.1.23', false],
    ['/srv/*', '/srv/a/b/c', true],
    ['/srv/*/db', '/srv/a/b/db', true],
    ['/srv/*', '/srv/.hidden', true],
    ['*', '.hidden', true],
    ['.*', '.hidden', true],
    ['pglite:./shared/*', 'pglite:./shared/db', true],
    ['pglite:./shared/*', 'pglite:./other/db', false],
    ['postgres://*', 'postgres://u:***@db.prod.internal:5432/crm', true],
    ['postgres://*@db.prod.internal*', 'postgres://u:***@db.prod.internal:5432/crm', true],
    ['postgres://u:***@localhost/crm', 'postgres://u:***@localhost/crm', true],
    ['postgres://u:***@localhost/crm', 'postgres://u:pw@localhost/crm', true],
    ['*prod*', 'my-production-db', true],
    ['**', 'a/b', true],
    ['a**b', 'a/x/y/b', true],
    ['[abc]', '[abc]', true],
    ['[abc]', 'a', false],
    ['[a-z]*', 'x1', false],
    ['{a,b}', '{a,b}', true],
    ['{a,b}', 'a', false],
    ['app(1)', 'app(1)', true],
    ['app+', 'app+', true],
    ['app+', 'appp', false],
    ['+(a)', '+(a)', true],
    ['+(a)', 'a', false],
    ['@(a)', 'a', false],
    ['!prod', '!prod', true],
    ['!prod', 'dev', false],
    ['^prod$', '^prod$', true],
    ['a|b', 'a', false],
    ['a|b', 'a|b', true],
    ['a\\b', 'a\\b', true],
    ['a\\*', 'a\\x', true],
    ['a\\*', 'a*', false],
    ['prod', 'prod/', false],
    ['prod/', 'prod', false],
    ['prod', ' prod', false],
    ['*/', 'a/', true],
    ['./db', 'db', false],
    ['a/./b', 'a/b', false],
    ['a//b', 'a/b', false],
    ['ÉCOLE', 'école', true],
    ['*', '.', true],
    ['*', '..', true],
    ['?*', 'a', true],
    ['*', 'x\ny', false],
  ];
  for (const [glob, text, expected] of table) {
    it(`${JSON.stringify(glob)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
      assert.equal(protectedGlobMatches(glob, text), expected);
    });
  }
});
