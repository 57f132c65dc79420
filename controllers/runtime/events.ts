// Events as Flux records them: a core/v1 Event on the object (Normal/Warning, Flux reasons, aggregated so a
// repeated reason+message bumps `count` instead of creating a new Event) and, when --events-addr is set,
// the same event POSTed as Flux's JSON to notification-controller. Trace events stay Kubernetes-only.
// Recording never throws and never blocks a reconcile: writes run in the background (see flush).

import { hostname } from 'node:os';
import { Annotations } from '../api/names.ts';
import type { Client } from './client.ts';
import { isNotFound } from './client.ts';
import { httpClient } from './http.ts';
import { type Logger, redact } from './log.ts';
import type { KubeObject } from './object.ts';

export const EventTypes = { Normal: 'Normal', Warning: 'Warning', Trace: 'Trace' } as const;
export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

/** The JSON notification-controller accepts (fluxcd/pkg apis/event/v1beta1 Event). */
export interface FluxEvent {
  involvedObject: {
    kind: string;
    namespace: string;
    name: string;
    uid?: string;
    apiVersion?: string;
    resourceVersion?: string;
  };
  severity: 'info' | 'error';
  timestamp: string;
  message: string;
  reason: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance: string;
}

export interface EventOptions {
  /** Metadata such as `<group>/revision`; also set as annotations on the Kubernetes Event. */
  metadata?: Record<string, string>;
  /** False keeps the event off the notification path (Kubernetes Event only). Default true. */
  notify?: boolean;
}

export interface Recorder {
  /** Records an event about obj; returns at once, the writes happen in the background. */
  event(obj: KubeObject, type: EventType, reason: string, message: string, opts?: EventOptions): void;
  /** Resolves when every write started so far has finished (tests, shutdown). */
  flush(): Promise<void>;
}

export interface RecorderOptions {
  client: Client;
  /** reportingController / source.component, e.g. `source-controller`. */
  controller: string;
  /** reportingInstance; the host name by default (the pod name in a cluster). */
  instance?: string;
  /** notification-controller address; forwarding is off when empty. */
  eventsAddr?: string;
  log?: Logger;
  now?: () => Date;
  /** Aggregation memory (distinct object+type+reason+message keys kept). */
  cacheSize?: number;
  /** Per-object write budget: `burst` writes, one more every `refillMs` (client-go's spam filter). */
  spam?: { burst: number; refillMs: number };
}

// Kubernetes rejects huge events; Flux caps notification messages at 39,000 characters.
const maxK8sMessage = 4096;
const maxNotificationMessage = 39_000;

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

export function createRecorder(opts: RecorderOptions): Recorder {
  const { client, controller, log } = opts;
  const instance = opts.instance ?? hostname();
  const now = opts.now ?? (() => new Date());
  const cacheSize = opts.cacheSize ?? 4096;
  const spam = opts.spam ?? { burst: 25, refillMs: 5 * 60_000 };
  const seen = new Map<string, Seen>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const pending = new Set<Promise<void>>();
  let seq = 0n;

  const track = (p: Promise<void>) => {
    pending.add(p);
    p.finally(() => pending.delete(p));
  };

  function allow(objectKey: string): boolean {
    const t = now().getTime();
    const b = buckets.get(objectKey) ?? { tokens: spam.burst, at: t };
    b.tokens = Math.min(spam.burst, b.tokens + (t - b.at) / spam.refillMs);
    b.at = t;
    buckets.delete(objectKey);
    buckets.set(objectKey, b);
    if (buckets.size > cacheSize) buckets.delete(buckets.keys().next().value as string);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  async function writeK8s(
    obj: KubeObject,
    type: string,
    reason: string,
    message: string,
    meta?: Record<string, string>,
  ) {
    const m = obj.metadata;
    const objectKey = `${obj.apiVersion}/${obj.kind}/${m.namespace ?? ''}/${m.name}`;
    if (!allow(objectKey)) return;
    const key = `${m.uid ?? objectKey}\u0000${type}\u0000${reason}\u0000${message}`;
    const ts = now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
    const prev = seen.get(key);
    if (prev) {
      // Same object, type, reason and message: bump the existing Event.
      try {
        await client.patch(
          { apiVersion: 'v1', kind: 'Event', name: prev.name, namespace: prev.namespace },
          'merge',
          { count: prev.count + 1, lastTimestamp: ts },
        );
        prev.count++;
        seen.delete(key);
        seen.set(key, prev);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        seen.delete(key); // expired (events live an hour): record a new one
      }
    }
    const namespace = m.namespace || 'default';
    const name = `${m.name}.${((BigInt(now().getTime()) * 1_000_000n + seq++) & 0xffffffffffffffffn).toString(16)}`;
    await client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, ...(meta && Object.keys(meta).length ? { annotations: meta } : {}) },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: controller },
      reportingComponent: controller,
      reportingInstance: instance,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
    seen.set(key, { name, namespace, count: 1 });
    if (seen.size > cacheSize) seen.delete(seen.keys().next().value as string);
  }

  async function post(event: FluxEvent) {
    const addr = opts.eventsAddr as string;
    const body = JSON.stringify(event);
    // Retry connection errors and 5xx a few times (Flux uses retryablehttp); 429/202 mean "dropped on purpose".
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await httpClient().request({
          method: 'POST',
          url: addr,
          headers: { 'content-type': 'application/json' },
          body,
          timeoutMs: 5000,
        });
        await res.discard();
        if (res.status < 500 || attempt >= 3) {
          if (res.status >= 400 && res.status !== 429) throw new Error(`${addr} answered ${res.status}`);
          return;
        }
      } catch (err) {
        if (attempt >= 3) throw err;
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }

  return {
    event(obj, type, reason, rawMessage, eventOpts = {}) {
      const message = redact(rawMessage);
      const metadata: Record<string, string> = { ...eventOpts.metadata };
      for (const [k, v] of Object.entries(obj.metadata.annotations ?? {}))
        if (k.startsWith(Annotations.eventPrefix)) metadata[k] = v;
      const k8sType = type === EventTypes.Trace ? EventTypes.Normal : type;
      const fields = { kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, reason };
      track(
        writeK8s(obj, k8sType, reason, truncate(message, maxK8sMessage), metadata).catch((err) =>
          log?.error('unable to record event', err, fields),
        ),
      );
      const forward =
        opts.eventsAddr && type !== EventTypes.Trace && eventOpts.notify !== false && obj.metadata.namespace;
      if (!forward) return;
      const event: FluxEvent = {
        involvedObject: {
          kind: obj.kind ?? '',
          namespace: obj.metadata.namespace ?? '',
          name: obj.metadata.name ?? '',
          uid: obj.metadata.uid,
          apiVersion: obj.apiVersion,
          resourceVersion: obj.metadata.resourceVersion,
        },
        severity: type === EventTypes.Warning ? 'error' : 'info',
        timestamp: now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        message: truncate(message, maxNotificationMessage),
        reason,
        ...(Object.keys(metadata).length ? { metadata } : {}),
        reportingController: controller,
        reportingInstance: instance,
      };
      track(post(event).catch((err) => log?.error('unable to forward event', err, fields)));
    },
    async flush() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
