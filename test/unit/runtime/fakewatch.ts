// A client that serves one list and then a watch driven by the test, for informer unit tests.
import type { Client, WatchEvent } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

export interface FakeWatch {
  client: Client;
  /** Delivers a watch event to the open watch (waits until the informer has opened it). */
  emit(type: WatchEvent['type'], object: KubeObject): Promise<void>;
}

export function fakeWatchClient(items: KubeObject[]): FakeWatch {
  let rv = 1;
  let deliver: ((ev: WatchEvent) => void) | undefined;
  let opened: () => void = () => {};
  let watching = new Promise<void>((r) => {
    opened = r;
  });
  const client = {
    list: async () => ({ items: structuredClone(items), metadata: { resourceVersion: String(rv) } }),
    watch: (_kind: unknown, opts: { signal?: AbortSignal }, onEvent: (ev: WatchEvent) => void) =>
      new Promise<void>((resolve) => {
        deliver = onEvent;
        opened();
        opts.signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
  } as unknown as Client;
  return {
    client,
    async emit(type, object) {
      await watching;
      rv++;
      deliver?.({
        type,
        object: { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } },
      });
      watching = Promise.resolve();
    },
  };
}
