// HelmRepository: the index of a Helm chart repository as an artifact (type default), or a validated
// OCI registry address with no artifact (type oci). Steps, as Flux's reconciler: storage → source
// (fetch index.yaml; nothing more when its digest equals the stored revision) → artifact.
import { HelmRepositoryKind } from '../api/kinds.ts';
import { ConditionTypes, EventMetadata, Reasons } from '../api/names.ts';
import type { HelmRepository } from '../api/source-helm.ts';

import type { Client } from '../runtime/client.ts';
import { deleteCondition, markTrue } from '../runtime/conditions.ts';
import { parseDuration } from '../runtime/duration.ts';
import { StallingError } from '../runtime/errors.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import { type HelmError, HelmErrorCode, isHelmError } from '../runtime/helm/errors.ts';
import { type Credentials, credentialsFromSecret, type SecretLike } from '../runtime/oci/auth.ts';
import type { RegistryClientOptions } from '../runtime/oci/client.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import {
  clearFetchFailed,
  fetchFailed,
  markArtifactStored,
  readSecret,
  reconcileStorage,
  recordNewArtifact,
  type SourceDeps,
  sourceConditionPolicy,
  storageFailed,
} from './common.ts';
import type { HelmHttpOptions } from './helm/http.ts';
import { fetchIndex, indexArtifact } from './helm/repository.ts';

const kindName = 'helmrepository';
const OCI_READY_MESSAGE = 'Helm repository is ready';

/**
 * What Tide does not implement: the runner stalls an object setting them (UnsupportedField).
 * `insecure` is read by HelmCharts pulling from a type oci repository.
 */
export const helmRepositoryUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.accessFrom',
    why: 'Flux reserves it for cross-namespace access lists but does not implement it (flux2#2092); remove it',
  },
  {
    path: 'spec.provider',
    allowed: ['generic'],
    why: 'cloud workload identity is not implemented; use provider generic with spec.secretRef',
  },
];

/**
 * How to reach the repository: basic auth from secretRef (`username`, `password`), TLS from
 * certSecretRef (`ca.crt`, `tls.crt`, `tls.key`) or, deprecated, from secretRef (also under the legacy
 * keys `caFile`, `certFile`, `keyFile`), passCredentials and the timeout. Shared with HelmChart, which
 * downloads charts with the credentials of its HelmRepository. Throws an Error naming the Secret.
 */
export async function repositoryHttpOptions(repo: HelmRepository, client: Client): Promise<HelmHttpOptions> {
  const ns = repo.metadata.namespace ?? '';
  const opts: HelmHttpOptions = {
    passCredentials: repo.spec.passCredentials === true,
    timeoutMs: parseDuration(repo.spec.timeout ?? '60s'),
  };
  const read = async (what: string, name: string) => {
    try {
      return await readSecret(client, ns, name);
    } catch (err) {
      throw new Error(`failed to get ${what} secret '${ns}/${name}': ${(err as Error).message}`);
    }
  };
  const tlsFrom = (data: Record<string, Buffer>, name: string) => {
    const ca = data['ca.crt'] ?? data.caFile;
    const cert = data['tls.crt'] ?? data.certFile;
    const key = data['tls.key'] ?? data.keyFile;
    if (Boolean(cert) !== Boolean(key)) {
      throw new Error(
        `secret '${ns}/${name}' must hold both 'tls.crt' and 'tls.key' for a client certificate`,
      );
    }
    return ca || cert ? { caCert: ca, clientCert: cert, clientKey: key } : undefined;
  };
  let tls: Pick<HelmHttpOptions, 'caCert' | 'clientCert' | 'clientKey'> | undefined;
  const certRef = repo.spec.certSecretRef?.name;
  if (certRef) tls = tlsFrom(await read('TLS authentication', certRef), certRef);
  const authRef = repo.spec.secretRef?.name;
  if (authRef) {
    const data = await read('authentication', authRef);
    const username = data.username?.toString('utf8');
    const password = data.password?.toString('utf8');
    if (Boolean(username) !== Boolean(password)) {
      throw new Error(`secret '${ns}/${authRef}' must hold both 'username' and 'password' for basic auth`);
    }
    if (username && password) Object.assign(opts, { username, password });
    // certSecretRef takes precedence over TLS keys in secretRef.
    tls ??= tlsFrom(data, authRef);
  }
  return tls ? { ...opts, ...tls } : opts;
}

const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';

/**
 * Registry credentials of a type oci HelmRepository's secretRef, as Flux's KeychainFromSecret: a
 * `kubernetes.io/dockerconfigjson` Secret must hold an entry for the registry; any other Secret
 * `username` and `password`, both or neither (anonymous).
 */
export function ociCredentials(secret: SecretLike, registry: string): Credentials | undefined {
  const name = secret.metadata?.name ?? '';
  let creds: Partial<Credentials> | undefined;
  if (secret.type === DOCKER_CONFIG_JSON) {
    creds = credentialsFromSecret(secret, registry);
    if (!creds) throw new Error(`no auth config for '${registry}' in the docker-registry Secret '${name}'`);
  } else {
    const field = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    creds = { username: field('username'), password: field('password') };
  }
  if (!creds.username && !creds.password) return undefined;
  if (!creds.username || !creds.password) {
    throw new Error(`invalid '${name}' secret data: required fields 'username' and 'password'`);
  }
  return { username: creds.username, password: creds.password };
}

/**
 * How to reach the registry of a type oci HelmRepository (or of an `oci://` chart dependency it
 * matches): TLS and timeout as repositoryHttpOptions reads them, registry credentials from secretRef
 * (ociCredentials), plain HTTP with `insecure`. Throws an Error naming the Secret, prefixed as Flux.
 */
export async function repositoryOciOptions(
  repo: HelmRepository,
  client: Client,
  registry: string,
): Promise<RegistryClientOptions> {
  // TLS (certSecretRef, or the deprecated keys in secretRef) and the timeout, as for type default.
  const http = await repositoryHttpOptions(repo, client);
  const opts: RegistryClientOptions = {
    registry,
    insecure: repo.spec.insecure === true,
    timeoutMs: http.timeoutMs ?? 60_000,
    userAgent: 'tide-source-controller',
    ...(http.caCert ? { caCert: http.caCert } : {}),
    ...(http.clientCert && http.clientKey ? { clientCert: http.clientCert, clientKey: http.clientKey } : {}),
  };
  const ns = repo.metadata.namespace ?? '';
  const authRef = repo.spec.secretRef?.name;
  if (!authRef) return opts;
  // Read whole: its type says whether it is a docker config.
  const secret = (await client.get({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: ns,
    name: authRef,
  })) as SecretLike;
  try {
    const credentials = ociCredentials(secret, registry);
    return credentials ? { ...opts, credentials } : opts;
  } catch (err) {
    throw new Error(`failed to configure OCI registry authentication: ${(err as Error).message}`);
  }
}

/** Size as Go's units.HumanSize prints it in Flux's event ("1.234kB"). */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
}

function fetchReason(err: HelmError): string {
  switch (err.code) {
    case HelmErrorCode.AuthenticationFailed:
      return Reasons.AuthenticationFailed;
    case HelmErrorCode.InvalidIndex:
    case HelmErrorCode.TooLarge:
      return Reasons.IndexationFailed;
    case HelmErrorCode.InvalidUrl:
      return Reasons.URLInvalid;
    default:
      return Reasons.Failed;
  }
}

/**
 * Type oci: a data holder for HelmCharts, as Flux's OCI HelmRepository. Checks the URL scheme (a
 * wrong one stalls with URLInvalid), removes any artifact and artifact conditions left from type
 * default, and fetches nothing.
 */
async function reconcileOci(obj: HelmRepository, deps: SourceDeps) {
  const { namespace = '', name = '' } = obj.metadata;
  if (obj.status?.artifact) await deps.storage.removeAll(kindName, namespace, name);
  obj.status = { ...obj.status, artifact: undefined };
  for (const c of sourceConditionPolicy.owned) deleteCondition(obj, c);
  let url: URL | undefined;
  try {
    url = new URL(obj.spec.url);
  } catch {
    throw new StallingError(Reasons.URLInvalid, `failed to parse URL '${obj.spec.url}'`);
  }
  if (url.protocol !== 'oci:' || url.host === '') {
    const scheme = url.protocol.replace(/:$/, '');
    throw new StallingError(
      Reasons.URLInvalid,
      url.protocol === 'oci:'
        ? `URL '${obj.spec.url}' has no registry host`
        : `URL scheme '${scheme}' in '${obj.spec.url}' is not supported`,
    );
  }
  return { readyMessage: OCI_READY_MESSAGE };
}

async function clientOptions(obj: HelmRepository, ctx: ReconcileContext): Promise<HelmHttpOptions> {
  try {
    return await repositoryHttpOptions(obj, ctx.client);
  } catch (err) {
    throw fetchFailed(obj, Reasons.AuthenticationFailed, (err as Error).message);
  }
}

/**
 * The source and artifact steps of type default. A fetch failure sets FetchFailed (Failed,
 * AuthenticationFailed, IndexationFailed; URLInvalid stalls) and keeps the stored artifact. An index
 * whose digest equals the stored revision ends the reconcile; a new one sets ArtifactOutdated until
 * the normalized index is stored as `index-<hex>.yaml`, then ArtifactInStorage and a NewArtifact event.
 */
async function reconcileIndex(obj: HelmRepository, ctx: ReconcileContext, deps: SourceDeps) {
  const { storage } = deps;
  await reconcileStorage(obj, storage, kindName, deps.gc);
  if (obj.spec.url.startsWith('oci://')) {
    throw fetchFailed(
      obj,
      Reasons.URLInvalid,
      "invalid Helm repository URL: 'oci' URL scheme cannot be used with 'default' HelmRepository type",
      true,
    );
  }
  const opts = await clientOptions(obj, ctx);
  let fetched: Awaited<ReturnType<typeof fetchIndex>>;
  try {
    fetched = await fetchIndex(obj.spec.url, opts);
  } catch (err) {
    if (!isHelmError(err)) throw err;
    const reason = fetchReason(err);
    const prefix =
      reason === Reasons.IndexationFailed
        ? 'failed to load Helm repository from index YAML'
        : 'failed to fetch Helm repository index';
    throw fetchFailed(obj, reason, `${prefix}: ${err.message}`, reason === Reasons.URLInvalid);
  }
  clearFetchFailed(obj);

  const stored = (revision: string) => `stored artifact: revision '${revision}'`;
  const current = obj.status?.artifact;
  if (current && current.revision === fetched.digest) {
    markArtifactStored(obj, storage.setArtifactUrl(current), stored(current.revision));
    return { readyMessage: stored(current.revision) };
  }
  const next = indexArtifact(fetched);
  if (current) {
    markTrue(
      obj,
      ConditionTypes.ArtifactOutdated,
      Reasons.NewRevision,
      `new index revision '${next.revision}'`,
    );
  }
  const { namespace = '', name = '' } = obj.metadata;
  let artifact: Awaited<ReturnType<typeof storage.writeBytes>>;
  try {
    artifact = await storage.writeBytes(
      storage.artifactFor(kindName, namespace, name, next.revision, next.fileName),
      next.data,
    );
  } catch (err) {
    const message = `unable to save artifact to storage: ${(err as Error).message}`;
    throw storageFailed(obj, Reasons.ArchiveOperationFailed, message);
  }
  const metadata = {
    [EventMetadata.sourceRevision]: artifact.revision,
    [EventMetadata.sourceDigest]: artifact.digest,
  };
  const message = `stored fetched index of size ${humanSize(artifact.size ?? next.data.length)} from '${obj.spec.url}'`;
  const changed = await recordNewArtifact(obj, ctx, deps, {
    kind: kindName,
    artifact,
    stored: { message: stored(artifact.revision) },
    event: { message, metadata },
  });
  if (changed) {
    ctx.log.info(message, { revision: artifact.revision, charts: Object.keys(fetched.index.entries).length });
  }
  return { readyMessage: stored(artifact.revision), eventMetadata: metadata };
}

export function helmRepositoryController(deps: SourceDeps) {
  return defineController<HelmRepository>({
    name: 'helmrepository',
    kind: HelmRepositoryKind,
    conditionPolicy: sourceConditionPolicy,
    unsupportedFields: helmRepositoryUnsupportedFields,

    /**
     * Type oci: Ready=True "Helm repository is ready", or Stalled URLInvalid; no artifact.
     * Type default: sets FetchFailed, ArtifactOutdated, ArtifactInStorage and StorageOperationFailed;
     * the runner derives Ready from them and the thrown outcome.
     */
    async reconcile(obj, ctx) {
      if (obj.spec.type === 'oci') return reconcileOci(obj, deps);
      return reconcileIndex(obj, ctx, deps);
    },

    async finalize(obj) {
      await deps.storage.removeAll(kindName, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
    },
  });
}
