import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAlembicSource } from '../../src/history/alembic/index.js';
import { cpuNow } from '../support/cpu-time.js';

const FILE = '/app/alembic/versions/1f4f4176aeb7_add_budgets.py';
const parse = (text: string | Uint8Array) => parseAlembicSource('budget', FILE, text);
const rev = (text: string) => {
  const r = parse(text);
  assert.deepEqual(r.problems, [], JSON.stringify(r.problems));
  assert.ok(r.revision, 'a revision');
  return r.revision;
};
const problemsOf = (text: string | Uint8Array) => parse(text).problems;

/** What `alembic revision` generates today (typed) — the common case. */
const GENERATED = `"""add budgets

Revision ID: 1f4f4176aeb7
Revises: 001
Create Date: 2025-09-15 12:45:15.123456

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1f4f4176aeb7'
down_revision: Union[str, Sequence[str], None] = '001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'budgets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('budgets')
`;

describe('parseAlembicSource: revision and down_revision', () => {
  it('reads a generated, typed revision file', () => {
    const r = rev(GENERATED);
    assert.deepEqual(r, {
      service: 'budget',
      id: '1f4f4176aeb7',
      file: FILE,
      line: 15,
      parents: ['001'],
      dependsOn: [],
      branchLabels: [],
      refLines: { '001': 16 },
      labelLines: {},
      format: 'alembic',
    });
  });

  it('reads the old untyped form', () => {
    const r = rev(`revision = "ae1027a6acf"\ndown_revision = "1975ea83b712"\nbranch_labels = None\ndepends_on = None\n`);
    assert.equal(r.id, 'ae1027a6acf');
    assert.deepEqual(r.parents, ['1975ea83b712']);
    assert.equal(r.line, 1);
    assert.deepEqual(r.refLines, { '1975ea83b712': 2 });
  });

  it('reads down_revision = None as a base', () => {
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\n`).parents, []);
    assert.deepEqual(rev(`revision: str = 'a'\ndown_revision: Union[str, None] = None\n`).parents, []);
  });

  it('reads tuples, lists, bare tuples, one-element tuples and parenthesized strings', () => {
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = ('a', 'b')\n`).parents, ['a', 'b']);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = ['a', 'b', 'c']\n`).parents, ['a', 'b', 'c']);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = 'a', 'b'\n`).parents, ['a', 'b']);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = ('a',)\n`).parents, ['a']);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = ('a')\n`).parents, ['a']);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = ()\n`).parents, []);
    assert.deepEqual(rev(`revision = 'm'\ndown_revision = []\n`).parents, []);
  });

  it('reads a multi-line 4-parent merge with comments inside, and the line of each parent', () => {
    const r = rev(
      [
        `revision: str = "c0eefe7ade9c"`,
        `down_revision: Union[str, Sequence[str], None] = (`,
        `    "001",  # user service`,
        `    # "decoy", commented out`,
        `    "1f4f4176aeb7",`,
        `    '20250915_124515',`,
        `    """liberty""",`,
        `)`,
        ``,
      ].join('\n'),
    );
    assert.deepEqual(r.parents, ['001', '1f4f4176aeb7', '20250915_124515', 'liberty']);
    assert.deepEqual(r.refLines, { '001': 3, '1f4f4176aeb7': 5, '20250915_124515': 6, liberty: 7 });
  });

  it('reads CRLF files with the same lines', () => {
    const r = rev(`"""doc\r\n\r\nRevision ID: x\r\n"""\r\nrevision = 'abc'\r\ndown_revision = (\r\n  'p1',\r\n  'p2')\r\n`);
    assert.equal(r.id, 'abc');
    assert.equal(r.line, 5);
    assert.deepEqual(r.refLines, { p1: 7, p2: 8 });
  });

  it('joins implicit string concatenation, across lines too', () => {
    assert.equal(rev(`revision = "ab" "cd"\ndown_revision = None\n`).id, 'abcd');
    assert.equal(rev(`revision = ("ab"\n    'cd')\ndown_revision = None\n`).id, 'abcd');
  });

  it('reads string prefixes and escapes', () => {
    assert.equal(rev(`revision = r'a\\b'\ndown_revision = None\n`).id, 'a\\b');
    assert.equal(rev(`revision = u'a\\x41'\ndown_revision = None\n`).id, 'aA');
    assert.equal(rev(`revision = 'it\\'s'\ndown_revision = None\n`).id, "it's");
    assert.equal(rev(`revision = '''tri'ple'''\ndown_revision = None\n`).id, "tri'ple");
  });

  it('follows backslash continuations and `;`-separated statements', () => {
    const r = rev(`revision = \\\n  'abc'; down_revision = 'p'\n`);
    assert.equal(r.id, 'abc');
    assert.deepEqual(r.parents, ['p']);
  });

  it('reads branch_labels and depends_on in every shape', () => {
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\nbranch_labels = 'expand'\n`).branchLabels, ['expand']);
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\nbranch_labels = ('expand', 'budget')\n`).branchLabels, ['expand', 'budget']);
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\nbranch_labels = ['x']\n`).branchLabels, ['x']);
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\nbranch_labels = None\n`).branchLabels, []);
    const r = rev(`revision = 'a'\ndown_revision = 'p'\ndepends_on: Union[str, Sequence[str], None] = (\n  'user_001',\n  'mitaka01',\n)\n`);
    assert.deepEqual(r.dependsOn, ['user_001', 'mitaka01']);
    assert.deepEqual(r.refLines, { p: 2, user_001: 4, mitaka01: 5 });
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\ndepends_on = 'x'\n`).dependsOn, ['x']);
    assert.deepEqual(rev(`revision = 'a'\ndown_revision = None\ndepends_on = ['x', 'y']\n`).dependsOn, ['x', 'y']);
  });
});

describe('parseAlembicSource: decoys', () => {
  it('ignores the docstring header, comments and indented assignments', () => {
    const r = rev(
      [
        `"""Add role`,
        ``,
        `Revision ID: decoy_in_docstring`,
        `Revises: other`,
        `revision = 'decoy_in_docstring_too'`,
        `"""`,
        `# revision = 'decoy_in_comment'`,
        `revision = 'real'  # revision = 'decoy_after_code'`,
        `down_revision = None`,
        `def upgrade():`,
        `    revision = 'decoy_in_function'`,
        `    s = """`,
        `revision = 'decoy_in_string'`,
        `"""`,
        `if False:`,
        `    down_revision = 'decoy_in_if'`,
        `class X:`,
        `    depends_on = 'decoy_in_class'`,
        `x = {`,
        `revision: 1}`,
        ``,
      ].join('\n'),
    );
    assert.equal(r.id, 'real');
    assert.equal(r.line, 8);
    assert.deepEqual(r.parents, []);
    assert.deepEqual(r.dependsOn, []);
  });

  it('does not take `revision == …`, `revision += …` or a bare annotation as an assignment', () => {
    const r = rev(`revision: str\nrevision = 'a'\nrevision == 'b'\ndown_revision = None\n`);
    assert.equal(r.id, 'a');
    assert.equal(r.line, 2);
  });

  it('handles f-strings with nested quotes without losing its place', () => {
    const r = rev(`x = f"{d["k"]} {'}'}"\nrevision = 'a'\ndown_revision = None\n`);
    assert.equal(r.id, 'a');
  });
});

describe('parseAlembicSource: problems', () => {
  it('reports a file with no revision, naming the file', () => {
    const p = problemsOf(`"""Revision ID: abc"""\n# revision = 'abc'\ndef upgrade():\n    pass\n`);
    assert.equal(p.length, 1);
    assert.equal(p[0].rule, 'alembic-file');
    assert.equal(p[0].severity, 'error');
    assert.equal(p[0].file, FILE);
    assert.match(p[0].message, /1f4f4176aeb7_add_budgets\.py has no module-level `revision/);
    assert.ok(p[0].hint);
    assert.equal(parse(`x = 1\n`).revision, undefined);
  });

  it('reports two revision lines, naming both, and keeps the last as Python does', () => {
    const r = parse(`revision = 'aaa'\ndown_revision = None\n<<<<<<< HEAD\nrevision = 'bbb'\n`);
    assert.equal(r.revision?.id, 'bbb');
    assert.equal(r.revision?.line, 4);
    const dup = r.problems.find((x) => /revision 2 times/.test(x.message));
    assert.ok(dup, JSON.stringify(r.problems));
    assert.match(dup.message, /lines 1 and 4/);
    assert.equal(dup.line, 4);
  });

  it('reports values that are not literals, saying what they are', () => {
    const cases: [string, RegExp][] = [
      [`revision = 123\ndown_revision = None\n`, /revision to a number \(123\), not a string/],
      [`revision = REV\ndown_revision = None\n`, /revision to a variable \(REV\)/],
      [`revision = None\ndown_revision = None\n`, /revision to None, not a string/],
      [`revision = ('a', 'b')\ndown_revision = None\n`, /revision to a tuple, not a string/],
      [`revision = f'{x}'\ndown_revision = None\n`, /revision to an f-string/],
      [`revision = b'abc'\ndown_revision = None\n`, /revision to a bytes literal/],
      [`revision = 'a'\ndown_revision = make_id()\n`, /down_revision to a call to make_id\(\)/],
      [`revision = 'a'\ndown_revision = ('x', None)\n`, /down_revision to a tuple containing None/],
      [`revision = 'a'\ndown_revision = {'x'}\n`, /down_revision to a set or dict/],
      [`revision = 'a'\ndown_revision = 'x' + 'y'\n`, /down_revision to an expression/],
      [`revision = 'a'\ndown_revision = None\nbranch_labels = True\n`, /branch_labels to a boolean \(True\)/],
      [`revision = 'a'\ndown_revision = None\ndepends_on = [['x']]\n`, /depends_on to a list containing a list/],
    ];
    for (const [text, re] of cases) {
      const p = problemsOf(text);
      assert.equal(p.length, 1, `${text}: ${JSON.stringify(p)}`);
      assert.match(p[0].message, re, text);
      assert.equal(p[0].line, /sets revision/.test(p[0].message) ? 1 : /sets down_revision/.test(p[0].message) ? 2 : 3, text);
      assert.ok(p[0].hint);
    }
    assert.equal(parse(`revision = 123\ndown_revision = None\n`).revision, undefined);
  });

  it('reports a revision without down_revision (Alembic fails to load it)', () => {
    const r = parse(`revision = 'a'\n`);
    assert.equal(r.revision?.id, 'a');
    assert.match(r.problems[0].message, /no module-level down_revision/);
  });

  it('reports an unterminated string with the line it starts on, once', () => {
    let p = problemsOf(`revision = 'a'\ndown_revision = None\ndef upgrade():\n    op.execute("UPDATE x\n    SET y = 1")\n`);
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.equal(p[0].line, 4);
    assert.match(p[0].message, /line 4 starts a string that is never closed/);

    p = problemsOf(`revision = 'a'\ndown_revision = None\n"""docstring\n\nnever closed\n`);
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.equal(p[0].line, 3);
    assert.match(p[0].message, /triple-quoted string/);

    // An unterminated revision value: one problem, not also "no revision".
    p = problemsOf(`revision = 'abc\ndown_revision = None\n`);
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.equal(p[0].line, 1);
  });

  it('reports an unclosed bracket', () => {
    const p = problemsOf(`revision = 'a'\ndown_revision = ('x',\n`);
    assert.equal(p.length, 1, JSON.stringify(p));
    assert.match(p[0].message, /line 2 opens a "\(" that is never closed/);
  });

  it('reports binary garbage, NUL bytes and invalid UTF-8 without throwing', () => {
    const garbage = new Uint8Array(4096);
    let seed = 42;
    for (let i = 0; i < garbage.length; i++) garbage[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (const input of [garbage, Buffer.from([0x72, 0x65, 0x76, 0xff, 0xfe, 0x0a]), Buffer.from('revision = "a"\n\0\0\0'), 'revision = "a"\n\0']) {
      const r = parse(input);
      assert.equal(r.revision, undefined);
      assert.equal(r.problems.length, 1);
      assert.match(r.problems[0].message, /UTF-8|NUL/);
    }
    assert.match(problemsOf(Buffer.from('x = 1\n\0'))[0].message, /NUL byte at line 2/);
  });

  it('accepts bytes that are valid UTF-8, with a BOM', () => {
    const r = parse(Buffer.from('\uFEFFrevision = "é1"\ndown_revision = None\n', 'utf8'));
    assert.deepEqual(r.problems, []);
    assert.equal(r.revision?.id, 'é1');
  });

  it('never throws on odd input', () => {
    for (const text of ['', '(', ')))', '"', "'''", '\\', 'revision =', 'revision: =', '= revision', 'revision = (', 'revision = ,', 'f"{', 'rb"\\', '\r\r\r', 'revision = "a" if x else "b"']) {
      const r = parse(text);
      assert.ok(Array.isArray(r.problems), text);
    }
  });

  it('parses a 1 MB file quickly: linear in its size, well under a second', () => {
    const head = `revision = 'big'\ndown_revision = 'p'\n\n\ndef upgrade():\n`;
    const chunk = `    op.add_column('users', sa.Column('x', sa.String(length=20)))  # a comment\n    op.execute("UPDATE users SET x = 'y' WHERE id = 42")\n    """a docstring\n    with lines"""\n`;
    const sized = (bytes: number) => {
      let text = head;
      while (text.length < bytes) text += chunk;
      return Buffer.from(text);
    };
    // Best of five, and a ratio inside one run rather than an absolute budget: tests run two at a
    // time next to database tests, so wall-clock thresholds alone are flaky.
    const best = (buf: Buffer) => {
      let ms = Infinity;
      let r = parse('');
      for (let run = 0; run < 5; run++) {
        const started = cpuNow();
        r = parse(buf);
        ms = Math.min(ms, cpuNow() - started);
      }
      return { ms, r };
    };
    const small = best(sized(100_000));
    const big = best(sized(1_000_000));
    assert.equal(big.r.revision?.id, 'big');
    assert.ok(big.r.embeddedSql.length > 1000);
    assert.ok(big.ms < 40 * Math.max(small.ms, 2), `10× the input took ${(big.ms / Math.max(small.ms, 1)).toFixed(1)}× the time (${small.ms.toFixed(1)} ms → ${big.ms.toFixed(1)} ms)`);
    assert.ok(big.ms < 1000, `1 MB took ${big.ms.toFixed(1)} ms`);
  });

  it('stays linear on 1 MB of pathological nesting (no bracket rescans, no deep recursion)', () => {
    const head = `revision = 'a'\ndown_revision = None\n`;
    const cases: [string, string][] = [
      ['unclosed op calls', head + 'op.add_column('.repeat(70_000)],
      ['nested ForeignKey', `${head}x = ${'ForeignKey('.repeat(45_000)}${')'.repeat(45_000)}`],
      ['nested execute', head + 'c.execute('.repeat(90_000) + ')'.repeat(90_000)],
      ['nested parentheses', `revision = ${'('.repeat(500_000)}'a'${')'.repeat(500_000)}\ndown_revision = None\n`],
      ['open brackets', head + '('.repeat(1_000_000)],
      ['250,000 parents', `revision = 'a'\ndown_revision = (${"'p',".repeat(250_000)})\n`],
      ['66,000 revision lines', `${"revision = 'a'\n".repeat(66_000)}down_revision = None\n`],
    ];
    for (const [name, text] of cases) {
      const started = cpuNow();
      const r = parse(text);
      const ms = cpuNow() - started;
      // ~10-30 ms each; the quadratic versions took 6-50 s, so a loose bound still catches them.
      assert.ok(ms < 1000, `${name}: ${ms.toFixed(1)} ms`);
      assert.ok(
        r.problems.every((p) => p.message.length < 400),
        `${name}: a short message`,
      );
    }
    assert.equal(parse(cases[3][1]).revision?.id, 'a');
    assert.equal(parse(cases[5][1]).revision?.parents.length, 250_000);
  });
});

describe('parseAlembicSource: table references and embedded SQL', () => {
  const refs = (body: string) => parse(`revision = 'a'\ndown_revision = None\ndef upgrade():\n${body}`);

  it('reads the table argument of op.* calls', () => {
    const r = refs(
      [
        `    op.create_table('budgets', sa.Column('id', sa.Integer()))`,
        `    op.drop_table("old")`,
        `    op.add_column('users', sa.Column('x', sa.Text()))`,
        `    op.drop_column('users', 'x')`,
        `    op.alter_column('accounts', 'name', nullable=False)`,
        `    op.create_unique_constraint('uq_x', 'orders', ['x'])`,
        `    op.create_check_constraint('ck_x', 'orders2', 'x > 0')`,
        `    op.create_primary_key('pk_x', 'orders3', ['id'])`,
        `    op.drop_constraint('fk_x', 'payments', type_='foreignkey')`,
        `    op.create_index(op.f('ix_x'), 'invoices', ['x'], unique=False)`,
        `    op.drop_index('ix_y', table_name='invoices2')`,
        `    op.rename_table('a_old', 'a_new')`,
        `    with op.batch_alter_table('sessions') as batch_op:`,
        `        batch_op.add_column(sa.Column('y', sa.Text()))`,
        `    op.create_foreign_key('fk_b_u', 'budgets', 'users', ['user_id'], ['id'])`,
        `    op.create_foreign_key(None, source_table='s1', referent_table='r1', local_cols=['a'], remote_cols=['b'])`,
        `    op.create_table('ledger', sa.Column('id', sa.Integer()), schema='billing')`,
        `    op.add_column(table, sa.Column('dyn', sa.Text()))`,
        `    op.bulk_insert(users_table, [])`,
        ``,
      ].join('\n'),
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.tableReferences.map((x) => [x.table, x.action, x.line, x.via]),
      [
        ['budgets', 'op.create_table', 4, 'op'],
        ['old', 'op.drop_table', 5, 'op'],
        ['users', 'op.add_column', 6, 'op'],
        ['users', 'op.drop_column', 7, 'op'],
        ['accounts', 'op.alter_column', 8, 'op'],
        ['orders', 'op.create_unique_constraint', 9, 'op'],
        ['orders2', 'op.create_check_constraint', 10, 'op'],
        ['orders3', 'op.create_primary_key', 11, 'op'],
        ['payments', 'op.drop_constraint', 12, 'op'],
        ['invoices', 'op.create_index', 13, 'op'],
        ['invoices2', 'op.drop_index', 14, 'op'],
        ['a_old', 'op.rename_table', 15, 'op'],
        ['a_new', 'op.rename_table', 15, 'op'],
        ['sessions', 'op.batch_alter_table', 16, 'op'],
        ['budgets', 'op.create_foreign_key', 18, 'op'],
        ['users', 'op.create_foreign_key', 18, 'op'],
        ['s1', 'op.create_foreign_key', 19, 'op'],
        ['r1', 'op.create_foreign_key', 19, 'op'],
        ['billing.ledger', 'op.create_table', 20, 'op'],
      ],
    );
    assert.ok(r.tableReferences.every((x) => x.file === FILE));
  });

  it('reads foreign keys: sa.ForeignKey and ForeignKeyConstraint', () => {
    const r = refs(
      [
        `    op.create_table('budgets',`,
        `        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE')),`,
        `        sa.Column('acct', sa.Integer(), ForeignKey("auth.accounts.id")),`,
        `        sa.ForeignKeyConstraint(['a', 'b'], ['teams.id', 'teams.org'], name='fk'),`,
        `        sa.Column('z', sa.Integer(), sa.ForeignKey(some_column)),`,
        `    )`,
        ``,
      ].join('\n'),
    );
    assert.deepEqual(
      r.tableReferences.map((x) => [x.table, x.via, x.action, x.line]),
      [
        ['budgets', 'op', 'op.create_table', 4],
        ['users', 'foreign-key', 'REFERENCES', 5],
        ['auth.accounts', 'foreign-key', 'REFERENCES', 6],
        ['teams', 'foreign-key', 'REFERENCES', 7],
      ],
    );
  });

  it('reads literal SQL from op.execute, sa.text, text and connection.execute, with the line it starts on', () => {
    const r = refs(
      [
        `    op.execute("UPDATE users SET active = true")`,
        `    op.execute(`,
        `        sa.text("""`,
        `            DELETE FROM sessions`,
        `        """)`,
        `    )`,
        `    op.execute(text('SELECT 1').bindparams())`,
        `    conn = op.get_bind()`,
        `    conn.execute(sa.text("INSERT INTO audit VALUES (1)"))`,
        `    connection.execute(text("SELECT " "2"))`,
        `    op.get_bind().execute(sa.text(r"SELECT '\\d'"))`,
        `    op.execute(sql)`,
        `    op.execute(f"DROP TABLE {name}")`,
        `    op.execute("SELECT %s" % x)`,
        `    op.execute(sa.text(query))`,
        ``,
      ].join('\n'),
    );
    assert.deepEqual(
      r.embeddedSql.map((x) => [x.sql.trim(), x.line]),
      [
        ['UPDATE users SET active = true', 4],
        ['DELETE FROM sessions', 6],
        ['SELECT 1', 10],
        ['INSERT INTO audit VALUES (1)', 12],
        ['SELECT 2', 13],
        ["SELECT '\\d'", 14],
      ],
    );
    assert.ok(r.embeddedSql.every((x) => x.file === FILE));
  });
});
