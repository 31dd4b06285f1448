import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { enforceGuard, guardTarget } from '../../src/flows/guard.js';
import { requirementOrder } from '../../src/flows/reset.js';
import type { Workspace } from '../../src/config/types.js';

describe('guardTarget', () => {
  it('leaves a local server database and an embedded one unguarded', () => {
    assert.deepEqual(guardTarget('postgres://postgres@127.0.0.1:5432/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres://u@localhost/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres://u@[::1]:5432/app_dev', []).reasons, []);
    assert.deepEqual(guardTarget('postgres:///app_dev?host=/var/run/postgresql', []).reasons, []);
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
