/** The real PostgreSQL parser (libpg-query, WASM), loaded on first use only (~20 ms), never at start-up. */
export type PgParser = typeof import('libpg-query');

let parser: Promise<PgParser> | undefined;

export function loadPgParser(): Promise<PgParser> {
  parser ??= import('libpg-query').then(async (m) => {
    await m.loadModule();
    return m;
  });
  return parser;
}
