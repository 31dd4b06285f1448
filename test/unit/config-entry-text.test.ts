/**
 * The config line adopt prints for a person to paste (src/config/entry-text.ts) reads back, through the
 * real config loader, as exactly the owns entries, migrations directory and requires it was made from —
 * for generated hostile names (quotes, backslashes, dots, unicode, 63 bytes) written in the owns grammar,
 * in a JavaScript config and in a JSON one. adopt used to wrap each entry in '…' unescaped: a table
 * named o'brien gave a line that does not parse.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { jsString, serviceEntryText } from '../../src/config/entry-text.js';
import { loadWorkspace } from '../../src/config/load.js';
import { formatPart, ownsEntryFor } from '../../src/config/owns.js';
import { hostileIdentifier, hostileQualifiedName } from '../support/hostile-names.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const MIGRATIONS = "migrations/o'brien \\ x";

/** Pastes `line` into a fresh config of that language (next to a service `other`) and loads it. */
async function pasteAndLoad(line: string, language: 'js' | 'json') {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tidemark-paste-')));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, MIGRATIONS), { recursive: true });
  fs.mkdirSync(path.join(dir, 'migrations/other'), { recursive: true });
  const text =
    language === 'json'
      ? `{\n  "services": {\n    "other": { "migrations": "migrations/other" },\n    ${line}\n  }\n}\n`
      : `export default {\n  services: {\n    other: { migrations: 'migrations/other' },\n    ${line},\n  },\n};\n`;
  fs.writeFileSync(path.join(dir, language === 'json' ? 'tidemark.config.json' : 'tidemark.config.mjs'), text);
  return loadWorkspace({ cwd: dir });
}

/** An owns entry as a user writes one: an exact table or a whole schema, quoted where needed or always. */
const ownsEntry = fc.oneof(
  fc.tuple(hostileQualifiedName(), fc.constantFrom('needed' as const, 'always' as const)).map(([q, quote]) => ownsEntryFor(q, quote)),
  hostileIdentifier().map((s) => `schema:${formatPart([...s])}`),
  // valid unquoted text the printer must escape as a string: a quote, a backslash
  fc.constantFrom("o'brien", "it's.x", 'a\\b', "public.o'brien"),
);

describe('adopt: the config line to paste', () => {
  for (const language of ['js', 'json'] as const) {
    it(`reads back as the same entries in a ${language} config (30 generated lines)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(ownsEntry, { minLength: 1, maxLength: 5 }), fc.boolean(), async (owns, requires) => {
          const line = serviceEntryText({ name: 'legacy', migrations: MIGRATIONS, owns, requires: requires ? ['other'] : [] }, language);
          const ws = await pasteAndLoad(line, language);
          const legacy = ws.services.find((s) => s.name === 'legacy')!;
          assert.deepEqual(legacy.owns, owns, line);
          assert.deepEqual(legacy.requires, requires ? ['other'] : []);
          assert.equal(legacy.migrationsDir, path.join(ws.root, MIGRATIONS));
        }),
        { numRuns: 30 },
      );
    });
  }

  it("the issue's case and names with control characters, line and paragraph separators", async () => {
    const owns = ['"o\'brien"', "o'brien", '"a\nb"', '"c\rd"', '"tab\there"', '"esc\u001b[31m"', '"line\u2028sep"', '"para\u2029sep"', '"\u0085"'];
    for (const language of ['js', 'json'] as const) {
      const ws = await pasteAndLoad(serviceEntryText({ name: 'legacy', migrations: MIGRATIONS, owns, requires: [] }, language), language);
      assert.deepEqual(ws.services.find((s) => s.name === 'legacy')!.owns, owns);
    }
    // one line, whatever the names hold
    assert.doesNotMatch(serviceEntryText({ name: 'legacy', migrations: MIGRATIONS, owns, requires: [] }, 'js'), /[\n\r\u2028\u2029]/);
  });

  it('jsString escapes what a JavaScript string literal cannot hold raw', () => {
    assert.equal(jsString("o'brien"), "'o\\'brien'");
    assert.equal(jsString('a\\b'), "'a\\\\b'");
    assert.equal(jsString('say "hi"', '"'), '"say \\"hi\\""');
    assert.equal(jsString('\n\r\u2028\u001b'), "'\\n\\r\\u2028\\x1b'");
  });
});
