// helm-controller against changes in the cluster, as processes on the test bed: a manual edit of a
// released object is reported with driftDetection warn and reverted with enabled; a controller killed
// during an upgrade leaves the release pending, and the next controller unlocks and finishes it; a
// release made by hand with `helm install` is taken over; a release installs into targetNamespace with
// its storage in storageNamespace, post-rendered (kustomize patches, images, commonMetadata).

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Annotations, ConditionTypes, Labels } from '../../../controllers/api/names.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { demoChart } from './fixtures.ts';
import {
  annotateHr,
  assertHistory,
  cond,
  eventsOf,
  helmHistory,
  helmList,
  patchHrSpec,
  useDemoSuite,
  waitHr,
  waitReady,
} from './support.ts';

/** The pids of a process and all its descendants (from /proc), to kill a controller like a pod dies. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

describe('helm-controller: the release in the cluster', function () {
  this.timeout(300_000);
  let chartDir: string;
  const { ns, hc, helm, create } = useDemoSuite('cluster', {
    publish: async (repos) => {
      chartDir = await demoChart();
      await repos.publish(chartDir);
    },
  });
  const requestReconcile = (name: string, token: string) =>
    annotateHr(hc.client, ns(), name, { [Annotations.reconcileRequestedAt]: token });
  const configMap = (name: string) =>
    hc.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name });
  const editConfigMap = (name: string, message: string) =>
    hc.client.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name },
      'merge',
      { data: { message } },
      {
        fieldManager: 'kubectl-edit',
      },
    );

  it('reports a manual edit with driftDetection warn and reverts it with enabled', async () => {
    await create('drifty', { values: { message: 'desired' }, driftDetection: { mode: 'warn' } });
    const ready = await waitReady(hc.client, ns(), 'drifty');
    assert.equal(cond(ready, ConditionTypes.Drifted)?.reason, 'NoDriftDetected');

    await editConfigMap('drifty-config', 'edited by hand');
    await requestReconcile('drifty', 'warn-1');
    const warned = await waitHr(
      hc.client,
      ns(),
      'drifty',
      'drift reported',
      (o) => cond(o, ConditionTypes.Drifted)?.status === 'True',
    );
    assert.equal(cond(warned, ConditionTypes.Drifted)?.reason, 'DriftDetected');
    assert.match(
      cond(warned, ConditionTypes.Drifted)?.message ?? '',
      new RegExp(`has drifted from the desired state:\\nConfigMap/${ns()}/drifty-config changed`),
    );
    assert.equal(cond(warned, ConditionTypes.Ready)?.status, 'True', 'warn mode only reports');
    assert.equal(
      ((await configMap('drifty-config')).data as Record<string, string>).message,
      'edited by hand',
    );
    assertHistory(await helmHistory(helm, ns(), 'drifty'), [[1, 'deployed']]);

    await patchHrSpec(hc.client, ns(), 'drifty', { driftDetection: { mode: 'enabled' } });
    const fixed = await waitReady(
      hc.client,
      ns(),
      'drifty',
      (o) => cond(o, ConditionTypes.Drifted)?.status === 'False',
    );
    assert.equal(cond(fixed, ConditionTypes.Drifted)?.reason, 'NoDriftDetected');
    assert.equal(((await configMap('drifty-config')).data as Record<string, string>).message, 'desired');
    assertHistory(await helmHistory(helm, ns(), 'drifty'), [[1, 'deployed']]);
    const corrected = (await eventsOf(hc.client, ns(), 'drifty')).find((e) => e.reason === 'DriftCorrected');
    assert.match(corrected?.message ?? '', new RegExp(`ConfigMap/${ns()}/drifty-config configured`));

    // Ignore rules leave a field out of drift detection.
    await patchHrSpec(hc.client, ns(), 'drifty', {
      driftDetection: {
        mode: 'enabled',
        ignore: [{ paths: ['/data/message'], target: { kind: 'ConfigMap' } }],
      },
    });
    await waitReady(hc.client, ns(), 'drifty');
    await editConfigMap('drifty-config', 'ignored edit');
    await requestReconcile('drifty', 'ignored');
    await waitHr(hc.client, ns(), 'drifty', 'handled', (o) => o.status?.lastHandledReconcileAt === 'ignored');
    assert.equal(((await configMap('drifty-config')).data as Record<string, string>).message, 'ignored edit');
  });

  it('unlocks a release left pending-upgrade by a killed controller and finishes the upgrade', async () => {
    await create('killed', { values: { message: 'v1' }, timeout: '5m' });
    await waitReady(hc.client, ns(), 'killed');
    // The upgrade waits for a Deployment that cannot become ready: the controller is killed meanwhile.
    await patchHrSpec(hc.client, ns(), 'killed', { values: { message: 'v2', unschedulable: true } });
    await poll('release pending-upgrade', 60_000, async () => {
      const h = await helmHistory(helm, ns(), 'killed');
      return h.some((r) => r.status === 'pending-upgrade') ? h : undefined;
    });
    const pid = hc.process.child.pid as number;
    for (const p of processTree(pid).reverse()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await poll('controller gone', 10_000, async () =>
      hc.process.child.exitCode !== null || hc.process.child.signalCode ? true : undefined,
    );
    assert.ok(
      (await helmHistory(helm, ns(), 'killed')).some((r) => r.status === 'pending-upgrade'),
      'left pending',
    );

    // The values are fixed while the controller is down; the next controller unlocks and upgrades.
    await patchHrSpec(hc.client, ns(), 'killed', { values: { message: 'v3', unschedulable: false } });
    await hc.restart();
    const hr = await waitReady(hc.client, ns(), 'killed', (o) => o.status?.history?.[0]?.version === 3);
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');
    const history = await helmHistory(helm, ns(), 'killed');
    assert.deepEqual(
      history.map((h) => [h.revision, h.status]),
      [
        [1, 'superseded'],
        [2, 'failed'],
        [3, 'deployed'],
      ],
    );
    assert.equal(history[1]?.description, "Release unlocked from stale 'pending-upgrade' state");
    assert.ok(!history.some((h) => h.status.startsWith('pending')));
  });

  it('takes over a release installed by hand with helm install', async () => {
    await helm(['install', 'manual', chartDir, '-n', ns(), '--skip-crds', '--set', 'message=by-hand']);
    assertHistory(await helmHistory(helm, ns(), 'manual'), [[1, 'deployed']]);
    await create('manual', { values: { message: 'by-tide' } });
    const hr = await waitReady(hc.client, ns(), 'manual');
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');
    assertHistory(await helmHistory(helm, ns(), 'manual'), [
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
    assert.equal(((await configMap('manual-config')).data as Record<string, string>).message, 'by-tide');
  });

  it('installs into targetNamespace with the storage in storageNamespace, post-rendered', async () => {
    const target = `${ns()}-target`;
    const storage = `${ns()}-storage`;
    await hc.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: storage } });
    await create('placed', {
      targetNamespace: target,
      storageNamespace: storage,
      install: { createNamespace: true },
      commonMetadata: { labels: { team: 'blue' }, annotations: { owner: 'tide' } },
      postRenderers: [
        {
          kustomize: {
            images: [{ name: 'registry.example/demo', newTag: '2.0' }],
            patches: [
              {
                target: { kind: 'ConfigMap' },
                patch: '[{"op": "add", "path": "/data/patched", "value": "yes"}]',
              },
            ],
          },
        },
      ],
    });
    const hr = await waitReady(hc.client, ns(), 'placed');
    const release = `${target}-placed`;
    assert.equal(hr.status?.history?.[0]?.name, release);
    assert.equal(hr.status?.history?.[0]?.namespace, target);
    assert.equal(hr.status?.storageNamespace, storage);
    const listed = await helmList(helm, storage);
    assert.deepEqual(
      listed.map((r) => [r.name, r.namespace, r.status]),
      [[release, target, 'deployed']],
      'helm list -n <storageNamespace> shows the release in the target namespace',
    );
    assert.deepEqual(await helmList(helm, target), [], 'no storage in the target namespace');
    const cm = await hc.client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: target,
      name: `${release}-config`,
    });
    assert.equal((cm.data as Record<string, string>).patched, 'yes');
    assert.equal(cm.metadata.labels?.team, 'blue');
    assert.equal(cm.metadata.annotations?.owner, 'tide');
    assert.equal(cm.metadata.labels?.[Labels.helmNamespace], ns());
    const deploy = await hc.client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: target,
      name: `${release}-app`,
    });
    assert.equal(deploy.spec?.template?.spec?.containers?.[0]?.image, 'registry.example/demo:2.0');
    // The chart's CRD was created (install crds: Create) with the origin labels.
    const crd = await hc.client.get({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'widgets.demo.tide.dev',
    });
    assert.ok(crd.metadata.labels?.[Labels.helmName], 'origin labels on the CRD');
  });
});
