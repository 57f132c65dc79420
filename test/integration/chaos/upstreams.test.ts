// The servers Tide pulls from fail: the Git server, the OCI registry and the Helm chart repository are
// each down, answering 500, and answering slower than the source's spec.timeout, through a relay in
// front of them. Meanwhile a new revision is published: the source says why it cannot fetch it
// (Ready=False, FetchFailed), keeps serving its last artifact, and what was applied from it stays; once
// the server is back, the new revision is fetched and applied.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Artifact } from '../../../controllers/api/meta.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { pushArtifact } from '../../../controllers/runtime/oci/artifact.ts';
import { createRegistryClient, type RegistryClient } from '../../../controllers/runtime/oci/client.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { publishChart } from '../../support/charts.ts';
import { type FaultMode, type FaultProxy, startFaultProxy } from '../../support/faults.ts';
import { testbed } from '../../support/testbed.ts';
import { demoChart } from '../helm/fixtures.ts';
import { makeTarGz } from '../oci/fixtures.ts';
import { at, condition, createWorkload, liveWorkload, names, useChaosEnv, type Workload } from './support.ts';

const faults: { mode: FaultMode; message: RegExp }[] = [
  { mode: 'down', message: /connection refused|ECONNREFUSED/i },
  { mode: 'error', message: /500/ },
  { mode: 'slow', message: /time(d)? ?out/i },
];
const timeout = '2s';
const slowMs = 8_000;

type Source = KubeObject & { status?: { artifact?: Artifact; conditions?: unknown } };

/** GETs the artifact URL and checks the bytes are the recorded ones. */
async function assertServed(artifact: Artifact): Promise<void> {
  const res = await fetch(artifact.url);
  assert.equal(res.status, 200, `the last artifact is still served (${artifact.url})`);
  const digest = `sha256:${createHash('sha256')
    .update(Buffer.from(await res.arrayBuffer()))
    .digest('hex')}`;
  assert.equal(digest, artifact.digest);
}

describe('chaos: Git server, registry and chart repository failing', function () {
  this.timeout(400_000);
  const env = useChaosEnv('chaos-up');
  const proxies: FaultProxy[] = [];
  let token = 0;

  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
  });

  const src = (kind: string, name: string) => ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind,
    namespace: env.ns(),
    name,
  });
  const request = (ref: ReturnType<typeof src>) =>
    env.client().patch(ref, 'merge', {
      metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': `t${++token}` } },
    });

  /**
   * With the proxy in `mode` and a new revision published, the source fails with `message`, keeps its
   * artifact (still served); back to normal, it reaches a new artifact, returned.
   */
  async function survive(
    proxy: FaultProxy,
    ref: ReturnType<typeof src>,
    fault: (typeof faults)[number],
    publish: () => Promise<void>,
    /** Checks made while the fault lasts. */
    during: () => Promise<void> = async () => {},
  ): Promise<{ before: Artifact; after: Artifact; message: string }> {
    const before = (await env.client().get<Source>(ref)).status?.artifact;
    assert.ok(before, 'an artifact before the fault');
    await publish();
    await proxy.set(fault.mode, { slowMs });
    await request(ref);
    const failed = await poll(
      `${ref.kind} ${ref.name} failing (${fault.mode})`,
      120_000,
      async () => {
        const o = await env.client().get<Source>(ref);
        const ready = condition(o, 'Ready');
        if (ready?.status === 'False' && fault.message.test(ready.message)) return o;
        throw new Error(`Ready=${ready?.status}: ${ready?.message}`);
      },
      500,
    );
    const message = condition(failed, 'Ready')?.message ?? '';
    assert.equal(condition(failed, 'FetchFailed')?.status, 'True', message);
    assert.deepEqual(failed.status?.artifact?.revision, before.revision, 'the last artifact is kept');
    await assertServed(before);
    await during();
    await proxy.set('pass');
    await request(ref);
    const recovered = await poll(
      `${ref.kind} ${ref.name} recovered`,
      120_000,
      async () => {
        const o = await env.client().get<Source>(ref);
        const a = o.status?.artifact;
        if (condition(o, 'Ready')?.status === 'True' && a && a.revision !== before.revision) return a;
        throw new Error(`Ready: ${condition(o, 'Ready')?.message}`);
      },
      500,
    );
    return { before, after: recovered, message };
  }

  describe('the Git server', () => {
    let proxy: FaultProxy;
    let work: Workload;
    const items = names('git', 20);
    before(async () => {
      proxy = await startFaultProxy(testbed().git.url);
      proxies.push(proxy);
      work = await createWorkload(env, 'git', at(items, 'r0'), {
        gitUrl: (url) => url.replace(testbed().git.url, proxy.url),
        gitSpec: { timeout },
      });
    });

    for (const fault of faults) {
      it(`is ${fault.mode}: FetchFailed, nothing applied changes; then the new commit is applied`, async () => {
        const before = await work.live();
        let revision = '';
        const { message } = await survive(
          proxy,
          src('GitRepository', 'git'),
          fault,
          async () => {
            revision = await work.commit(at(items, `r-${fault.mode}`));
          },
          async () => assert.deepEqual(await work.live(), before, 'nothing applied changed during the fault'),
        );
        assert.doesNotMatch(message, new RegExp(testbed().git.password), 'no credential in the message');
        await work.converged(revision);
      });
    }
  });

  describe('the OCI registry', () => {
    let proxy: FaultProxy;
    let oci: RegistryClient;
    const repository = `chaos/${process.pid}/manifests`;
    const items = names('oci', 10);
    const live = () => liveWorkload(env.client(), env.ns(), 'oci');
    const appliedAt = (rev: string) =>
      poll(`the OCI artifact applied at ${rev}`, 120_000, async () => {
        const l = await live();
        return items.every((n) => l.get(n)?.rev === rev) ? true : undefined;
      });
    const push = async (rev: string) => {
      const files = Object.fromEntries(
        items.map((n) => [
          `${n}.yaml`,
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${n}\n  namespace: ${env.ns()}\ndata:\n  rev: "${rev}"\n`,
        ]),
      );
      await pushArtifact(oci, repository, { layer: await makeTarGz(files), tags: ['latest'] });
    };
    before(async () => {
      proxy = await startFaultProxy(testbed().registry.url);
      proxies.push(proxy);
      oci = createRegistryClient({ registry: testbed().registry.host, insecure: true });
      await push('r0');
      await env.client().create({
        ...src('OCIRepository', 'oci'),
        metadata: { name: 'oci', namespace: env.ns() },
        spec: {
          url: `oci://${proxy.host}/${repository}`,
          ref: { tag: 'latest' },
          insecure: true,
          interval: '10m',
          timeout,
        },
      } as KubeObject);
      await env.client().create({
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'oci', namespace: env.ns() },
        spec: { interval: '10m', prune: true, path: './', sourceRef: { kind: 'OCIRepository', name: 'oci' } },
      } as KubeObject);
      await appliedAt('r0');
    });
    after(async () => {
      await oci?.close();
    });

    for (const fault of faults) {
      it(`is ${fault.mode}: FetchFailed, nothing applied changes; then the new tag is applied`, async () => {
        const before = await live();
        await survive(
          proxy,
          src('OCIRepository', 'oci'),
          fault,
          () => push(`r-${fault.mode}`),
          async () => assert.deepEqual(await live(), before, 'nothing applied changed during the fault'),
        );
        await appliedAt(`r-${fault.mode}`);
      });
    }
  });

  describe('the Helm chart repository', () => {
    let proxy: FaultProxy;
    let chartDir: string;
    let version = 0;
    const repo = `chaos-${process.pid}`;
    const publish = () => publishChart(chartDir, { repo, version: `1.0.${++version}` });
    before(async () => {
      proxy = await startFaultProxy(testbed().charts.url);
      proxies.push(proxy);
      chartDir = await demoChart();
      const { repoUrl } = await publish();
      await env.client().create({
        ...src('HelmRepository', 'charts'),
        metadata: { name: 'charts', namespace: env.ns() },
        spec: { url: repoUrl.replace(testbed().charts.url, proxy.url), interval: '10m', timeout },
      } as KubeObject);
      await env.client().create({
        ...src('HelmChart', 'demo'),
        metadata: { name: 'demo', namespace: env.ns() },
        spec: {
          chart: 'demo',
          version: '1.0.x',
          sourceRef: { kind: 'HelmRepository', name: 'charts' },
          interval: '10m',
        },
      } as KubeObject);
      await poll('HelmChart ready', 120_000, async () => {
        const o = await env.client().get<Source>(src('HelmChart', 'demo'));
        return condition(o, 'Ready')?.status === 'True' ? o : undefined;
      });
    });

    for (const fault of faults) {
      it(`is ${fault.mode}: FetchFailed, the chart stays; then the new chart version is pulled`, async () => {
        const chart = src('HelmChart', 'demo');
        const chartBefore = (await env.client().get<Source>(chart)).status?.artifact;
        await survive(proxy, src('HelmRepository', 'charts'), fault, async () => {
          await publish();
        });
        assert.ok(chartBefore);
        await assertServed(chartBefore);
        await request(chart);
        await poll('the HelmChart pulls the new version', 120_000, async () => {
          const o = await env.client().get<Source>(chart);
          return o.status?.artifact?.revision === `1.0.${version}` ? true : undefined;
        });
      });
    }
  });
});
