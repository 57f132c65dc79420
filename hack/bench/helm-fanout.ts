// Benchmark of the helm-controller fanning out: N HelmReleases (default 200) of one local chart,
// created at once, until all are Ready. Not a test: it prints the time to all Ready, the releases per
// minute, and the controller's peak memory (the node process's peak RSS, VmHWM, and the peak sampled
// RSS of its whole process tree, helm and post-renderer children included).
//
//   node hack/bench/helm-fanout.ts [releases=200] [concurrent=4]
//
// Reuses the control plane of $TIDE_TESTBED when set, else starts one in a temp dir and stops it at the
// end. The chart source is faked the way Flux's tests do it: a HelmChart whose status (Ready, artifact)
// is written here, its artifact served from a loopback file server, so no source-controller runs and
// every HelmRelease shares one chart (chartRef). The chart has a ConfigMap, a Secret and a Service,
// no Pods: kwok's one node takes 110.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createClient } from '../../controllers/runtime/client.ts';
import { loadChartFiles, writeChartArchive } from '../../controllers/runtime/helm/chart.ts';
import type { KubeObject } from '../../controllers/runtime/object.ts';
import { installCrds } from '../crds.ts';
import {
  type ControlPlaneState,
  readState,
  startControlPlane,
  stopControlPlane,
} from '../testbed/controlplane.ts';
import { freePort } from '../testbed/proc.ts';
import { hackDir, toolPaths } from '../testbed/tools.ts';

const releases = Number(process.argv[2] ?? 200);
const concurrent = Number(process.argv[3] ?? 4);

const chartFiles: Record<string, string> = {
  'Chart.yaml': 'apiVersion: v2\nname: fanout\nversion: 1.0.0\nappVersion: "1.0"\n',
  'values.yaml': 'message: hello\n',
  'templates/configmap.yaml':
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  message: {{ .Values.message | quote }}\n',
  'templates/secret.yaml':
    'apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\nstringData:\n  token: {{ .Release.Name | sha256sum | quote }}\n',
  'templates/service.yaml':
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n  selector:\n    app: {{ .Release.Name }}\n',
};

/** RSS in KiB of pid (VmRSS) and its peak (VmHWM), from /proc. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Every descendant of pid (from /proc), for the tree's RSS. */
async function descendants(pid: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  for (const [p] of parent) {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q)) {
      if (q === pid) {
        out.push(p);
        break;
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  const reuse = process.env.TIDE_TESTBED;
  const dir = await mkdtemp(join(tmpdir(), 'tide-bench-helm-'));
  let st: ControlPlaneState | undefined;
  const stops: (() => Promise<void> | void)[] = [];
  try {
    st = reuse ? await readState(reuse) : await startControlPlane({ dir: join(dir, 'cp') });
    if (!st) throw new Error(`no test bed in ${reuse}`);
    const kc = new KubeConfig();
    kc.loadFromFile(st.kubeconfig);
    const client = createClient(kc, { fieldManager: 'bench' });
    await installCrds(client);
    const namespace = `bench-helm-${process.pid}`;
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });

    // The chart artifact, served on loopback, and a HelmChart that says it has it.
    const archive = writeChartArchive(
      await loadChartFiles(
        Object.entries(chartFiles).map(([name, text]) => ({ name, data: Buffer.from(text) })),
      ),
    );
    const server = createServer((_req, res) => res.writeHead(200).end(archive));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fanout-1.0.0.tgz`;
    const chartRef = {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'HelmChart',
      namespace,
      name: 'fanout',
    };
    const chart = await client.create<KubeObject>({
      ...chartRef,
      metadata: { name: 'fanout', namespace },
      spec: { chart: 'fanout', sourceRef: { kind: 'HelmRepository', name: 'none' }, interval: '1h' },
    });
    await client.applyStatus(
      chartRef,
      {
        observedGeneration: chart.metadata.generation,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'ChartPullSucceeded',
            message: "pulled 'fanout' chart with version '1.0.0'",
            lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            observedGeneration: chart.metadata.generation,
          },
        ],
        artifact: {
          path: `helmchart/${namespace}/fanout/fanout-1.0.0.tgz`,
          url,
          revision: '1.0.0',
          digest: `sha256:${createHash('sha256').update(archive).digest('hex')}`,
          size: archive.length,
          lastUpdateTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      },
      { fieldManager: 'gotk-source-controller' },
    );

    const tools = await toolPaths(['helm', 'kustomize']);
    const log = join(dir, 'helm-controller.log');
    const { openSync } = await import('node:fs');
    const fd = openSync(log, 'a');
    const metricsPort = await freePort();
    const controller = spawn(
      process.execPath,
      [
        join(hackDir, '..', 'controllers', 'helm', 'main.ts'),
        `--metrics-addr=127.0.0.1:${metricsPort}`,
        '--health-addr=127.0.0.1:0',
        '--enable-leader-election=false',
        `--concurrent=${concurrent}`,
        `--helm-path=${tools.helm}`,
        `--kustomize-path=${tools.kustomize}`,
      ],
      { stdio: ['ignore', fd, fd], env: { ...process.env, KUBECONFIG: st.kubeconfig } },
    );
    stops.push(() => {
      controller.kill('SIGTERM');
    });
    const pid = controller.pid as number;

    let treePeak = 0;
    const sampler = setInterval(async () => {
      const kids = await descendants(pid);
      const rss = [pid, ...kids].reduce((n, p) => n + memoryOf(p).rss, 0);
      treePeak = Math.max(treePeak, rss);
    }, 250);
    stops.push(() => clearInterval(sampler));

    // The controller's footprint before any HelmRelease: started, informers synced.
    await new Promise((r) => setTimeout(r, 3000));
    const idle = memoryOf(pid);
    console.log(`helm-fanout: ${releases} HelmReleases, --concurrent=${concurrent}`);
    console.log(`  helm-controller idle RSS: ${(idle.rss / 1024).toFixed(0)} MiB`);
    const t0 = performance.now();
    const hr = (i: number) => ({
      apiVersion: 'helm.toolkit.fluxcd.io/v2',
      kind: 'HelmRelease',
      metadata: { name: `app-${i}`, namespace },
      spec: { interval: '1h', chartRef: { kind: 'HelmChart', name: 'fanout' }, values: { message: `m${i}` } },
    });
    for (let i = 0; i < releases; i += 20)
      await Promise.all(
        Array.from({ length: Math.min(20, releases - i) }, (_, j) => client.create(hr(i + j))),
      );
    const created = performance.now();

    let ready = 0;
    let failed = 0;
    let lastReport = 0;
    for (;;) {
      const list = await client.listAll(
        { group: 'helm.toolkit.fluxcd.io', version: 'v2', kind: 'HelmRelease' },
        { namespace },
      );
      const readyOf = (o: KubeObject) =>
        (o.status?.conditions as { type: string; status: string; reason: string }[] | undefined)?.find(
          (c) => c.type === 'Ready',
        );
      ready = list.items.filter((o) => readyOf(o)?.status === 'True').length;
      failed = list.items.filter(
        (o) => readyOf(o)?.status === 'False' && readyOf(o)?.reason !== 'Progressing',
      ).length;
      const now = performance.now();
      if (now - lastReport > 10_000) {
        console.log(`  ${((now - t0) / 1000).toFixed(0)}s: ${ready}/${releases} Ready, ${failed} failing`);
        lastReport = now;
      }
      if (ready === releases) break;
      if (controller.exitCode !== null)
        throw new Error(`helm-controller exited (${controller.exitCode}); log: ${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const seconds = (performance.now() - t0) / 1000;
    const own = memoryOf(pid);
    console.log(
      `all ${releases} Ready in ${seconds.toFixed(1)} s (created in ${((created - t0) / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  ${((releases / seconds) * 60).toFixed(0)} releases/min, ${((seconds * 1000) / releases).toFixed(0)} ms/release`,
    );
    console.log(
      `  helm-controller peak RSS (VmHWM): ${(own.hwm / 1024).toFixed(0)} MiB, now ${(own.rss / 1024).toFixed(0)} MiB`,
    );
    console.log(
      `  process tree peak RSS (sampled, helm children included): ${(treePeak / 1024).toFixed(0)} MiB`,
    );
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const gauge = (name: string) =>
      Number(new RegExp(`^${name} (\\S+)`, 'm').exec(metrics)?.[1] ?? 0) / 2 ** 20;
    console.log(
      `  heap used ${gauge('nodejs_heap_size_used_bytes').toFixed(0)} MiB of ${gauge('nodejs_heap_size_total_bytes').toFixed(0)} MiB, external ${gauge('nodejs_external_memory_bytes').toFixed(0)} MiB`,
    );

    // The steady state: a second pass over every release with nothing to do (no helm process).
    const before = Date.now();
    for (let i = 0; i < releases; i += 20)
      await Promise.all(
        Array.from({ length: Math.min(20, releases - i) }, (_, j) =>
          client.patch(
            { apiVersion: 'helm.toolkit.fluxcd.io/v2', kind: 'HelmRelease', namespace, name: `app-${i + j}` },
            'merge',
            { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': `bench-${before}` } } },
          ),
        ),
      );
    const t1 = performance.now();
    for (;;) {
      const list = await client.listAll(
        { group: 'helm.toolkit.fluxcd.io', version: 'v2', kind: 'HelmRelease' },
        { namespace },
      );
      if (list.items.every((o) => o.status?.lastHandledReconcileAt === `bench-${before}`)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(
      `  no-change reconcile of all ${releases}: ${((performance.now() - t1) / 1000).toFixed(1)} s`,
    );
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: namespace }).catch(() => {});
  } finally {
    for (const s of stops.reverse()) await s();
    if (!reuse && st) await stopControlPlane(st.dir);
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`helm-fanout: ${err.message}`);
    process.exit(1);
  },
);
