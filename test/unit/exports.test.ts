/**
 * No dead exports: every export of a src/ module is used by another module of src/ or test/, or is part
 * of the public API (src/index.ts re-exports it). Read by the type checker, so a name reached through a
 * re-export, a lazy `await import(…)` destructuring or a `typeof import(…)` counts as a use.
 * An export used only inside its own file should not be exported; one used nowhere should be deleted.
 * Values only (functions, constants, classes): a type in an exported signature must stay exported for
 * the declaration files.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import ts from 'typescript';
import { sourceFiles, sourceProgram } from '../support/source-tree.js';
import { REPO_ROOT } from '../support/workspace.js';

const SRC = path.join(REPO_ROOT, 'src');
const INDEX = path.join(SRC, 'index.ts');

it('every export of src/ is used outside its own file or is public (src/index.ts)', () => {
  const files = [...sourceFiles(SRC), ...sourceFiles(path.join(REPO_ROOT, 'test'))];
  const program = sourceProgram(ts, files);
  const checker = program.getTypeChecker();
  const original = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  /** Declaration symbol → the files that name it. */
  const usedFrom = new Map<ts.Symbol, Set<string>>();
  const use = (symbol: ts.Symbol | undefined, file: string) => {
    if (!symbol) return;
    // Every hop of a re-export chain counts: `export { x } from` in api/ uses the core's x.
    for (let s: ts.Symbol | undefined = symbol, hops = 0; s && hops < 10; hops++) {
      if (!usedFrom.has(s)) usedFrom.set(s, new Set());
      usedFrom.get(s)!.add(file);
      if (!(s.flags & ts.SymbolFlags.Alias)) break;
      const next = checker.getImmediateAliasedSymbol(s);
      if (next === s) break;
      s = next;
    }
    usedFrom.get(original(symbol)) ?? usedFrom.set(original(symbol), new Set());
    usedFrom.get(original(symbol))!.add(file);
  };
  const fileSet = new Set(files.map((f) => path.resolve(f)));
  for (const sf of program.getSourceFiles()) {
    if (!fileSet.has(path.resolve(sf.fileName))) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) use(checker.getSymbolAtLocation(node), sf.fileName);
      // `const { a, b } = await import('./m.js')`: the property names of the binding.
      if (ts.isBindingElement(node) && ts.isObjectBindingPattern(node.parent)) {
        const name = (node.propertyName ?? node.name) as ts.Node;
        if (ts.isIdentifier(name)) {
          const type = checker.getTypeAtLocation(node.parent);
          use(type.getProperty(name.text), sf.fileName);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  const dead: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (path.resolve(file) === INDEX) continue;
    const sf = program.getSourceFile(file)!;
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) continue;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      // Values only: a type named in an exported signature must stay exported for the declaration files.
      if (!(original(exported).flags & ts.SymbolFlags.Value)) continue;
      const from = new Set([...(usedFrom.get(exported) ?? []), ...(usedFrom.get(original(exported)) ?? [])]);
      from.delete(sf.fileName);
      if (from.size === 0) dead.push(`${path.relative(REPO_ROOT, file)}: ${exported.name}`);
    }
  }
  assert.deepEqual(dead, []);
});
