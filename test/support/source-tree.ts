/**
 * The repository's own TypeScript, for the tests that read it (error codes, exports, layers): the
 * files of a folder, and a type-checked program over them. The caller hands in its `typescript` module,
 * so a test that only lists files (layers) does not load it (seconds).
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type ts from 'typescript';

/** Every .ts file under `dir` (declaration files excluded), depth first. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** A program over these files only: the packages' declarations would triple the time and decide nothing the tests ask. */
export function sourceProgram(typescript: typeof ts, files: readonly string[]): ts.Program {
  return typescript.createProgram(files, {
    target: typescript.ScriptTarget.ES2022,
    module: typescript.ModuleKind.NodeNext,
    moduleResolution: typescript.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noResolve: true,
    types: [],
    noEmit: true,
  });
}
