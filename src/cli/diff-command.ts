/** `tidemark diff`: the next migration of a service, generated from two schemas and proven on a shadow. */
import { displayPath } from '../paths.js';
import { pc } from '../report/colors.js';
import { finish, formatMs, note, printable, printJson, type GlobalOptions } from './output.js';

export interface DiffFlags extends GlobalOptions {
  service: string;
  from?: string;
  to?: string;
  name?: string;
  dryRun?: boolean;
  oneFile?: boolean;
  shadow?: string;
}

const MARK = { add: '+', drop: '-', alter: '~' } as const;

/** Exit 0: written, proven on a dry run, or nothing to do; 1 the proof failed; 2 bad usage or input. */
export async function runDiff(flags: DiffFlags): Promise<void> {
  const { diff } = await import('../api/diff.js');
  const result = await diff({
    configFile: flags.config,
    database: flags.database,
    service: flags.service,
    from: flags.from,
    to: flags.to,
    name: flags.name,
    dryRun: flags.dryRun,
    oneFile: flags.oneFile,
    shadowUrl: flags.shadow,
  });
  if (flags.json) {
    printJson(result);
    return finish(result.error, flags, true);
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (result.from && result.to) note(`From ${printable(result.from)}\nto ${printable(result.to)}`);
  if (result.changes.length > 0) {
    out(pc.bold(`${result.changes.length} change${result.changes.length === 1 ? '' : 's'} to ${result.service}:`));
    result.changes.forEach((c, i) => out(`  ${MARK[c.op]} ${printable(result.words[i].message)}`));
  }
  for (const h of result.hazards) out(`  ${pc.yellow('hazard')} (${h.hazard}): ${printable(h.sentence)}`);
  for (const s of result.suggestions) {
    out(
      `  ${pc.cyan('rename?')} ${printable(s.object)} may be ${printable(s.old)} renamed: if so, put \`${printable(s.line)}\` above it in the desired schema and run diff again (as it is, ${printable(s.old)} is dropped with its data).`,
    );
  }
  if (result.error) return finish(result.error, flags);
  if (result.changes.length === 0 && result.files.length === 0) {
    out(`${pc.green('✓')} No changes: what ${result.service} owns is the same on both sides; nothing written. ${pc.dim(formatMs(result.durationMs))}`);
    return finish(undefined, flags);
  }
  if (result.proof) note(`Proved on ${printable(result.proof.shadow)}: the up gives the desired schema, the down gives the first one back (${formatMs(result.proof.ms)}).`);
  if (result.dryRun) {
    for (const f of result.files) out(`${pc.dim(`-- ${displayPath(f.path)}`)}\n${f.text}`);
    out(`${pc.yellow('dry run:')} would write ${result.files.map((f) => displayPath(f.path)).join(', ')} ${pc.dim(formatMs(result.durationMs))}`);
    return finish(undefined, flags);
  }
  for (const f of result.files) out(`${pc.green('✓')} wrote ${displayPath(f.path)}`);
  if (result.sum?.updated) out(`  ${displayPath(result.sum.file)} updated`);
  else if (result.sum?.reason) process.stderr.write(`${pc.yellow('warning:')} ${result.sum.reason}\n`);
  const last = result.files.at(-1)?.id;
  if (result.toIsTarget) note(`The target database already has this change: \`tidemark stamp --service ${result.service} --to ${last}\` records it as applied there. ${formatMs(result.durationMs)}`);
  else note(`Review it, then \`tidemark up\` (and \`tidemark test\`). ${formatMs(result.durationMs)}`);
  finish(undefined, flags);
}
