/**
 * The README's command table says what the CLI takes: every command commander registers has a row, and
 * each row names exactly that command's flags (the global four excepted, which the sentence above the
 * table names), with a value placeholder exactly for the flags that take one and `…` exactly for the
 * repeatable ones. The program is built in-process (src/cli/program.ts), no CLI start.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import type { Command, Option } from 'commander';
import { collect } from '../../src/cli/flags.js';
import { buildProgram } from '../../src/cli/program.js';
import { REPO_ROOT } from '../support/workspace.js';

const GLOBALS = ['--config', '--database', '--json', '--debug'];

interface Flag {
  name: string;
  takesValue: boolean;
  repeats: boolean;
}

/** `tidemark alembic split-version-table …` → the leaf commands and their options, by path. */
function leafCommands(cmd: Command, prefix: string[] = []): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const sub of cmd.commands) {
    const p = [...prefix, sub.name()];
    if (sub.commands.length) for (const [k, v] of leafCommands(sub, p)) out.set(k, v);
    else out.set(p.join(' '), sub);
  }
  return out;
}

function flagOf(option: Option): Flag {
  const name = option.long ?? option.short!;
  return { name, takesValue: option.required || option.optional, repeats: option.variadic || option.parseArg === collect };
}

/** The rows of the table under `## Commands`: `tidemark …` code spans of the first column, split per command. */
function readmeRows(): Map<string, { flags: Flag[]; text: string }> {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Commands'));
  const table = section.slice(section.indexOf('| command |'), section.indexOf('\n\n', section.indexOf('| command |')));
  const rows = new Map<string, { flags: Flag[]; text: string }>();
  for (const line of table.split('\n').slice(2)) {
    const first = line.split(/(?<!\\)\|/)[1] ?? '';
    for (const [, span] of first.matchAll(/`(tidemark [^`]+)`/g)) {
      const words = span.split(/\s+/).slice(1);
      const name: string[] = [];
      for (const w of words) {
        if (!/^[a-z][a-z-]*$/.test(w)) break;
        name.push(w);
      }
      const flags: Flag[] = [];
      // a flag, its placeholder (not a flag, not `\|`), then ` …` when it repeats
      const re = /(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])(?:\s+([^\s[\]()\\-][^\s[\]()]*))?(\s+…)?/g;
      for (const m of span.matchAll(re)) flags.push({ name: m[1], takesValue: m[2] !== undefined && m[2] !== '…', repeats: m[3] !== undefined || m[2] === '…' });
      rows.set(name.join(' '), { flags, text: span });
    }
  }
  return rows;
}

it('the README command table lists every command with exactly its flags', () => {
  const program = buildProgram();
  assert.deepEqual(
    program.options
      .map((o) => o.long)
      .filter((l) => l !== '--version')
      .sort(),
    [...GLOBALS].sort(),
    'the global flags the README names',
  );
  const commands = leafCommands(program);
  const rows = readmeRows();
  assert.deepEqual([...rows.keys()].sort(), [...commands.keys()].sort(), 'one row per command, no row for a command that does not exist');
  let compared = 0;
  for (const [name, command] of commands) {
    const row = rows.get(name)!;
    // A flag written short in the README (`-o FILE`) stands for its long name.
    const byShort = new Map(command.options.filter((o) => o.short).map((o) => [o.short!, o.long ?? o.short!]));
    const written = row.flags.map((f) => ({ ...f, name: byShort.get(f.name) ?? f.name })).sort((a, b) => a.name.localeCompare(b.name));
    const registered = command.options
      .filter((o) => !GLOBALS.includes(o.long ?? ''))
      .map(flagOf)
      .sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(written, registered, `README row \`${row.text}\` against the flags of tidemark ${name}`);
    compared += registered.length;
  }
  assert.ok(compared >= 50, `${compared} flags compared`);
});
