// The inventory tree's shape: which kinds own which (Deployment → ReplicaSet → Pod, CronJob → Job → Pod,
// StatefulSet/DaemonSet/Job → Pod) and which listed objects a parent owns. Pure.

export interface Owned {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    uid?: string;
    creationTimestamp?: string | Date;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
  // biome-ignore lint/suspicious/noExplicitAny: free-form spec
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: free-form status
  status?: any;
}

/** The kind of object a workload kind creates, with the apiVersion to list it. */
export const childKinds: Readonly<Record<string, { apiVersion: string; kind: string }>> = {
  'apps/Deployment': { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  'apps/ReplicaSet': { apiVersion: 'v1', kind: 'Pod' },
  'apps/StatefulSet': { apiVersion: 'v1', kind: 'Pod' },
  'apps/DaemonSet': { apiVersion: 'v1', kind: 'Pod' },
  'batch/Job': { apiVersion: 'v1', kind: 'Pod' },
  'batch/CronJob': { apiVersion: 'batch/v1', kind: 'Job' },
};

export const childKindOf = (group: string, kind: string) => childKinds[`${group}/${kind}`];

/** A label selector string of spec.selector.matchLabels (or spec.jobTemplate's), to narrow the list. */
export function selectorOf(parent: Owned): string | undefined {
  const labels = (parent.spec?.selector?.matchLabels ??
    parent.spec?.jobTemplate?.spec?.selector?.matchLabels) as Record<string, string> | undefined;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

const replicasOf = (o: Owned): number =>
  Math.max(Number(o.spec?.replicas ?? 0) || 0, Number(o.status?.replicas ?? 0) || 0);

const created = (o: Owned) => String(o.metadata.creationTimestamp ?? '');

/**
 * The objects of `items` that `parent` controls (owner reference to its uid), newest first. Of a
 * Deployment's ReplicaSets only those with replicas are kept (or the newest one when none has any):
 * the old, scaled-down ones are history, not the running tree.
 */
export function ownedBy<T extends Owned>(parent: Owned, items: readonly T[]): T[] {
  const uid = parent.metadata.uid;
  if (!uid) return [];
  const owned = items
    .filter((i) => i.metadata.ownerReferences?.some((r) => r.uid === uid))
    .sort((a, b) => created(b).localeCompare(created(a)));
  if (parent.kind !== 'Deployment') return owned;
  const running = owned.filter((rs) => replicasOf(rs) > 0);
  return running.length ? running : owned.slice(0, 1);
}
