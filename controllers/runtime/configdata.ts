// Reading the data of ConfigMaps and Secrets a spec refers to (postBuild.substituteFrom, decryption
// keys, kubeConfig, HelmRelease valuesFrom), always in the namespace of the referring object, and the
// watch that reconciles the referrers when such an object changes.
import { Labels } from '../api/names.ts';
import type { Client } from './client.ts';
import { keyOf } from './object.ts';
import type { WatchSpec } from './reconciler.ts';
import { refKey } from './sourceref.ts';

export type DataKind = 'ConfigMap' | 'Secret';

export interface DataRef {
  kind: DataKind;
  namespace: string;
  name: string;
}

/** `.data` as the API returns it (a Secret's values base64), or undefined when the object does not exist. */
export async function readData(client: Client, ref: DataRef): Promise<Record<string, string> | undefined> {
  const o = await client.tryGet({
    apiVersion: 'v1',
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
  });
  return o ? ((o.data ?? {}) as Record<string, string>) : undefined;
}

/** A Secret's base64 values decoded as UTF-8; a ConfigMap's as they are. */
export function decodeData(kind: DataKind, data: Record<string, string>): Record<string, string> {
  if (kind === 'ConfigMap') return { ...data };
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

/** readData with the values decoded; undefined when the object does not exist. */
export async function readTextData(
  client: Client,
  ref: DataRef,
): Promise<Record<string, string> | undefined> {
  const data = await readData(client, ref);
  return data && decodeData(ref.kind, data);
}

/**
 * Reconciles the objects whose index `index` files them under a Secret or ConfigMap (`Kind/ns/name`,
 * refKey) when its data changes; only objects labelled reconcile.fluxcd.io/watch=Enabled are watched
 * (Flux's --watch-configs-label-selector).
 */
export function configWatch(kind: DataKind, index: string): WatchSpec {
  return {
    kind: { group: '', version: 'v1', kind },
    labelSelector: `${Labels.watch}=Enabled`,
    map: (o, primary) =>
      primary.byIndex(index, refKey(kind, o.metadata.namespace ?? '', o.metadata.name ?? '')).map(keyOf),
    predicate: (a, b) => JSON.stringify(a.data) !== JSON.stringify(b.data),
  };
}
