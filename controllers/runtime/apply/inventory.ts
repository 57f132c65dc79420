// Object identity as Flux records it: the inventory entry `{ id: '<namespace>_<name>_<group>_<kind>', v }`
// of a Kustomization's status (cli-utils ObjMetadata), the `Kind/namespace/name` subject of events and
// errors, and the diff of two inventories that prune works from.
import { apiVersionOf, type KubeObject, type ObjectRef, parseApiVersion } from '../object.ts';

/** One object of `status.inventory.entries`. */
export interface InventoryEntry {
  /** `<namespace>_<name>_<group>_<kind>`; empty namespace for cluster-scoped, empty group for core. */
  id: string;
  /** API version without the group, e.g. `v1`. */
  v: string;
}

/** The parts of an inventory id. */
export interface ObjMetadata {
  namespace: string;
  name: string;
  group: string;
  kind: string;
}

// cli-utils writes the colons of RBAC names (system:foo) as "__", since "_" separates the fields.
const colon = '__';

export function formatId(m: ObjMetadata): string {
  return `${m.namespace}_${m.name.replaceAll(':', colon)}_${m.group}_${m.kind}`;
}

/** Splits an id as cli-utils does: namespace up to the first "_", kind and group from the end. */
export function parseId(id: string): ObjMetadata {
  const first = id.indexOf('_');
  const last = id.lastIndexOf('_');
  const beforeLast = last > first ? id.lastIndexOf('_', last - 1) : -1;
  if (first < 0 || beforeLast <= first) throw new Error(`invalid inventory id '${id}'`);
  const m = {
    namespace: id.slice(0, first),
    name: id.slice(first + 1, beforeLast).replaceAll(colon, ':'),
    group: id.slice(beforeLast + 1, last),
    kind: id.slice(last + 1),
  };
  if (!m.name || !m.kind) throw new Error(`invalid inventory id '${id}'`);
  return m;
}

export function metadataOf(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): ObjMetadata {
  if (!obj.apiVersion || !obj.kind || !obj.metadata.name)
    throw new Error('object has no apiVersion, kind or name');
  return {
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    group: parseApiVersion(obj.apiVersion).group,
    kind: obj.kind,
  };
}

export const idOf = (obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>): string =>
  formatId(metadataOf(obj));

/** `Kind/namespace/name` (`Kind/name` when cluster-scoped), as Flux names objects in messages. */
export function formatSubject(m: ObjMetadata): string {
  return m.namespace ? `${m.kind}/${m.namespace}/${m.name}` : `${m.kind}/${m.name}`;
}

export const subjectOfId = (id: string): string => formatSubject(parseId(id));

/** The reference to GET or DELETE an inventory entry. */
export function refOfEntry(e: InventoryEntry): ObjectRef {
  const m = parseId(e.id);
  return {
    apiVersion: apiVersionOf({ group: m.group, version: e.v }),
    kind: m.kind,
    name: m.name,
    namespace: m.namespace || undefined,
  };
}

const isEntry = (x: unknown): x is InventoryEntry =>
  typeof (x as InventoryEntry).id === 'string' && typeof (x as InventoryEntry).v === 'string';

/**
 * Inventory entries of objects (or of an apply's ChangeSet entries, which carry id and v), sorted by id and
 * without duplicates.
 */
export function toInventory(items: readonly (KubeObject | InventoryEntry)[]): InventoryEntry[] {
  const byId = new Map<string, InventoryEntry>();
  for (const item of items) {
    const entry = isEntry(item)
      ? { id: item.id, v: item.v }
      : { id: idOf(item), v: parseApiVersion(item.apiVersion ?? '').version };
    byId.set(entry.id, entry);
  }
  return [...byId.values()].sort(compareEntries);
}

/**
 * The entries of `previous` whose object is not in `next` (compared by id, so a version change is not
 * staleness), in deletion order: the reverse of the apply order, so custom resources go before their
 * CRDs and namespaced objects before their Namespace.
 */
export function diffInventory(
  previous: readonly InventoryEntry[] | undefined,
  next: readonly InventoryEntry[] | undefined,
): InventoryEntry[] {
  const keep = new Set((next ?? []).map((e) => e.id));
  const stale = (previous ?? []).filter((e) => !keep.has(e.id)).map((e) => ({ id: e.id, v: e.v }));
  return stale.sort((a, b) => compareMetadata(parseId(b.id), parseId(a.id)));
}

const compareEntries = (a: InventoryEntry, b: InventoryEntry): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

// Flux's apply order (fluxcd/pkg ssa sort.go): definitions first, webhooks last, the rest by group/kind.
const orderFirst = [
  'CustomResourceDefinition',
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'LimitRange',
  'PriorityClass',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const orderLast = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];
const kindRank = new Map<string, number>([
  ...orderFirst.map((k, i): [string, number] => [k, i - orderFirst.length]),
  ...orderLast.map((k, i): [string, number] => [k, i + 1]),
]);

/** Flux's apply order of two objects: kind rank, then group, kind, namespace and name. */
export function compareMetadata(a: ObjMetadata, b: ObjMetadata): number {
  const ra = kindRank.get(a.kind) ?? 0;
  const rb = kindRank.get(b.kind) ?? 0;
  if (ra !== rb) return ra - rb;
  for (const k of ['group', 'kind', 'namespace', 'name'] as const) {
    if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  }
  return 0;
}
