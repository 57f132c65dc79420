// Who is looking, and what they may see. Locally (`tide ui`) the viewer is the kubeconfig's user: the
// watches already run as them, so everything cached is theirs to see. In a cluster the watches run as
// the dashboard's ServiceAccount and each signed-in user gets an impersonating client; the cached rows
// they are shown are filtered by what they may list, asked of the API server (SelfSubjectAccessReview
// as them) and remembered for a minute. Every on-demand read and every action goes through the
// viewer's client, so the API server's RBAC decides.
import type { Client } from '../runtime/client.ts';
import type { KindInfo } from './model/rows.ts';

export interface Identity {
  user: string;
  groups: string[];
}

export interface Viewer {
  identity: Identity;
  /** Reads and writes as the viewer. */
  client: Client;
  /** Whether the viewer may list the kind in the namespace, when already known. */
  mayList(kind: KindInfo, namespace: string): boolean | undefined;
  /** Asks (or remembers) whether the viewer may list the kind in the namespace. */
  checkList(kind: KindInfo, namespace: string): Promise<boolean>;
}

/** The kubeconfig's own user: sees what its watches see. */
export function localViewer(client: Client, identity: Identity): Viewer {
  return { identity, client, mayList: () => true, checkList: async () => true };
}

interface AccessReview {
  status?: { allowed?: boolean };
}

/** Asks the API server whether the client's identity may `verb` the resource in the namespace. */
export async function selfAccess(
  client: Client,
  attrs: { verb: string; group: string; resource: string; namespace?: string },
): Promise<boolean> {
  const review = await client.request<AccessReview>(
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { ...attrs, namespace: attrs.namespace ?? '' } },
    },
  );
  return review.status?.allowed === true;
}

/** Who the client is, as the API server sees it (SelfSubjectReview), for the page header. */
export async function whoAmI(client: Client): Promise<Identity | undefined> {
  try {
    const r = await client.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    );
    const u = r.status?.userInfo;
    return u?.username ? { user: u.username, groups: u.groups ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A signed-in user of the in-cluster dashboard: an impersonating client, and list permissions cached
 * for `ttlMs` (a cluster-wide grant answers for every namespace).
 */
export function impersonatedViewer(client: Client, identity: Identity, ttlMs = 60_000): Viewer {
  const known = new Map<string, { allowed: boolean; at: number }>();
  const pending = new Map<string, Promise<boolean>>();
  const keyOf = (k: KindInfo, ns: string) => `${k.group}/${k.plural}/${ns}`;
  const fresh = (key: string) => {
    const e = known.get(key);
    return e && Date.now() - e.at < ttlMs ? e.allowed : undefined;
  };
  const ask = (k: KindInfo, ns: string): Promise<boolean> => {
    const key = keyOf(k, ns);
    const have = fresh(key);
    if (have !== undefined) return Promise.resolve(have);
    let p = pending.get(key);
    if (!p) {
      p = selfAccess(client, { verb: 'list', group: k.group, resource: k.plural, namespace: ns })
        .catch(() => false)
        .then((allowed) => {
          known.set(key, { allowed, at: Date.now() });
          pending.delete(key);
          return allowed;
        });
      pending.set(key, p);
    }
    return p;
  };
  return {
    identity,
    client,
    mayList(k, ns) {
      if (fresh(keyOf(k, '')) === true) return true;
      return fresh(keyOf(k, ns));
    },
    async checkList(k, ns) {
      if (await ask(k, '')) return true;
      return ask(k, ns);
    },
  };
}
