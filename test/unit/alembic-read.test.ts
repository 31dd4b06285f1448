import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTidemarkError } from '../../src/errors.js';
import { parseIni, parseToolAlembic, readAlembicHistory, resolveAlembicLocation, serviceNameFrom, splitVersionLocations } from '../../src/history/alembic/index.js';
import { cpuNow } from '../support/cpu-time.js';

let root: string;
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tidemark-alembic-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

/** Writes files under a fresh directory: { 'a/b.py': 'text' }. */
function tree(name: string, files: Record<string, string | Buffer>): string {
  const dir = path.join(root, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

const revFile = (id: string, down: string | null, extra = '') =>
  `"""r ${id}\n\nRevision ID: ${id}\n"""\nfrom alembic import op\n\nrevision = '${id}'\ndown_revision = ${down === null ? 'None' : `'${down}'`}\n${extra}`;

async function rejectsWithLocation(p: string, re: RegExp): Promise<void> {
  await assert.rejects(resolveAlembicLocation(p), (err: unknown) => {
    assert.ok(isTidemarkError(err));
    assert.equal(err.code, 'alembic-location');
    assert.equal(err.kind, 'input');
    assert.match(err.message, re);
    assert.ok(err.hint);
    return true;
  });
}

describe('readAlembicHistory', () => {
  it('reads every revision in sorted order, skipping __init__.py, __pycache__ and non-.py files', async () => {
    const dir = tree('plain/alembic/versions', {
      'b2_second.py': revFile('b2', 'a1', "def upgrade():\n    op.add_column('users', sa.Column('x'))\n    op.execute('UPDATE users SET x = 1')\n"),
      'a1_first.py': revFile('a1', null),
      '__init__.py': '',
      '__pycache__/a1_first.cpython-312.pyc': Buffer.from([0, 1, 2, 3]),
      '__pycache__/zz.py': revFile('zz', null),
      'README.md': '# revision = "nope"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Mako template, as Alembic ships it
      'script.py.mako': 'revision = ${repr(up_revision)}',
      '.#b2_second.py': 'lock file',
      'sub/c3_nested.py': revFile('c3', 'b2'),
    });
    const h = await readAlembicHistory('plain', [dir]);
    assert.deepEqual(h.problems, []);
    assert.equal(h.service, 'plain');
    assert.deepEqual(h.dirs, [dir]);
    assert.deepEqual(
      h.revisions.map((r) => [r.id, path.basename(r.file), r.parents]),
      [
        ['a1', 'a1_first.py', []],
        ['b2', 'b2_second.py', ['a1']],
      ],
    );
    assert.deepEqual(
      h.tableReferences.map((r) => [r.table, r.action]),
      [['users', 'op.add_column']],
    );
    assert.deepEqual(
      h.embeddedSql.map((s) => [s.sql, s.line]),
      [['UPDATE users SET x = 1', 11]],
    );
  });

  it('recurses into subdirectories only when recursive', async () => {
    const dir = tree('recursive/versions', {
      'a.py': revFile('a', null),
      '2024/b.py': revFile('b', 'a'),
      '2024/q1/c.py': revFile('c', 'b'),
      '2024/__pycache__/d.py': revFile('d', 'c'),
    });
    const flat = await readAlembicHistory('s', [dir]);
    assert.deepEqual(
      flat.revisions.map((r) => r.id),
      ['a'],
    );
    const deep = await readAlembicHistory('s', [dir], { recursive: true });
    assert.deepEqual(deep.problems, []);
    assert.deepEqual(deep.revisions.map((r) => r.id).sort(), ['a', 'b', 'c']);
  });

  it('reads several directories, once each even when listed twice', async () => {
    const one = tree('multi/one', { 'a.py': revFile('a', null) });
    const two = tree('multi/two', { 'b.py': revFile('b', 'a') });
    const h = await readAlembicHistory('s', [one, two, one]);
    assert.deepEqual(
      h.revisions.map((r) => r.id),
      ['a', 'b'],
    );
  });

  it('turns bad files into diagnostics: no revision, two revisions, unterminated string, binary garbage', async () => {
    const garbage = Buffer.alloc(2048);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) & 0xff;
    const dir = tree('bad/versions', {
      'a_ok.py': revFile('a', null),
      'b_helpers.py': 'def helper():\n    return 1\n',
      'c_twice.py': "revision = 'c1'\ndown_revision = 'a'\nrevision = 'c2'\n",
      'd_open.py': "revision = 'd'\ndown_revision = 'a'\nx = '''never closed\n",
      'e_garbage.py': garbage,
    });
    const h = await readAlembicHistory('svc', [dir]);
    assert.deepEqual(
      h.revisions.map((r) => r.id),
      ['a', 'c2', 'd'],
    );
    const byFile = Object.fromEntries(h.problems.map((p) => [path.basename(p.file!), p]));
    assert.deepEqual(Object.keys(byFile).sort(), ['b_helpers.py', 'c_twice.py', 'd_open.py', 'e_garbage.py']);
    assert.match(byFile['b_helpers.py'].message, /b_helpers\.py has no module-level `revision/);
    assert.match(byFile['c_twice.py'].message, /lines 1 and 3/);
    assert.equal(byFile['d_open.py'].line, 3);
    assert.match(byFile['e_garbage.py'].message, /UTF-8|NUL/);
    assert.ok(h.problems.every((p) => p.rule === 'alembic-file' && p.service === 'svc' && p.severity === 'error'));
  });

  it('survives a symlink loop and looping file symlinks, with a diagnostic', async () => {
    const dir = tree('loop/versions', { 'a.py': revFile('a', null), 'sub/b.py': revFile('b', 'a') });
    symlinkSync(dir, path.join(dir, 'sub', 'back')); // sub/back -> versions: a loop
    symlinkSync('y.py', path.join(dir, 'x.py')); // x.py -> y.py -> x.py
    symlinkSync('x.py', path.join(dir, 'y.py'));
    symlinkSync(path.join(dir, 'a.py'), path.join(dir, '0_link.py')); // Alembic reads a.py once, by its real path
    const h = await readAlembicHistory('s', [dir], { recursive: true });
    assert.deepEqual(
      h.revisions.map((r) => [r.id, path.basename(r.file)]),
      [
        ['a', 'a.py'],
        ['b', 'b.py'],
      ],
    );
    const loop = h.problems.find((p) => p.file === path.join(dir, 'sub', 'back'));
    assert.ok(loop, JSON.stringify(h.problems));
    assert.match(loop.message, /symlink loop/);
    const files = h.problems.map((p) => path.basename(p.file!)).sort();
    assert.deepEqual(files, ['0_link.py', 'back', 'x.py', 'y.py']);
    const link = h.problems.find((p) => p.file?.endsWith('0_link.py'));
    assert.equal(link?.severity, 'warning');
    assert.match(link!.message, /0_link\.py is a symlink to .*a\.py, which is already read/);
  });

  it('reads a directory reached twice (listed again, or through a symlink) once, as Alembic does', async () => {
    const dir = tree('twice/versions', { 'a.py': revFile('a', null), 'b.py': revFile('b', 'a') });
    symlinkSync(dir, path.join(root, 'twice', 'versions_link'));
    const h = await readAlembicHistory('s', [dir, path.join(root, 'twice', 'versions_link'), `${dir}/`]);
    assert.deepEqual(h.problems, []);
    assert.deepEqual(
      h.revisions.map((r) => [r.id, r.file]),
      [
        ['a', path.join(dir, 'a.py')],
        ['b', path.join(dir, 'b.py')],
      ],
    );
  });

  it('names a FIFO called *.py instead of blocking on it', async (t) => {
    const dir = tree('fifo/versions', { 'a.py': revFile('a', null) });
    try {
      execFileSync('mkfifo', [path.join(dir, 'pipe.py')]);
    } catch {
      t.skip('mkfifo is not available');
      return;
    }
    symlinkSync(path.join(dir, 'pipe.py'), path.join(dir, 'pipe_link.py'));
    const h = await readAlembicHistory('s', [dir]);
    assert.deepEqual(
      h.revisions.map((r) => r.id),
      ['a'],
    );
    assert.deepEqual(
      h.problems.map((p) => path.basename(p.file!)),
      ['pipe.py', 'pipe_link.py'],
    );
    assert.match(h.problems[0].message, /not a regular file/);
  });

  it('reports a missing or unreadable directory instead of throwing', async () => {
    const h = await readAlembicHistory('s', [path.join(root, 'nowhere')]);
    assert.equal(h.revisions.length, 0);
    assert.equal(h.problems.length, 1);
    assert.match(h.problems[0].message, /Cannot read the Alembic versions directory .*nowhere.*ENOENT/);
    if (process.getuid?.() !== 0) {
      const dir = tree('unreadable/versions', { 'a.py': revFile('a', null), 'b.py': revFile('b', 'a') });
      await fs.chmod(path.join(dir, 'b.py'), 0);
      const r = await readAlembicHistory('s', [dir]);
      assert.deepEqual(
        r.revisions.map((x) => x.id),
        ['a'],
      );
      assert.match(r.problems[0].message, /Cannot read b\.py: EACCES/);
    }
  });

  it('reads 10,000 revision files quickly', async () => {
    const dir = path.join(root, 'big/versions');
    const smallDir = path.join(root, 'small/versions');
    mkdirSync(dir, { recursive: true });
    mkdirSync(smallDir, { recursive: true });
    const id = (i: number) => i.toString(16).padStart(12, '0');
    for (let i = 0; i < 10_000; i++) {
      writeFileSync(
        path.join(i < 1_000 ? smallDir : dir, `${id(i)}_step_${i}.py`),
        `"""step ${i}\n\nRevision ID: ${id(i)}\nRevises: ${i ? id(i - 1) : ''}\n"""\nfrom typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision: str = '${id(i)}'\ndown_revision: Union[str, Sequence[str], None] = ${i ? `'${id(i - 1)}'` : 'None'}\nbranch_labels: Union[str, Sequence[str], None] = None\ndepends_on: Union[str, Sequence[str], None] = None\n\n\ndef upgrade() -> None:\n    op.add_column('t${i % 50}', sa.Column('c${i}', sa.Integer(), nullable=True))\n    op.create_index(op.f('ix_c${i}'), 't${i % 50}', ['c${i}'])\n\n\ndef downgrade() -> None:\n    op.drop_index(op.f('ix_c${i}'), table_name='t${i % 50}')\n    op.drop_column('t${i % 50}', 'c${i}')\n`,
      );
    }
    // 1,000 files, then all 10,000 (two directories, one history), best of two each: judged by the ratio
    // in one run (linear is ~10×, quadratic ~100×), since tests share two cores with database tests.
    const timed = async (dirs: string[]) => {
      let ms = Infinity;
      let h = await readAlembicHistory('big', dirs);
      for (let run = 0; run < 2; run++) {
        const started = cpuNow();
        h = await readAlembicHistory('big', dirs);
        ms = Math.min(ms, cpuNow() - started);
      }
      return { ms, h };
    };
    const small = await timed([smallDir]);
    const { ms, h } = await timed([smallDir, dir]);
    assert.equal(small.h.revisions.length, 1_000);
    assert.equal(h.revisions.length, 10_000);
    assert.deepEqual(h.problems, []);
    assert.equal(h.tableReferences.length, 40_000);
    assert.ok(ms < 30 * Math.max(small.ms, 5), `10× the files took ${(ms / small.ms).toFixed(1)}× the time (${small.ms.toFixed(0)} ms → ${ms.toFixed(0)} ms)`);
    assert.ok(ms < 10_000, `10,000 files took ${ms.toFixed(0)} ms`);
    console.log(`# 10,000 Alembic files read and parsed in ${ms.toFixed(0)} ms`);
  });
});

describe('resolveAlembicLocation', () => {
  it('takes a versions directory, naming the service after the project', async () => {
    const dir = tree('services/Budget-Service/alembic/versions', { 'a.py': revFile('a', null) });
    const loc = await resolveAlembicLocation(dir);
    assert.deepEqual(loc, { service: 'budget_service', dirs: [dir], recursive: false, source: dir });
  });

  it('takes an empty versions directory and a flat directory of revisions', async () => {
    const empty = tree('svc_empty/migrations/versions', {});
    assert.equal((await resolveAlembicLocation(empty)).service, 'svc_empty');
    const flat = tree('crm/legacy_user', { '001_init.py': revFile('001', null) });
    assert.deepEqual((await resolveAlembicLocation(flat)).dirs, [flat]);
    assert.equal((await resolveAlembicLocation(flat)).service, 'legacy_user');
  });

  it('takes an environment directory (env.py and/or versions/)', async () => {
    const env = tree('services/user_service/alembic', { 'env.py': '', 'versions/a.py': revFile('a', null) });
    assert.deepEqual(await resolveAlembicLocation(env), {
      service: 'user_service',
      dirs: [path.join(env, 'versions')],
      recursive: false,
      source: env,
    });
    const named = tree('apps/payments_db', { 'versions/a.py': revFile('a', null) });
    assert.equal((await resolveAlembicLocation(named)).service, 'payments_db');
  });

  it('takes an alembic.ini with %(here)s, several version_locations and recursion', async () => {
    const project = tree('inis/Billing', {
      'alembic.ini': [
        '# a comment',
        '[alembic]',
        'script_location = %(here)s/migrations',
        '; version_locations = %(here)s/decoy',
        'version_locations = %(here)s/migrations/versions',
        '    %(here)s/extra/versions',
        '',
        '    other',
        'path_separator = newline',
        'recursive_version_locations = true',
        'sqlalchemy.url = driver://user:pass@localhost/dbname',
        '',
        '[loggers]',
        'keys = root',
      ].join('\n'),
      'migrations/env.py': '',
      'migrations/versions/a.py': revFile('a', null),
    });
    const loc = await resolveAlembicLocation(path.join(project, 'alembic.ini'));
    assert.deepEqual(loc, {
      service: 'billing',
      dirs: [path.join(project, 'migrations/versions'), path.join(project, 'extra/versions'), path.join(project, 'other')],
      recursive: true,
      source: path.join(project, 'alembic.ini'),
    });
    // The directory holding alembic.ini, and the environment directory it points at, give the same.
    assert.deepEqual(await resolveAlembicLocation(project), loc);
    assert.deepEqual(await resolveAlembicLocation(path.join(project, 'migrations')), loc);
    // A versions directory the ini lists inherits its recursion.
    const v = await resolveAlembicLocation(path.join(project, 'migrations/versions'));
    assert.equal(v.recursive, true);
    assert.deepEqual(v.dirs, [path.join(project, 'migrations/versions')]);
  });

  it('defaults to <script_location>/versions, relative to the ini, with no recursion unless exactly "true"', async () => {
    const project = tree('inis/plain', { 'alembic.ini': '[alembic]\nscript_location = alembic\nrecursive_version_locations = True\n' });
    assert.deepEqual(await resolveAlembicLocation(path.join(project, 'alembic.ini')), {
      service: 'plain',
      dirs: [path.join(project, 'alembic/versions')],
      recursive: false,
      source: path.join(project, 'alembic.ini'),
    });
  });

  it('splits version_locations as Alembic does', () => {
    assert.deepEqual(splitVersionLocations('a b,c, d  e', undefined), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(splitVersionLocations('a b;c d', ';'), ['a b', 'c d']);
    assert.deepEqual(splitVersionLocations('a:b', ':'), ['a', 'b']);
    assert.deepEqual(splitVersionLocations('a b  c', 'space'), ['a', 'b', 'c']);
    assert.deepEqual(splitVersionLocations('a b\nc', 'newline'), ['a b', 'c']);
    assert.deepEqual(splitVersionLocations(['a', 'b'].join(path.delimiter), 'os'), ['a', 'b']);
    assert.throws(() => splitVersionLocations('a,b', 'comma'), /not a valid path_separator/);
  });

  it('parses ini files as ConfigParser does', () => {
    const ini = parseIni('[DEFAULT]\nroot = /r\n[alembic]\nScript_Location: %(root)s/x\nmulti = one\n  two\n# c\n  three\n\n[other]\nk=v\n');
    assert.equal(ini.get('alembic')?.get('script_location'), '%(root)s/x');
    assert.equal(ini.get('alembic')?.get('multi'), 'one\ntwo\nthree');
    assert.equal(ini.get('other')?.get('k'), 'v');
  });

  it('interpolates %(name)s from the section and [DEFAULT]', async () => {
    const project = tree('inis/interp', { 'alembic.ini': '[DEFAULT]\nbase = %(here)s/db\n[alembic]\nscript_location = %(base)s/alembic\nversion_locations = %(base)s/v1 %(base)s/v2\n' });
    const loc = await resolveAlembicLocation(project);
    assert.deepEqual(loc.dirs, [path.join(project, 'db/v1'), path.join(project, 'db/v2')]);
  });

  it('refuses package resources, inis without script_location, and paths that are none of these', async () => {
    await rejectsWithLocation(tree('inis/pkg', { 'alembic.ini': '[alembic]\nscript_location = myapp:migrations\n' }), /package resource/);
    await rejectsWithLocation(
      tree('inis/pkgv', { 'alembic.ini': '[alembic]\nscript_location = alembic\nversion_locations = myapp:versions\n' }),
      /version_locations = myapp:versions is a Python package resource/,
    );
    await rejectsWithLocation(tree('inis/nosl', { 'alembic.ini': '[alembic]\nsqlalchemy.url = x\n' }), /has no script_location/);
    await rejectsWithLocation(tree('inis/badsep', { 'alembic.ini': '[alembic]\nscript_location = a\nversion_locations = a,b\npath_separator = comma\n' }), /not a valid path_separator/);
    await rejectsWithLocation(tree('inis/undef', { 'alembic.ini': '[alembic]\nscript_location = %(nope)s/a\n' }), /%\(nope\)s is not defined/);
    await rejectsWithLocation(path.join(root, 'does-not-exist'), /does-not-exist does not exist/);
    symlinkSync(path.join(root, 'self-loop'), path.join(root, 'self-loop'));
    await rejectsWithLocation(path.join(root, 'self-loop'), /self-loop is a symlink loop/);
    symlinkSync(path.join(root, 'gone'), path.join(root, 'dangling'));
    await rejectsWithLocation(path.join(root, 'dangling'), /dangling is a symlink to nothing/);
    const notAlembic = tree('random', { 'notes.txt': 'hi', 'sub/x.txt': '' });
    await rejectsWithLocation(notAlembic, /is not an Alembic versions directory, environment directory or alembic.ini/);
    await rejectsWithLocation(path.join(notAlembic, 'notes.txt'), /is a file but not an alembic.ini/);
  });

  it('splits version_locations in a real ini by each separator, and by the deprecated version_path_separator', async () => {
    const cases: [string, string][] = [
      ['', '%(here)s/v1 %(here)s/v2,%(here)s/v3'], // legacy: spaces and commas
      ['path_separator = space\n', '%(here)s/v1 %(here)s/v2  %(here)s/v3'],
      ['path_separator = ;\n', '%(here)s/v1;%(here)s/v2 ;%(here)s/v3'],
      ['path_separator = :\n', '%(here)s/v1:%(here)s/v2:%(here)s/v3'],
      [`path_separator = os\n`, ['%(here)s/v1', '%(here)s/v2', '%(here)s/v3'].join(path.delimiter)],
      ['path_separator = newline\n', '\n  %(here)s/v1\n  %(here)s/v2\n  %(here)s/v3'],
      ['version_path_separator = ;\n', '%(here)s/v1;%(here)s/v2;%(here)s/v3'],
    ];
    for (const [i, [sep, value]] of cases.entries()) {
      const project = tree(`seps/p${i}`, { 'alembic.ini': `[alembic]\nscript_location = alembic\n${sep}version_locations = ${value}\n` });
      const loc = await resolveAlembicLocation(path.join(project, 'alembic.ini'));
      assert.deepEqual(
        loc.dirs,
        ['v1', 'v2', 'v3'].map((v) => path.join(project, v)),
        sep || 'legacy',
      );
    }
  });

  it('reads [tool.alembic] from pyproject.toml (Alembic ≥ 1.16), the ini winning option by option', async () => {
    const toml = [
      '[project]',
      'name = "crm"',
      'dependencies = [',
      '  "alembic>=1.16",  # a comment',
      ']',
      '',
      '[tool.alembic]',
      '# the pyproject template puts these here, not in alembic.ini',
      'script_location = "%(here)s/alembic"',
      'version_locations = [',
      '    "%(here)s/alembic/versions",  # main',
      "    '%(here)s/extra/versions',",
      ']',
      'recursive_version_locations = true',
      'prepend_sys_path = ["."]',
      '',
      '[[tool.alembic.post_write_hooks]]',
      'name = "ruff"',
      'script_location = "not this one"',
    ].join('\n');
    const project = tree('toml/Payments', {
      'pyproject.toml': toml,
      'alembic.ini': '[alembic]\nsqlalchemy.url = driver://u:p@localhost/db\n',
      'alembic/env.py': '',
      'alembic/versions/a.py': revFile('a', null),
    });
    const expected = {
      service: 'payments',
      dirs: [path.join(project, 'alembic/versions'), path.join(project, 'extra/versions')],
      recursive: true,
      source: path.join(project, 'pyproject.toml'),
    };
    assert.deepEqual(await resolveAlembicLocation(path.join(project, 'alembic.ini')), expected);
    assert.deepEqual(await resolveAlembicLocation(project), expected);
    assert.deepEqual(await resolveAlembicLocation(path.join(project, 'pyproject.toml')), expected);
    assert.deepEqual(await resolveAlembicLocation(path.join(project, 'alembic')), expected);
    assert.equal((await resolveAlembicLocation(path.join(project, 'alembic/versions'))).recursive, true);

    // Without alembic.ini; and an ini that sets an option wins over the table.
    const only = tree('toml/only', { 'pyproject.toml': '[tool.alembic]\nscript_location = "migrations"\n' });
    assert.deepEqual(await resolveAlembicLocation(only), { service: 'only', dirs: [path.join(only, 'migrations/versions')], recursive: false, source: path.join(only, 'pyproject.toml') });
    const both = tree('toml/both', {
      'pyproject.toml': toml,
      'alembic.ini': '[alembic]\nscript_location = %(here)s/db\nrecursive_version_locations = false\n',
    });
    assert.deepEqual(await resolveAlembicLocation(path.join(both, 'alembic.ini')), {
      service: 'both',
      dirs: [path.join(both, 'alembic/versions'), path.join(both, 'extra/versions')],
      recursive: false,
      source: path.join(both, 'alembic.ini'),
    });

    // A pyproject.toml with no [tool.alembic] is not in the way; a bad value in the table is an error.
    const plain = tree('toml/plain/alembic', { 'env.py': '', 'versions/a.py': revFile('a', null), '../pyproject.toml': '[project]\nname = "x"\n' });
    assert.deepEqual((await resolveAlembicLocation(plain)).dirs, [path.join(plain, 'versions')]);
    await rejectsWithLocation(tree('toml/notbool', { 'pyproject.toml': '[tool.alembic]\nscript_location = "a"\nrecursive_version_locations = "true"\n' }), /must be true or false/);
    await rejectsWithLocation(tree('toml/notlist', { 'pyproject.toml': '[tool.alembic]\nscript_location = "a"\nversion_locations = "a b"\n' }), /must be a list of strings/);
    await rejectsWithLocation(tree('toml/pkg', { 'pyproject.toml': '[tool.alembic]\nscript_location = "myapp:migrations"\n' }), /package resource/);
    await rejectsWithLocation(tree('toml/broken', { 'pyproject.toml': '[tool.alembic]\nscript_location = "a\n' }), /pyproject\.toml line 2: a string is never closed/);
    await rejectsWithLocation(path.join(tree('toml/none', { 'pyproject.toml': '[project]\n' }), 'pyproject.toml'), /has no \[tool\.alembic\] table/);
  });

  it('parses the TOML that [tool.alembic] uses', async () => {
    const t = await parseToolAlembic(
      [
        'title = "x"',
        'odd = 1979-05-27 07:32:00 this line is skipped, it is not ours',
        '[ tool . "alembic" ]',
        'timezone = "UTC"',
        'a = "tab\\there \\u00e9 \\"q\\""',
        "b = 'C:\\raw\\path'",
        'c = """',
        'one \\',
        '   two"""',
        "d = '''x''''",
        'e = [ "p" , [ true, false ], { k = "}" }, 3, ]  # trailing comma',
        'f = false',
        '[tool.other]',
        'a = "not ours"',
      ].join('\r\n'),
    );
    assert.deepEqual(Object.fromEntries(t!), {
      timezone: 'UTC',
      a: 'tab\there é "q"',
      b: 'C:\\raw\\path',
      c: 'one two',
      d: "x'",
      e: ['p', [true, false], { other: 'a table' }, { other: '3' }],
      f: false,
    });
    assert.equal(await parseToolAlembic('[tool.poetry]\nname = "x"\n'), undefined);
  });

  it('reads the TOML forms a line-by-line reader got wrong, and refuses what Alembic refuses', async () => {
    const read = async (text: string) => {
      const t = await parseToolAlembic(text);
      return t && Object.fromEntries(t);
    };
    // The table written as an inline table, or as dotted keys under [tool]; a comment holding `]` and a quote.
    assert.deepEqual(await read('tool = { alembic = { script_location = "x" } }\n'), { script_location: 'x' });
    assert.deepEqual(await read('[tool]\nalembic.script_location = "x"\nalembic.version_locations = [\n  "a", # it\'s ] here\n  "b",\n]\n'), {
      script_location: 'x',
      version_locations: ['a', 'b'],
    });
    // A local date-time has a space in it; a multi-line inline table (TOML 1.1) is one value.
    assert.deepEqual(await read('[tool.alembic]\nx = 1979-05-27 07:32:00\ny = {\n  a = 1 }\nscript_location = "s"\n'), {
      x: { other: '1979-05-27T07:32:00.000' },
      y: { other: 'a table' },
      script_location: 's',
    });
    // An unclosed multi-line string elsewhere no longer hides the table after it.
    assert.deepEqual(await read('[project]\nd = """abc\n[tool.alembic]\nscript_location = "s"\n'), { script_location: 's' });
    // Errors under [[tool.alembic.post_write_hooks]] are not ours (as before).
    assert.deepEqual(await read('[tool.alembic]\nscript_location = "s"\n[[tool.alembic.post_write_hooks]]\nbad = = 1\n'), {
      script_location: 's',
      post_write_hooks: [{ other: 'a table' }],
    });
    // A table defined twice is an error, as in Python's tomllib; file and line are named.
    const refused = async (text: string, message: string) =>
      assert.rejects(parseToolAlembic(text, '/p/pyproject.toml'), (err: unknown) => {
        assert.ok(isTidemarkError(err));
        assert.equal(err.code, 'alembic-location');
        assert.equal(err.message, message);
        return true;
      });
    await refused('[tool.alembic]\na = "x"\n[tool.alembic]\nb = "y"\n', '/p/pyproject.toml line 3: trying to redefine an already defined table or value, so its [tool.alembic] table cannot be read.');
    await refused('[tool.alembic]\nscript_location = "a', '/p/pyproject.toml line 2: a string is never closed, so its [tool.alembic] table cannot be read.');
    await refused('[tool.alembic]\r\nscript_location = "a\r\n', '/p/pyproject.toml line 2: a string is never closed, so its [tool.alembic] table cannot be read.');
    await refused('[tool.alembic]\nx = "\\q"\n', '/p/pyproject.toml line 2: unrecognised escape sequence, so its [tool.alembic] table cannot be read.');
    // A broken file that never names alembic is simply not an Alembic config.
    assert.equal(await parseToolAlembic('[project\nname = "x'), undefined);
  });

  it('makes directory names valid service names', () => {
    assert.equal(serviceNameFrom('Budget-Service'), 'budget_service');
    assert.equal(serviceNameFrom('2024 CRM.app'), 'crm_app');
    assert.equal(serviceNameFrom('---'), 'alembic');
  });
});
