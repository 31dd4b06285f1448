/**
 * How an api/ wrapper runs a core: open the target once, hand it down, close it after (quietly: a
 * failing close must not hide the core's outcome). A Database the caller gave is wrapped, not closed.
 */
import { openTarget, type OpenedTarget, type OpenTargetHow, type ScopeOptions } from '../target/open.js';

export async function withTarget<R>(options: ScopeOptions, how: OpenTargetHow, run: (target: OpenedTarget) => Promise<R>): Promise<R> {
  const target = await openTarget(options, how);
  try {
    return await run(target);
  } finally {
    await target.close().catch(() => {});
  }
}
