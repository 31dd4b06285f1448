import { TidemarkError } from '../errors.js';

/**
 * `tidemark graph`: every service's revisions drawn as Mermaid, Graphviz DOT, SVG or a small HTML page.
 *
 * Conventions, the same in every format: one cluster (subgraph) per service; an edge goes from the older
 * revision to the newer one; parent (down_revision) edges solid, depends_on / requires edges dashed;
 * heads drawn with a double border (DOT) or a rounded "stadium" (Mermaid); merge points as hexagons;
 * duplicate ids and cross-service edges in red; a reference no service declares as a dashed grey
 * "missing" node. Node names are namespaced by service and every id is quoted or escaped, so ids such
 * as `001`, `1f4f4176aeb7`, `20250915_124515`, or ones with quotes and spaces are safe.
 */
export interface GraphView {
  services: GraphService[];
  duplicateIds?: { service: string; id: string }[];
  crossServiceEdges?: { from: { service: string; id: string }; to: { service: string; id: string } }[];
}

const RED = '#d62728';
const GREY = '#888888';

interface Node {
  key: string;
  service: string | null;
  id: string;
  kind: 'revision' | 'missing';
  head: boolean;
  merge: boolean;
  duplicate: number;
}

interface Edge {
  from: string;
  to: string;
  dashed: boolean;
  red: boolean;
}
/**
 * One service as drawn. The graph facts (heads, merge points, a parents-first order) come with the
 * view: they are computed by src/history/graph/, which the view's builder (src/check/graph-view.ts,
 * `serviceGraph`) calls — report/ sits below history/ and only draws.
 */
export interface GraphService {
  name: string;
  revisions: GraphRevision[];
  /** Revision ids nothing descends from. */
  heads: string[];
  /** Revision ids with two or more parents. */
  merges: string[];
  /** The ids in drawing order, parents first (revisions in a cycle may be missing: drawn last). */
  order: string[];
}

/** What the drawing needs of a revision (history's Revision has it all). */
export interface GraphRevision {
  id: string;
  parents: readonly string[];
  dependsOn: readonly string[];
  branchLabels: readonly string[];
}

interface Model {
  clusters: { name: string; nodes: Node[] }[];
  loose: Node[];
  edges: Edge[];
}

/** A node's name: `service:id`; JSON when the service name itself holds a colon, so names never collide. */
const keyOf = (service: string, id: string): string => (service.includes(':') ? JSON.stringify([service, id]) : `${service}:${id}`);

function validate(view: GraphView): void {
  const ok =
    view !== null &&
    typeof view === 'object' &&
    Array.isArray(view.services) &&
    view.services.every((s) => s && typeof s.name === 'string' && Array.isArray(s.revisions) && s.revisions.every((r) => r && typeof r.id === 'string'));
  if (!ok) throw new TidemarkError('bad-graph-view', 'Cannot draw the graph: expected { services: [{ name, revisions: [{ id, … }] }] }.', { kind: 'input' });
}

/** The drawing as data: nodes per service, extra nodes for unresolved references, deduplicated edges. */
function buildModel(view: GraphView): Model {
  validate(view);
  const services = view.services;
  const declaredIn = new Map<string, string[]>();
  for (const s of services)
    for (const r of s.revisions) {
      const list = declaredIn.get(r.id) ?? [];
      if (!list.includes(s.name)) list.push(s.name);
      declaredIn.set(r.id, list);
    }
  const dupKeys = new Set((view.duplicateIds ?? []).map((d) => keyOf(d.service, d.id)));
  const cross = (view.crossServiceEdges ?? []).map((e) => ({ ...e, used: false }));

  const nodes = new Map<string, Node>();
  const edges: Edge[] = [];
  const edgeIndex = new Map<string, Edge>();
  const addEdge = (from: string, to: string, dashed: boolean, red: boolean): void => {
    const k = JSON.stringify([from, to, dashed]);
    const have = edgeIndex.get(k);
    if (have) {
      have.red ||= red;
      return;
    }
    const e = { from, to, dashed, red };
    edgeIndex.set(k, e);
    edges.push(e);
  };
  const loose: Node[] = [];
  const clusters: Model['clusters'] = [];

  for (const s of services) {
    const counts = new Map<string, number>();
    for (const r of s.revisions) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    const heads = new Set(s.heads ?? []);
    const merges = new Set(s.merges ?? []);
    const seen = new Set<string>();
    const order: string[] = [];
    for (const id of s.order ?? []) if (!seen.has(id)) seen.add(id), order.push(id);
    for (const r of s.revisions) if (!seen.has(r.id)) seen.add(r.id), order.push(r.id);
    const cluster: Node[] = [];
    for (const id of order) {
      const key = keyOf(s.name, id);
      const n: Node = {
        key,
        service: s.name,
        id,
        kind: 'revision',
        head: heads.has(id),
        merge: merges.has(id),
        duplicate: (counts.get(id) ?? 1) > 1 || dupKeys.has(key) ? Math.max(2, counts.get(id) ?? 1) : 0,
      };
      nodes.set(key, n);
      cluster.push(n);
    }
    clusters.push({ name: s.name, nodes: cluster });
  }

  for (const s of services) {
    const own = new Set(s.revisions.map((r) => r.id));
    const labelOwner = new Map<string, string>();
    for (const r of s.revisions) for (const l of r.branchLabels ?? []) if (!labelOwner.has(l) && !own.has(l)) labelOwner.set(l, r.id);
    for (const r of s.revisions) {
      const to = keyOf(s.name, r.id);
      const refs: [string, boolean][] = [...(r.parents ?? []).map((p): [string, boolean] => [p, false]), ...(r.dependsOn ?? []).map((d): [string, boolean] => [d, true])];
      for (const [ref, dashed] of refs) {
        const local = own.has(ref) ? ref : dashed ? labelOwner.get(ref) : undefined;
        if (local !== undefined) {
          addEdge(keyOf(s.name, local), to, dashed, false);
          continue;
        }
        const flagged = cross.filter((e) => e.from.service === s.name && e.from.id === r.id && e.to.id === ref);
        if (flagged.length) {
          for (const e of flagged) {
            e.used = true;
            addEdge(ensureNode(nodes, loose, e.to.service, e.to.id), to, dashed, true);
          }
          continue;
        }
        const elsewhere = declaredIn.get(ref);
        if (elsewhere?.length) {
          for (const other of elsewhere) addEdge(keyOf(other, ref), to, dashed, false);
          continue;
        }
        addEdge(ensureNode(nodes, loose, s.name, ref, clusters.find((c) => c.name === s.name)!.nodes), to, dashed, false);
      }
    }
  }
  for (const e of cross) {
    if (e.used) continue;
    const from = ensureNode(nodes, loose, e.from.service, e.from.id);
    addEdge(ensureNode(nodes, loose, e.to.service, e.to.id), from, false, true);
  }
  return { clusters, loose, edges };
}

/** The key of an existing node, or of a new "missing" node (in the given cluster, else outside all clusters). */
function ensureNode(nodes: Map<string, Node>, loose: Node[], service: string, id: string, cluster?: Node[]): string {
  const key = keyOf(service, id);
  if (!nodes.has(key)) {
    const n: Node = { key, service, id, kind: 'missing', head: false, merge: false, duplicate: 0 };
    nodes.set(key, n);
    (cluster ?? loose).push(n);
  }
  return key;
}

// ---------------------------------------------------------------- DOT

/** A DOT double-quoted string: backslashes and quotes escaped, line breaks as `\n`. */
function dq(text: string): string {
  return `"${text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, '\\n')}"`;
}

function dotLabel(n: Node, withService: boolean): string {
  const lines = [withService && n.service !== null ? `${n.service}: ${n.id}` : n.id];
  if (n.kind === 'missing') lines.push('(missing)');
  else {
    if (n.duplicate) lines.push(`(duplicate ×${n.duplicate})`);
    if (n.head) lines.push('(head)');
  }
  // Escape each line, then join with DOT's centred line break.
  return `"${lines.map((l) => dq(l).slice(1, -1)).join('\\n')}"`;
}

function dotNode(n: Node, indent: string, withService: boolean): string {
  const attrs = [`label=${dotLabel(n, withService)}`];
  if (n.kind === 'missing') attrs.push('style="dashed"', `color="${GREY}"`, `fontcolor="${GREY}"`);
  else {
    if (n.merge) attrs.push('shape=hexagon');
    if (n.head) attrs.push('peripheries=2');
    if (n.duplicate) attrs.push(`color="${RED}"`, `fontcolor="${RED}"`, 'penwidth=2');
    else if (n.head) attrs.push('penwidth=1.5');
  }
  return `${indent}${dq(n.key)} [${attrs.join(', ')}];`;
}

/** Graphviz DOT: a `cluster_N` subgraph per service, node names namespaced as `"service:id"`, all quoted. */
export function renderDot(view: GraphView): string {
  const m = buildModel(view);
  const out: string[] = [
    'digraph tidemark {',
    '  rankdir=BT;',
    '  graph [fontname="Helvetica", fontsize=12];',
    '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
    '  edge [arrowsize=0.7];',
  ];
  m.clusters.forEach((c, i) => {
    out.push(`  subgraph cluster_${i} {`, `    label=${dq(c.name)};`, '    style="rounded";', '    color="#bbbbbb";');
    for (const n of c.nodes) out.push(dotNode(n, '    ', false));
    out.push('  }');
  });
  for (const n of m.loose) out.push(dotNode(n, '  ', true));
  for (const e of m.edges) {
    const attrs: string[] = [];
    if (e.dashed) attrs.push('style=dashed');
    if (e.red) attrs.push(`color="${RED}"`, 'penwidth=2');
    out.push(`  ${dq(e.from)} -> ${dq(e.to)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- Mermaid

/** Text inside a Mermaid `"…"` label: quotes and markup characters as Mermaid entity codes. */
function mq(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#38;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[\r\n]+/g, ' ');
}

/** A Mermaid flowchart: one subgraph per service; node ids are generated (`s0_n3`), labels escaped. */
export function renderMermaid(view: GraphView): string {
  const m = buildModel(view);
  const ids = new Map<string, string>();
  const out: string[] = ['flowchart BT'];
  const classes = { head: [] as string[], duplicate: [] as string[] };
  const nodeLine = (n: Node, mid: string, withService: boolean): string => {
    let label = mq(withService && n.service !== null ? `${n.service}: ${n.id}` : n.id);
    if (n.kind === 'missing') return `${mid}["${label} (missing)"]:::missing`;
    if (n.duplicate) label += ` (duplicate ×${n.duplicate})`;
    if (n.head) label += ' (head)';
    if (n.head) classes.head.push(mid);
    if (n.duplicate) classes.duplicate.push(mid);
    return `${mid}${n.merge ? `{{"${label}"}}` : n.head ? `(["${label}"])` : `["${label}"]`}`;
  };
  m.clusters.forEach((c, i) => {
    out.push(`  subgraph s${i}["${mq(c.name)}"]`, '    direction BT');
    c.nodes.forEach((n, j) => {
      const mid = `s${i}_n${j}`;
      ids.set(n.key, mid);
      out.push(`    ${nodeLine(n, mid, false)}`);
    });
    out.push('  end');
  });
  m.loose.forEach((n, j) => {
    const mid = `x_n${j}`;
    ids.set(n.key, mid);
    out.push(`  ${nodeLine(n, mid, true)}`);
  });
  const red: number[] = [];
  m.edges.forEach((e, i) => {
    out.push(`  ${ids.get(e.from)} ${e.dashed ? '-.->' : '-->'} ${ids.get(e.to)}`);
    if (e.red) red.push(i);
  });
  out.push('  classDef head stroke-width:3px', `  classDef duplicate fill:#fde0e0,stroke:${RED},color:${RED},stroke-width:2px`, `  classDef missing stroke-dasharray:4 3,stroke:${GREY},color:${GREY}`);
  if (classes.head.length) out.push(`  class ${classes.head.join(',')} head`);
  if (classes.duplicate.length) out.push(`  class ${classes.duplicate.join(',')} duplicate`);
  if (red.length) out.push(`  linkStyle ${red.join(',')} stroke:${RED},stroke-width:2px`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------- SVG and HTML

/**
 * Lays out DOT text with Graphviz (WebAssembly, loaded on first use) and returns the `<svg …>` element
 * (XML prolog and doctype removed). Unparseable DOT → TidemarkError `graph-render-failed`.
 */
export async function renderDotToSvg(dot: string): Promise<string> {
  let svg: string;
  try {
    const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
    const graphviz = await Graphviz.load();
    svg = graphviz.layout(dot, 'svg', 'dot');
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message.trim() : String(cause).trim();
    throw new TidemarkError('graph-render-failed', `Graphviz could not draw the graph: ${detail}`, {
      kind: 'failure',
      cause,
      hint: 'Render with --format dot to see the DOT text Graphviz was given.',
    });
  }
  const start = svg.indexOf('<svg');
  if (start < 0) throw new TidemarkError('graph-render-failed', 'Graphviz returned no <svg> element.', { kind: 'failure' });
  return svg.slice(start);
}

/** The graph as an SVG document (`<svg …>…</svg>`), laid out by Graphviz. */
export async function renderSvg(view: GraphView): Promise<string> {
  return renderDotToSvg(renderDot(view));
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A small self-contained HTML page: title, legend and the inline SVG. No scripts, no external files. */
export async function renderHtml(view: GraphView): Promise<string> {
  const svg = await renderSvg(view);
  const names = view.services.map((s) => s.name).join(', ');
  const counts = view.services.map((s) => `${escapeHtml(s.name)}: ${s.revisions.length}`).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tidemark graph — ${escapeHtml(names)}</title>
<style>
  body { font-family: Helvetica, Arial, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.2rem; margin: 0 0 .3rem; }
  .meta, .legend { font-size: .85rem; color: #555; margin: .2rem 0; }
  .legend span { margin-right: 1.2rem; }
  .red { color: ${RED}; }
  .graph { overflow: auto; border: 1px solid #ddd; padding: .5rem; }
  .graph svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>tidemark graph</h1>
<p class="meta">${counts}</p>
<p class="legend"><span>── parent (down_revision)</span><span>┄┄ depends_on / requires</span><span>double border: head</span><span>hexagon: merge</span><span class="red">red: duplicate id or cross-service edge</span></p>
<div class="graph">
${svg}
</div>
</body>
</html>
`;
}
