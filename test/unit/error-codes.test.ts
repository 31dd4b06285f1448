import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ERROR_CODES, exitCodeOfKind, isErrorCode, type ErrorCode } from '../../src/error-codes.js';
import { TidemarkError, exitCodeFor } from '../../src/errors.js';
import { README, readmeErrorCodesTable, renderErrorCodesTable } from '../support/error-codes-table.js';
import { sourceFiles, sourceProgram } from '../support/source-tree.js';
import { REPO_ROOT } from '../support/workspace.js';

const SRC = path.join(REPO_ROOT, 'src');
const CATALOGUE = path.join(SRC, 'error-codes.ts');

interface Site {
  where: string;
  /** The codes the first argument can be, from its type (a literal or a union of literals). */
  codes: string[];
  /** A type the scan cannot read as literals (`string`, `any`): a code that escapes the catalogue. */
  opaque?: string;
  /** The literal kinds the details argument can carry, if any. */
  kinds: string[];
}

/**
 * Every `new TidemarkError(…)` in src with the codes and kinds its arguments can take, read by the type checker
 * (so a code built elsewhere — `first.code`, a helper's parameter — is seen through its type); and every string
 * literal of src whose contextual type is the catalogue's code union (a code written where an ErrorCode is expected:
 * the argument of such a helper, a `code:` field of a problem list).
 */
const scan = (() => {
  const files = sourceFiles(SRC);
  // src alone: the codes are typed by src.
  const program = sourceProgram(ts, files);
  const checker = program.getTypeChecker();
  const sites: Site[] = [];
  const written = new Map<string, string[]>();
  const literalsOf = (type: ts.Type): string[] | undefined => {
    const parts = type.isUnion() ? type.types : [type];
    const out: string[] = [];
    for (const t of parts) {
      if (t.isStringLiteral()) out.push(t.value);
      else if (t.flags & ts.TypeFlags.Undefined) continue;
      else return undefined;
    }
    return out;
  };
  for (const file of files) {
    if (file === CATALOGUE) continue;
    const sf = program.getSourceFile(file)!;
    const rel = path.relative(REPO_ROOT, file);
    const visit = (node: ts.Node): void => {
      const at = () => `${rel}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
      if (ts.isNewExpression(node) && node.expression.getText(sf) === 'TidemarkError') {
        const [codeArg, , details] = node.arguments ?? [];
        const codeType = checker.getTypeAtLocation(codeArg);
        const codes = literalsOf(codeType);
        let kinds: string[] = [];
        if (details) {
          const kind = checker.getTypeAtLocation(details).getProperty('kind');
          if (kind) kinds = literalsOf(checker.getTypeOfSymbolAtLocation(kind, details)) ?? ['(not a literal)'];
        }
        sites.push({ where: at(), codes: codes ?? [], ...(codes ? {} : { opaque: checker.typeToString(codeType) }), kinds });
      }
      if (ts.isStringLiteralLike(node) && isErrorCode(node.text)) {
        const contextual = checker.getContextualType(node as ts.Expression);
        const accepted = contextual && literalsOf(contextual);
        // Contextually an ErrorCode: the contextual type is a union of catalogue codes that includes this one.
        if (accepted && accepted.length > 1 && accepted.includes(node.text) && accepted.every(isErrorCode)) {
          written.set(node.text, [...(written.get(node.text) ?? []), at()]);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { sites, written };
})();

test('every `new TidemarkError` in src takes a code of the catalogue (the scan sees through dynamic codes)', () => {
  assert.ok(scan.sites.length > 100, `found only ${scan.sites.length} call sites: the scan is broken`);
  const opaque = scan.sites.filter((s) => s.opaque).map((s) => `${s.where}: type ${s.opaque}`);
  assert.deepEqual(opaque, [], 'a code whose type is not a union of catalogue codes (a cast?)');
  const unknown = scan.sites.flatMap((s) => s.codes.filter((c) => !isErrorCode(c)).map((c) => `${s.where}: ${c}`));
  assert.deepEqual(unknown, []);
});

test('every code of the catalogue is written at a throw site in src', () => {
  const all = Object.keys(ERROR_CODES);
  const missing = all.filter((code) => !scan.written.has(code));
  assert.deepEqual(missing, [], 'catalogue codes no source file produces: remove them from src/error-codes.ts');
});

test('no call site passes a kind that contradicts the catalogue', () => {
  const contradictions = scan.sites.flatMap((s) =>
    s.kinds.flatMap((kind) =>
      s.codes.filter((c) => isErrorCode(c) && ERROR_CODES[c].kind !== kind).map((c) => `${s.where}: ${c} is ${ERROR_CODES[c as ErrorCode].kind} in the catalogue, not ${kind}`),
    ),
  );
  assert.deepEqual(contradictions, []);
});

test('the catalogue: alphabetical, one line per code, each with a meaning and a message template', () => {
  const codes = Object.keys(ERROR_CODES);
  assert.deepEqual(codes, [...codes].sort(), 'keep src/error-codes.ts in alphabetical order');
  const text = readFileSync(CATALOGUE, 'utf8');
  for (const code of codes) {
    assert.match(code, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${code}: kebab-case`);
    assert.equal(text.split('\n').filter((l) => l.startsWith(`  '${code}': {`) && l.trimEnd().endsWith('},')).length, 1, `${code}: one line`);
    const e = ERROR_CODES[code as ErrorCode];
    assert.ok(e.meaning.length > 10 && !e.meaning.includes('\n'), `${code}: meaning`);
    assert.ok(e.message.length > 0, `${code}: message template`);
    assert.equal(new Set(e.fields).size, e.fields.length, `${code}: fields listed once`);
  }
});

test('TidemarkError takes its kind and exit from the catalogue, whatever the call site passes', () => {
  const saved = process.env.TIDEMARK_TEST_CODES_DIR;
  delete process.env.TIDEMARK_TEST_CODES_DIR; // these are not produced by tidemark: keep them out of the coverage record
  try {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const err = new TidemarkError(code, 'm', { kind: ERROR_CODES[code].kind === 'failure' ? 'input' : 'failure' });
      assert.equal(err.kind, ERROR_CODES[code].kind, code);
      assert.equal(err.exit, exitCodeOfKind(ERROR_CODES[code].kind), code);
      assert.equal(exitCodeFor(err), err.exit, code);
    }
    assert.equal(exitCodeFor(new Error('x')), 1);
  } finally {
    if (saved !== undefined) process.env.TIDEMARK_TEST_CODES_DIR = saved;
  }
});

test('the JSON form carries code, kind, exit, message, hint and the named fields', () => {
  const saved = process.env.TIDEMARK_TEST_CODES_DIR;
  delete process.env.TIDEMARK_TEST_CODES_DIR;
  try {
    const err = new TidemarkError('migration-failed', 'a.sql:3: a_001 failed: boom.', {
      hint: 'fix it',
      file: 'a.sql',
      line: 3,
      service: 'a',
      migration: 'a_001',
    });
    const json = JSON.parse(JSON.stringify(err));
    assert.deepEqual(json.fields, { file: 'a.sql', line: 3, service: 'a', migration: 'a_001' });
    assert.equal(json.code, 'migration-failed');
    assert.equal(json.kind, 'failure');
    assert.equal(json.exit, 1);
    assert.equal(json.message, 'a.sql:3: a_001 failed: boom.');
    assert.equal(json.hint, 'fix it');
    assert.equal(json.file, 'a.sql');
    for (const field of Object.keys(json.fields)) assert.ok((ERROR_CODES['migration-failed'].fields as readonly string[]).includes(field));
    assert.deepEqual(JSON.parse(JSON.stringify(new TidemarkError('bad-usage', 'm'))).fields, {});
  } finally {
    if (saved !== undefined) process.env.TIDEMARK_TEST_CODES_DIR = saved;
  }
});

test('README lists exactly the catalogue (regenerate: node dist/test/support/error-codes-table.js --write)', () => {
  const inReadme = readmeErrorCodesTable(readFileSync(README, 'utf8'));
  assert.ok(inReadme, 'README.md has no error-codes table markers');
  assert.equal(inReadme, renderErrorCodesTable());
});

test('API errors carry their catalogue exit too: bad-graph-view (2), graph-render-failed (1)', async () => {
  const { renderDot, renderDotToSvg } = await import('../../src/report/graph-render.js');
  assert.throws(
    () => renderDot({ services: 'nope' } as unknown as Parameters<typeof renderDot>[0]),
    (err: unknown) => err instanceof TidemarkError && err.code === 'bad-graph-view' && exitCodeFor(err) === 2,
  );
  await assert.rejects(renderDotToSvg('digraph { a -> '), (err: unknown) => err instanceof TidemarkError && err.code === 'graph-render-failed' && exitCodeFor(err) === 1);
});
