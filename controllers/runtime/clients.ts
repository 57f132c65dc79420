// The clients a reconcile acts with on behalf of an object (Flux's runtime/client Impersonator):
//   - spec.kubeConfig.secretRef: the remote cluster of the kubeconfig in that Secret;
//   - spec.serviceAccountName (else the controller's default one): impersonated, on the remote cluster
//     when there is one (the ServiceAccount lives there, in the object's namespace);
//   - neither: the controller's own client.
// Clients are kept (one per ServiceAccount, one per kubeconfig and ServiceAccount) so that connections
// and API discovery are reused; a rotated kubeconfig is a new key, and the oldest remote clients go.
import { createHash } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import type { KubeConfigReference } from '../api/meta.ts';
import { type Client, createClient } from './client.ts';
import { readTextData } from './configdata.ts';

export interface ClientsOptions {
  /** The controller's own credentials. */
  kubeConfig: KubeConfig;
  fieldManager: string;
  /** ServiceAccount impersonated when the object names none (Flux --default-service-account). */
  defaultServiceAccount?: string;
  /** Remote clients kept at most (default 64). */
  maxRemoteClients?: number;
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
   * The client for target; `local` is the controller's own (also used to read the kubeconfig Secret).
   * A new remote client is probed with GET /version, so an unreachable cluster or rejected credentials
   * fail here, naming the Secret. Throws KubeConfigError.
   */
  clientFor(target: ClientTarget, local: Client): Promise<Client>;
}

export function createClients(opts: ClientsOptions): Clients {
  const impersonating = new Map<string, Client>();
  const remote = new Map<string, Client>();
  const max = opts.maxRemoteClients ?? 64;
  const userOf = (t: ClientTarget) => {
    const sa = t.serviceAccountName || opts.defaultServiceAccount;
    return sa ? `system:serviceaccount:${t.namespace}:${sa}` : undefined;
  };
  const make = (kc: KubeConfig, user: string | undefined) =>
    createClient(kc, { fieldManager: opts.fieldManager, ...(user ? { impersonate: { user } } : {}) });

  async function remoteClient(t: ClientTarget, ref: KubeConfigReference, local: Client, user?: string) {
    if (!ref.secretRef) throw new KubeConfigError('spec.kubeConfig.secretRef is required');
    const id = `${t.namespace}/${ref.secretRef.name}`;
    const data = await readTextData(local, {
      kind: 'Secret',
      namespace: t.namespace,
      name: ref.secretRef.name,
    });
    if (!data) throw new KubeConfigError(`unable to read KubeConfig secret '${id}': not found`);
    const text = kubeConfigText(data, id, ref.secretRef.key);
    const key = createHash('sha256')
      .update(`${user ?? ''}\n${text}`)
      .digest('hex');
    const cached = remote.get(key);
    if (cached) {
      // Most recently used last, so eviction drops the one unused longest.
      remote.delete(key);
      remote.set(key, cached);
      return cached;
    }
    const client = make(parseKubeConfig(text, id), user);
    try {
      await client.request('GET', '/version');
    } catch (err) {
      throw new KubeConfigError(
        `cannot reach the cluster ${client.server} of KubeConfig secret '${id}': ${(err as Error).message}`,
      );
    }
    remote.set(key, client);
    if (remote.size > max) remote.delete(remote.keys().next().value as string);
    return client;
  }

  return {
    async clientFor(t, local) {
      const user = userOf(t);
      if (t.kubeConfig) return remoteClient(t, t.kubeConfig, local, user);
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
