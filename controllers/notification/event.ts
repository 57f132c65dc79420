// The event JSON controllers POST (fluxcd/pkg apis/event/v1beta1) as notification-controller reads it:
// parsed and checked, its metadata cut to what alerting uses, the rate-limit key, and the metadata an
// Alert adds (Flux RFC 0008). Pure functions; the event server and the dispatcher use them.
import { createHash } from 'node:crypto';
import { Annotations, EventMetadata } from '../api/names.ts';
import type { Alert } from '../api/notification.ts';
import type { FluxEvent } from '../runtime/events.ts';
import { parseApiVersion } from '../runtime/object.ts';

export type NotificationEvent = FluxEvent;

const severities = ['trace', 'info', 'error'];

/** The event of a request body; throws a message for the 400 answer when it is not one. */
export function parseEvent(body: Buffer): NotificationEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new Error(`decoding the request body failed: ${(err as Error).message}`);
  }
  const e = raw as Partial<NotificationEvent> | null;
  const io = e?.involvedObject;
  if (!e || typeof e !== 'object' || !io || typeof io !== 'object')
    throw new Error('the event has no involvedObject');
  for (const k of ['kind', 'name', 'namespace'] as const)
    if (typeof io[k] !== 'string' || io[k] === '') throw new Error(`the event has no involvedObject.${k}`);
  if (typeof e.message !== 'string') throw new Error('the event has no message');
  if (typeof e.severity !== 'string' || !severities.includes(e.severity))
    throw new Error(`the event severity must be one of ${severities.join(', ')}`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.metadata ?? {})) if (typeof v === 'string') metadata[k] = v;
  return {
    involvedObject: io,
    severity: e.severity,
    timestamp: typeof e.timestamp === 'string' ? e.timestamp : new Date().toISOString(),
    message: e.message,
    reason: typeof e.reason === 'string' ? e.reason : '',
    metadata,
    reportingController: typeof e.reportingController === 'string' ? e.reportingController : '',
    reportingInstance: typeof e.reportingInstance === 'string' ? e.reportingInstance : '',
  } as NotificationEvent;
}

/** `<group>/` of the involved object (`kustomize.toolkit.fluxcd.io/`); `/` for the core group. */
export const objectGroupPrefix = (e: NotificationEvent): string =>
  `${parseApiVersion(e.involvedObject.apiVersion ?? '').group}/`;

/**
 * Keeps the metadata alerting uses: keys of the event group (object annotations) and of the object's
 * group, without the checksum and digest, which change with every artifact.
 */
export function cleanupMetadata(e: NotificationEvent): void {
  const own = objectGroupPrefix(e);
  const drop = [`${own}${EventMetadata.checksum}`, `${own}${EventMetadata.digest}`];
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.metadata ?? {})) {
    if (drop.some((d) => d.toLowerCase() === k.toLowerCase())) continue;
    if (k.startsWith(Annotations.eventPrefix) || k.startsWith(own)) kept[k] = v;
  }
  e.metadata = kept;
}

/**
 * The duplicate-detection key: object, message and the revision, origin revision and token metadata,
 * hashed. Events with equal keys within one rate-limit window are delivered once.
 */
export function rateLimitKey(e: NotificationEvent): string {
  const io = e.involvedObject;
  const own = objectGroupPrefix(e);
  const parts = ['event', `name=${io.name}`, `namespace=${io.namespace}`, `kind=${io.kind}`];
  parts.push(`message=${e.message}`);
  for (const key of [EventMetadata.originRevision, EventMetadata.revision, EventMetadata.token]) {
    const v = e.metadata?.[`${own}${key}`];
    if (v !== undefined) parts.push(`${key}=${v}`);
  }
  return createHash('sha256').update(parts.join('/')).digest('hex');
}

/** Drops metadata that only serves the rate limiter (the emitter's token). */
export function excludeInternalMetadata(e: NotificationEvent): void {
  if (e.metadata) delete e.metadata[`${objectGroupPrefix(e)}${EventMetadata.token}`];
}

export interface CombinedMetadata {
  metadata: Record<string, string>;
  /** Keys set by more than one source, with the sources, for the MetadataAppendFailed warning. */
  conflicts: Record<string, string[]>;
}

/**
 * The metadata providers receive (RFC 0008), lowest precedence first: event-group keys (object
 * annotations) without their prefix, the Alert's eventMetadata, its summary, then the object group's
 * keys without their prefix (what the controller itself reported wins).
 */
export function combineMetadata(e: NotificationEvent, alert: Alert): CombinedMetadata {
  const metadata: Record<string, string> = {};
  const sources: Record<string, string[]> = {};
  const set = (k: string, v: string, source: string) => {
    metadata[k] = v;
    sources[k] = [...(sources[k] ?? []), source];
  };
  const own = objectGroupPrefix(e);
  const eventMeta = e.metadata ?? {};
  for (const [k, v] of Object.entries(eventMeta))
    if (k.startsWith(Annotations.eventPrefix))
      set(k.slice(Annotations.eventPrefix.length), v, 'involved object annotations');
  for (const [k, v] of Object.entries(alert.spec.eventMetadata ?? {}))
    set(k, v, 'Alert object .spec.eventMetadata');
  if (alert.spec.summary) set(EventMetadata.summary, alert.spec.summary, 'Alert object .spec.summary');
  for (const [k, v] of Object.entries(eventMeta))
    if (k.startsWith(own)) set(k.slice(own.length), v, 'involved object controller metadata');
  const conflicts = Object.fromEntries(Object.entries(sources).filter(([, s]) => s.length > 1));
  return { metadata, conflicts };
}

/**
 * The revision of an event with combined metadata: `commit`, else `originRevision`, else `revision`
 * (fluxcd/pkg Event.GetRevision).
 */
export function revisionOf(metadata: Record<string, string>): string | undefined {
  return (
    metadata[EventMetadata.commit] ??
    metadata[EventMetadata.originRevision] ??
    metadata[EventMetadata.revision]
  );
}

/**
 * The commit hash of a revision as Flux writes them (`main@sha1:<hex>`, `sha1:<hex>`, the legacy
 * `main/<hex>`, a bare hash): what follows the last `:`, else the last `/`; only a SHA-1 is a commit.
 */
export function commitOf(revision: string): string {
  const colon = revision.lastIndexOf(':');
  const hash = colon >= 0 ? revision.slice(colon + 1) : (revision.split('/').at(-1) ?? '');
  if (!/^[0-9a-f]{40}$/i.test(hash))
    throw new Error(`failed to extract commit hash from '${revision}' revision`);
  return hash;
}
