// The object page: the object from the watch cache, its conditions, its source with the revision (and
// the commit's web page on known Git hosts), its recent events (read as the viewer), the duration of
// its last reconcile and its history.
import { isForbidden } from '../runtime/client.ts';
import type { KubeObject } from '../runtime/object.ts';
import type { Viewer } from './access.ts';
import { apiMessage, UiError } from './errors.ts';
import { durationFromEvent, type EventLike, type HistoryEntry, historyOf } from './model/history.ts';
import { commitUrl } from './model/links.ts';
import type { Ref } from './model/rows.ts';
import type { Detail, EventView, SourceView } from './model/views.ts';
import type { Store } from './store.ts';

/** The Git URL of a source that has one (GitRepository spec.url), to link commits. */
function gitUrlOf(kind: string, source: KubeObject | undefined): string | undefined {
  if (kind !== 'GitRepository') return undefined;
  return typeof source?.spec?.url === 'string' ? source.spec.url : undefined;
}

async function listEvents(viewer: Viewer, obj: KubeObject, kind: string): Promise<EventLike[]> {
  const fieldSelector = `involvedObject.kind=${kind},involvedObject.name=${obj.metadata.name ?? ''}`;
  const list = await viewer.client.list(
    { group: '', version: 'v1', kind: 'Event' },
    {
      namespace: obj.metadata.namespace,
      fieldSelector,
    },
  );
  const uid = obj.metadata.uid;
  return (list.items as (KubeObject & EventLike & { involvedObject?: { uid?: string } })[]).filter(
    (e) => !uid || !e.involvedObject?.uid || e.involvedObject.uid === uid,
  );
}

const eventTime = (e: EventLike) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;

function eventView(
  e: EventLike & { source?: { component?: string }; reportingComponent?: string },
): EventView {
  const ann = e.metadata?.annotations ?? {};
  const revisionKey = Object.keys(ann).find((k) => k.endsWith('/revision'));
  return {
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.count ?? 1,
    first: e.firstTimestamp ?? e.eventTime,
    last: eventTime(e),
    ...(revisionKey ? { revision: ann[revisionKey] } : {}),
    from: e.reportingComponent || e.source?.component,
  };
}

export interface DetailOptions {
  rollback: boolean;
  /** Kinds whose drift the dashboard can compute. */
  driftKinds: ReadonlySet<string>;
}

/** The object's recent events (newest first), and all of them for the history; a refusal is shown, not thrown. */
async function readEvents(viewer: Viewer, obj: KubeObject, kind: string) {
  try {
    const raw = await listEvents(viewer, obj, kind);
    const events = raw
      .map(eventView)
      .sort((a, b) => (b.last ?? '').localeCompare(a.last ?? ''))
      .slice(0, 50);
    return { raw, events };
  } catch (err) {
    const error = isForbidden(err) ? `events are not readable: ${apiMessage(err)}` : apiMessage(err);
    return { raw: [], events: [], error };
  }
}

/** The last reconcile's duration: from status.history, else from Flux's "finished in" event. */
function lastReconcileOf(history: HistoryEntry[], events: EventView[]): Detail['lastReconcile'] {
  const latest = history[0];
  if (latest?.duration) return { duration: latest.duration, at: latest.last };
  const finished = events.find((e) => durationFromEvent(e.message));
  return finished ? { duration: durationFromEvent(finished.message), at: finished.last } : undefined;
}

async function sourceView(store: Store, viewer: Viewer, ref: Ref): Promise<SourceView> {
  const srcRow = store.row(`${ref.kind}/${ref.namespace}/${ref.name}`);
  const srcInfo = store.kindInfo(ref.kind);
  if (!srcRow || !srcInfo || !(await viewer.checkList(srcInfo, ref.namespace))) return { ref };
  const url = gitUrlOf(ref.kind, store.object(ref.kind, ref.namespace, ref.name));
  const link = url && srcRow.revision ? commitUrl(url, srcRow.revision) : undefined;
  return {
    ref,
    row: srcRow,
    ...(url ? { url } : {}),
    ...(srcRow.revision ? { revision: srcRow.revision } : {}),
    ...(link ? { commitUrl: link } : {}),
  };
}

export async function objectDetail(
  store: Store,
  viewer: Viewer,
  kind: string,
  namespace: string,
  name: string,
  opts: DetailOptions,
): Promise<Detail> {
  const info = store.kindInfo(kind);
  const row = store.row(`${kind}/${namespace}/${name}`);
  const cached = store.object(kind, namespace, name);
  if (!info || !row || !cached || !(await viewer.checkList(info, namespace)))
    throw new UiError(404, `${kind} ${namespace}/${name} not found`);
  const { managedFields: _m, ...metadata } = cached.metadata;
  const { raw, events, error } = await readEvents(viewer, cached, kind);
  const history = historyOf(cached.status, raw);
  const lastReconcile = lastReconcileOf(history, events);
  const source = row.source ? await sourceView(store, viewer, row.source) : undefined;
  const ownUrl = gitUrlOf(kind, cached) ?? source?.url;
  const revisionUrl = ownUrl && row.revision ? commitUrl(ownUrl, row.revision) : undefined;
  return {
    kind: info,
    row,
    object: { ...cached, metadata },
    ...(source ? { source } : {}),
    ...(revisionUrl ? { revisionUrl } : {}),
    events,
    ...(error ? { eventsError: error } : {}),
    ...(lastReconcile ? { lastReconcile } : {}),
    history,
    actions: {
      reconcile: info.hasStatus,
      withSource: Boolean(row.source && store.kindInfo(row.source.kind)?.hasStatus),
      suspend: info.suspendable && !row.suspended,
      resume: info.suspendable && row.suspended,
      rollback: opts.rollback && kind === 'Kustomization',
    },
    views: {
      inventory: Array.isArray(cached.status?.inventory?.entries) || kind === 'HelmRelease',
      drift: opts.driftKinds.has(kind),
    },
  };
}
