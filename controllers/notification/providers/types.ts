// What a provider implementation is given and what it does: one event, already matched to an Alert,
// with the Alert's metadata combined in, posted to one service.
import type { HttpClient } from '../../runtime/http.ts';
import type { NotificationEvent } from '../event.ts';

/** An event as providers receive it: metadata combined (RFC 0008), keys without their group prefix. */
export type Notification = NotificationEvent & { metadata: Record<string, string> };

export interface RetryPolicy {
  /** Retries after the first attempt (Flux's retryablehttp: 4). */
  max: number;
  minMs: number;
  maxMs: number;
}

export interface ProviderSettings {
  type: string;
  /** spec.address, or the Secret's `address`. */
  address: string;
  /** The address came from the Secret (a Slack or Teams webhook URL is a credential): never shown. */
  addressIsSecret?: boolean;
  channel?: string;
  /** spec.username (the name messages are posted under). */
  username?: string;
  /** The Secret's `token`. */
  token?: string;
  /** The Secret's `username` and `password`. */
  basic?: { username: string; password: string };
  /** The Secret's `headers` (generic providers). */
  headers?: Record<string, string>;
  /** TLS and proxy of certSecretRef and proxySecretRef, shared per configuration. */
  http: HttpClient;
  /** The commit status identifier of Git providers (commitStatusExpr, or kind/name/provider-uid). */
  commitStatus?: string;
  retry: RetryPolicy;
}

export interface Notifier {
  /** Delivers the notification; `signal` carries the provider's timeout. Throws on failure. */
  post(n: Notification, signal: AbortSignal): Promise<void>;
}

export type NotifierFactory = (s: ProviderSettings) => Notifier;

/** A provider type Tide does not implement: refused with this message. */
export class UnsupportedProviderError extends Error {
  override name = 'UnsupportedProviderError';
}

/** `kustomization/podinfo.flux-system`: how chat messages name the object. */
export const objectName = (n: Notification) =>
  `${n.involvedObject.kind.toLowerCase()}/${n.involvedObject.name}.${n.involvedObject.namespace}`;

/** Metadata entries sorted by key, so messages are stable. */
export const sortedMetadata = (n: Notification): [string, string][] =>
  Object.entries(n.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
