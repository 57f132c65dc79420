// Helm's release storage, read and written natively (helm.sh/helm/v4 pkg/storage/driver): one Secret
// (or ConfigMap) per release revision, named `sh.helm.release.v1.<name>.v<version>`, labelled
// owner=helm, name, status and version, holding the release as JSON, gzipped, base64-encoded (and, in a
// Secret, base64-encoded again by the API). The controller reads it to decide what to do without
// starting helm (the common no-change reconcile), and writes it only to unlock a release an interrupted
// action left pending, exactly as Helm's own Update does.
import { gunzipSync, gzipSync, constants as zlib } from 'node:zlib';
import { Labels } from '../api/names.ts';
import type { Client } from '../runtime/client.ts';
import type { KubeObject } from '../runtime/object.ts';
import { goJson } from './gojson.ts';

export const StorageDrivers = { Secret: 'secret', ConfigMap: 'configmap' } as const;
export type StorageDriver = (typeof StorageDrivers)[keyof typeof StorageDrivers];

/** Helm's release statuses (pkg/release/common). */
export const ReleaseStatuses = {
  Unknown: 'unknown',
  Deployed: 'deployed',
  Uninstalled: 'uninstalled',
  Superseded: 'superseded',
  Failed: 'failed',
  Uninstalling: 'uninstalling',
  PendingInstall: 'pending-install',
  PendingUpgrade: 'pending-upgrade',
  PendingRollback: 'pending-rollback',
} as const;

export const isPending = (status: string | undefined) =>
  status === ReleaseStatuses.PendingInstall ||
  status === ReleaseStatuses.PendingUpgrade ||
  status === ReleaseStatuses.PendingRollback;

export interface HookRun {
  started_at?: string;
  completed_at?: string;
  phase?: string;
}

export interface ReleaseHook {
  name: string;
  kind?: string;
  events?: string[];
  last_run?: HookRun;
  [field: string]: unknown;
}

/** A release as Helm stores it (helm.sh/helm/v4 pkg/release/v1 Release), key order as stored. */
export interface Release {
  name: string;
  namespace: string;
  version: number;
  info?: {
    first_deployed?: string;
    last_deployed?: string;
    deleted?: string;
    description?: string;
    status?: string;
    [field: string]: unknown;
  };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string; [f: string]: unknown } };
  config?: Record<string, unknown> | null;
  manifest?: string;
  hooks?: ReleaseHook[] | null;
  /** `ssa` or `csa` (Helm 4); absent for releases made by Helm 3. */
  apply_method?: string;
  [field: string]: unknown;
}

/** One storage object: its key and labels, the release decoded on demand. */
export interface StoredRelease {
  key: string;
  version: number;
  status: string | undefined;
  decode(): Release;
}

const storagePrefix = 'sh.helm.release.v1.';

export const storageKey = (name: string, version: number) => `${storagePrefix}${name}.v${version}`;

/** True for the name of a Helm storage object (what the API gateway redirects). */
export const isStorageKey = (name: string) => name.startsWith(storagePrefix);

/** Helm's encodeRelease: JSON, gzip at best compression, base64. */
export function encodeRelease(rel: Release): string {
  return gzipSync(goJson(rel), { level: zlib.Z_BEST_COMPRESSION }).toString('base64');
}

/** Helm's decodeRelease: base64, gunzip when gzipped (old releases were not), JSON. */
export function decodeRelease(data: string): Release {
  let bytes = Buffer.from(data, 'base64');
  if (bytes.length > 3 && bytes[0] === 0x1f && bytes[1] === 0x8b && bytes[2] === 0x08)
    bytes = gunzipSync(bytes);
  return JSON.parse(bytes.toString('utf8')) as Release;
}

export interface ReleaseStorage {
  readonly driver: StorageDriver;
  readonly namespace: string;
  /** Every revision of the release, newest first; decoding is deferred to decode(). */
  history(name: string): Promise<StoredRelease[]>;
  /** The newest revision, decoded; undefined when there is none. */
  last(name: string): Promise<Release | undefined>;
  /** One revision, decoded; undefined when it does not exist. */
  get(name: string, version: number): Promise<Release | undefined>;
  /** Rewrites a stored revision (Helm's Update: labels kept, status and modifiedAt set). */
  update(rel: Release): Promise<void>;
}

export function releaseStorage(client: Client, driver: StorageDriver, namespace: string): ReleaseStorage {
  const kind = driver === StorageDrivers.Secret ? 'Secret' : 'ConfigMap';
  const gvk = { group: '', version: 'v1', kind };
  const payload = (o: KubeObject) => {
    const v = (o.data as Record<string, string> | undefined)?.release ?? '';
    return driver === StorageDrivers.Secret ? Buffer.from(v, 'base64').toString('utf8') : v;
  };
  const versionOf = (o: KubeObject) => {
    const label = Number(o.metadata.labels?.[Labels.helmStorageVersion]);
    if (Number.isInteger(label) && label > 0) return label;
    return Number(/\.v(\d+)$/.exec(o.metadata.name ?? '')?.[1] ?? 0);
  };
  const stored = (o: KubeObject): StoredRelease => {
    let decoded: Release | undefined;
    return {
      key: o.metadata.name ?? '',
      version: versionOf(o),
      status: o.metadata.labels?.[Labels.helmStorageStatus],
      decode: () => {
        decoded ??= decodeRelease(payload(o));
        return decoded;
      },
    };
  };
  const ref = (name: string) => ({ apiVersion: 'v1', kind, namespace, name });

  const storage: ReleaseStorage = {
    driver,
    namespace,
    async history(name) {
      const list = await client.listAll(gvk, {
        namespace,
        labelSelector: `${Labels.helmStorageName}=${name},${Labels.helmStorageOwner}=helm`,
      });
      return list.items.map(stored).sort((a, b) => b.version - a.version);
    },
    async last(name) {
      return (await storage.history(name))[0]?.decode();
    },
    async get(name, version) {
      const o = await client.tryGet(ref(storageKey(name, version)));
      return o ? stored(o).decode() : undefined;
    },
    async update(rel) {
      const key = storageKey(rel.name, rel.version);
      const cur = await client.get(ref(key));
      const data = encodeRelease(rel);
      const labels = {
        ...cur.metadata.labels,
        [Labels.helmStorageStatus]: rel.info?.status ?? ReleaseStatuses.Unknown,
        [Labels.helmStorageModifiedAt]: String(Math.floor(Date.now() / 1000)),
      };
      await client.update({
        ...cur,
        metadata: { ...cur.metadata, labels },
        data: { release: driver === StorageDrivers.Secret ? Buffer.from(data).toString('base64') : data },
      });
    },
  };
  return storage;
}
