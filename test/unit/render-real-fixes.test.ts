/**
 * Renderer fixes found by the round trips on real histories (bench/real-histories/round-trip.mjs): each
 * case is the smallest snapshot pair showing what a real project's history needed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diff } from '../../src/schema/diff/diff.js';
import { renderChanges } from '../../src/schema/render/changes.js';
import type { DomainType, Snapshot, TableInfo } from '../../src/schema/snapshot.js';
import { nameKey } from '../../src/sql/ident.js';
import { column, emptySnapshot, fn, IDENTITY_SEQ, table } from './schema-fixtures.js';

function snap(tables: TableInfo[], extra: Partial<Snapshot> = {}): Snapshot {
  return { ...emptySnapshot(), tables, ...extra };
}

function render(from: Snapshot, to: Snapshot) {
  const r = renderChanges(diff(from, to), { from, to, existingTables: new Set(from.tables.map(nameKey)) });
  return { up: r.up.map((s) => s.sql), down: r.down.map((s) => s.sql), refused: r.refused };
}

describe('renderChanges: fixes from real histories', () => {
  // @dbos-inc/dbos-sdk 5.3.0 migration 005 puts a NOTIFY trigger on dbos.notifications; cut before the
  // table exists, the generated up created the table without it.
  it('a new table gets its triggers (with their state and comment) and policies, after the function they call; its drop takes them along', () => {
    const notify = fn('notify', "BEGIN PERFORM pg_notify('c', NEW.topic); RETURN NEW; END");
    const notifications = table('notifications', {
      columns: [column('topic', 'text', 1)],
      triggers: [
        { name: 'notifications_notify', definition: 'CREATE TRIGGER notifications_notify AFTER INSERT ON public.notifications FOR EACH ROW EXECUTE FUNCTION notify()', enabled: 'O' },
        {
          name: 'notifications_audit',
          definition: 'CREATE TRIGGER notifications_audit AFTER DELETE ON public.notifications FOR EACH ROW EXECUTE FUNCTION notify()',
          enabled: 'D',
          comment: 'off for now',
        },
      ],
      policies: [{ name: 'own_topics', permissive: true, command: 'SELECT', roles: ['PUBLIC'], using: "(topic = 'mine'::text)" }],
      rowSecurity: true,
    });
    const r = render(snap([]), snap([notifications], { functions: [notify] }));
    assert.deepEqual(r.refused, []);
    const up = r.up.join('\n');
    for (const sql of [
      'CREATE TRIGGER notifications_notify AFTER INSERT ON public.notifications FOR EACH ROW EXECUTE FUNCTION notify();',
      'CREATE TRIGGER notifications_audit AFTER DELETE ON public.notifications FOR EACH ROW EXECUTE FUNCTION notify();',
      'ALTER TABLE notifications DISABLE TRIGGER notifications_audit;',
      "COMMENT ON TRIGGER notifications_audit ON notifications IS 'off for now';",
      "CREATE POLICY own_topics ON notifications FOR SELECT USING ((topic = 'mine'::text));",
      'ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;',
    ]) {
      assert.ok(r.up.includes(sql), `missing from the up: ${sql}\n${up}`);
    }
    const index = (prefix: string) => r.up.findIndex((s) => s.startsWith(prefix));
    assert.ok(index('CREATE OR REPLACE FUNCTION public.notify') < index('CREATE TRIGGER notifications_notify'), 'the function before the trigger that calls it');
    assert.ok(index('CREATE TABLE notifications') < index('CREATE TRIGGER notifications_notify'), 'the table before its trigger');
    assert.ok(index('CREATE TRIGGER notifications_audit') < index('ALTER TABLE notifications DISABLE TRIGGER'), 'disabled once created');
    // The down: dropping the table drops its triggers and policies; no statement of their own.
    assert.ok(!r.down.some((s) => /TRIGGER|POLICY/.test(s)), r.down.join('\n'));
    assert.ok(r.down.includes('DROP TABLE notifications;'));
  });

  // @pgpm/database-jobs 0.16.0: functions RETURNS app_jobs.jobs (created after the table, so late); the
  // down of a cut before the table dropped the table first, which its functions' row type forbids.
  it('a late function is dropped before the tables (it may return one of their row types), after the columns; an early one stays last', () => {
    const jobs = table('jobs', { columns: [column('id', 'bigint', 1, { notNull: true })] }, 'app');
    const getJob = fn(
      'get_job',
      'SELECT * FROM app.jobs LIMIT 1',
      { late: true, definition: 'CREATE OR REPLACE FUNCTION app.get_job()\n RETURNS app.jobs\n LANGUAGE sql\nAS $function$\nSELECT * FROM app.jobs LIMIT 1\n$function$\n' },
      'app',
    );
    const early = fn('one', 'SELECT 1', {}, 'app');
    const full = snap([jobs], { functions: [early, getJob] });
    const r = render(full, snap([]));
    assert.deepEqual(r.refused, []);
    assert.deepEqual(r.up, ['DROP FUNCTION app.get_job();', 'DROP TABLE app.jobs;', 'DROP FUNCTION app.one();']);
    // Its return type changing (RETURNS app.jobs → integer) while the table goes: the old one is dropped before it.
    const replaced = fn('get_job', 'SELECT 1', { late: false, definition: 'CREATE OR REPLACE FUNCTION app.get_job()\n RETURNS integer\n LANGUAGE sql\nAS $function$\nSELECT 1\n$function$\n' }, 'app');
    const changed = render(full, snap([], { functions: [early, replaced] }));
    assert.deepEqual(changed.refused, []);
    const at = (sql: string) => changed.up.indexOf(sql);
    assert.ok(at('DROP FUNCTION app.get_job();') >= 0 && at('DROP FUNCTION app.get_job();') < at('DROP TABLE app.jobs;'), changed.up.join('\n'));
    assert.ok(changed.up.findIndex((s) => s.startsWith('CREATE OR REPLACE FUNCTION app.get_job()')) > at('DROP FUNCTION app.get_job();'), changed.up.join('\n'));
  });

  // @pgpm/types and @pgpm/database-jobs: migration 000 installs citext / pgcrypto, which a snapshot lists
  // only once a domain or a function uses it; a cut before that use made the generated down drop it, refused.
  it('an extension the up creates is kept by the down (not refused); dropping one in the up is still refused', () => {
    const citext = { name: 'citext', schema: 'public' };
    const email: DomainType = { schema: 'public', name: 'email', kind: 'domain', baseType: 'citext', notNull: false, constraints: [] };
    const r = render(snap([]), snap([], { extensions: [citext], types: [email] }));
    assert.deepEqual(r.refused, []);
    assert.ok(r.up.includes('CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;'), r.up.join('\n'));
    assert.ok(!r.down.some((s) => /EXTENSION/.test(s)), r.down.join('\n'));
    const dropped = render(snap([], { extensions: [citext] }), snap([]));
    assert.deepEqual(dropped.refused, [{ object: 'extension citext', reason: 'an extension is never dropped by a migration: other services and data may use it; drop it by hand if it must go' }]);
  });

  // graphile-worker 0.17.3 migration 016 renames its tables (`jobs` → `_private_jobs`); diffed across it
  // (`--to history`, no renamed-from possible) that is a drop and a create, and the created table keeps
  // the identity sequence name the dropped one still held: the drop must come first.
  it('a dropped table goes before a created one, so a name it held (its identity sequence) is free', () => {
    const identity = (seq: string) => column('id', 'bigint', 1, { notNull: true, identity: { kind: 'always', sequence: { schema: 'public', name: seq, ...IDENTITY_SEQ } } });
    const jobs = table('jobs', { columns: [identity('jobs_id_seq')] });
    const renamed = table('_private_jobs', { columns: [identity('jobs_id_seq')] });
    const r = render(snap([jobs]), snap([renamed]));
    assert.deepEqual(r.refused, []);
    const drop = r.up.indexOf('DROP TABLE jobs;');
    const create = r.up.findIndex((s) => s.startsWith('CREATE TABLE _private_jobs'));
    assert.ok(drop >= 0 && create > drop, r.up.join('\n'));
    assert.ok(r.down.indexOf('DROP TABLE _private_jobs;') < r.down.findIndex((s) => s.startsWith('CREATE TABLE jobs')), r.down.join('\n'));
  });
});
