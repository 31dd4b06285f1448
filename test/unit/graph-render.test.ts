import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidemarkError } from '../../src/errors.js';
import { serviceGraph } from '../../src/check/graph-view.js';
import type { Revision } from '../../src/history/revision.js';
import { renderDot, renderDotToSvg, renderHtml, renderMermaid, renderSvg, type GraphView } from '../../src/report/graph-render.js';

function rev(service: string, id: string, parents: string[] = [], dependsOn: string[] = []): Revision {
  return { service, id, file: `/w/${service}/versions/${id}.py`, line: 5, parents, dependsOn, branchLabels: [], refLines: {}, format: 'alembic' };
}

/** The seed's CRM legacy history: mixed id formats, two 005 files, a merge, and budget reaching into crm. */
const view: GraphView = {
  services: [
    serviceGraph('crm', [
      rev('crm', '001'),
      rev('crm', '1f4f4176aeb7', ['001']),
      rev('crm', '20250915_124515', ['001']),
      rev('crm', 'c0eefe7ade9c', ['1f4f4176aeb7', '20250915_124515']),
      rev('crm', '005', ['c0eefe7ade9c']),
      rev('crm', '005', ['c0eefe7ade9c']),
    ]),
    serviceGraph('budget', [rev('budget', '001'), rev('budget', '002', ['001'], ['1f4f4176aeb7'])]),
  ],
  duplicateIds: [{ service: 'crm', id: '005' }],
  crossServiceEdges: [{ from: { service: 'budget', id: '002' }, to: { service: 'crm', id: '1f4f4176aeb7' } }],
};

const tricky: GraphView = {
  services: [serviceGraph('my service', [rev('my service', 'say "hi"'), rev('my service', 'back\\slash #1 <b>', ['say "hi"'])])],
};

describe('renderDot', () => {
  const dot = renderDot(view);

  it('draws a cluster per service with namespaced, quoted node names', () => {
    assert.match(dot, /^digraph tidemark \{/);
    assert.match(dot, /subgraph cluster_0 \{\n {4}label="crm";/);
    assert.match(dot, /subgraph cluster_1 \{\n {4}label="budget";/);
    // 001 exists in both services: two distinct nodes.
    assert.match(dot, /"crm:001" \[label="001"\]/);
    assert.match(dot, /"budget:001" \[label="001"\]/);
    assert.match(dot, /"crm:20250915_124515"/);
  });

  it('parent edges solid, depends_on dashed, merge points as hexagons, heads with a double border', () => {
    assert.match(dot, /"crm:001" -> "crm:1f4f4176aeb7";/);
    assert.match(dot, /"crm:c0eefe7ade9c" \[label="c0eefe7ade9c", shape=hexagon\]/);
    assert.match(dot, /"budget:002" \[label="002\\n\(head\)", peripheries=2/);
    assert.doesNotMatch(dot, /"crm:001" -> "crm:1f4f4176aeb7" \[/);
  });

  it('duplicate ids and cross-service edges in red', () => {
    assert.match(dot, /"crm:005" \[label="005\\n\(duplicate ×2\)\\n\(head\)", peripheries=2, color="#d62728", fontcolor="#d62728", penwidth=2\]/);
    assert.match(dot, /"crm:1f4f4176aeb7" -> "budget:002" \[style=dashed, color="#d62728", penwidth=2\];/);
    // The two 005 files share one parent: one edge, not two.
    assert.equal(dot.split('"crm:c0eefe7ade9c" -> "crm:005"').length - 1, 1);
  });

  it('escapes quotes and backslashes', () => {
    const t = renderDot(tricky);
    assert.match(t, /label="my service";/);
    assert.match(t, /"my service:say \\"hi\\"" \[label="say \\"hi\\""\]/);
    assert.match(t, /"my service:say \\"hi\\"" -> "my service:back\\\\slash #1 <b>";/);
  });

  it('draws an unresolved reference as a grey missing node in its cluster', () => {
    const t = renderDot({ services: [serviceGraph('crm', [rev('crm', 'a', ['gone'])])] });
    assert.match(t, /"crm:gone" \[label="gone\\n\(missing\)", style="dashed"/);
    assert.match(t, /"crm:gone" -> "crm:a";/);
  });

  it('is deterministic', () => {
    assert.equal(renderDot(view), dot);
  });
});

describe('renderMermaid', () => {
  const mm = renderMermaid(view);

  it('one subgraph per service, generated node ids, labels quoted', () => {
    assert.match(mm, /^flowchart BT\n/);
    assert.match(mm, /subgraph s0\["crm"\]/);
    assert.match(mm, /subgraph s1\["budget"\]/);
    assert.match(mm, /s0_n0\["001"\]/);
    assert.match(mm, /s1_n0\["001"\]/);
    assert.match(mm, /\{\{"c0eefe7ade9c"\}\}/);
  });

  it('solid and dashed edges; duplicates and cross-service edges red', () => {
    const lines = mm.split('\n');
    const edges = lines.filter((l) => /-->|-\.->/.test(l));
    const cross = edges.findIndex((l) => /s0_n\d+ -\.-> s1_n\d+/.test(l));
    assert.ok(cross >= 0, 'cross-service edge drawn dashed (depends_on)');
    assert.match(mm, new RegExp(`linkStyle ${cross} stroke:#d62728`));
    assert.match(mm, /"005 \(duplicate ×2\) \(head\)"/);
    assert.match(mm, /class s0_n\d+ duplicate/);
    assert.match(mm, /classDef duplicate [^\n]*#d62728/);
  });

  it('escapes quotes, # and markup in labels', () => {
    const t = renderMermaid(tricky);
    assert.match(t, /subgraph s0\["my service"\]/);
    assert.match(t, /\["say #quot;hi#quot;"\]/);
    assert.match(t, /back\\slash #35;1 #lt;b#gt; \(head\)/);
    assert.doesNotMatch(t, /<b>/);
  });
});

describe('renderSvg and renderHtml', () => {
  it('renders a small graph to <svg>', async () => {
    const svg = await renderSvg(view);
    assert.match(svg, /^<svg[\s>]/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.match(svg, /c0eefe7ade9c/);
    assert.match(svg, /#d62728/);
  });

  it('rejects broken DOT with a TidemarkError', async () => {
    await assert.rejects(renderDotToSvg('digraph { a -> '), (err: unknown) => {
      assert.ok(err instanceof TidemarkError);
      assert.equal(err.code, 'graph-render-failed');
      assert.match(err.message, /syntax error/);
      return true;
    });
  });

  it('rejects a malformed view with a TidemarkError', async () => {
    await assert.rejects(renderSvg({ services: [{ name: 'crm', revisions: 'nope' }] } as unknown as GraphView), TidemarkError);
    assert.throws(() => renderDot({} as GraphView), TidemarkError);
  });

  it('quotes survive the round trip through Graphviz', async () => {
    const svg = await renderSvg(tricky);
    assert.match(svg, /say &quot;hi&quot;/);
    assert.match(svg, /back\\slash #1 &lt;b&gt;/);
  });

  it('renderHtml is one self-contained page with the SVG inline', async () => {
    const html = await renderHtml(view);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<title>tidemark graph — crm, budget<\/title>/);
    assert.match(html, /<svg[\s>]/);
    assert.doesNotMatch(html, /<script|<link|src="http/);
    assert.doesNotMatch(html, /<\?xml/);
  });
});
