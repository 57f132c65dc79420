// The history view: revisions an object applied over time with their outcome, from status.history
// (Kustomization snapshots, HelmRelease releases) or, for kinds without one, from the revisions its
// events name. Pure.

export interface HistoryEntry {
  revision: string;
  /** Ready reason of the outcome (Kustomization), release status (HelmRelease) or event type. */
  status: string;
  ok: boolean;
  first?: string;
  last?: string;
  duration?: string;
  count?: number;
  digest?: string;
}

export interface EventLike {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { annotations?: Record<string, string>; creationTimestamp?: string };
}

type Snapshot = Record<string, unknown> & { metadata?: Record<string, string> };

const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
const okStatuses = new Set(['ReconciliationSucceeded', 'deployed', 'superseded']);

function fromSnapshot(h: Snapshot): HistoryEntry {
  // Kustomization: lastReconciledStatus …; HelmRelease: status, chartVersion, firstDeployed …
  const status = s(h.lastReconciledStatus) ?? s(h.status) ?? '';
  const chart = s(h.chartName) && s(h.chartVersion) ? `${h.chartName}@${h.chartVersion}` : s(h.chartVersion);
  return {
    revision: h.metadata?.revision ?? chart ?? s(h.digest) ?? '',
    status,
    ok: okStatuses.has(status),
    first: s(h.firstReconciled) ?? s(h.firstDeployed),
    last: s(h.lastReconciled) ?? s(h.lastDeployed),
    duration: s(h.lastReconciledDuration),
    count: typeof h.totalReconciliations === 'number' ? h.totalReconciliations : undefined,
    digest: s(h.digest),
  };
}

const eventTime = (e: EventLike) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';

/**
 * The history of an object, most recent first: its status.history when it has one, else one entry per
 * revision its events name (annotation `<group>/revision`), failed when the last event about it was a
 * Warning.
 */
export function historyOf(
  status: { history?: unknown } | undefined,
  events: readonly EventLike[],
): HistoryEntry[] {
  if (Array.isArray(status?.history) && status.history.length)
    return (status.history as Snapshot[]).map(fromSnapshot);
  const byRevision = new Map<string, HistoryEntry>();
  const sorted = [...events].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  for (const e of sorted) {
    const ann = e.metadata?.annotations ?? {};
    const key = Object.keys(ann).find((k) => k.endsWith('/revision'));
    const revision = key ? ann[key] : undefined;
    if (!revision) continue;
    const at = eventTime(e);
    const entry = byRevision.get(revision) ?? {
      revision,
      status: '',
      ok: true,
      first: e.firstTimestamp ?? at,
      count: 0,
    };
    entry.last = at;
    entry.status = e.reason ?? '';
    entry.ok = e.type !== 'Warning';
    entry.count = (entry.count ?? 0) + (e.count ?? 1);
    byRevision.set(revision, entry);
  }
  return [...byRevision.values()].sort((a, b) => (b.last ?? '').localeCompare(a.last ?? ''));
}

/** `1.2s` of Flux's "Reconciliation finished in 1.2s, next run in 5m0s" event message. */
export function durationFromEvent(message: string | undefined): string | undefined {
  return /finished in ([0-9.]+(?:ms|s|m|h)(?:[0-9.]+(?:ms|s|m))*)/.exec(message ?? '')?.[1];
}
