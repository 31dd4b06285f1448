/**
 * `node --import dist/test/support/trap-boundary.js …`: from then on, a module under dist/src/ below the
 * boundary (not cli/, api/, target/, db/ or config/) that imports the config loader or a connection
 * opener gets, instead, a module that throws `boundary crossed: <module> (imported by <file>)` as it
 * loads. The test that starts this process calls the cores with a Target it built itself: if any of
 * them, or anything they load on the way, reaches for a config or a connection, the run fails.
 * A resolve hook (module.register, Node 20.6+): no mock flag, and the real modules stay reachable to
 * the test itself and to the layers allowed to use them.
 */
import { register } from 'node:module';

const hooks = `
let probe;
export function initialize(data) {
  probe = data?.probe;
}
const TRAPPED = ['/dist/src/config/load.js', '/dist/src/db/open.js', '/dist/src/target/resolve.js', '/dist/src/target/open.js'];
const ALLOWED = /\\/dist\\/src\\/(cli|api|target|db|config)\\/|\\/dist\\/src\\/index\\.js$/;
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const parent = context.parentURL ?? '';
  const below = (parent.includes('/dist/src/') && !ALLOWED.test(parent)) || (probe !== undefined && parent.endsWith(probe));
  if (below && TRAPPED.some((t) => resolved.url.endsWith(t))) {
    const said = JSON.stringify('boundary crossed: ' + resolved.url.replace(/^.*\\/dist\\//, '') + ' (imported by ' + parent.replace(/^.*\\/dist\\//, '') + ')');
    return { url: 'data:text/javascript,' + encodeURIComponent('throw new Error(' + said + ');'), shortCircuit: true };
  }
  return resolved;
}
`;

// TIDEMARK_TRAP_PROBE names one more file to treat as below the boundary: the test's proof that the trap is live.
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { probe: process.env.TIDEMARK_TRAP_PROBE } });
