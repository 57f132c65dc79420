// The clients a reconcile acts with on behalf of an object (Flux's runtime/client Impersonator):
//   - spec.kubeConfig.secretRef: the remote cluster of the kubeconfig in that Secret;
//   - spec.kubeConfig.configMapRef: the remote cluster a ConfigMap names, reached with a token of a
//     local ServiceAccount that it trusts (workload identity, provider generic);
//   - spec.serviceAccountName (else the controller's default one): impersonated, on the remote cluster
//     when there is one (the ServiceAccount lives there, in the object's namespace);
//   - neither: the controller's own client.
// Clients are kept (one per ServiceAccount, one per kubeconfig and ServiceAccount) so that connections
// and API discovery are reused; a rotated kubeconfig is a new key, and the oldest remote clients go.
import { createHash } from 'node:crypto';
import { load } from 'js-yaml';
import type { KubeConfigReference } from '../api/meta.ts';
import { Reasons } from '../api/names.ts';
import { type Client, createClient } from './client.ts';
import { readTextData } from './configdata.ts';
import { GenericError } from './errors.ts';
import { KubeConfig, type KubeConfigSource } from './kubeconfig.ts';

export interface ClientsOptions {
  /** The controller's own credentials. */
  kubeConfig: KubeConfigSource;
  fieldManager: string;
  /** ServiceAccount impersonated when the object names none (Flux --default-service-account). */
  defaultServiceAccount?: string;
  /** Remote clients kept at most (default 64). */
  maxRemoteClients?: number;
  /** Clock, for tests of token renewal. */
  now?: () => number;
}

/** What an object says about the client to act with. */
export interface ClientTarget {
  namespace: string;
  serviceAccountName?: string;
  kubeConfig?: KubeConfigReference;
}

/** The kubeconfig cannot be read or used: the message says what to fix. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

export interface Clients {
  /**
   * The client for target; `local` is the controller's own (also used to read the kubeconfig Secret or
   * ConfigMap and to request tokens). A new remote client is probed with GET /version, so an
   * unreachable cluster or rejected credentials fail here, naming the Secret or ConfigMap. Throws
   * KubeConfigError.
   */
  clientFor(target: ClientTarget, local: Client): Promise<Client>;
}

interface RemoteEntry {
  client: Client;
  /** When its credentials must be renewed (a ServiceAccount token that expires); never when unset. */
  renewAt?: number;
}

export function createClients(opts: ClientsOptions): Clients {
  const impersonating = new Map<string, Client>();
  const remote = new Map<string, RemoteEntry>();
  const max = opts.maxRemoteClients ?? 64;
  const now = opts.now ?? Date.now;
  const userOf = (t: ClientTarget) => {
    const sa = t.serviceAccountName || opts.defaultServiceAccount;
    return sa ? `system:serviceaccount:${t.namespace}:${sa}` : undefined;
  };
  const make = (kc: KubeConfigSource, user: string | undefined) =>
    createClient(kc, { fieldManager: opts.fieldManager, ...(user ? { impersonate: { user } } : {}) });

  /** The kept client for key, else a new one from build, probed and kept (least recently used goes). */
  async function keep(key: string, what: string, build: () => Promise<RemoteEntry>): Promise<Client> {
    const cached = remote.get(key);
    remote.delete(key);
    if (cached && (cached.renewAt === undefined || now() < cached.renewAt)) {
      remote.set(key, cached); // most recently used last
      return cached.client;
    }
    const entry = await build();
    try {
      await entry.client.request('GET', '/version');
    } catch (err) {
      throw new KubeConfigError(
        `cannot reach the cluster ${entry.client.server} of ${what}: ${(err as Error).message}`,
      );
    }
    remote.set(key, entry);
    if (remote.size > max) remote.delete(remote.keys().next().value as string);
    return entry.client;
  }
  const keyOf = (...parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex');

  async function fromSecret(
    t: ClientTarget,
    ref: NonNullable<KubeConfigReference['secretRef']>,
    local: Client,
    user?: string,
  ) {
    const id = `${t.namespace}/${ref.name}`;
    const data = await readTextData(local, { kind: 'Secret', namespace: t.namespace, name: ref.name });
    if (!data) throw new KubeConfigError(`unable to read KubeConfig secret '${id}': not found`);
    const text = kubeConfigText(data, id, ref.key);
    return keep(keyOf(user, text), `KubeConfig secret '${id}'`, async () => ({
      client: make(parseKubeConfig(text, id), user),
    }));
  }

  async function fromConfigMap(t: ClientTarget, name: string, local: Client, user?: string) {
    const id = `${t.namespace}/${name}`;
    const data = await readTextData(local, { kind: 'ConfigMap', namespace: t.namespace, name });
    if (!data) throw new KubeConfigError(`unable to read KubeConfig ConfigMap '${id}': not found`);
    const wi = workloadIdentity(data, id);
    return keep(keyOf(user, wi), `KubeConfig ConfigMap '${id}'`, async () => {
      const token = await serviceAccountToken(local, t.namespace, wi.serviceAccountName, wi.audiences);
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'remote', server: wi.address, caData: wi.caData, skipTLSVerify: false }],
        users: [{ name: 'remote', token: token.token }],
        contexts: [{ name: 'remote', cluster: 'remote', user: 'remote' }],
        currentContext: 'remote',
      });
      // Renewed once 80% of its lifetime has passed, as kubelet does for projected tokens.
      return { client: make(kc, user), renewAt: now() + 0.8 * (token.expiresAt - now()) };
    });
  }

  return {
    async clientFor(t, local) {
      const user = userOf(t);
      if (t.kubeConfig?.secretRef) return fromSecret(t, t.kubeConfig.secretRef, local, user);
      if (t.kubeConfig?.configMapRef) return fromConfigMap(t, t.kubeConfig.configMapRef.name, local, user);
      if (!user) return local;
      let client = impersonating.get(user);
      if (!client) {
        client = make(opts.kubeConfig, user);
        impersonating.set(user, client);
      }
      return client;
    },
  };
}

/** An object whose spec names the client to act with (Kustomization, HelmRelease). */
export interface ClientSpecObject {
  metadata: { namespace?: string };
  spec: { serviceAccountName?: string; kubeConfig?: KubeConfigReference };
}

/**
 * The client an object's spec asks for (serviceAccountName, kubeConfig); a kubeconfig that cannot be
 * used fails with ReconciliationFailed, naming what to fix.
 */
export async function clientForObject(
  clients: Clients,
  obj: ClientSpecObject,
  local: Client,
): Promise<Client> {
  const target = {
    namespace: obj.metadata.namespace ?? '',
    serviceAccountName: obj.spec.serviceAccountName,
    kubeConfig: obj.spec.kubeConfig,
  };
  try {
    return await clients.clientFor(target, local);
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err;
    throw new GenericError(Reasons.ReconciliationFailed, `failed to build kube client: ${err.message}`);
  }
}

/** spec.kubeConfig.configMapRef data for the generic provider (Kubernetes OIDC between clusters). */
export interface WorkloadIdentity {
  /** `https://host:port` of the remote API server. */
  address: string;
  /** Base64 of `ca.crt`, when given. */
  caData?: string;
  audiences: string[];
  serviceAccountName: string;
}

/**
 * Reads the ConfigMap of a workload-identity kubeConfig (Flux: provider, address, ca.crt, audiences,
 * serviceAccountName). Only `generic` can work here: aws, azure and gcp need their cloud's identity
 * services. The token is always that of serviceAccountName in the object's namespace: Tide does not hand
 * out its own ServiceAccount's token. Throws KubeConfigError.
 */
export function workloadIdentity(data: Record<string, string>, id: string): WorkloadIdentity {
  const bad = (msg: string) => new KubeConfigError(`kubeConfig ConfigMap '${id}': ${msg}`);
  if (data.provider !== 'generic')
    throw bad(
      `provider '${data.provider ?? ''}' is not supported by Tide: only 'generic' (a cluster trusting this ` +
        "cluster's ServiceAccount tokens); aws, azure and gcp need their cloud's workload identity",
    );
  if (!data.address) throw bad("'address' is required for the generic provider");
  const address = parseClusterAddress(data.address, bad);
  if (!data.serviceAccountName)
    throw bad(
      "'serviceAccountName' is required: Tide does not use its own ServiceAccount for remote clusters",
    );
  const audiences = (data.audiences ?? '')
    .split('\n')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const ca = data['ca.crt'];
  return {
    address,
    ...(ca ? { caData: Buffer.from(ca).toString('base64') } : {}),
    audiences: audiences.length ? audiences : [address],
    serviceAccountName: data.serviceAccountName,
  };
}

/** Flux's ParseClusterAddress: `https://<lowercase host>:<port>`, https only, port 443 by default. */
function parseClusterAddress(address: string, bad: (msg: string) => Error): string {
  let u: URL;
  try {
    u = new URL(address.startsWith('http') ? address : `https://${address}`);
  } catch {
    throw bad(`address '${address}' is not a URL`);
  }
  if (u.protocol !== 'https:') throw bad(`address '${address}' must use the https scheme`);
  return `https://${u.hostname.toLowerCase()}:${u.port || '443'}`;
}

/** A token of the ServiceAccount for the audiences (TokenRequest), with its expiry in ms. */
async function serviceAccountToken(client: Client, namespace: string, name: string, audiences: string[]) {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`;
  let res: { status?: { token?: string; expirationTimestamp?: string } };
  try {
    res = await client.request('POST', path, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences },
    });
  } catch (err) {
    throw new KubeConfigError(
      `failed to create a token for ServiceAccount '${namespace}/${name}': ${(err as Error).message}`,
    );
  }
  const token = res.status?.token;
  const expiresAt = Date.parse(res.status?.expirationTimestamp ?? '');
  if (!token || Number.isNaN(expiresAt))
    throw new KubeConfigError(
      `the token request for ServiceAccount '${namespace}/${name}' returned no token`,
    );
  return { token, expiresAt };
}

/** The kubeconfig in a Secret's data: under `key`, else `value`, else `value.yaml` (as Flux). */
export function kubeConfigText(data: Record<string, string>, id: string, key?: string): string {
  if (key) {
    const v = data[key];
    if (v === undefined)
      throw new KubeConfigError(
        `KubeConfig secret '${id}' does not contain a '${key}' key with a kubeconfig`,
      );
    return v;
  }
  const v = data.value ?? data['value.yaml'];
  if (v === undefined)
    throw new KubeConfigError(`KubeConfig secret '${id}' does not contain a 'value' key with a kubeconfig`);
  return v;
}

type Named<T> = { name?: string } & T;
interface RawKubeConfig {
  'current-context'?: string;
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
}

// What a kubeconfig from a Secret may hold: it must be self-contained (no files of the controller, no
// programs to run), as Flux only keeps these fields. Anything else is refused rather than dropped, so
// a kubeconfig never silently means less than its author wrote.
const clusterFields = new Set(['server', 'certificate-authority-data', 'tls-server-name', 'proxy-url']);
const userFields = new Set(['client-certificate-data', 'client-key-data', 'token', 'username', 'password']);
const refusedWhy: Record<string, string> = {
  'certificate-authority': 'files of the controller cannot be read: embed certificate-authority-data',
  'client-certificate': 'files of the controller cannot be read: embed client-certificate-data',
  'client-key': 'files of the controller cannot be read: embed client-key-data',
  tokenFile: 'files of the controller cannot be read: embed the token',
  'token-file': 'files of the controller cannot be read: embed the token',
  exec: 'credential plugins are not run by the controller: embed a token or client certificate',
  'auth-provider': 'auth providers are not run by the controller: embed a token or client certificate',
  'insecure-skip-tls-verify': 'TLS verification cannot be turned off: set certificate-authority-data',
  as: 'impersonation is set by spec.serviceAccountName',
  'as-groups': 'impersonation is set by spec.serviceAccountName',
  'as-uid': 'impersonation is set by spec.serviceAccountName',
  'as-user-extra': 'impersonation is set by spec.serviceAccountName',
};

function checkFields(fields: Record<string, unknown>, allowed: Set<string>, where: string, id: string) {
  for (const [k, v] of Object.entries(fields)) {
    if (allowed.has(k) || v === undefined || v === null || v === false || v === '') continue;
    const why = refusedWhy[k] ?? 'not supported';
    throw new KubeConfigError(`kubeconfig in secret '${id}': ${where}.${k} is not allowed (${why})`);
  }
}

/**
 * Parses a self-contained kubeconfig and keeps its current context only: the server, its CA and TLS
 * server name, a proxy, and client certificate, token or basic-auth credentials. Throws KubeConfigError.
 */
export function parseKubeConfig(text: string, id: string): KubeConfig {
  let raw: RawKubeConfig;
  try {
    raw = (load(text) ?? {}) as RawKubeConfig;
  } catch (err) {
    throw new KubeConfigError(`kubeconfig in secret '${id}' is not valid YAML: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new KubeConfigError(`kubeconfig in secret '${id}' is not a kubeconfig`);
  const contextName = raw['current-context'];
  if (!contextName) throw new KubeConfigError(`kubeconfig in secret '${id}' has no current-context`);
  const find = <T>(list: Named<T>[] | undefined, name: string | undefined, what: string): Named<T> => {
    const found = list?.find((e) => e.name === name);
    if (!found) throw new KubeConfigError(`kubeconfig in secret '${id}': ${what} '${name ?? ''}' not found`);
    return found;
  };
  const context = find(raw.contexts, contextName, 'context').context ?? {};
  const cluster = find(raw.clusters, context.cluster, 'cluster').cluster ?? {};
  const user = context.user ? (find(raw.users, context.user, 'user').user ?? {}) : {};
  checkFields(cluster, clusterFields, 'cluster', id);
  checkFields(user, userFields, 'user', id);
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server))
    throw new KubeConfigError(`kubeconfig in secret '${id}': cluster.server must be an http(s) URL`);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'remote',
        server,
        caData: str(cluster['certificate-authority-data']),
        tlsServerName: str(cluster['tls-server-name']),
        proxyUrl: str(cluster['proxy-url']),
        skipTLSVerify: false,
      },
    ],
    users: [
      {
        name: 'remote',
        certData: str(user['client-certificate-data']),
        keyData: str(user['client-key-data']),
        token: str(user.token),
        username: str(user.username),
        password: str(user.password),
      },
    ],
    contexts: [{ name: 'remote', cluster: 'remote', user: 'remote' }],
    currentContext: 'remote',
  });
  return kc;
}
