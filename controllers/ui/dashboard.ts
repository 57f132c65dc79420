// Starting the dashboard, in either of its two places:
//  - local (`tide ui`): on loopback only, everything as the kubeconfig's user (their RBAC), behind a
//    one-time token in the printed URL and a Host check (no DNS rebinding);
//  - cluster (controllers/ui/main.ts, the chart): watches as the dashboard's ServiceAccount, every user
//    signed in (token file, proxy headers or OIDC) and impersonated for every read and action.
import { randomBytes } from 'node:crypto';
import { type Client, createClient } from '../runtime/client.ts';
import type { KubeConfigSource } from '../runtime/kubeconfig.ts';
import { listen, parseListenAddress } from '../runtime/listen.ts';
import type { Logger } from '../runtime/log.ts';
import { type Identity, impersonatedViewer, localViewer, type Viewer, whoAmI } from './access.ts';
import type { Rollback } from './actions.ts';
import { type Assets, loadAssets } from './assets.ts';
import { type Authenticator, localAuth } from './auth.ts';
import type { DriftTools } from './drift.ts';
import { uiKinds } from './kinds.ts';
import { createUiHandler } from './server.ts';
import { createStore, type Store } from './store.ts';

export interface DashboardOptions {
  kubeConfig: KubeConfigSource;
  /** host:port; locally the host must be a loopback address (default 127.0.0.1). */
  address: string;
  /** Show one namespace only; all when unset. */
  namespace?: string;
  tools: DriftTools;
  rollback?: Rollback;
  log?: Logger;
  /** In a cluster: how users sign in. Locally: unset (the one-time token). */
  auth?: Authenticator;
  /** The user shown locally when the API server cannot say (SelfSubjectReview). */
  fallbackUser?: string;
  assets?: Assets;
  signal?: AbortSignal;
}

export interface Dashboard {
  /** The address to open; locally with the one-time token. */
  url: string;
  port: number;
  store: Store;
  close(): Promise<void>;
}

const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** In a cluster: one impersonating viewer per signed-in identity, forgotten after 10 idle minutes. */
function impersonatingViewers(kubeConfig: KubeConfigSource, userAgent: string): (id: Identity) => Viewer {
  const viewers = new Map<string, { viewer: Viewer; at: number }>();
  return (id) => {
    const key = `${id.user}\u0000${[...id.groups].sort().join(',')}`;
    const now = Date.now();
    for (const [k, v] of viewers) if (now - v.at > 10 * 60_000) viewers.delete(k);
    let entry = viewers.get(key);
    if (!entry) {
      const impersonate = { user: id.user, groups: id.groups };
      const client = createClient(kubeConfig, { userAgent, fieldManager: 'tide-ui', impersonate });
      entry = { viewer: impersonatedViewer(client, id), at: now };
      viewers.set(key, entry);
    }
    entry.at = now;
    return entry.viewer;
  };
}

const bracket = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** Where `tide ui` binds: a loopback host (127.0.0.1 when none is given) and a port; throws otherwise. */
export function localAddress(address: string): { host: string; port: number } {
  const { host, port } = parseListenAddress(address);
  const bindHost = host ?? '127.0.0.1';
  if (!loopback.test(bindHost))
    throw new Error(
      `tide ui serves on loopback only (it acts with your credentials): '${host}' is not a loopback address`,
    );
  return { host: bindHost, port };
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const local = !opts.auth;
  const { host, port } = local ? localAddress(opts.address) : parseListenAddress(opts.address);
  const bindHost = host;
  const userAgent = 'tide-ui';
  const client: Client = createClient(opts.kubeConfig, { userAgent, fieldManager: 'tide-ui' });
  const store = createStore({ client, kinds: uiKinds(), namespace: opts.namespace, log: opts.log });
  const assets = opts.assets ?? (await loadAssets());
  await store.start(opts.signal);

  let token: string | undefined;
  let access: { auth: Authenticator; viewerFor: (id: Identity) => Viewer };
  if (local) {
    const identity = (await whoAmI(client)) ?? { user: opts.fallbackUser ?? 'kubeconfig user', groups: [] };
    token = randomBytes(24).toString('base64url');
    const viewer = localViewer(client, identity);
    access = { auth: localAuth(identity, token), viewerFor: () => viewer };
  } else {
    access = {
      auth: opts.auth as Authenticator,
      viewerFor: impersonatingViewers(opts.kubeConfig, userAgent),
    };
  }
  const allowedHosts: string[] = [];
  const handler = createUiHandler({
    store,
    ...access,
    assets,
    tools: opts.tools,
    rollback: opts.rollback,
    allowedHosts: local ? allowedHosts : undefined,
    log: opts.log,
  });
  const listener = await listen(`${bindHost ? bracket(bindHost) : ''}:${port}`, handler, {
    readsBodies: true,
  });
  for (const h of ['127.0.0.1', 'localhost', '[::1]', ...(bindHost ? [bracket(bindHost)] : [])])
    allowedHosts.push(`${h}:${listener.port}`);
  const shownHost = bindHost && bindHost !== '::' ? bracket(bindHost) : 'localhost';
  return {
    url: `http://${shownHost}:${listener.port}/${token ? `?token=${token}` : ''}`,
    port: listener.port,
    store,
    async close() {
      await listener.close();
      await store.stop();
    },
  };
}
