// Watches a kind in the bench namespace (one list and one watch, as the admin, so the apiserver does
// the least extra work) and resolves waits the moment the last object reaches a state: event-driven,
// so the times are those of the watch events, not of a polling interval.

import { ConditionTypes } from '../../controllers/api/names.ts';
import type { Client } from '../../controllers/runtime/client.ts';
import { isTrue } from '../../controllers/runtime/conditions.ts';
import { createInformer, type Informer } from '../../controllers/runtime/informer.ts';
import type { GVK } from '../../controllers/runtime/object.ts';
import { type KubeObject, keyOf } from '../../controllers/runtime/object.ts';

/** Ready=True for the object's current generation. */
export function isReady(obj: KubeObject): boolean {
  return (
    isTrue(obj as Parameters<typeof isTrue>[0], ConditionTypes.Ready) &&
    obj.status?.observedGeneration === obj.metadata.generation
  );
}

type Listener = (obj: KubeObject, deleted: boolean) => void;

export interface WaitResult {
  /** When the last object got there (epoch ms); undefined on timeout. */
  at?: number;
  /** How many were there at the end. */
  done: number;
}

export class Tracker {
  readonly informer: Informer;
  private readonly listeners = new Set<Listener>();

  constructor(client: Client, kind: GVK, namespace?: string) {
    this.informer = createInformer({ client, kind, namespace });
    const emit = (o: KubeObject, deleted: boolean) => {
      for (const l of this.listeners) l(o, deleted);
    };
    this.informer.addHandler({
      add: (o) => emit(o, false),
      update: (_, o) => emit(o, false),
      delete: (o) => emit(o, true),
    });
  }

  async start(): Promise<this> {
    this.informer.start();
    await this.informer.waitForSync();
    return this;
  }

  /** Calls fn for every add, update and delete until the returned function is called. */
  listen(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Waits until n objects satisfy pred at the same time. onProgress is called every 10 s with the
   * count so far.
   */
  waitAll(
    n: number,
    pred: (o: KubeObject) => boolean,
    timeoutMs: number,
    onProgress?: (done: number) => void,
  ): Promise<WaitResult> {
    const ok = new Set<string>();
    for (const o of this.informer.list()) if (pred(o)) ok.add(keyOf(o));
    return new Promise((resolve) => {
      let unlisten = () => {};
      const finish = (at?: number) => {
        unlisten();
        clearTimeout(timer);
        clearInterval(progress);
        resolve({ at, done: ok.size });
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const progress = setInterval(() => onProgress?.(ok.size), 10_000);
      if (ok.size >= n) return finish(Date.now());
      unlisten = this.listen((o, deleted) => {
        if (!deleted && pred(o)) ok.add(keyOf(o));
        else ok.delete(keyOf(o));
        if (ok.size >= n) finish(Date.now());
      });
    });
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
