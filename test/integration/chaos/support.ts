// What the fault scenarios share: source- and kustomize-controller as processes that a test can kill,
// stop and start again (with the same flags and the same artifact address, as a pod restarts behind its
// Service), a relay that can slow the kustomize-controller's API traffic so a fault lands in the middle
// of an apply, and a workload of many ConfigMaps in Git whose convergence the tests check as a user
// would: every object of the revision in the cluster with its data, nothing else, and the objects that
// stayed in Git never recreated (same uid).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kustomization } from '../../../controllers/api/kustomize.ts';
import { type Client, createClient } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { kubeconfigYaml } from '../../../hack/testbed/controlplane.ts';
import { freePort, poll } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { ensureCrds } from '../../support/crds.ts';
import { killTree } from '../../support/faults.ts';
import { createWorkRepo, type WorkRepo } from '../../support/gitwork.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcpproxy.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';

export const ksApiVersion = 'kustomize.toolkit.fluxcd.io/v1';
export const gitApiVersion = 'source.toolkit.fluxcd.io/v1';
const requestedAt = 'reconcile.fluxcd.io/requestedAt';
const ownerLabel = 'kustomize.toolkit.fluxcd.io/name';

type Cond = { type: string; status: string; reason: string; message: string };
export const condition = (o: KubeObject, type: string) =>
  (o.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

/** A controller process the test owns: started with fixed flags, killed or stopped, started again. */
export interface Controller {
  readonly name: string;
  readonly process: ControllerProcess;
  /** Every log line of every run so far. */
  logs(): string;
  start(opts?: { kubeconfig?: string; args?: string[]; env?: Record<string, string> }): Promise<void>;
  /** SIGKILL (with everything it started), as a pod dies; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM; resolves with the exit code once it exited. */
  terminate(): Promise<number | null>;
  running(): boolean;
}

export function controller(name: string, args: () => string[]): Controller {
  let proc: ControllerProcess | undefined;
  const earlier: string[] = [];
  const exited = (p: ControllerProcess) => p.child.exitCode !== null || p.child.signalCode !== null;
  const current = () => {
    if (!proc) throw new Error(`${name}-controller was never started`);
    return proc;
  };
  const waitExit = (p: ControllerProcess) =>
    new Promise<number | null>((resolve) => {
      if (exited(p)) resolve(p.child.exitCode);
      else p.child.once('exit', (code) => resolve(code));
    });
  return {
    name,
    get process() {
      return current();
    },
    logs: () => [...earlier, proc?.logs() ?? ''].join('\n'),
    async start(opts = {}) {
      if (proc && !exited(proc)) throw new Error(`${name}-controller is running`);
      if (proc) earlier.push(proc.logs());
      proc = await startController(name, [...args(), ...(opts.args ?? [])], {
        kubeconfig: opts.kubeconfig,
        env: opts.env,
      });
    },
    async kill() {
      const p = current();
      const gone = waitExit(p);
      if (p.child.pid && !exited(p)) await killTree(p.child.pid);
      await gone;
    },
    async terminate() {
      const p = current();
      const code = waitExit(p);
      p.child.kill('SIGTERM');
      return code;
    },
    running: () => proc !== undefined && !exited(proc),
  };
}

/** A kubeconfig file like the test bed's admin one whose server is the given port on loopback. */
export async function kubeconfigVia(port: number): Promise<string> {
  const tb = testbed();
  const { readFile } = await import('node:fs/promises');
  const [ca, cert, key] = await Promise.all([
    readFile(tb.controlPlane.pki.caCert),
    readFile(tb.controlPlane.pki.adminCert),
    readFile(tb.controlPlane.pki.adminKey),
  ]);
  const file = join(await mkdtemp(join(tb.dir, 'kc-')), 'kubeconfig');
  await writeFile(file, kubeconfigYaml(`https://127.0.0.1:${port}`, ca, cert, key), { mode: 0o600 });
  return file;
}

/** A TCP relay to the test bed's API server (to slow or cut one controller's traffic) and its kubeconfig. */
export async function apiRelay(): Promise<{ relay: TcpProxy; kubeconfig: string }> {
  const server = new URL(testbed().controlPlane.server);
  const relay = await startTcpProxy(server.hostname, Number(server.port));
  return { relay, kubeconfig: await kubeconfigVia(relay.port) };
}

export interface ChaosEnv {
  ns(): string;
  client(): Client;
  source: Controller;
  kustomize: Controller;
  /** The source-controller's --storage-path and the port of its artifact server. */
  storagePath(): string;
  storagePort(): number;
  /** Prints the controllers' last log lines (failed tests). */
  dump(): void;
}

/**
 * Registers hooks: a namespace, the CRDs, and source- and kustomize-controller with short retry delays
 * (so convergence after a fault is not a backoff away) and a fixed artifact address. The controllers
 * are started by the hook unless `startControllers` is false; after the tests every Kustomization is
 * deleted while the kustomize-controller runs (its finalizer prunes), then both are stopped.
 */
export function useChaosEnv(
  prefix: string,
  opts: {
    sourceArgs?: string[];
    kustomizeArgs?: string[];
    startControllers?: boolean;
    /** The storage path to use (e.g. a small file system) instead of a fresh directory. */
    storage?: () => Promise<string>;
  } = {},
): ChaosEnv {
  let client: Client | undefined;
  let storage = '';
  let storagePort = 0;
  const common = ['--min-retry-delay=250ms', '--max-retry-delay=5s'];
  const source = controller('source', () => [
    `--storage-path=${storage}`,
    `--storage-addr=127.0.0.1:${storagePort}`,
    '--concurrent=4',
    ...common,
    ...(opts.sourceArgs ?? []),
  ]);
  let tools: { kustomize: string; sops: string } | undefined;
  const kustomize = controller('kustomize', () => [
    `--kustomize-path=${tools?.kustomize}`,
    `--sops-path=${tools?.sops}`,
    '--health-check-interval=1s',
    '--requeue-dependency=1s',
    '--concurrent=4',
    ...common,
    ...(opts.kustomizeArgs ?? []),
  ]);
  const c = () => {
    if (!client) throw new Error('useChaosEnv: before() has not run');
    return client;
  };

  after(async function () {
    this.timeout(120_000);
    if (client && ns()) {
      const kind = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', kind: 'Kustomization' };
      if (!kustomize.running()) await kustomize.start().catch(() => {});
      const list = await client.list(kind, { namespace: ns() }).catch(() => ({ items: [] }));
      await Promise.all(
        list.items.map((k) =>
          client?.delete({
            apiVersion: ksApiVersion,
            kind: 'Kustomization',
            namespace: ns(),
            name: k.metadata.name ?? '',
          }),
        ),
      );
      await poll('Kustomizations finalized', 60_000, async () =>
        (await c().list(kind, { namespace: ns() })).items.length === 0 ? true : undefined,
      ).catch((err: Error) => console.error(`cleanup: ${err.message}`));
    }
    for (const ctl of [kustomize, source]) {
      if (ctl.running()) await ctl.process.stop();
    }
  });
  const ns = useNamespace(prefix);
  before(async function () {
    this.timeout(120_000);
    const tb = testbed();
    await ensureCrds();
    client = createClient(tb.kubeconfig, { fieldManager: 'tide-test' });
    tools = await toolPaths(['kustomize', 'sops']);
    storage = opts.storage ? await opts.storage() : await mkdtemp(join(tb.dir, `${prefix}-storage-`));
    storagePort = await freePort();
    await client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-auth', namespace: ns() },
      stringData: { username: tb.git.username, password: tb.git.password },
    });
    if (opts.startControllers !== false) await Promise.all([source.start(), kustomize.start()]);
  });
  const env: ChaosEnv = {
    ns,
    client: c,
    source,
    kustomize,
    storagePath: () => storage,
    storagePort: () => storagePort,
    dump() {
      const tail = (ctl: Controller) => ctl.logs().split('\n').slice(-40).join('\n');
      console.error(
        `--- source-controller ---\n${tail(source)}\n--- kustomize-controller ---\n${tail(kustomize)}`,
      );
    },
  };
  afterEach(function () {
    if (this.currentTest?.state === 'failed') env.dump();
  });
  return env;
}

/** name → the value of data.rev the workload wants in the cluster. */
export type Desired = Record<string, string>;

export interface Workload {
  readonly name: string;
  readonly repo: WorkRepo;
  /** What the last commit asked for. */
  desired(): Desired;
  /** Commits `next` (replacing the whole set), asks the GitRepository to fetch it; returns the revision. */
  commit(next: Desired): Promise<string>;
  /** Objects of the workload in the cluster: name → { rev, uid }. */
  live(): Promise<Live>;
  /**
   * Waits until the Kustomization applied `revision` (Ready) and the cluster holds exactly the desired
   * objects with their data; returns the live objects.
   */
  converged(revision: string, timeoutMs?: number): Promise<Live>;
  kustomization(): Promise<Kustomization>;
}

export type Live = Map<string, { rev: string; uid: string }>;

/** The ConfigMaps a Kustomization applied (by its owner label): name → data.rev and uid. */
export async function liveWorkload(client: Client, ns: string, name: string): Promise<Live> {
  const list = await client.list(
    { group: '', version: 'v1', kind: 'ConfigMap' },
    { namespace: ns, labelSelector: `${ownerLabel}=${name}` },
  );
  return new Map(
    list.items.map((o) => [
      o.metadata.name ?? '',
      { rev: String((o as KubeObject & { data?: { rev?: string } }).data?.rev), uid: o.metadata.uid ?? '' },
    ]),
  );
}

/** ConfigMap names `<prefix>-00` … for a workload. */
export const names = (prefix: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(from + i).padStart(2, '0')}`);

/** Desired state: every name at rev. */
export const at = (list: string[], rev: string): Desired => Object.fromEntries(list.map((n) => [n, rev]));

const manifest = (ns: string, name: string, rev: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n  rev: "${rev}"\n  payload: "${'x'.repeat(512)}"\n`;

/**
 * A repository of ConfigMaps (one file each, under app/), its GitRepository and a Kustomization with
 * prune, all named `name`, in the env's namespace; resolves once the first revision is applied.
 */
export async function createWorkload(
  env: Pick<ChaosEnv, 'ns' | 'client'>,
  name: string,
  initial: Desired,
  opts: {
    gitUrl?: (url: string) => string;
    gitSpec?: Record<string, unknown>;
    ksSpec?: Record<string, unknown>;
    /** More files of the first commit (outside app/), e.g. a large one that makes the artifact big. */
    extraFiles?: Record<string, string>;
  } = {},
): Promise<Workload> {
  const ns = env.ns();
  const client = env.client();
  const repo = await createWorkRepo(`${name}-${process.pid}-${Date.now()}`);
  let desired: Desired = {};
  const files = (next: Desired) => {
    const out: Record<string, string | null> = {};
    for (const n of Object.keys(desired)) if (!(n in next)) out[`app/${n}.yaml`] = null;
    for (const [n, rev] of Object.entries(next)) out[`app/${n}.yaml`] = manifest(ns, n, rev);
    return out;
  };
  const gitRef = { apiVersion: gitApiVersion, kind: 'GitRepository', namespace: ns, name };
  const ksRef = { apiVersion: ksApiVersion, kind: 'Kustomization', namespace: ns, name };
  const waitArtifact = (revision: string) =>
    poll(
      `GitRepository ${name} at ${revision}`,
      120_000,
      async () => {
        const g = await client.get(gitRef);
        if (g.status?.artifact?.revision === revision) return g;
        throw new Error(`artifact ${g.status?.artifact?.revision}; Ready: ${condition(g, 'Ready')?.message}`);
      },
      500,
    );
  const live = () => liveWorkload(client, ns, name);
  let counter = 0;
  const workload: Workload = {
    name,
    repo,
    desired: () => ({ ...desired }),
    async commit(next) {
      const sha = await repo.commit(files(next), `workload ${++counter}`);
      desired = { ...next };
      await client
        .patch(gitRef, 'merge', { metadata: { annotations: { [requestedAt]: `commit-${sha}` } } })
        .catch(() => {}); // the API may be the fault under test: the interval catches up
      return `main@sha1:${sha}`;
    },
    live,
    converged: (revision, timeoutMs = 180_000) =>
      poll(
        `workload ${name} converged at ${revision}`,
        timeoutMs,
        async () => {
          const ks = await client.get<Kustomization>(ksRef);
          const ready = condition(ks, 'Ready');
          if (ks.status?.lastAppliedRevision !== revision || ready?.status !== 'True')
            throw new Error(
              `Kustomization at ${ks.status?.lastAppliedRevision}, Ready=${ready?.status}: ${ready?.message}`,
            );
          const objs = await live();
          const wrong = Object.entries(desired).filter(([n, rev]) => objs.get(n)?.rev !== rev);
          const extra = [...objs.keys()].filter((n) => !(n in desired));
          if (wrong.length || extra.length)
            throw new Error(
              `missing or stale: ${wrong.map(([n]) => n).join(',')}; not in Git: ${extra.join(',')}`,
            );
          return objs;
        },
        500,
      ),
    kustomization: () => client.get<Kustomization>(ksRef),
  };
  if (opts.extraFiles) await repo.commit(opts.extraFiles, 'extra files');
  const first = await workload.commit(initial);
  const url = opts.gitUrl ? opts.gitUrl(repo.url) : repo.url;
  await client.create({
    ...gitRef,
    metadata: { name, namespace: ns },
    spec: { url, interval: '10m', secretRef: { name: 'git-auth' }, ref: { branch: 'main' }, ...opts.gitSpec },
  } as KubeObject);
  await waitArtifact(first);
  await client.create({
    ...ksRef,
    metadata: { name, namespace: ns },
    spec: {
      interval: '10m',
      retryInterval: '2s',
      prune: true,
      path: './app',
      sourceRef: { kind: 'GitRepository', name },
      ...opts.ksSpec,
    },
  } as KubeObject);
  await workload.converged(first);
  return workload;
}

/** The uids of `keep` are the same in `after` as in `before`: those objects were never deleted. */
export function assertNotRecreated(
  before: Map<string, { uid: string }>,
  after: Map<string, { uid: string }>,
  keep: string[],
): void {
  const recreated = keep.filter((n) => before.get(n)?.uid !== after.get(n)?.uid);
  assert.deepEqual(recreated, [], 'objects that stayed in Git were deleted and created again');
}
