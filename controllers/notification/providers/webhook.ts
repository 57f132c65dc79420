// Providers that take the event nearly as it is: generic (the event JSON, the emitting controller in
// Gotk-Component, the Secret's headers), generic-hmac (plus X-Signature: sha256=<HMAC of the body>
// keyed with the token), Prometheus Alertmanager (one firing alert) and Grafana (an annotation).
import { createHmac } from 'node:crypto';
import { EventMetadata } from '../../api/names.ts';
import { requireUrl } from './chat.ts';
import { basicAuth, send } from './send.ts';
import {
  type Notification,
  type Notifier,
  objectName,
  type ProviderSettings,
  sortedMetadata,
} from './types.ts';

/** The body generic providers post: the event's fields in Flux's order. */
function eventJson(n: Notification): string {
  return JSON.stringify({
    involvedObject: n.involvedObject,
    severity: n.severity,
    timestamp: n.timestamp,
    message: n.message,
    reason: n.reason,
    ...(Object.keys(n.metadata).length ? { metadata: n.metadata } : {}),
    reportingController: n.reportingController,
    ...(n.reportingInstance ? { reportingInstance: n.reportingInstance } : {}),
  });
}

/** `sha256=<hex>`: the HMAC of the payload, as generic-hmac receivers verify it. */
export const signature = (payload: string | Buffer, key: string) =>
  `sha256=${createHmac('sha256', key).update(payload).digest('hex')}`;

function forwarder(s: ProviderSettings, hmac: boolean): Notifier {
  const url = requireUrl(s, 'hook');
  if (hmac && !s.token) throw new Error('generic-hmac needs the `token` key in the Secret of secretRef');
  return {
    async post(n, signal) {
      const body = eventJson(n);
      const headers: Record<string, string> = { 'gotk-component': n.reportingController };
      for (const [k, v] of Object.entries(s.headers ?? {})) headers[k.toLowerCase()] = v;
      if (hmac) headers['x-signature'] = signature(body, s.token as string);
      await send(s, url.toString(), signal, { jsonText: body, headers });
    },
  };
}

export const generic = (s: ProviderSettings) => forwarder(s, false);
export const genericHmac = (s: ProviderSettings) => forwarder(s, true);

/** Go's cases.Title: each word's first letter upper case, the rest lower case. */
const title = (s: string) =>
  s.toLowerCase().replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, a, b) => a + b.toUpperCase());

/** Authorization of Alertmanager and Grafana: the bearer token wins over username and password. */
function authorization(s: ProviderSettings): Record<string, string> {
  if (s.token) return { authorization: `Bearer ${s.token}` };
  if (s.basic?.username && s.basic.password)
    return { authorization: basicAuth(s.basic.username, s.basic.password) };
  return {};
}

export function alertmanager(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Alertmanager');
  return {
    async post(n, signal) {
      const labels: Record<string, string> = { ...n.metadata };
      const annotations: Record<string, string> = { message: n.message };
      const summary = labels[EventMetadata.summary];
      if (summary !== undefined) {
        annotations[EventMetadata.summary] = summary;
        delete labels[EventMetadata.summary];
      }
      Object.assign(labels, {
        alertname: `Flux${n.involvedObject.kind}${title(n.reason)}`,
        severity: n.severity,
        reason: n.reason,
        kind: n.involvedObject.kind,
        name: n.involvedObject.name,
        namespace: n.involvedObject.namespace,
        reportingcontroller: n.reportingController,
      });
      // No endsAt: Alertmanager resolves the alert after its resolve_timeout.
      const startsAt = new Date(n.timestamp).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const alert = { status: 'firing', labels, annotations, startsAt };
      await send(s, url.toString(), signal, { json: [alert], headers: authorization(s) });
    },
  };
}

export function grafana(s: ProviderSettings): Notifier {
  const url = requireUrl(s, 'Grafana');
  const bar = (v: string) => v.replaceAll(':', '|');
  return {
    async post(n, signal) {
      const tags = ['flux', n.reportingController];
      for (const [k, v] of sortedMetadata(n)) tags.push(`${bar(k)}: ${bar(v)}`);
      const io = n.involvedObject;
      tags.push(`kind: ${io.kind}`, `name: ${io.name}`, `namespace: ${io.namespace}`);
      const payload = { when: Math.floor(new Date(n.timestamp).getTime() / 1000), text: objectName(n), tags };
      await send(s, url.toString(), signal, { json: payload, headers: authorization(s) });
    },
  };
}
