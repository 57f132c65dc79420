// Unstructured Kubernetes objects as the runtime sees them: plain JSON with apiVersion, kind and metadata.
// Typed kinds (controllers/api) are structurally compatible with KubeObject.
import { Annotations } from '../api/names.ts';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  // Strings on the wire; Date in @kubernetes/client-node's V1ObjectMeta, which typed kinds reuse.
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // biome-ignore lint/suspicious/noExplicitAny: spec and status are free-form in unstructured objects
  spec?: any;
  // biome-ignore lint/suspicious/noExplicitAny: see spec
  status?: any;
  [key: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** A group/version/kind; the core group is the empty string. */
export interface GVK {
  group: string;
  version: string;
  kind: string;
}

/** Points at one object: enough to build its URL. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export const apiVersionOf = (g: Pick<GVK, 'group' | 'version'>): string =>
  g.group ? `${g.group}/${g.version}` : g.version;

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function gvkOf(obj: { apiVersion?: string; kind?: string }): GVK {
  if (!obj.apiVersion || !obj.kind) throw new Error('object has no apiVersion or kind');
  return { ...parseApiVersion(obj.apiVersion), kind: obj.kind };
}

export const gvkString = (g: GVK): string => `${apiVersionOf(g)}, Kind=${g.kind}`;

/** The work-queue and cache key: "namespace/name", or "name" for cluster-scoped objects. */
export const objectKey = (namespace: string | undefined, name: string): string =>
  namespace ? `${namespace}/${name}` : name;

export const keyOf = (obj: KubeObject): string => objectKey(obj.metadata.namespace, obj.metadata.name ?? '');

export function parseKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function refOf(obj: KubeObject): ObjectRef {
  const { apiVersion, kind } = obj;
  if (!apiVersion || !kind || !obj.metadata.name) throw new Error('object has no apiVersion, kind or name');
  return { apiVersion, kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

/**
 * Drops what no controller reads and what makes caches large: managedFields and the
 * kubectl last-applied annotation (a full copy of the object). Returns a new top-level object.
 */
export function stripForCache<T extends KubeObject>(obj: T): T {
  const { managedFields: _mf, ...metadata } = obj.metadata;
  if (metadata.annotations && Annotations.lastAppliedConfiguration in metadata.annotations) {
    const { [Annotations.lastAppliedConfiguration]: _la, ...rest } = metadata.annotations;
    metadata.annotations = rest;
  }
  return { ...obj, metadata };
}

export const hasFinalizer = (obj: KubeObject, finalizer: string): boolean =>
  obj.metadata.finalizers?.includes(finalizer) ?? false;

export const isDeleting = (obj: KubeObject): boolean => Boolean(obj.metadata.deletionTimestamp);

/** Deep structural equality for JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * The RFC 7386 merge patch that turns `from` into `to` (objects recurse, arrays and scalars are
 * replaced, removed keys become null). Undefined when nothing changed.
 */
export function mergePatchOf(from: unknown, to: unknown): unknown {
  if (jsonEqual(from, to)) return undefined;
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(from) || !isObj(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (to[k] === undefined) {
      if (from[k] !== undefined) patch[k] = null;
      continue;
    }
    const sub = mergePatchOf(from[k], to[k]);
    if (sub !== undefined) patch[k] = sub;
  }
  return patch;
}
