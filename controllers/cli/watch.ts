// `--watch` of get and events: follows a kind's changes until --timeout runs out or Ctrl-C, starting at
// the version of the list already printed; a watch the server ends is resumed, and an expired version
// (410 Gone) restarts from now.
import { isGone, type WatchOptions } from '../runtime/client.ts';
import type { GVK, KubeObject } from '../runtime/object.ts';
import type { Context } from './command.ts';

export async function watchChanges(
  ctx: Context,
  gvk: GVK,
  opts: Pick<WatchOptions, 'namespace' | 'fieldSelector' | 'labelSelector'>,
  from: string | undefined,
  onChange: (obj: KubeObject) => void,
  onError: (err: unknown) => unknown = (err) => err,
): Promise<void> {
  const client = await ctx.client();
  let resourceVersion = from;
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), Math.max(0, ctx.deadline - Date.now()));
  const onInterrupt = () => stop.abort();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  try {
    while (!stop.signal.aborted) {
      try {
        await client.watch(
          gvk,
          { ...opts, resourceVersion, timeoutSeconds: 300, signal: stop.signal },
          (ev) => {
            if (ev.type === 'ERROR') {
              if ((ev.object as { code?: number }).code === 410) resourceVersion = undefined;
              return;
            }
            resourceVersion = ev.object.metadata?.resourceVersion ?? resourceVersion;
            if (ev.type === 'ADDED' || ev.type === 'MODIFIED') onChange(ev.object);
          },
        );
      } catch (err) {
        if (stop.signal.aborted) break;
        if (!isGone(err)) throw onError(err);
        resourceVersion = undefined;
        await ctx.sleep(ctx.pollMs);
      }
    }
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
}
