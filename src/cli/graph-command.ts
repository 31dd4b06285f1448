/** `tidemark graph`: the services' histories drawn as text, DOT or SVG. */
import { writeFileSync } from 'node:fs';
import { displayPath } from '../paths.js';
import type { GlobalOptions } from './output.js';

export interface GraphFlags extends GlobalOptions {
  format?: 'mermaid' | 'dot' | 'svg' | 'html';
  out?: string;
  alembic?: string[];
}

export async function runGraph(flags: GraphFlags): Promise<void> {
  const [{ graphView }, render] = await Promise.all([import('../api/graph.js'), import('../report/graph-render.js')]);
  const view = await graphView({ configFile: flags.config, alembic: flags.alembic });
  const format = flags.format ?? 'mermaid';
  const text = format === 'mermaid' ? render.renderMermaid(view) : format === 'dot' ? render.renderDot(view) : format === 'svg' ? await render.renderSvg(view) : await render.renderHtml(view);
  if (flags.out) {
    writeFileSync(flags.out, text);
    process.stdout.write(`Wrote ${displayPath(flags.out)}\n`);
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
