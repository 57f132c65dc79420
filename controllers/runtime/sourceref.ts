// A consumer's reference to a source (Kustomization spec.sourceRef, HelmRelease spec.chartRef): resolving
// it to the source's artifact from the informer cache, the index of consumers by the source they refer
// to, and the watches that reconcile them when the source gets a new artifact.
import type { Artifact } from '../api/meta.ts';
import { Reasons } from '../api/names.ts';
import { StallingError, WaitingError } from './errors.ts';
import type { IndexFunc } from './informer.ts';
import { type GVK, type KubeObject, keyOf, objectKey, parseApiVersion } from './object.ts';
import type { ReconcileContext, WatchSpec } from './reconciler.ts';

export interface SourceReference {
  apiVersion?: string;
  kind: string;
  name: string;
  /** Defaults to the namespace of the referring object. */
  namespace?: string;
}

export type SourceObject = KubeObject & { status?: { artifact?: Artifact } };

export interface ResolveSourceOptions {
  /** The kinds the reference may name, each watched by the controller. */
  kinds: Readonly<Record<string, GVK>>;
  /** Refuse references to another namespace (Flux --no-cross-namespace-refs). */
  noCrossNamespaceRefs?: boolean;
  /** Wait before looking again for a source that does not exist (Flux: spec.retryInterval). */
  retryMs: number;
  /** Wait before looking again for an artifact (Flux: --requeue-dependency). */
  artifactRetryMs: number;
}

export interface ResolvedSource {
  source: SourceObject;
  artifact: Artifact;
}

/** `Kind/namespace/name`: how indexes file references to objects of several kinds. */
export const refKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

const refNamespace = (obj: KubeObject, ref: SourceReference) => ref.namespace || obj.metadata.namespace || '';

/** The referenced source as `Kind/namespace/name`, for messages. */
export const describeSource = (obj: KubeObject, ref: SourceReference) =>
  refKey(ref.kind, refNamespace(obj, ref), ref.name);

/**
 * The artifact of the source `ref` names, from the cache. Throws StallingError AccessDenied for a
 * refused cross-namespace reference and ArtifactFailed for a kind or group it cannot name; waits with
 * ArtifactFailed while the source or its artifact is missing (the source watch ends the wait early).
 */
export function resolveSource(
  obj: KubeObject,
  ref: SourceReference,
  ctx: Pick<ReconcileContext, 'cached'>,
  opts: ResolveSourceOptions,
): ResolvedSource {
  const id = describeSource(obj, ref);
  const kind = opts.kinds[ref.kind];
  if (!kind) throw new StallingError(Reasons.ArtifactFailed, `unsupported source kind '${ref.kind}'`);
  if (ref.apiVersion && parseApiVersion(ref.apiVersion).group !== kind.group)
    throw new StallingError(
      Reasons.ArtifactFailed,
      `source apiVersion '${ref.apiVersion}' does not match kind ${ref.kind} (group ${kind.group})`,
    );
  const namespace = refNamespace(obj, ref);
  if (opts.noCrossNamespaceRefs && namespace !== obj.metadata.namespace)
    throw new StallingError(
      Reasons.AccessDenied,
      `can't access '${id}', cross-namespace references have been blocked`,
    );
  const source = ctx.cached(kind, objectKey(namespace, ref.name)) as SourceObject | undefined;
  if (!source) throw new WaitingError(Reasons.ArtifactFailed, `Source '${id}' not found`, opts.retryMs);
  const artifact = source.status?.artifact;
  if (!artifact)
    throw new WaitingError(
      Reasons.ArtifactFailed,
      `Source artifact not found, retrying in ${Math.round(opts.artifactRetryMs / 1000)}s`,
      opts.artifactRetryMs,
    );
  return { source, artifact };
}

/** An index function filing each consumer under the source its reference names. */
export function sourceIndex(refOf: (obj: KubeObject) => SourceReference | undefined): IndexFunc {
  return (obj) => {
    const ref = refOf(obj);
    return ref ? [refKey(ref.kind, refNamespace(obj, ref), ref.name)] : [];
  };
}

export interface SourceWatchOptions {
  /** The index built with sourceIndex. */
  index: string;
  /** Consumers to leave alone, e.g. those that already attempted this revision. */
  skip?(consumer: KubeObject, source: SourceObject): boolean;
}

/**
 * Reconciles the consumers of a source of `kind` when its artifact revision changes (Flux's
 * SourceRevisionChangePredicate), found through the index.
 */
export function sourceWatch(kind: GVK, opts: SourceWatchOptions): WatchSpec {
  return {
    kind,
    map: (src, primary) =>
      primary
        .byIndex(opts.index, refKey(kind.kind, src.metadata.namespace ?? '', src.metadata.name ?? ''))
        .filter((c) => !opts.skip?.(c, src as SourceObject))
        .map(keyOf),
    predicate: (a, b) =>
      (a as SourceObject).status?.artifact?.revision !== (b as SourceObject).status?.artifact?.revision,
  };
}
