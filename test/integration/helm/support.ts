// What the helm-controller suites share: source- and helm-controller as processes, the demo and podinfo
// charts published to the test bed's chart server and OCI registry, HelmRelease helpers, and the pinned
// helm binary pointed at the test bed to read releases the way a user does (helm list/history/get).

import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import type { Condition } from '../../../controllers/api/meta.ts';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll, run } from '../../../hack/testbed/proc.ts';
import { toolPaths } from '../../../hack/testbed/tools.ts';
import { podinfoChartDir } from '../../support/charts.ts';
import { type ControllerProcess, startController } from '../../support/controllers.ts';
import { type SourceController, useSourceController } from '../../support/sources.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import { demoChart } from './fixtures.ts';

export const hrApiVersion = 'helm.toolkit.fluxcd.io/v2';
export const sourceApiVersion = 'source.toolkit.fluxcd.io/v1';

export const cond = (o: { status?: { conditions?: unknown } }, type: string) =>
  (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

/** `Ready=… reason: message` and the other conditions, for failure messages. */
export const describeHr = (o: HelmRelease) =>
  ((o.status?.conditions ?? []) as Condition[])
    .map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`)
    .join(' | ');

/** The pinned helm CLI against the test bed, as a user runs it (admin kubeconfig). */
export async function helmCli(): Promise<(args: string[]) => Promise<string>> {
  const bin = (await toolPaths(['helm'])).helm;
  const work = await mkdtemp(join(testbed().dir, 'helm-cli-'));
  const env = {
    ...process.env,
    KUBECONFIG: testbed().controlPlane.kubeconfig,
    HELM_CACHE_HOME: join(work, 'cache'),
    HELM_CONFIG_HOME: join(work, 'config'),
    HELM_DATA_HOME: join(work, 'data'),
  };
  return (args) => run(bin, args, { env });
}

export interface HelmHistoryEntry {
  revision: number;
  status: string;
  chart: string;
  app_version: string;
  description: string;
}

/** Published charts: a HelmRepository URL and an OCI repository for each chart. */
export interface ChartRepos {
  /** http URL of a classic chart repository (index.yaml). */
  httpUrl: string;
  /** `oci://host/charts` where the charts are pushed. */
  ociUrl: string;
  /** Packages `dir` (optionally as `version` and with values overridden) into both repositories. */
  publish(dir: string, opts?: { version?: string; values?: Record<string, unknown> }): Promise<void>;
}

/** A chart repository and OCI repository on the test bed for one suite. */
export async function chartRepos(prefix: string): Promise<ChartRepos> {
  const tb = testbed();
  const helm = await helmCli();
  const repoDir = join(tb.chartsDir, `${prefix}-${process.pid}`);
  await mkdir(repoDir, { recursive: true });
  const httpUrl = `${tb.charts.url}/${prefix}-${process.pid}`;
  const ociUrl = `oci://${tb.registry.host}/${prefix}-${process.pid}`;
  return {
    httpUrl,
    ociUrl,
    async publish(dir, opts = {}) {
      const work = await mkdtemp(join(tb.dir, 'chart-'));
      const src = join(work, 'src');
      await cp(dir, src, { recursive: true });
      if (opts.values) await writeFile(join(src, 'values.yaml'), dump(opts.values));
      const out = join(work, 'out');
      const args = ['package', src, '-d', out, ...(opts.version ? ['--version', opts.version] : [])];
      const packaged = (await helm(args)).trim().split(' ').pop() as string;
      await cp(packaged, join(repoDir, packaged.split('/').pop() as string));
      await helm(['repo', 'index', repoDir, '--url', httpUrl]);
      await helm(['push', packaged, ociUrl, '--plain-http']);
    },
  };
}

export interface HelmControllerHandle {
  readonly source: SourceController;
  readonly client: Client;
  readonly process: ControllerProcess;
  /** Starts the helm-controller again (after stop() or a kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs source-controller and helm-controller for the enclosing describe; prints the helm-controller's
 * last log lines when a test fails.
 */
export function useHelmController(args: string[] = []): HelmControllerHandle {
  const source = useSourceController(['--artifact-retention-ttl=1h']);
  let proc: ControllerProcess | undefined;
  const start = async () => {
    const tools = await toolPaths(['helm', 'kustomize']);
    proc = await startController('helm', [
      `--helm-path=${tools.helm}`,
      `--kustomize-path=${tools.kustomize}`,
      '--requeue-dependency=2s',
      ...args,
    ]);
  };
  before(start);
  after(async () => {
    await proc?.stop();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed' && proc)
      console.error(proc.logs().split('\n').slice(-40).join('\n'));
  });
  return {
    source,
    get client() {
      return source.client;
    },
    get process() {
      if (!proc) throw new Error('helm-controller is not started');
      return proc;
    },
    restart: start,
    stop: async () => {
      await proc?.stop();
    },
  };
}

export const hrRef = (ns: string, name: string) => ({
  apiVersion: hrApiVersion,
  kind: 'HelmRelease',
  namespace: ns,
  name,
});

export async function getHr(client: Client, ns: string, name: string): Promise<HelmRelease> {
  return client.get<HelmRelease & KubeObject>(hrRef(ns, name));
}

/** Waits until `test` holds for the HelmRelease (default 90s); the last state is in the error. */
export function waitHr(
  client: Client,
  ns: string,
  name: string,
  what: string,
  test: (o: HelmRelease) => boolean,
  timeoutMs = 90_000,
): Promise<HelmRelease> {
  return poll(`HelmRelease ${name} ${what}`, timeoutMs, async () => {
    const o = await getHr(client, ns, name);
    if (test(o)) return o;
    throw new Error(
      `${describeHr(o)}; history ${JSON.stringify(o.status?.history?.map((h) => `${h.version}:${h.status}`))}`,
    );
  });
}

/** Ready=True at the current generation (and `also`). */
export const waitReady = (
  client: Client,
  ns: string,
  name: string,
  also: (o: HelmRelease) => boolean = () => true,
) =>
  waitHr(
    client,
    ns,
    name,
    'Ready',
    (o) =>
      cond(o, ConditionTypes.Ready)?.status === 'True' &&
      o.status?.observedGeneration === o.metadata.generation &&
      also(o),
  );

/** The releases `helm history` shows. */
export async function helmHistory(helm: (a: string[]) => Promise<string>, ns: string, release: string) {
  return JSON.parse(await helm(['history', release, '-n', ns, '-o', 'json'])) as HelmHistoryEntry[];
}

export async function helmList(helm: (a: string[]) => Promise<string>, ns: string) {
  return JSON.parse(
    await helm([
      'list',
      '-n',
      ns,
      '-o',
      'json',
      ...['--deployed', '--failed', '--pending', '--superseded', '--uninstalled', '--uninstalling'],
    ]),
  ) as {
    name: string;
    namespace: string;
    revision: string;
    status: string;
    chart: string;
  }[];
}

/** Merge-patches the HelmRelease spec, as `kubectl edit` would. */
export const patchHrSpec = (client: Client, ns: string, name: string, spec: unknown) =>
  client.patch(hrRef(ns, name), 'merge', { spec });

export const podinfoDir = () => podinfoChartDir();

export function assertHistory(entries: HelmHistoryEntry[], expected: [number, string][]) {
  assert.deepEqual(
    entries.map((e) => [e.revision, e.status]),
    expected,
    `helm history: ${JSON.stringify(entries.map((e) => [e.revision, e.status, e.description]))}`,
  );
}

/** The Kubernetes Events about one object of a namespace, oldest first. */
export async function eventsOf(client: Client, ns: string, name: string) {
  const list = await client.list<KubeObject & { reason?: string; message?: string }>(
    { group: '', version: 'v1', kind: 'Event' },
    { namespace: ns },
  );
  return list.items
    .filter((e) => (e.involvedObject as { name?: string } | undefined)?.name === name)
    .map((e) => ({ reason: e.reason ?? '', message: e.message ?? '' }));
}

/** Sets reconcile.fluxcd.io/requestedAt (and other annotations), as `flux reconcile` does. */
export const annotateHr = (client: Client, ns: string, name: string, annotations: Record<string, string>) =>
  client.patch(hrRef(ns, name), 'merge', { metadata: { annotations } });

export interface DemoSuite {
  readonly ns: () => string;
  readonly hc: HelmControllerHandle;
  /** The pinned helm CLI (once the suite's before hook ran). */
  helm(args: string[]): Promise<string>;
  /** Creates a HelmRelease of the demo chart from the suite's HelmRepository `charts`, with `spec` over it. */
  create(name: string, spec?: Partial<HelmRelease['spec']>): Promise<unknown>;
}

/**
 * A describe block's namespace, controllers, and the demo chart published (by `publish`, default the
 * demo chart as it is) to a chart repository that a HelmRepository `charts` in the namespace serves.
 */
export function useDemoSuite(
  prefix: string,
  opts: { timeout?: string; chartVersion?: string; publish?: (repos: ChartRepos) => Promise<void> } = {},
): DemoSuite {
  const ns = useNamespace(`hr-${prefix}`);
  const hc = useHelmController();
  let helm: ((a: string[]) => Promise<string>) | undefined;
  before(async () => {
    helm = await helmCli();
    const repos = await chartRepos(prefix);
    await (opts.publish ? opts.publish(repos) : repos.publish(await demoChart()));
    await hc.client.create({
      apiVersion: sourceApiVersion,
      kind: 'HelmRepository',
      metadata: { name: 'charts', namespace: ns() },
      spec: { url: repos.httpUrl, interval: '10m' },
    });
  });
  return {
    ns,
    hc,
    helm: (args) => {
      if (!helm) throw new Error('the suite has not started');
      return helm(args);
    },
    create: (name, spec = {}) =>
      hc.client.create({
        apiVersion: hrApiVersion,
        kind: 'HelmRelease',
        metadata: { name, namespace: ns() },
        spec: {
          interval: '10m',
          timeout: opts.timeout ?? '30s',
          chart: {
            spec: {
              chart: 'demo',
              ...(opts.chartVersion ? { version: opts.chartVersion } : {}),
              sourceRef: { kind: 'HelmRepository', name: 'charts', namespace: ns() },
            },
          },
          ...spec,
        },
      }),
  };
}
