// The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok with
// one Ready fake node, all on loopback and on ports the kernel picked, so that several runs can coexist.
// State lives in one directory (state.json, pki/, logs/, etcd data) so another process can find and stop it.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { ConditionTypes } from '../../controllers/api/names.ts';
import { makePki, type Pki } from './pki.ts';
import { alive, freePort, poll, startDaemon, stopGroup } from './proc.ts';
import { hackDir, toolPaths } from './tools.ts';

export const componentNames = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
] as const;
export type Component = (typeof componentNames)[number];

export interface ControlPlaneState {
  dir: string;
  kubeconfig: string;
  server: string;
  ports: Record<string, number>;
  pids: Partial<Record<Component, number>>;
  /** Command lines, so a component can be stopped and started again (restart tests). */
  commands: Partial<Record<Component, { bin: string; args: string[] }>>;
  pki: Pki;
  nodeName: string;
}

const stateFile = (dir: string) => join(dir, 'state.json');
export const nodeName = 'kwok-node-0';

export async function readState(dir: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dir), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

/** Sends one request to the API server as the admin user; resolves with the status code and parsed body. */
export function apiRequest(
  st: Pick<ControlPlaneState, 'server' | 'pki'>,
  method: string,
  path: string,
  body?: unknown,
  keys?: { ca: Buffer; cert: Buffer; key: Buffer },
): Promise<{ status: number; body: unknown; text: string }> {
  return (async () => {
    const k = keys ?? (await loadKeys(st.pki));
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        `${st.server}${path}`,
        {
          method,
          ca: k.ca,
          cert: k.cert,
          key: k.key,
          timeout: 10_000,
          headers: payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {},
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON: keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  })();
}

async function loadKeys(pki: Pki) {
  const [ca, cert, key] = await Promise.all([
    readFile(pki.caCert),
    readFile(pki.adminCert),
    readFile(pki.adminKey),
  ]);
  return { ca, cert, key };
}

/** A kubeconfig for server with the given CA and client certificate, all embedded. */
export function kubeconfigYaml(server: string, ca: Buffer, cert: Buffer, key: Buffer): string {
  const b64 = (b: Buffer) => b.toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: tide-testbed
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(ca)}
users:
- name: tide-testbed-admin
  user:
    client-certificate-data: ${b64(cert)}
    client-key-data: ${b64(key)}
contexts:
- name: tide-testbed
  context:
    cluster: tide-testbed
    user: tide-testbed-admin
    namespace: default
current-context: tide-testbed
`;
}

/** True when every recorded process runs and the API server answers /readyz. */
export async function isHealthy(st: ControlPlaneState): Promise<boolean> {
  if (!componentNames.every((c) => st.pids[c] && alive(st.pids[c]))) return false;
  try {
    return (await apiRequest(st, 'GET', '/readyz')).status === 200;
  } catch {
    return false;
  }
}

export interface StartOptions {
  dir: string;
  log?: (msg: string) => void;
  /** Overall time allowed for the API to become ready and the node to turn Ready. */
  timeoutMs?: number;
  /**
   * Issuer of this cluster's ServiceAccount tokens (default https://kubernetes.default.svc.cluster.local);
   * a cluster that trusts another one's tokens needs an issuer of its own.
   */
  serviceAccountIssuer?: string;
  /**
   * Flags appended to a component's command line (a repeated flag overrides the default), e.g.
   * `--authentication-config=<file>` for a second cluster in a test.
   */
  extraArgs?: Partial<Record<Component, string[]>>;
}

/**
 * Starts the control plane in dir, or returns the one already running there. A half-alive
 * control plane (some process gone) is stopped and started afresh.
 */
export async function startControlPlane(opts: StartOptions): Promise<ControlPlaneState> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const existing = await readState(opts.dir);
  if (existing) {
    if (await isHealthy(existing)) {
      log(`control plane already running (${existing.server})`);
      return existing;
    }
    log('found a stale control plane: stopping it');
    await stopControlPlane(opts.dir);
  }
  const t0 = Date.now();
  const tools = await toolPaths([...componentNames, 'kwok-stages']);
  const dir = opts.dir;
  const logs = join(dir, 'logs');
  await mkdir(join(dir, 'pki'), { recursive: true });
  await mkdir(logs, { recursive: true });
  const pki = await makePki(join(dir, 'pki'));
  const ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const keys = await loadKeys(pki);
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigYaml(server, keys.ca, keys.cert, keys.key), { mode: 0o600 });
  const st: ControlPlaneState = { dir, kubeconfig, server, ports, pids: {}, commands: {}, pki, nodeName };
  const start = async (c: Component, args: string[]) => {
    st.commands[c] = { bin: tools[c], args: [...args, ...(opts.extraArgs?.[c] ?? [])] };
    await startComponent(st, c);
  };
  const failWith = async (err: unknown): Promise<never> => {
    const msg = (err as Error).message;
    const dead = componentNames.filter((c) => st.pids[c] && !alive(st.pids[c]));
    await stopControlPlane(dir, false);
    throw new Error(`${msg}${dead.length ? ` (exited: ${dead.join(', ')}; logs in ${logs})` : ''}`);
  };

  try {
    const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    await start('etcd', [
      '--name=testbed',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=testbed=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    await poll('etcd health', 30_000, async () => {
      const res = await fetch(`${etcdUrl}/health`);
      return res.ok ? true : undefined;
    });
    log(`etcd ready (${Date.now() - t0} ms)`);

    await start('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--cert-dir=${join(dir, 'apiserver')}`,
      `--service-account-issuer=${opts.serviceAccountIssuer ?? 'https://kubernetes.default.svc.cluster.local'}`,
      `--service-account-key-file=${pki.saKey}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      // A /16, so that workloads of thousands of Services (the benchmarks) do not fill the range.
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
    ]);
    await poll('kube-apiserver /readyz', timeoutMs, async () => {
      if (!alive(st.pids['kube-apiserver']!)) throw new Error('kube-apiserver exited');
      const res = await apiRequest(st, 'GET', '/readyz', undefined, keys);
      return res.status === 200 ? true : undefined;
    });
    log(`kube-apiserver ready (${Date.now() - t0} ms)`);

    const kc = [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      '--leader-elect=false',
    ];
    await start('kube-controller-manager', [
      ...kc,
      // Its default client limit (20 requests/s) rolls out a burst of 100 Deployments in ~17 s on
      // this machine (1.5 s at 200): the test bed would measure kube-controller-manager's rate
      // limiter, not the controllers under test, which are held back by it alike.
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      `--secure-port=${ports.controllerManager}`,
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.caCert}`,
    ]);
    await start('kube-scheduler', [...kc, `--secure-port=${ports.scheduler}`]);
    await start('kwok', [
      `--kubeconfig=${kubeconfig}`,
      `--config=${tools['kwok-stages']}`,
      // Hook and test Pods of Helm charts run to completion (see the file).
      `--config=${join(hackDir, 'testbed', 'kwok-pod-phases.yaml')}`,
      '--manage-all-nodes=true',
      '--node-lease-duration-seconds=40',
      '--cidr=10.244.0.0/24',
      '--node-ip=10.255.0.1',
    ]);

    await createNode(st, keys);
    await poll(`node ${nodeName} Ready`, timeoutMs, async () => {
      for (const c of componentNames) if (!alive(st.pids[c]!)) throw new Error(`${c} exited`);
      const res = await apiRequest(st, 'GET', `/api/v1/nodes/${nodeName}`, undefined, keys);
      const conds = (res.body as { status?: { conditions?: { type: string; status: string }[] } }).status
        ?.conditions;
      return conds?.some((c) => c.type === ConditionTypes.Ready && c.status === 'True') ? true : undefined;
    });
    await poll('default service account', timeoutMs, async () => {
      const res = await apiRequest(
        st,
        'GET',
        '/api/v1/namespaces/default/serviceaccounts/default',
        undefined,
        keys,
      );
      return res.status === 200 ? true : undefined;
    });
    log(`control plane ready in ${Date.now() - t0} ms: ${server}`);
    return st;
  } catch (err) {
    return failWith(err);
  }
}

/** Starts one component again from its recorded command line and records its new pid. */
export async function startComponent(st: ControlPlaneState, c: Component): Promise<void> {
  const cmd = st.commands[c];
  if (!cmd) throw new Error(`no recorded command line for ${c}`);
  const child = startDaemon(cmd.bin, cmd.args, join(st.dir, 'logs', `${c}.log`));
  if (!child.pid) throw new Error(`could not start ${c} (${cmd.bin})`);
  st.pids[c] = child.pid;
  await writeFile(stateFile(st.dir), `${JSON.stringify(st, null, 2)}\n`);
}

/** Stops one component (for failure tests); startComponent brings it back. */
export async function stopComponent(st: ControlPlaneState, c: Component): Promise<void> {
  const pid = st.pids[c];
  if (pid && alive(pid)) await stopGroup(pid);
}

/** Waits until the API server answers /readyz, e.g. after startComponent(st, 'kube-apiserver'). */
export async function waitApiReady(st: ControlPlaneState, timeoutMs = 60_000): Promise<void> {
  await poll('kube-apiserver /readyz', timeoutMs, async () =>
    (await apiRequest(st, 'GET', '/readyz')).status === 200 ? true : undefined,
  );
}

async function createNode(st: ControlPlaneState, keys: { ca: Buffer; cert: Buffer; key: Buffer }) {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
      labels: {
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': nodeName,
        type: 'kwok',
      },
    },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'fake',
        kubeProxyVersion: 'fake',
      },
    },
  };
  const res = await apiRequest(st, 'POST', '/api/v1/nodes', node, keys);
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating node: ${res.status} ${res.text}`);
}

/** Stops every process recorded in dir and, unless keepState, removes the directory. */
export async function stopControlPlane(dir: string, removeState = true): Promise<void> {
  const st = await readState(dir);
  if (st) {
    // Clients first (together), then the API server, then etcd.
    const stop = (c: Component) => {
      const pid = st.pids[c];
      return pid && alive(pid) ? stopGroup(pid) : Promise.resolve();
    };
    await Promise.all((['kwok', 'kube-scheduler', 'kube-controller-manager'] as const).map(stop));
    await stop('kube-apiserver');
    await stop('etcd');
  }
  if (removeState && existsSync(dir)) await rm(dir, { recursive: true, force: true });
}
