// The inventory tab: the objects an object applied, read as the viewer, each with its kstatus health
// (runtime/apply/health.ts), and below each workload what it created (Deployment → ReplicaSet → Pods).
// A Kustomization lists them in status.inventory; a HelmRelease's come from its Helm release (the
// manifest in the release Secret, as Helm stores it).
import { gunzipSync } from 'node:zlib';
import { mapLimit } from '../runtime/apply/changeset.ts';
import { computeStatus } from '../runtime/apply/health.ts';
import { type InventoryEntry, refOfEntry } from '../runtime/apply/inventory.ts';
import { type Client, isForbidden, isNotFound } from '../runtime/client.ts';
import { parseDocuments } from '../runtime/kustomize/objects.ts';
import { type KubeObject, type ObjectRef, parseApiVersion } from '../runtime/object.ts';
import type { Viewer } from './access.ts';
import { apiMessage } from './errors.ts';
import { childKindOf, ownedBy, selectorOf } from './model/tree.ts';
import type { InventoryNode, InventoryView } from './model/views.ts';

const maxExpanded = 200;
const maxChildren = 50;

const nodeOf = (ref: ObjectRef, status: string, message: string): InventoryNode => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  namespace: ref.namespace ?? '',
  name: ref.name,
  status,
  message,
  children: [],
});

function healthNode(ref: ObjectRef, live: KubeObject | undefined): InventoryNode {
  if (!live) return nodeOf(ref, 'NotFound', 'not found in the cluster');
  const st = computeStatus(live);
  return nodeOf(ref, st.status, st.message);
}

/**
 * The live objects of refs: a GET each, or one LIST per kind and namespace when it has many entries
 * (a big inventory costs a few lists, not thousands of GETs). Objects that cannot be read (forbidden)
 * come back as errors by key.
 */
async function readAll(client: Client, refs: readonly ObjectRef[]): Promise<Reads> {
  const reads: Reads = { live: new Map(), errors: new Map() };
  const groups = new Map<string, ObjectRef[]>();
  for (const r of refs) {
    const g = `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}`;
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  await mapLimit([...groups.values()], 6, async (group) => {
    if (group.length > 3 && (await listGroup(client, group, reads))) return;
    await mapLimit(group, 4, async (r) => {
      try {
        const o = await client.tryGet(r);
        if (o) reads.live.set(refKey(r), o);
      } catch (err) {
        reads.errors.set(refKey(r), apiMessage(err));
      }
    });
  });
  return reads;
}

interface Reads {
  live: Map<string, KubeObject>;
  errors: Map<string, string>;
}

const refKey = (r: { apiVersion?: string; kind?: string; namespace?: string; name?: string }) =>
  `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;

/** One LIST for objects of one kind and namespace; false when refused (then they are read one by one). */
async function listGroup(client: Client, group: readonly ObjectRef[], reads: Reads): Promise<boolean> {
  const first = group[0] as ObjectRef;
  try {
    const gvk = { ...parseApiVersion(first.apiVersion), kind: first.kind };
    const list = await client.listAll(gvk, { namespace: first.namespace });
    const wanted = new Set(group.map((r) => r.name));
    for (const o of list.items) {
      if (wanted.has(o.metadata.name ?? '')) reads.live.set(refKey({ ...first, name: o.metadata.name }), o);
    }
    return true;
  } catch (err) {
    // A list may be refused where a get is allowed.
    if (isForbidden(err)) return false;
    for (const r of group) reads.errors.set(refKey(r), apiMessage(err));
    return true;
  }
}

/** What a workload created, to `depth` levels (Deployment → ReplicaSets → Pods). */
async function childrenOf(client: Client, parent: KubeObject, depth: number): Promise<InventoryNode[]> {
  const group = parseApiVersion(parent.apiVersion ?? '').group;
  const child = childKindOf(group, parent.kind ?? '');
  if (!child || depth <= 0) return [];
  let items: KubeObject[];
  try {
    const list = await client.list(
      { ...parseApiVersion(child.apiVersion), kind: child.kind },
      { namespace: parent.metadata.namespace, labelSelector: selectorOf(parent) },
    );
    items = list.items;
  } catch (err) {
    if (isNotFound(err)) return [];
    const ref = {
      apiVersion: child.apiVersion,
      kind: child.kind,
      name: '*',
      namespace: parent.metadata.namespace,
    };
    return [nodeOf(ref, 'Unknown', apiMessage(err))];
  }
  const owned = ownedBy(parent, items).slice(0, maxChildren);
  return mapLimit(owned, 4, async (o) => {
    const ref = {
      apiVersion: child.apiVersion,
      kind: child.kind,
      name: o.metadata.name ?? '',
      namespace: o.metadata.namespace,
    };
    const node = healthNode(ref, { ...o, apiVersion: child.apiVersion, kind: child.kind });
    node.children = await childrenOf(
      client,
      { ...o, apiVersion: child.apiVersion, kind: child.kind },
      depth - 1,
    );
    return node;
  });
}

/** The manifest of a release as Helm stores it: base64 of gzipped JSON (Helm 3 and 4). */
export function decodeHelmRelease(helmEncoded: string): { manifest: string; namespace?: string } {
  let raw = Buffer.from(helmEncoded, 'base64');
  if (raw[0] === 0x1f && raw[1] === 0x8b) raw = gunzipSync(raw);
  const release = JSON.parse(raw.toString('utf8')) as { manifest?: string; namespace?: string };
  return { manifest: release.manifest ?? '', namespace: release.namespace };
}

/** The objects of a HelmRelease's current Helm release, read from Helm's storage. */
async function helmReleaseRefs(client: Client, hr: KubeObject): Promise<ObjectRef[]> {
  const latest = hr.status?.history?.[0] as
    | { name?: string; namespace?: string; version?: number }
    | undefined;
  if (!latest?.name || latest.version === undefined) return [];
  const storage = hr.status?.storageNamespace || hr.spec?.storageNamespace || hr.metadata.namespace;
  const name = `sh.helm.release.v1.${latest.name}.v${latest.version}`;
  // Helm's secret driver (the API base64-encodes the value once more), else its configmap driver.
  const release = (o: KubeObject | undefined) =>
    String((o?.data as Record<string, string> | undefined)?.release ?? '');
  const secret = await client.tryGet({ apiVersion: 'v1', kind: 'Secret', namespace: storage, name });
  const stored = secret
    ? Buffer.from(release(secret), 'base64').toString('utf8')
    : release(await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: storage, name }));
  const { manifest, namespace } = decodeHelmRelease(stored);
  const refs: ObjectRef[] = [];
  for (const doc of parseDocuments(manifest) as KubeObject[]) {
    if (!doc?.apiVersion || !doc.kind || !doc.metadata?.name) continue;
    const mapping = await client
      .mapping({ ...parseApiVersion(doc.apiVersion), kind: doc.kind })
      .catch(() => undefined);
    const ns =
      mapping?.namespaced === false ? undefined : doc.metadata.namespace || latest.namespace || namespace;
    refs.push({ apiVersion: doc.apiVersion, kind: doc.kind, name: doc.metadata.name, namespace: ns });
  }
  return refs;
}

export async function inventoryTree(viewer: Viewer, obj: KubeObject): Promise<InventoryView> {
  const client = viewer.client;
  let refs: ObjectRef[];
  let from: InventoryView['from'];
  const entries = obj.status?.inventory?.entries as InventoryEntry[] | undefined;
  if (Array.isArray(entries)) {
    from = 'status.inventory';
    refs = entries.flatMap((e) => {
      try {
        return [refOfEntry(e)];
      } catch {
        return [];
      }
    });
  } else if (obj.kind === 'HelmRelease') {
    from = 'helm release';
    try {
      refs = await helmReleaseRefs(client, obj);
    } catch (err) {
      return { from, nodes: [], total: 0, error: `the Helm release could not be read: ${apiMessage(err)}` };
    }
  } else return { from: 'none', nodes: [], total: 0 };

  const { live, errors } = await readAll(client, refs);
  const key = refKey;
  let expanded = 0;
  const nodes = await mapLimit(refs, 4, async (r) => {
    const error = errors.get(key(r));
    if (error) return nodeOf(r, 'Unknown', error);
    const o = live.get(key(r));
    const node = healthNode(r, o);
    if (o && childKindOf(parseApiVersion(r.apiVersion).group, r.kind) && expanded++ < maxExpanded)
      node.children = await childrenOf(client, { ...o, apiVersion: r.apiVersion, kind: r.kind }, 2);
    return node;
  });
  return { from, nodes, total: refs.length };
}
