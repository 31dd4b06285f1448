import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ancestorsOf,
  branchMembers,
  buildGraph,
  findBases,
  findBranchPoints,
  findCycles,
  findEffectiveHeads,
  findHeads,
  findMergePoints,
  findMissingReferences,
  labelsOf,
  summarizeGraph,
  topologicalOrder,
} from '../../src/history/graph/index.js';
import type { Revision } from '../../src/history/revision.js';
import { cpuNow } from '../support/cpu-time.js';

function rev(id: string, parents: string[] = [], opts: { dependsOn?: string[]; labels?: string[]; refLines?: Record<string, number>; line?: number; file?: string } = {}): Revision {
  return {
    service: 'neutron',
    id,
    file: opts.file ?? `/w/neutron/versions/${id}_migration.py`,
    line: opts.line ?? 14,
    parents,
    dependsOn: opts.dependsOn ?? [],
    branchLabels: opts.labels ?? [],
    refLines: opts.refLines ?? {},
    format: 'alembic',
  };
}

/** Neutron-style expand/contract: two labelled branches off `kilo`; each contract step depends_on an expand step. */
const neutron: Revision[] = [
  rev('kilo'),
  rev('liberty', ['kilo'], { labels: ['expand'] }),
  rev('mitaka01', ['liberty']),
  rev('mitaka02', ['mitaka01']),
  rev('liberty_c', ['kilo'], { labels: ['contract'], dependsOn: ['liberty'] }),
  rev('mitaka01_c', ['liberty_c'], { dependsOn: ['mitaka01'] }),
  rev('newton_c', ['mitaka01_c'], { dependsOn: ['mitaka02'] }),
];

/** Three bases merged by a 3-parent merge, which then forks four ways and is merged by a 4-parent merge. */
const multiBase: Revision[] = [
  rev('001'),
  rev('1f4f4176aeb7'),
  rev('20250915_124515'),
  rev('002', ['001']),
  rev('3a9c0de1b2f4', ['1f4f4176aeb7']),
  rev('c0eefe7ade9c', ['002', '3a9c0de1b2f4', '20250915_124515']),
  rev('p1', ['c0eefe7ade9c']),
  rev('p2', ['c0eefe7ade9c']),
  rev('p3', ['c0eefe7ade9c']),
  rev('p4', ['c0eefe7ade9c']),
  rev('m4', ['p1', 'p2', 'p3', 'p4']),
  rev('after', ['m4']),
];

function linear(n: number): Revision[] {
  const out: Revision[] = [];
  for (let i = 0; i < n; i++) out.push(rev(`r${String(i).padStart(5, '0')}`, i ? [`r${String(i - 1).padStart(5, '0')}`] : []));
  return out;
}

/** A trunk with a two-revision side branch every 10 revisions, merged back, and a depends_on now and then. */
function branched(n: number): Revision[] {
  const out: Revision[] = [rev('t0')];
  let prev = 't0';
  let i = 1;
  while (out.length < n) {
    const a = `t${i}`;
    const s1 = `s${i}a`;
    const s2 = `s${i}b`;
    out.push(rev(a, [prev]), rev(s1, [prev], { dependsOn: i > 20 ? [`t${i - 20}`] : [] }), rev(s2, [s1]));
    const m = `m${i}`;
    out.push(rev(m, [a, s2]));
    for (let k = 0; k < 6; k++) out.push(rev(`${m}_${k}`, [k ? `${m}_${k - 1}` : m]));
    prev = `${m}_5`;
    i++;
  }
  return out;
}

describe('heads, effective heads, bases (Alembic heads / _real_heads / bases)', () => {
  it('expand/contract: both branch tips are heads, only the contract tip is an effective head', () => {
    assert.deepEqual(findHeads(neutron), ['mitaka02', 'newton_c']);
    // newton_c depends_on mitaka02: `alembic upgrade heads` reaches mitaka02 through it (RevisionMap._real_heads).
    assert.deepEqual(findEffectiveHeads(neutron), ['newton_c']);
    assert.deepEqual(findBases(neutron), ['kilo']);
    assert.deepEqual(findBranchPoints(neutron), ['kilo']);
    assert.deepEqual(findMergePoints(neutron), []);
  });

  it('depends_on does not make a base a non-base, nor a dependency a branch point', () => {
    const revs = [rev('a'), rev('b', ['a']), rev('c', ['a']), rev('x', [], { dependsOn: ['b'] }), rev('y', ['b'], { dependsOn: ['c'] })];
    assert.deepEqual(findBases(revs), ['a', 'x']);
    assert.deepEqual(findBranchPoints(revs), ['a']);
    assert.deepEqual(findHeads(revs), ['c', 'x', 'y']);
    assert.deepEqual(findEffectiveHeads(revs), ['x', 'y']);
  });

  it('a depends_on naming a branch label resolves to the revision declaring it', () => {
    const revs = [rev('kilo'), rev('liberty', ['kilo'], { labels: ['expand'] }), rev('liberty_c', ['kilo'], { dependsOn: ['expand'] })];
    assert.deepEqual(findEffectiveHeads(revs), ['liberty_c']);
    assert.deepEqual(buildGraph(revs).dependents.get('liberty'), ['liberty_c']);
    assert.deepEqual(findMissingReferences(revs), []);
  });

  it('3-parent and 4-parent merges over several bases merged later', () => {
    assert.deepEqual(summarizeGraph(multiBase), {
      revisionCount: 12,
      heads: ['after'],
      effectiveHeads: ['after'],
      bases: ['001', '1f4f4176aeb7', '20250915_124515'],
      mergePoints: ['c0eefe7ade9c', 'm4'],
      branchPoints: ['c0eefe7ade9c'],
    });
  });

  it('summary lists are sorted (code-unit order), whatever the input order', () => {
    const revs = [rev('b'), rev('a'), rev('10'), rev('9'), rev('B')];
    assert.deepEqual(summarizeGraph([...revs].reverse()).heads, ['10', '9', 'B', 'a', 'b']);
    assert.deepEqual(summarizeGraph(revs).bases, ['10', '9', 'B', 'a', 'b']);
  });

  it('an empty history has an empty summary', () => {
    assert.deepEqual(summarizeGraph([]), { revisionCount: 0, heads: [], effectiveHeads: [], bases: [], mergePoints: [], branchPoints: [] });
    assert.deepEqual(findCycles([]), []);
    assert.deepEqual(topologicalOrder([]), []);
  });

  it('a duplicate id keeps the first revision and never crashes', () => {
    const revs = [rev('001'), rev('005', ['001'], { file: '/w/a/005_first.py' }), rev('005', ['zzz'], { file: '/w/a/005_second.py' }), rev('006', ['005'])];
    const g = buildGraph(revs);
    assert.equal(g.byId.get('005')!.file, '/w/a/005_first.py');
    assert.equal(g.revisions.length, 3);
    assert.deepEqual(findMissingReferences(revs), []);
    assert.deepEqual(summarizeGraph(revs).heads, ['006']);
    assert.deepEqual(topologicalOrder(revs), ['001', '005', '006']);
  });

  it('a merge naming the same parent twice is no merge point', () => {
    const revs = [rev('a'), rev('b', ['a', 'a'])];
    assert.deepEqual(findMergePoints(revs), []);
    assert.deepEqual(buildGraph(revs).children.get('a'), ['b']);
  });
});

describe('cycles', () => {
  it('a self-loop through down_revision and through depends_on', () => {
    const revs = [rev('base'), rev('x', ['x']), rev('y', ['base'], { dependsOn: ['y'] })];
    assert.deepEqual(findCycles(revs), [['x'], ['y']]);
  });

  it('a 2-cycle through parents, sorted', () => {
    const revs = [rev('base'), rev('mitaka02', ['mitaka01']), rev('mitaka01', ['mitaka02']), rev('ok', ['base'])];
    assert.deepEqual(findCycles(revs), [['mitaka01', 'mitaka02']]);
  });

  it('a cycle that only closes through depends_on (Alembic DependencyCycleDetected)', () => {
    const revs = [rev('kilo'), rev('c', ['kilo'], { dependsOn: ['e'] }), rev('d', ['c']), rev('e', ['d'])];
    assert.deepEqual(findCycles(revs), [['c', 'd', 'e']]);
    // Without the dependency there is no cycle.
    assert.deepEqual(findCycles(revs.map((r) => ({ ...r, dependsOn: [] }))), []);
  });

  it('several separate cycles, each reported once, in id order', () => {
    const revs = [rev('z1', ['z2']), rev('z2', ['z1']), rev('a1', ['a3']), rev('a2', ['a1']), rev('a3', ['a2']), rev('q', ['q']), rev('fine')];
    assert.deepEqual(findCycles(revs), [['a1', 'a2', 'a3'], ['q'], ['z1', 'z2']]);
  });

  it('no cycles in well-formed histories', () => {
    assert.deepEqual(findCycles(neutron), []);
    assert.deepEqual(findCycles(multiBase), []);
  });
});

describe('missing references', () => {
  it('names the missing parent and dependency with the line where each is written', () => {
    const revs = [rev('001', [], { line: 12 }), rev('002', ['001', 'gone'], { line: 13, refLines: { '001': 14, gone: 14 } }), rev('003', ['002'], { line: 9, dependsOn: ['budget_007'] })];
    const missing = findMissingReferences(revs);
    assert.deepEqual(
      missing.map((m) => ({ id: m.revision.id, missing: m.missing, kind: m.kind, line: m.line })),
      [
        { id: '002', missing: 'gone', kind: 'parent', line: 14 },
        { id: '003', missing: 'budget_007', kind: 'depends_on', line: 9 },
      ],
    );
    assert.equal(missing[0].revision.file, '/w/neutron/versions/002_migration.py');
  });

  it('a revision whose parent is missing is still a base-less node, a head and in the topological order', () => {
    const revs = [rev('a'), rev('b', ['gone'])];
    assert.deepEqual(findBases(revs), ['a']);
    assert.deepEqual(findHeads(revs), ['a', 'b']);
    assert.deepEqual(topologicalOrder(revs), ['a', 'b']);
  });
});

describe('branch labels (Alembic _add_branches)', () => {
  it('a label covers its revision and its descendants, not the shared branch point', () => {
    assert.deepEqual(branchMembers(neutron, 'expand'), ['liberty', 'mitaka01', 'mitaka02']);
    assert.deepEqual(branchMembers(neutron, 'contract'), ['liberty_c', 'mitaka01_c', 'newton_c']);
    assert.deepEqual(labelsOf(neutron, 'newton_c'), ['contract']);
    assert.deepEqual(labelsOf(neutron, 'kilo'), []);
    assert.deepEqual(branchMembers(neutron, 'nope'), []);
    assert.deepEqual(labelsOf(neutron, 'nope'), []);
  });

  it('a label also runs down a single-parent chain to the first branch point', () => {
    const revs = [rev('root'), rev('trunk1', ['root']), rev('f0', ['root']), rev('f1', ['f0']), rev('f2', ['f1'], { labels: ['feature'] }), rev('f3', ['f2'])];
    assert.deepEqual(branchMembers(revs, 'feature'), ['f0', 'f1', 'f2', 'f3']);
  });

  it('the downward walk stops at a merge point and at a revision with a dependent (a real branch point)', () => {
    const merge = [rev('a'), rev('b'), rev('m', ['a', 'b']), rev('n', ['m']), rev('o', ['n'], { labels: ['x'] })];
    assert.deepEqual(branchMembers(merge, 'x'), ['n', 'o']);
    const dep = [rev('a'), rev('b', ['a']), rev('c', ['b'], { labels: ['x'] }), rev('other', [], { dependsOn: ['a'] })];
    assert.deepEqual(branchMembers(dep, 'x'), ['b', 'c']);
  });

  it('labels through a merge reach everything after it; a revision can carry several', () => {
    const revs = [rev('base'), rev('e', ['base'], { labels: ['expand'] }), rev('c', ['base'], { labels: ['contract'] }), rev('m', ['e', 'c']), rev('after', ['m'])];
    assert.deepEqual(labelsOf(revs, 'after'), ['contract', 'expand']);
    assert.deepEqual(labelsOf(revs, 'e'), ['expand']);
  });

  // Each expectation below was checked against alembic 1.20.0's RevisionMap (get_revision(id).branch_labels).
  it('the walk down starts from the tip of the descendants, as Alembic does (parent = last visited node)', () => {
    // Descendants fork: Alembic's walk stops at the fork, so the base keeps no label.
    const fork = [rev('a'), rev('b', ['a'], { labels: ['x'] }), rev('c', ['b']), rev('d', ['c']), rev('e', ['c'])];
    assert.deepEqual(branchMembers(fork, 'x'), ['b', 'c', 'd', 'e']);
    // A descendant others depend on is a real branch point: the walk from the tip stops there.
    const depMid = [rev('a'), rev('b', ['a'], { labels: ['x'] }), rev('c', ['b']), rev('d', ['c']), rev('other', [], { dependsOn: ['c'] })];
    assert.deepEqual(branchMembers(depMid, 'x'), ['b', 'c', 'd']);
    // The tip has two dependents: the walk stops at once.
    const depTip = [rev('a'), rev('b', ['a'], { labels: ['x'] }), rev('c', ['b']), rev('d', [], { dependsOn: ['c'] }), rev('e', [], { dependsOn: ['c'] })];
    assert.deepEqual(branchMembers(depTip, 'x'), ['b', 'c']);
    // A descendant merges with another root: the walk stops at the merge.
    const mergeOut = [rev('a'), rev('b', ['a'], { labels: ['x'] }), rev('z'), rev('m', ['b', 'z'])];
    assert.deepEqual(branchMembers(mergeOut, 'x'), ['b', 'm']);
    assert.deepEqual(labelsOf(mergeOut, 'a'), []);
  });

  it('a child that also depends_on its parent counts once (_all_nextrev is a set)', () => {
    const revs = [rev('z'), rev('a', ['z']), rev('b', ['a'], { labels: ['x'], dependsOn: ['a'] })];
    assert.deepEqual(branchMembers(revs, 'x'), ['a', 'b', 'z']);
  });
});

describe('topological order and ancestors', () => {
  it('parents and dependencies first, ties by id', () => {
    const order = topologicalOrder(neutron);
    assert.deepEqual(order, ['kilo', 'liberty', 'liberty_c', 'mitaka01', 'mitaka01_c', 'mitaka02', 'newton_c']);
    for (const r of neutron) for (const p of [...r.parents, ...r.dependsOn]) assert.ok(order.indexOf(p) < order.indexOf(r.id), `${p} before ${r.id}`);
  });

  it('is the same for any input order', () => {
    const expected = topologicalOrder(multiBase);
    assert.deepEqual(expected.slice(0, 3), ['001', '002', '1f4f4176aeb7']);
    const shuffled = [...multiBase].reverse();
    assert.deepEqual(topologicalOrder(shuffled), expected);
    const rotated = [...multiBase.slice(5), ...multiBase.slice(0, 5)];
    assert.deepEqual(topologicalOrder(rotated), expected);
  });

  it('leaves cycle members out and keeps what follows them', () => {
    const revs = [rev('base'), rev('x', ['y']), rev('y', ['x']), rev('after', ['x']), rev('ok', ['base'])];
    assert.deepEqual(topologicalOrder(revs), ['after', 'base', 'ok']);
  });

  it('ancestors through parents and depends_on (or parents only)', () => {
    assert.deepEqual(ancestorsOf(neutron, 'mitaka01_c'), ['kilo', 'liberty', 'liberty_c', 'mitaka01']);
    assert.deepEqual(ancestorsOf(neutron, 'mitaka01_c', { includeDependencies: false }), ['kilo', 'liberty_c']);
    assert.deepEqual(ancestorsOf(neutron, 'kilo'), []);
    assert.deepEqual(ancestorsOf(neutron, 'unknown'), []);
    assert.deepEqual(ancestorsOf(multiBase, 'm4').length, 10);
  });

  it('memoization notices an array that grew', () => {
    const revs = [rev('a')];
    assert.deepEqual(findHeads(revs), ['a']);
    revs.push(rev('b', ['a']));
    assert.deepEqual(findHeads(revs), ['b']);
  });
});

describe('10,000 revisions', () => {
  it('a linear chain: summary, cycles, topological order, ancestors — iterative and fast', (t) => {
    const revs = linear(10_000);
    const start = cpuNow();
    const s = summarizeGraph(revs);
    const cycles = findCycles(revs);
    const order = topologicalOrder(revs);
    const ms = cpuNow() - start;
    t.diagnostic(`linear 10,000: summary + cycles + topo ${ms.toFixed(1)} ms`);
    assert.deepEqual(s.heads, ['r09999']);
    assert.deepEqual(s.bases, ['r00000']);
    assert.equal(s.revisionCount, 10_000);
    assert.deepEqual(cycles, []);
    assert.equal(order.length, 10_000);
    assert.equal(order[9_999], 'r09999');
    assert.ok(ms < 500, `took ${ms} ms`);
    assert.equal(ancestorsOf(revs, 'r09999').length, 9_999);
    assert.equal(branchMembers([rev('x', [], { labels: ['l'] }), ...revs.map((r) => (r.id === 'r00000' ? { ...r, parents: ['x'] } : r))], 'l').length, 10_001);
  });

  it('a 10,000-revision cycle through the whole chain is found without recursion', () => {
    const revs = linear(10_000);
    revs[0] = { ...revs[0], parents: ['r09999'] };
    const cycles = findCycles(revs);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0].length, 10_000);
    assert.deepEqual(topologicalOrder(revs), []);
  });

  it('branched and merged with depends_on', (t) => {
    const revs = branched(10_000);
    const start = cpuNow();
    const s = summarizeGraph(revs);
    const cycles = findCycles(revs);
    const order = topologicalOrder(revs);
    const ms = cpuNow() - start;
    t.diagnostic(`branched ${revs.length}: summary + cycles + topo ${ms.toFixed(1)} ms`);
    assert.equal(s.heads.length, 1);
    assert.deepEqual(s.bases, ['t0']);
    assert.ok(s.mergePoints.length > 900);
    assert.equal(s.mergePoints.length, s.branchPoints.length);
    assert.deepEqual(cycles, []);
    assert.equal(order.length, revs.length);
    const pos = new Map(order.map((id, i) => [id, i]));
    for (const r of revs) for (const p of [...r.parents, ...r.dependsOn]) assert.ok(pos.get(p)! < pos.get(r.id)!);
    assert.ok(ms < 500, `took ${ms} ms`);
  });
});
