// Every long wait of the CLI goes through here: one `◎ waiting for …` line, a progress line with the
// reason and elapsed time every 15 seconds, and a timeout error naming what was still missing.
import { formatDuration } from '../runtime/duration.ts';
import type { Context } from './command.ts';
import { CliError } from './errors.ts';

export type Check<T> = { done: T } | { pending: string };

const progressEveryMs = 15_000;

/**
 * Polls `check` every --poll-interval until it is done; throws CliError when --timeout runs out or
 * the command is interrupted. `failed` in a check's result is not special: throw from the check.
 */
export async function waitFor<T>(
  ctx: Context,
  what: string,
  check: () => Promise<Check<T>>,
  opts: { announce?: boolean } = {},
): Promise<T> {
  const start = Date.now();
  let lastProgress = start;
  if (opts.announce !== false) ctx.log.waiting(`waiting for ${what}`);
  for (;;) {
    const r = await check();
    if ('done' in r) return r.done;
    const now = Date.now();
    if (now >= ctx.deadline)
      throw new CliError(
        `timed out after ${formatDuration(ctx.timeoutMs)} waiting for ${what}: ${r.pending}`,
      );
    if (ctx.signal.aborted) throw new CliError(`interrupted while waiting for ${what}: ${r.pending}`);
    if (now - lastProgress >= progressEveryMs) {
      lastProgress = now;
      ctx.log.waiting(
        `still waiting for ${what} (${formatDuration(Math.round((now - start) / 1000) * 1000)}): ${r.pending}`,
      );
    }
    await ctx.sleep(Math.min(ctx.pollMs, ctx.deadline - now));
  }
}
