// More of the HelmRelease spec, with source- and helm-controller as processes on the test bed: the
// HelmChart follows the template (version range, valuesFiles) and CRDs are replaced with crds
// CreateReplace; the forceAt and resetAt annotations; suspend; serviceAccountName impersonation; and a
// release on another cluster through kubeConfig.

import assert from 'node:assert/strict';
import { Annotations, ConditionTypes, Labels } from '../../../controllers/api/names.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { useSecondCluster } from '../../support/secondcluster.ts';
import { DEMO_CHART, demoChart } from './fixtures.ts';
import {
  annotateHr,
  cond,
  helmHistory,
  helmList,
  patchHrSpec,
  sourceApiVersion,
  useDemoSuite,
  waitHr,
  waitReady,
} from './support.ts';

describe('helm-controller: more of the spec', function () {
  this.timeout(300_000);
  const { ns, hc, helm, create } = useDemoSuite('spec', {
    chartVersion: '0.1.0',
    publish: async (repos) => {
      await repos.publish(await demoChart());
      // 0.2.0: a values file besides values.yaml, and a CRD that changed (a short name).
      const crd = DEMO_CHART['crds/widgets.yaml'] ?? '';
      await repos.publish(
        await demoChart({
          'values-prod.yaml': 'message: prod\n',
          'crds/widgets.yaml': crd.replace(
            '    singular: widget\n',
            '    singular: widget\n    shortNames: [wdg]\n',
          ),
        }),
        { version: '0.2.0' },
      );
    },
  });
  const second = useSecondCluster();
  const annotate = (name: string, annotations: Record<string, string>) =>
    annotateHr(hc.client, ns(), name, annotations);
  const message = async (name: string, namespace = ns()) =>
    (
      (await hc.client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name })).data as Record<
        string,
        string
      >
    ).message;

  it('keeps the HelmChart in step with the template and replaces CRDs with crds CreateReplace', async () => {
    await create('tpl');
    await waitReady(hc.client, ns(), 'tpl');
    const chartRef = {
      apiVersion: sourceApiVersion,
      kind: 'HelmChart',
      namespace: ns(),
      name: `${ns()}-tpl`,
    };
    const before = await hc.client.get(chartRef);
    assert.equal(before.spec?.version, '0.1.0');
    assert.equal(before.metadata.labels?.[Labels.helmName], 'tpl');

    await patchHrSpec(hc.client, ns(), 'tpl', {
      chart: {
        spec: {
          chart: 'demo',
          version: '0.2.x',
          valuesFiles: ['values.yaml', 'values-prod.yaml'],
          interval: '7m',
          sourceRef: { kind: 'HelmRepository', name: 'charts', namespace: ns() },
        },
      },
      upgrade: { crds: 'CreateReplace' },
    });
    // With valuesFiles the source-controller adds the HelmChart's generation as build metadata, as Flux.
    const hr = await waitReady(hc.client, ns(), 'tpl', (o) =>
      /^0\.2\.0\+\d+$/.test(o.status?.lastAttemptedRevision ?? ''),
    );
    const after = await hc.client.get(chartRef);
    assert.deepEqual(
      [after.spec?.version, after.spec?.valuesFiles, after.spec?.interval],
      ['0.2.x', ['values.yaml', 'values-prod.yaml'], '7m'],
    );
    assert.equal(hr.status?.history?.[0]?.chartVersion, hr.status?.lastAttemptedRevision);
    assert.equal(await message('tpl-config'), 'prod', "the chart's values files are merged");
    const crd = await hc.client.get({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'widgets.demo.tide.dev',
    });
    assert.deepEqual(crd.spec?.names?.shortNames, ['wdg'], 'the CRD was replaced');
  });

  it('forceAt runs an upgrade with nothing changed; resetAt retries a release out of retries', async () => {
    await create('forced', { values: { message: 'same' } });
    await waitReady(hc.client, ns(), 'forced');
    await annotate('forced', {
      [Annotations.reconcileRequestedAt]: 'f1',
      [Annotations.reconcileForceAt]: 'f1',
    });
    const hr = await waitReady(hc.client, ns(), 'forced', (o) => o.status?.history?.[0]?.version === 2);
    assert.equal(hr.status?.lastHandledForceAt, 'f1');
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');
    // Handled once: another reconcile request does not force again.
    await annotate('forced', { [Annotations.reconcileRequestedAt]: 'f2' });
    await waitHr(hc.client, ns(), 'forced', 'handled', (o) => o.status?.lastHandledReconcileAt === 'f2');
    assert.equal((await helmHistory(helm, ns(), 'forced')).length, 2);

    await create('reset', { values: { failingHook: true } });
    const stalled = await waitHr(
      hc.client,
      ns(),
      'reset',
      'stalled',
      (o) => cond(o, ConditionTypes.Stalled)?.status === 'True',
    );
    assert.equal(cond(stalled, ConditionTypes.Stalled)?.message, 'Failed to install after 1 attempt(s)');
    const attempts = (await helmHistory(helm, ns(), 'reset')).length;
    await annotate('reset', {
      [Annotations.reconcileRequestedAt]: 'r1',
      [Annotations.reconcileResetAt]: 'r1',
    });
    const retried = await waitHr(
      hc.client,
      ns(),
      'reset',
      'retried',
      (o) => o.status?.lastHandledResetAt === 'r1' && o.status?.lastHandledReconcileAt === 'r1',
    );
    assert.equal(
      cond(retried, ConditionTypes.Released)?.reason,
      'UpgradeFailed',
      'the failed release was upgraded again',
    );
    assert.equal((await helmHistory(helm, ns(), 'reset')).length, attempts + 1);
  });

  it('does nothing while suspended', async () => {
    await create('paused', { values: { message: 'v1' } });
    await waitReady(hc.client, ns(), 'paused');
    await patchHrSpec(hc.client, ns(), 'paused', { suspend: true });
    await patchHrSpec(hc.client, ns(), 'paused', { values: { message: 'v2' } });
    await annotate('paused', { [Annotations.reconcileRequestedAt]: 'p1' });
    // The controller would have upgraded by the time a later object is reconciled.
    await create('after-pause');
    await waitReady(hc.client, ns(), 'after-pause');
    assert.equal((await helmHistory(helm, ns(), 'paused')).length, 1);
    assert.equal(await message('paused-config'), 'v1');
    await patchHrSpec(hc.client, ns(), 'paused', { suspend: false });
    await waitReady(hc.client, ns(), 'paused', (o) => o.status?.history?.[0]?.version === 2);
    assert.equal(await message('paused-config'), 'v2');
  });

  it('acts as spec.serviceAccountName', async () => {
    const sa = (name: string) =>
      hc.client.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns() } });
    await sa('deployer');
    await sa('nobody');
    await hc.client.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer-edit', namespace: ns() },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns() }],
    });
    // Cluster-scoped CRDs are out of a namespace admin's reach: skip them.
    await create('as-deployer', { serviceAccountName: 'deployer', install: { crds: 'Skip' } });
    const ok = await waitReady(hc.client, ns(), 'as-deployer');
    assert.equal(cond(ok, ConditionTypes.Ready)?.reason, 'InstallSucceeded');
    await create('as-nobody', { serviceAccountName: 'nobody', install: { crds: 'Skip' } });
    const denied = await waitHr(hc.client, ns(), 'as-nobody', 'denied', (o) =>
      /forbidden/.test(cond(o, ConditionTypes.Ready)?.message ?? ''),
    );
    assert.match(cond(denied, ConditionTypes.Ready)?.message ?? '', /system:serviceaccount:.*:nobody/);
    assert.deepEqual(await helmList(helm, ns()).then((l) => l.filter((r) => r.name === 'as-nobody')), []);
  });

  it('releases to another cluster through kubeConfig', async () => {
    await hc.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'remote', namespace: ns() },
      stringData: { value: second().kubeconfigYaml },
    });
    const remoteNs = `remote-${process.pid}`;
    // The Helm storage goes to the HelmRelease's namespace on the remote cluster, which must exist there.
    await second().client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns() } });
    await create('remote', {
      kubeConfig: { secretRef: { name: 'remote' } },
      targetNamespace: remoteNs,
      install: { createNamespace: true },
      values: { message: 'over there' },
    });
    const hr = await waitReady(hc.client, ns(), 'remote');
    assert.equal(hr.status?.storageNamespace, ns());
    const cm = await poll('remote ConfigMap', 30_000, () =>
      second().client.tryGet({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: remoteNs,
        name: `${remoteNs}-remote-config`,
      }),
    );
    assert.equal((cm.data as Record<string, string>).message, 'over there');
    // The storage is on the remote cluster too, in the HelmRelease's namespace there.
    const storage = await second().client.list(
      { group: '', version: 'v1', kind: 'Secret' },
      { namespace: ns(), labelSelector: 'owner=helm' },
    );
    assert.equal(storage.items.length, 1);
    assert.equal(
      await hc.client.tryGet({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: remoteNs,
        name: `${remoteNs}-remote-config`,
      }),
      undefined,
    );
  });
});
