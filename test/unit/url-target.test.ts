/**
 * src/db/url.ts: a server URL resolved exactly as node-postgres resolves it (compared with pg's own
 * ConnectionParameters on generated spellings and PG* environments), and redactUrl, which must not
 * leave any piece of a password in any spelling (generated passwords full of `@ : / # ? % & =`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { canonicalHost, isLocalHost, resolveServerTarget, sameHost, type Env } from '../../src/db/url.js';
import { redactUrl } from '../../src/db/redact.js';

const PG_VARS = ['PGHOST', 'PGPORT', 'PGDATABASE', 'PGUSER', 'PGPASSWORD'] as const;

/** What node-postgres itself would connect to, under env (pg reads process.env). */
function pgView(url: string, env: Env): { host: string; port: number; database: string; user: string } | 'throws' {
  const saved = Object.fromEntries(PG_VARS.map((k) => [k, process.env[k]]));
  try {
    for (const k of PG_VARS) {
      if (env[k] === undefined) delete process.env[k];
      else process.env[k] = env[k];
    }
    const c = new pg.Client({ connectionString: url }) as unknown as { host: string; port: number; database: string; user: string };
    return { host: c.host, port: c.port, database: c.database, user: c.user };
  } catch {
    return 'throws';
  } finally {
    for (const k of PG_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

function ours(url: string, env: Env): { host: string; port: number; database: string; user: string } | 'throws' {
  try {
    const t = resolveServerTarget(url, env);
    return { host: t.host, port: t.port, database: t.database, user: t.user };
  } catch {
    return 'throws';
  }
}

describe("resolveServerTarget: the issue's spellings", () => {
  const env = { USER: 'dev' };
  it('a URL without a path takes PGDATABASE (the `PGDATABASE=prod` bypass)', () => {
    assert.equal(resolveServerTarget('postgres://postgres@127.0.0.1:5432', { ...env, PGDATABASE: 'prod' }).database, 'prod');
    assert.equal(resolveServerTarget('postgres://postgres@127.0.0.1:5432', env).database, 'postgres', 'else the user name');
  });
  it('several host= parameters: the last one wins, over the authority too', () => {
    assert.equal(resolveServerTarget('postgres://u@localhost/app?host=localhost&host=db.prod.internal', env).host, 'db.prod.internal');
  });
  it('postgres:///db takes PGHOST; ?dbname= is ignored for the path; PGPORT fills a missing port', () => {
    assert.equal(resolveServerTarget('postgres:///db', { ...env, PGHOST: 'remote.example', PGPORT: '6543' }).host, 'remote.example');
    assert.equal(resolveServerTarget('postgres:///db', { ...env, PGHOST: 'remote.example', PGPORT: '6543' }).port, 6543);
    assert.equal(resolveServerTarget('postgres://u@localhost/app?dbname=prod', env).database, 'app');
    assert.equal(resolveServerTarget('postgres://u@localhost?dbname=prod', env).database, 'u');
  });
  it('percent-encoded names, IPv6, socket directories, postgresql://', () => {
    assert.equal(resolveServerTarget('postgresql://u@localhost/pr%6Fd', env).database, 'prod');
    assert.equal(resolveServerTarget('postgres://u@[::1]:5432/app', env).host, '::1');
    assert.equal(resolveServerTarget('postgres://u@localhost/app?host=%2Fvar%2Frun%2Fpostgresql', env).host, '/var/run/postgresql');
  });
  it('refuses what node-postgres could not use, naming no password', () => {
    for (const bad of ['postgres://u:hunter2@h:99999/db', 'postgres://u:hunter2@h/db?host=a,b', 'postgres://:hunter2@h/db']) {
      assert.throws(
        () => resolveServerTarget(bad, {}),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'bad-database-url');
          assert.ok(!e.message.includes('hunter2'), e.message);
          return true;
        },
      );
    }
  });
  it('keeps the password out of JSON (not enumerable) but available', () => {
    const t = resolveServerTarget('postgres://u:hunter2@localhost/app', env);
    assert.equal(t.password, 'hunter2');
    assert.ok(!JSON.stringify(t).includes('hunter2'));
    assert.equal(resolveServerTarget('postgres://u@localhost/app', { ...env, PGPASSWORD: 'fromenv' }).password, 'fromenv');
  });

  it('agrees with node-postgres itself on host, port, database and user (generated spellings and environments)', () => {
    const host = fc.constantFrom('', 'localhost', '127.0.0.1', '[::1]', 'DB.Prod.Internal.', 'db.prod.internal', '%2Ftmp');
    const port = fc.constantFrom('', ':5432', ':6543');
    const user = fc.constantFrom('', 'u@', 'postgres@', 'u:pw@');
    const pathPart = fc.constantFrom('', '/', '/app', '/pr%6Fd', '/prod', '/a%20b');
    const param = fc.constantFrom('host=localhost', 'host=db.prod.internal', 'host=%2Fvar%2Frun%2Fpostgresql', 'port=6543', 'dbname=prod', 'database=prod', 'user=admin', 'application_name=x');
    const envArb = fc.record(
      {
        PGHOST: fc.constantFrom('remote.example', '/tmp', '127.0.0.2'),
        PGPORT: fc.constantFrom('5433', '6000'),
        PGDATABASE: fc.constantFrom('prod', 'other'),
        PGUSER: fc.constantFrom('envuser', 'postgres'),
      },
      { requiredKeys: ['PGUSER'] }, // pg's own default user was read from $USER when pg loaded: give one
    );
    fc.assert(
      fc.property(fc.constantFrom('postgres://', 'postgresql://'), user, host, port, pathPart, fc.array(param, { maxLength: 4 }), envArb, (scheme, u, h, p, pa, params, env) => {
        const url = `${scheme}${u}${h}${p}${pa}${params.length ? `?${params.join('&')}` : ''}`;
        const theirs = pgView(url, env);
        const mine = ours(url, env);
        if (theirs === 'throws') return; // we may refuse more, never less
        if (mine === 'throws') {
          // Refusing is allowed only where pg would not get anywhere either (a port that is not a number).
          assert.ok(!Number.isInteger(theirs.port) || theirs.port <= 0 || theirs.port > 65535, `refused ${url} that pg reads as ${JSON.stringify(theirs)}`);
          return;
        }
        assert.deepEqual(mine, theirs, url);
      }),
      { numRuns: 600 },
    );
  });
});

describe('hosts', () => {
  it('canonical spelling: case, trailing dots, brackets, address forms; no DNS', () => {
    assert.equal(canonicalHost('DB.Prod.Internal.'), 'db.prod.internal');
    assert.equal(canonicalHost('[0:0:0:0:0:0:0:1]'), '::1');
    assert.equal(canonicalHost('127.1'), '127.0.0.1');
    assert.equal(canonicalHost('/var/run/PostgreSQL'), '/var/run/PostgreSQL');
  });
  it('this machine: localhost, 127.0.0.1, ::1, sockets; not 127.0.0.2 nor a name', () => {
    for (const h of ['localhost', 'LOCALHOST.', '127.0.0.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', '/tmp']) assert.ok(isLocalHost(h), h);
    for (const h of ['127.0.0.2', 'db.prod.internal', 'localhost.example', '10.0.0.1']) assert.ok(!isLocalHost(h), h);
    assert.ok(sameHost('localhost', '127.0.0.1'));
    assert.ok(!sameHost('127.0.0.2', '127.0.0.1'));
  });
});

// ---------------------------------------------------------------------------------------------
// redactUrl

/** Password pieces each carry a marker letter (Q, X or Z) that nothing else in the URLs holds. */
const MARKERS = /[QXZ]/;
const piece = fc.tuple(fc.constantFrom('Q', 'X', 'Z'), fc.stringMatching(/^[a-z0-9@:/#?%&=!. +;-]{0,6}$/)).map(([m, rest]) => m + rest);
const separator = fc.constantFrom('@', ':', '/', '#', '?', '%', '&', '=', '&password=', 'PASSWORD=', '@h/db?', '%40', ' ', ';');
const password = fc.tuple(piece, fc.array(fc.tuple(separator, piece), { maxLength: 4 })).map(([first, more]) => first + more.map(([s, p]) => s + p).join(''));

const SPELLINGS: Array<(pw: string, pw2: string) => string> = [
  (pw) => `postgres://user:${pw}@db.example:5432/app?sslmode=disable`,
  (pw) => `postgresql://user:${encodeURIComponent(pw)}@db.example/app`,
  (pw) => `postgres://us@er:${pw}@[::1]:5432/app`,
  (pw) => `postgres://:${pw}@localhost/app`,
  (pw) => `postgres://user:${pw}@/app?host=/var/run/postgresql`,
  (pw) => `postgres://user@db.example/app?password=${pw}`,
  (pw) => `postgres://user@db.example/app?sslmode=disable&PASSWORD=${pw}&application_name=t`,
  (pw) => `postgres://user@db.example/app?Password=${encodeURIComponent(pw)}`,
  (pw) => `postgres://user@db.example/app?pass%77ord=${pw}`,
  (pw, pw2) => `postgres://user@db.example/app?password=${pw}&password=${pw2}`,
  (pw, pw2) => `postgres://user:${pw}@db.example/app?password=${pw2}`,
  (pw) => `postgres://user@db.example/app?sslpassword=${pw}`,
  (pw) => `host=db.example password=${pw} dbname=app`,
  (pw) => `host=db.example password = '${pw}' dbname=app`,
  (pw) => `user:${pw}@db.example/app`,
  (pw) => `postgres:/user:${pw}@db.example/app`,
  (pw) => `mysql://user:${pw}@db.example/app`,
];

describe('redactUrl', () => {
  it('never leaves a piece of a password, in any spelling (generated)', () => {
    fc.assert(
      fc.property(password, password, fc.integer({ min: 0, max: SPELLINGS.length - 1 }), (pw, pw2, i) => {
        const url = SPELLINGS[i](pw, pw2);
        const shown = redactUrl(url);
        assert.ok(!MARKERS.test(shown), `${JSON.stringify(url)} → ${JSON.stringify(shown)}`);
        assert.ok(!MARKERS.test(decodeURIComponentLoose(shown)), `${JSON.stringify(url)} → ${JSON.stringify(shown)} (decoded)`);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps everything else of an ordinary URL as written', () => {
    assert.equal(redactUrl('postgres://bob:s3cret@db.example:5432/app'), 'postgres://bob:***@db.example:5432/app');
    assert.equal(redactUrl('postgres://bob@h/app?sslmode=require'), 'postgres://bob@h/app?sslmode=require');
    assert.equal(redactUrl('postgres://u@[::1]:5432/app'), 'postgres://u@[::1]:5432/app');
    assert.equal(redactUrl('postgres://h/app?user=bob&password=s3cret'), 'postgres://h/app?user=bob&password=***');
    assert.equal(redactUrl('pglite:./a:b@c'), 'pglite:./a:b@c');
  });

  it("the issue's half-redacted example: a raw @ in the password", () => {
    const shown = redactUrl('postgres://u:ret/Pw#x@QQ@db.example/app');
    assert.ok(!shown.includes('Pw') && !shown.includes('QQ'), shown);
  });
});

function decodeURIComponentLoose(s: string): string {
  return s.replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
