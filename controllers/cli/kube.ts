// The CLI's way to the cluster: the kubeconfig as kubectl and flux find it, the runtime client, and
// API errors turned into sentences a user can act on.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient, isApiError, isNoMatch, isNotFound } from '../runtime/client.ts';
import { KubeConfig } from '../runtime/kubeconfig.ts';
import type { KubeObject } from '../runtime/object.ts';
import { CliError } from './errors.ts';
import type { CliKind } from './kinds.ts';

export interface ConnectOptions {
  /** --kubeconfig; else $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** --context; else the kubeconfig's current context. */
  context?: string;
  userAgent?: string;
}

const serviceAccountToken = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export async function loadKubeConfig(opts: ConnectOptions): Promise<KubeConfig> {
  const kc = new KubeConfig();
  if (opts.kubeconfig) {
    if (!existsSync(opts.kubeconfig))
      throw new CliError(`kubeconfig file "${opts.kubeconfig}" does not exist`);
    kc.loadFromFile(opts.kubeconfig);
  } else {
    // loadFromDefault would fall back to http://localhost:8080; a missing config deserves a clear error.
    const found =
      Boolean(process.env.KUBECONFIG) ||
      existsSync(join(homedir(), '.kube', 'config')) ||
      existsSync(serviceAccountToken);
    if (!found)
      throw new CliError('no kubeconfig found: pass --kubeconfig, set $KUBECONFIG or create ~/.kube/config');
    kc.loadFromDefault();
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context))
      throw new CliError(`context "${opts.context}" not found in the kubeconfig`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new CliError('the kubeconfig has no current context with a cluster');
  return kc;
}

export async function connect(opts: ConnectOptions): Promise<Client> {
  return createClient(await loadKubeConfig(opts), { fieldManager: 'tide', userAgent: opts.userAgent });
}

/** The kind's API is not served: its CRD is missing. */
export function notInstalled(kind: CliKind): CliError {
  const d = kind.descriptor;
  return new CliError(
    `${d.kind} (${d.apiVersion}) is not served by the cluster: is the CRD ${d.plural}.${d.group} installed?`,
  );
}

/** Gets one object; a missing object or CRD becomes a CliError that says which. */
export async function getObject(
  client: Client,
  kind: CliKind,
  name: string,
  namespace: string,
): Promise<KubeObject> {
  try {
    return await client.get({ apiVersion: kind.descriptor.apiVersion, kind: kind.kind, name, namespace });
  } catch (err) {
    throw explain(err, kind, name, namespace);
  }
}

/** The objects named, or every object of the kind in the namespace when names is empty. */
export async function findObjects(
  client: Client,
  kind: CliKind,
  namespace: string,
  names: readonly string[],
): Promise<{ found: KubeObject[]; missing: string[] }> {
  if (names.length === 0) {
    try {
      return { found: (await client.listAll(kind.descriptor, { namespace })).items, missing: [] };
    } catch (err) {
      throw explain(err, kind);
    }
  }
  const found: KubeObject[] = [];
  const missing: string[] = [];
  for (const name of new Set(names)) {
    try {
      found.push(
        await client.get({ apiVersion: kind.descriptor.apiVersion, kind: kind.kind, name, namespace }),
      );
    } catch (err) {
      if (!isNotFound(err) || isNoMatch(err)) throw explain(err, kind);
      missing.push(name);
    }
  }
  return { found, missing };
}

/** Replaces NoKindMatch and NotFound with sentences naming the kind (and object). */
export function explain(err: unknown, kind: CliKind, name?: string, namespace?: string): unknown {
  if (isNoMatch(err)) return notInstalled(kind);
  if (isNotFound(err) && name !== undefined)
    return new CliError(`${kind.kind} '${name}' not found in "${namespace}" namespace`);
  return err;
}

/**
 * The message of an API error without the client's `METHOD path: status` prefix, which only helps
 * when debugging the client; transport failures say the API server could not be reached.
 */
export function apiMessage(err: unknown): string | undefined {
  if (!isApiError(err)) return undefined;
  if (err.status === 0) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message.replace(/^\S+ \S+: /, '');
    return `unable to reach the Kubernetes API server: ${cause}`;
  }
  return err.message.replace(/^[A-Z]+ \S+: \d{3} /, '');
}
