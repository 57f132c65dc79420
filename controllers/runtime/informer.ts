// A supervised informer for one kind: list (paginated), then watch from the list's resourceVersion with
// bookmarks; every failure restarts the watch after a capped backoff, 410 Gone (a status or an ERROR
// event) relists, and an idle timer aborts a connection that went silent (no event, not even a bookmark).
// The cache holds objects without managedFields; a relist diffs against it so handlers see the deletes
// and updates that happened while the watch was down.
import { ApiError, type Client, isGone, type WatchEvent } from './client.ts';
import type { Logger } from './log.ts';
import { type GVK, type KubeObject, keyOf, stripForCache } from './object.ts';

/** Keys under which an object is indexed, e.g. the `namespace/name` of every object it refers to. */
export type IndexFunc = (obj: KubeObject) => string[];

export interface InformerHandler {
  add?(obj: KubeObject): void;
  update?(oldObj: KubeObject, newObj: KubeObject): void;
  delete?(obj: KubeObject): void;
}

/** The metric families the informer feeds (prom-client Counter/Gauge shapes, see metrics.ts). */
export interface InformerMetrics {
  informerRestarts: { inc(labels: { kind: string }): void };
  informerRelists: { inc(labels: { kind: string }): void };
  informerEvents: { inc(labels: { kind: string; type: string }): void };
  informerHealthy: { set(labels: { kind: string }, value: number): void };
}

export interface InformerOptions {
  client: Client;
  kind: GVK;
  /** Watch one namespace; all when unset. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** List page size (limit/continue). */
  pageSize?: number;
  /** Abort and re-watch when no byte arrived for this long; bookmarks come about once a minute. */
  idleTimeoutMs?: number;
  /** Server-side watch timeout; a random value in [n, 2n) spreads reconnects (as client-go does). */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Applied to every object before it enters the cache; default strips managedFields. */
  transform?: (obj: KubeObject) => KubeObject;
  metrics?: InformerMetrics;
  log?: Logger;
}

export interface Informer {
  readonly kind: GVK;
  addHandler(h: InformerHandler): void;
  /** Starts the list/watch loop in the background; idempotent. */
  start(): void;
  /** Stops the loop and aborts the open watch. */
  stop(): Promise<void>;
  /** True once the first full list has been delivered to handlers. */
  hasSynced(): boolean;
  /** Resolves when synced; rejects when the signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** True while a watch is open (false while backing off after an error). */
  isWatching(): boolean;
  get(key: string): KubeObject | undefined;
  list(): KubeObject[];
  /**
   * Maintains an index over the cache from now on (built from what is cached already), kept up to date
   * on every add, update and delete. A second call with the same name and function is a no-op; with
   * another function it throws, as two meanings under one name would mislead one of the readers.
   */
  addIndex(name: string, fn: IndexFunc): void;
  /** Cached objects whose index function returned `key` (none for an unknown index). */
  byIndex(name: string, key: string): KubeObject[];
  /** The resourceVersion the next watch would start from. */
  resourceVersion(): string | undefined;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

class IdleTimeoutError extends Error {
  override name = 'IdleTimeoutError';
}

export function createInformer(opts: InformerOptions): Informer {
  const { client, kind } = opts;
  const kindLabel = { kind: kind.kind };
  const pageSize = opts.pageSize ?? 500;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 120_000;
  const watchTimeout = opts.watchTimeoutSeconds ?? 300;
  const initialBackoff = opts.backoff?.initialMs ?? 250;
  const maxBackoff = opts.backoff?.maxMs ?? 30_000;
  const transform = opts.transform ?? stripForCache;
  const log = opts.log;
  const handlers: InformerHandler[] = [];
  let cache = new Map<string, KubeObject>();
  const indexes = new Map<string, Index>();
  let rv: string | undefined;
  let synced = false;
  let watching = false;
  let loop: Promise<void> | undefined;
  const stopper = new AbortController();
  const syncWaiters: (() => void)[] = [];

  const setHealthy = (v: boolean) => {
    watching = v;
    opts.metrics?.informerHealthy.set(kindLabel, v ? 1 : 0);
  };

  function dispatch(fn: (h: InformerHandler) => void) {
    for (const h of handlers) {
      try {
        fn(h);
      } catch (err) {
        log?.error('informer handler failed', err, { kind: kind.kind });
      }
    }
  }

  // The cache and its indexes change together, before handlers run, so a handler's lookup is current.
  function replaceCache(fresh: Map<string, KubeObject>) {
    cache = fresh;
    for (const index of indexes.values()) index.rebuild(fresh);
  }
  function store(key: string, obj: KubeObject) {
    cache.set(key, obj);
    for (const index of indexes.values()) index.set(key, obj);
  }
  function drop(key: string) {
    cache.delete(key);
    for (const index of indexes.values()) index.remove(key);
  }

  async function listPages(): Promise<{ items: KubeObject[]; resourceVersion?: string }> {
    const items: KubeObject[] = [];
    let next: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await client.list(kind, {
        namespace: opts.namespace,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        limit: pageSize,
        continue: next,
      });
      for (const item of page.items) items.push(transform(item));
      next = page.metadata.continue;
      resourceVersion = page.metadata.resourceVersion;
    } while (next);
    return { items, resourceVersion };
  }

  async function relist(): Promise<void> {
    const { items, resourceVersion } = await listPages();
    if (synced) opts.metrics?.informerRelists.inc(kindLabel);
    const old = cache;
    const fresh = new Map(items.map((o) => [keyOf(o), o]));
    replaceCache(fresh);
    rv = resourceVersion;
    // Synthesize what the watch would have told us while it was down.
    for (const [key, obj] of fresh) {
      const before = old.get(key);
      if (!before) dispatch((h) => h.add?.(obj));
      else if (before.metadata.resourceVersion !== obj.metadata.resourceVersion)
        dispatch((h) => h.update?.(before, obj));
    }
    for (const [key, obj] of old) if (!fresh.has(key)) dispatch((h) => h.delete?.(obj));
    if (!synced) {
      synced = true;
      for (const w of syncWaiters.splice(0)) w();
    }
    setHealthy(true);
  }

  function apply(ev: WatchEvent) {
    if (ev.type === 'ERROR') {
      const status = ev.object as unknown as { code?: number; message?: string; reason?: string };
      throw new ApiError(
        status.code ?? 500,
        `watch error: ${status.message ?? 'unknown'}`,
        status.reason ?? '',
      );
    }
    const objRv = ev.object?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (objRv) rv = objRv;
      return;
    }
    opts.metrics?.informerEvents.inc({ ...kindLabel, type: ev.type });
    const obj = transform(ev.object);
    const key = keyOf(obj);
    const before = cache.get(key);
    if (ev.type === 'DELETED') {
      drop(key);
      dispatch((h) => h.delete?.(obj));
    } else {
      store(key, obj);
      if (before) dispatch((h) => h.update?.(before, obj));
      else dispatch((h) => h.add?.(obj));
    }
    if (objRv) rv = objRv;
  }

  async function watchOnce(): Promise<void> {
    const ac = new AbortController();
    const onStop = () => ac.abort();
    stopper.signal.addEventListener('abort', onStop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => ac.abort(new IdleTimeoutError(`no data for ${idleTimeoutMs} ms`)),
        idleTimeoutMs,
      );
    };
    arm();
    try {
      await client.watch(
        kind,
        {
          namespace: opts.namespace,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: watchTimeout + Math.floor(Math.random() * watchTimeout),
          signal: ac.signal,
          onData: () => {
            if (!watching) setHealthy(true);
            arm();
          },
        },
        apply,
      );
    } catch (err) {
      if (ac.signal.reason instanceof IdleTimeoutError) throw ac.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
      stopper.signal.removeEventListener('abort', onStop);
    }
  }

  async function run(): Promise<void> {
    let backoff = initialBackoff;
    while (!stopper.signal.aborted) {
      const started = Date.now();
      try {
        if (rv === undefined) await relist();
        await watchOnce();
        // A clean end (server-side timeout): watch again from where we are.
        backoff = initialBackoff;
      } catch (err) {
        if (stopper.signal.aborted) break;
        setHealthy(false);
        opts.metrics?.informerRestarts.inc(kindLabel);
        if (isGone(err)) rv = undefined;
        // A watch that ran a while was healthy: start the backoff over.
        if (Date.now() - started > 30_000) backoff = initialBackoff;
        log?.info('watch restarting', {
          kind: kind.kind,
          cause: (err as Error).message,
          relist: rv === undefined,
          retryInMs: backoff,
        });
        await sleep(backoff, stopper.signal);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
    setHealthy(false);
  }

  return {
    kind,
    addHandler: (h) => {
      handlers.push(h);
    },
    start() {
      loop ??= run();
    },
    async stop() {
      stopper.abort();
      for (const w of syncWaiters.splice(0)) w();
      await loop;
    },
    hasSynced: () => synced,
    waitForSync: (signal) =>
      new Promise<void>((resolve, reject) => {
        if (synced) return resolve();
        if (signal?.aborted) return reject(new Error('aborted while waiting for the cache to sync'));
        signal?.addEventListener(
          'abort',
          () => reject(new Error('aborted while waiting for the cache to sync')),
          {
            once: true,
          },
        );
        syncWaiters.push(() =>
          synced ? resolve() : reject(new Error('informer stopped before the cache synced')),
        );
      }),
    isWatching: () => watching,
    get: (key) => cache.get(key),
    list: () => [...cache.values()],
    addIndex(name, fn) {
      const existing = indexes.get(name);
      if (existing) {
        if (existing.fn !== fn) throw new Error(`informer ${kind.kind}: index '${name}' already exists`);
        return;
      }
      const index = createIndex(fn, log, kind.kind);
      index.rebuild(cache);
      indexes.set(name, index);
    },
    byIndex(name, key) {
      const keys = indexes.get(name)?.lookup(key) ?? [];
      const objs: KubeObject[] = [];
      for (const k of keys) {
        const o = cache.get(k);
        if (o) objs.push(o);
      }
      return objs;
    },
    resourceVersion: () => rv,
  };
}

/** One index: index key → cache keys, and per cache key the index keys it was filed under (for moves). */
interface Index {
  readonly fn: IndexFunc;
  rebuild(cache: Map<string, KubeObject>): void;
  set(key: string, obj: KubeObject): void;
  remove(key: string): void;
  lookup(key: string): Iterable<string>;
}

function createIndex(fn: IndexFunc, log: Logger | undefined, kind: string): Index {
  const byKey = new Map<string, Set<string>>();
  const keysOf = new Map<string, string[]>();
  const remove = (key: string) => {
    for (const k of keysOf.get(key) ?? []) {
      const set = byKey.get(k);
      set?.delete(key);
      if (set?.size === 0) byKey.delete(k);
    }
    keysOf.delete(key);
  };
  const set = (key: string, obj: KubeObject) => {
    remove(key);
    let keys: string[];
    try {
      keys = [...new Set(fn(obj))];
    } catch (err) {
      // A malformed object (e.g. a spec the CRD let through) must not stop the informer.
      log?.error('index function failed', err, { kind, key });
      return;
    }
    if (keys.length === 0) return;
    keysOf.set(key, keys);
    for (const k of keys) {
      const members = byKey.get(k) ?? new Set<string>();
      members.add(key);
      byKey.set(k, members);
    }
  };
  return {
    fn,
    rebuild(cache) {
      byKey.clear();
      keysOf.clear();
      for (const [key, obj] of cache) set(key, obj);
    },
    set,
    remove,
    lookup: (key) => byKey.get(key) ?? [],
  };
}
