// The objects of a release manifest as they are in the cluster's terms: namespaced objects without a
// namespace get the release namespace (what helm does when it creates them), and Helm's ownership marks
// are set (app.kubernetes.io/managed-by, meta.helm.sh/release-*), which helm adds when it applies them.
// Drift detection and the status inventory read the manifest this way.
import { loadAll } from 'js-yaml';
import { Annotations, Labels } from '../api/names.ts';
import type { InventoryEntry } from '../runtime/apply/index.ts';
import { toInventory } from '../runtime/apply/index.ts';
import type { Client } from '../runtime/client.ts';
import { gvkOf, type KubeObject } from '../runtime/object.ts';
import { checkAliasExpansion, checkDocumentSizes } from '../runtime/yamlguard.ts';
import type { Release } from './storage.ts';

const isObject = (d: unknown): d is KubeObject =>
  typeof d === 'object' && d !== null && !Array.isArray(d) && 'kind' in d && 'metadata' in d;

/** The manifest's objects as helm rendered them (Lists flattened). */
export function manifestObjects(rel: Release): KubeObject[] {
  // Rendered from the chart: guarded like any YAML from a repository (helm refuses such aliasing too).
  const text = rel.manifest ?? '';
  checkDocumentSizes(text);
  const parsed = loadAll(text);
  checkAliasExpansion(parsed);
  return parsed
    .flatMap((d): unknown[] => {
      const items = (d as { items?: unknown } | null)?.items;
      return isObject(d) && d.kind?.endsWith('List') && Array.isArray(items) ? items : [d];
    })
    .filter((d): d is KubeObject => isObject(d) && Boolean(d.metadata?.name));
}

/** The manifest's objects (Lists flattened), with namespaces and Helm's marks set. */
export async function releaseObjects(client: Client, rel: Release): Promise<KubeObject[]> {
  const objects: KubeObject[] = [];
  const scoped = new Map<string, boolean>();
  for (const d of manifestObjects(rel)) {
    const gvk = gvkOf(d);
    const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
    if (!scoped.has(key)) {
      const namespaced = await client.mapping(gvk).then(
        (m) => m.namespaced,
        () => true,
      );
      scoped.set(key, namespaced);
    }
    if (scoped.get(key) && !d.metadata.namespace) d.metadata.namespace = rel.namespace;
    if (!scoped.get(key)) delete d.metadata.namespace;
    d.metadata.labels = { ...d.metadata.labels, [Labels.managedBy]: 'Helm' };
    d.metadata.annotations = {
      ...d.metadata.annotations,
      [Annotations.helmReleaseName]: rel.name,
      [Annotations.helmReleaseNamespace]: rel.namespace,
    };
    objects.push(d);
  }
  return objects;
}

/** status.inventory of a release: its manifest's objects (Flux's inventory.AddManifest). */
export async function releaseInventory(client: Client, rel: Release): Promise<InventoryEntry[]> {
  return toInventory(await releaseObjects(client, rel));
}
