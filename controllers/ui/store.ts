// The dashboard's view of the cluster: one watch-based informer per Tide kind (runtime/informer.ts) and
// the row of every object, kept current from the watches and pushed to subscribers (the browsers'
// event streams). A kind whose CRD is not installed, or that the identity may not list, is probed again
// every `reprobeMs`, so a controller installed later (or a new RoleBinding) shows up by itself.
import type { KindDescriptor } from '../api/kinds.ts';
import { type Client, isForbidden, isNoMatch } from '../runtime/client.ts';
import { createInformer, type Informer } from '../runtime/informer.ts';
import type { Logger } from '../runtime/log.ts';
import type { GVK, KubeObject } from '../runtime/object.ts';
import { apiMessage } from './errors.ts';
import { kindInfo } from './kinds.ts';
import { type KindInfo, type Row, rowKey, summarize } from './model/rows.ts';

export type Change = { type: 'upsert'; row: Row } | { type: 'delete'; key: string } | { type: 'kinds' };

export interface StoreOptions {
  /** The identity the watches run as: the user's (tide ui) or the dashboard's ServiceAccount. */
  client: Client;
  kinds: readonly KindDescriptor[];
  /** Watch one namespace only; all when unset. */
  namespace?: string;
  log?: Logger;
  reprobeMs?: number;
}

export interface Store {
  /** Probes every kind and starts the watches; resolves once the available kinds have synced. */
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  kinds(): KindInfo[];
  kindInfo(kind: string): KindInfo | undefined;
  descriptor(kind: string): KindDescriptor | undefined;
  rows(): Row[];
  row(key: string): Row | undefined;
  object(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** The cached object of a kind by `namespace/name` (what runtime/dependencies reads). */
  cached(kind: GVK, key: string): KubeObject | undefined;
  subscribe(listener: (c: Change) => void): () => void;
}

interface Slot {
  descriptor: KindDescriptor;
  info: KindInfo;
  informer?: Informer;
}

export function createStore(opts: StoreOptions): Store {
  const { client, log } = opts;
  const reprobeMs = opts.reprobeMs ?? 30_000;
  const slots = new Map<string, Slot>(opts.kinds.map((d) => [d.kind, { descriptor: d, info: kindInfo(d) }]));
  const rows = new Map<string, Row>();
  const listeners = new Set<(c: Change) => void>();
  const stopper = new AbortController();
  let timer: NodeJS.Timeout | undefined;

  const emit = (c: Change) => {
    for (const l of listeners) {
      try {
        l(c);
      } catch (err) {
        log?.error('dashboard subscriber failed', err);
      }
    }
  };

  function upsert(slot: Slot, obj: KubeObject) {
    const row = summarize(obj, slot.info);
    rows.set(row.key, row);
    emit({ type: 'upsert', row });
  }
  function remove(slot: Slot, obj: KubeObject) {
    const key = rowKey(slot.info.kind, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    if (rows.delete(key)) emit({ type: 'delete', key });
  }

  /** Lists one object to learn whether the kind is served and may be listed, then watches it. */
  async function probe(slot: Slot): Promise<void> {
    const before = `${slot.info.availability}${slot.info.message ?? ''}`;
    try {
      await client.list(slot.descriptor, { namespace: opts.namespace, limit: 1 });
      slot.info = { ...slot.info, availability: 'ok', message: undefined };
      watch(slot);
    } catch (err) {
      const availability = isNoMatch(err) ? 'not-installed' : isForbidden(err) ? 'forbidden' : 'error';
      const message = isNoMatch(err)
        ? `the CRD ${slot.descriptor.plural}.${slot.descriptor.group} is not installed`
        : apiMessage(err);
      slot.info = { ...slot.info, availability, message };
    }
    if (`${slot.info.availability}${slot.info.message ?? ''}` !== before) emit({ type: 'kinds' });
  }

  function watch(slot: Slot) {
    if (slot.informer) return;
    const informer = createInformer({
      client,
      kind: slot.descriptor,
      namespace: opts.namespace,
      log: log?.with({ kind: slot.descriptor.kind }),
    });
    informer.addHandler({
      add: (o) => upsert(slot, o),
      update: (_old, o) => upsert(slot, o),
      delete: (o) => remove(slot, o),
    });
    slot.informer = informer;
    informer.start();
  }

  async function reprobe() {
    const pending = [...slots.values()].filter((s) => !s.informer);
    await Promise.all(pending.map(probe));
    if (!stopper.signal.aborted) timer = setTimeout(reprobe, reprobeMs);
  }

  return {
    async start(signal) {
      await Promise.all([...slots.values()].map(probe));
      const syncs = [...slots.values()].flatMap((s) => (s.informer ? [s.informer.waitForSync(signal)] : []));
      await Promise.all(syncs);
      timer = setTimeout(reprobe, reprobeMs);
    },
    async stop() {
      stopper.abort();
      clearTimeout(timer);
      await Promise.all([...slots.values()].map((s) => s.informer?.stop()));
    },
    kinds: () => [...slots.values()].map((s) => s.info),
    kindInfo: (kind) => slots.get(kind)?.info,
    descriptor: (kind) => slots.get(kind)?.descriptor,
    rows: () => [...rows.values()],
    row: (key) => rows.get(key),
    object: (kind, namespace, name) =>
      slots.get(kind)?.informer?.get(namespace ? `${namespace}/${name}` : name),
    cached: (gvk, key) => slots.get(gvk.kind)?.informer?.get(key),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
