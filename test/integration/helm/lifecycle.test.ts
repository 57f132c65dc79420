// helm-controller as a process with source-controller: a chart from a HelmRepository is installed
// (helm list/history show the release), values from a ConfigMap upgrade it when they change and only
// then, a HelmRelease depending on another waits for it, and deleting a HelmRelease uninstalls its
// release (keeping history when asked).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { HelmRelease } from '../../../controllers/api/helm.ts';
import { Annotations, ConditionTypes, Labels } from '../../../controllers/api/names.ts';
import type { Client } from '../../../controllers/runtime/client.ts';
import { poll, run } from '../../../hack/testbed/proc.ts';
import { testbed } from '../../support/testbed.ts';
import {
  assertHistory,
  cond,
  getHr,
  helmHistory,
  helmList,
  hrRef,
  sourceApiVersion,
  useDemoSuite,
  waitHr,
  waitReady,
} from './support.ts';

const cliMain = join(import.meta.dirname, '../../../controllers/cli/main.ts');

const waitGone = (client: Client, ref: ReturnType<typeof hrRef>) =>
  poll(`${ref.name} deleted`, 90_000, async () => ((await client.tryGet(ref)) ? undefined : true));

describe('helm-controller: release lifecycle', function () {
  this.timeout(240_000);
  const { ns, hc, helm, create } = useDemoSuite('life', { timeout: '60s' });

  it('installs the chart from a HelmRepository; helm list and history show the release', async () => {
    await create('app', { values: { message: 'first' } });
    const hr = await waitReady(hc.client, ns(), 'app');
    assert.equal(cond(hr, ConditionTypes.Ready)?.reason, 'InstallSucceeded');
    assert.equal(cond(hr, ConditionTypes.Released)?.reason, 'InstallSucceeded');
    assert.match(
      cond(hr, ConditionTypes.Ready)?.message ?? '',
      new RegExp(`Helm install succeeded for release ${ns()}/app.v1 with chart demo@0.1.0`),
    );
    assert.equal(hr.status?.helmChart, `${ns()}/${ns()}-app`);
    assert.equal(hr.status?.storageNamespace, ns());
    assert.equal(hr.status?.lastAttemptedRevision, '0.1.0');
    assert.equal(hr.status?.history?.[0]?.status, 'deployed');
    assert.equal(hr.status?.history?.[0]?.chartName, 'demo');

    const list = await helmList(helm, ns());
    assert.deepEqual(
      list.map((r) => [r.name, r.status, r.chart]),
      [['app', 'deployed', 'demo-0.1.0']],
    );
    assertHistory(await helmHistory(helm, ns(), 'app'), [[1, 'deployed']]);
    assert.equal(
      (await helm(['get', 'values', 'app', '-n', ns(), '-o', 'json'])).trim(),
      '{"message":"first"}',
    );
    const cm = await hc.client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: 'app-config',
    });
    assert.equal((cm.data as Record<string, string>).message, 'first');
    assert.equal(cm.metadata.labels?.[Labels.helmName], 'app', 'origin labels from the post-renderer');
    assert.match(await helm(['get', 'manifest', 'app', '-n', ns()]), /name: app-config/);
  });

  it('upgrades when a values ConfigMap changes (revision 2), and not for an unrelated change', async () => {
    const cm = (message: string, other: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'values', namespace: ns(), labels: { [Labels.watch]: 'Enabled' } },
      data: { 'values.yaml': `message: ${message}\n`, unrelated: other },
    });
    await hc.client.create(cm('from-configmap', 'a'));
    await create('valued', { valuesFrom: [{ kind: 'ConfigMap', name: 'values' }] });
    const v1 = await waitReady(hc.client, ns(), 'valued');
    assert.equal(v1.status?.history?.[0]?.version, 1);
    const digest1 = v1.status?.lastAttemptedConfigDigest;

    // A key the HelmRelease does not read changes: same values, same config digest, no upgrade.
    await hc.client.apply(cm('from-configmap', 'b'), { fieldManager: 'tide-test', force: true });
    await hc.client.patch(hrRef(ns(), 'valued'), 'merge', {
      metadata: { annotations: { [Annotations.reconcileRequestedAt]: 'unrelated' } },
    });
    await waitHr(
      hc.client,
      ns(),
      'valued',
      'handled the request',
      (o) => o.status?.lastHandledReconcileAt === 'unrelated',
    );
    assertHistory(await helmHistory(helm, ns(), 'valued'), [[1, 'deployed']]);

    // The values change: the watched ConfigMap triggers an upgrade to revision 2.
    await hc.client.apply(cm('changed', 'b'), { fieldManager: 'tide-test', force: true });
    const v2 = await waitReady(hc.client, ns(), 'valued', (o) => o.status?.history?.[0]?.version === 2);
    assert.equal(cond(v2, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');
    assert.notEqual(v2.status?.lastAttemptedConfigDigest, digest1);
    assert.equal(v2.status?.history?.[0]?.configDigest, v2.status?.lastAttemptedConfigDigest);
    assertHistory(await helmHistory(helm, ns(), 'valued'), [
      [1, 'superseded'],
      [2, 'deployed'],
    ]);
    const live = await hc.client.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: ns(),
      name: 'valued-config',
    });
    assert.equal((live.data as Record<string, string>).message, 'changed');
  });

  it('waits for a HelmRelease it depends on to be Ready', async () => {
    // The dependency cannot be installed yet: its values reference a missing ConfigMap.
    await create('backend', { valuesFrom: [{ kind: 'ConfigMap', name: 'backend-values' }] });
    await create('frontend', { dependsOn: [{ name: 'backend' }] });
    const waiting = await waitHr(
      hc.client,
      ns(),
      'frontend',
      'waiting',
      (o) => cond(o, ConditionTypes.Ready)?.reason === 'DependencyNotReady',
    );
    assert.match(cond(waiting, ConditionTypes.Ready)?.message ?? '', /dependency '.*\/backend' is not ready/);
    await waitHr(
      hc.client,
      ns(),
      'backend',
      'failing',
      (o) => cond(o, ConditionTypes.Ready)?.reason === 'ValuesError',
    );
    assert.deepEqual(await helmList(helm, ns()).then((l) => l.filter((r) => r.name === 'frontend')), []);

    await hc.client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'backend-values', namespace: ns() },
      data: { 'values.yaml': 'message: backend\n' },
    });
    await hc.client.patch(hrRef(ns(), 'backend'), 'merge', {
      metadata: { annotations: { [Annotations.reconcileRequestedAt]: 'values-created' } },
    });
    const b = await waitReady(hc.client, ns(), 'backend');
    const f = await waitReady(hc.client, ns(), 'frontend');
    const firstDeployed = (o: HelmRelease) => Date.parse(o.status?.history?.[0]?.firstDeployed ?? '');
    assert.ok(firstDeployed(f) >= firstDeployed(b), 'frontend was installed after backend');
  });

  it('uninstalls the release when the HelmRelease is deleted, and deletes its HelmChart', async () => {
    await create('gone');
    await waitReady(hc.client, ns(), 'gone');
    await hc.client.delete(hrRef(ns(), 'gone'));
    await waitGone(hc.client, hrRef(ns(), 'gone'));
    assert.deepEqual(await helmList(helm, ns()).then((l) => l.filter((r) => r.name === 'gone')), []);
    const secrets = await hc.client.list(
      { group: '', version: 'v1', kind: 'Secret' },
      { namespace: ns(), labelSelector: 'owner=helm,name=gone' },
    );
    assert.equal(secrets.items.length, 0, 'no release storage left');
    assert.equal(
      await hc.client.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'gone-config' }),
      undefined,
    );
    assert.equal(
      await hc.client.tryGet({
        apiVersion: sourceApiVersion,
        kind: 'HelmChart',
        namespace: ns(),
        name: `${ns()}-gone`,
      }),
      undefined,
    );
  });

  it('keeps the release history on deletion with uninstall.keepHistory', async () => {
    await create('kept', { uninstall: { keepHistory: true } });
    await waitReady(hc.client, ns(), 'kept');
    await hc.client.delete(hrRef(ns(), 'kept'));
    await waitGone(hc.client, hrRef(ns(), 'kept'));
    assertHistory(await helmHistory(helm, ns(), 'kept'), [[1, 'uninstalled']]);
    assert.equal(
      await hc.client.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns(), name: 'kept-config' }),
      undefined,
    );
  });

  it('is driven by the tide CLI: get, reconcile --with-source --force, suspend and resume', async () => {
    await create('cli', { values: { message: 'cli' } });
    await waitReady(hc.client, ns(), 'cli');
    const tide = (...args: string[]) =>
      run(process.execPath, [cliMain, ...args, '-n', ns(), '--poll-interval', '200ms', '--timeout', '2m'], {
        env: { ...process.env, KUBECONFIG: testbed().controlPlane.kubeconfig },
      });
    const table = await tide('get', 'helmreleases');
    assert.match(table, /^NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE/m);
    assert.match(table, /^cli\s+0\.1\.0\s+False\s+True\s+Helm install succeeded/m);
    const charts = await tide('get', 'sources', 'chart');
    assert.match(charts, new RegExp(`^${ns()}-cli\\s+0\\.1\\.0\\s+False\\s+True`, 'm'));

    // --with-source reconciles the HelmRepository, the HelmChart, then the HelmRelease; --force upgrades.
    await tide('reconcile', 'hr', 'cli', '--with-source', '--force');
    const forced = await waitReady(hc.client, ns(), 'cli', (o) => o.status?.history?.[0]?.version === 2);
    assert.equal(cond(forced, ConditionTypes.Ready)?.reason, 'UpgradeSucceeded');

    await tide('suspend', 'hr', 'cli');
    assert.equal((await getHr(hc.client, ns(), 'cli')).spec.suspend, true);
    await tide('resume', 'hr', 'cli');
    assert.equal((await getHr(hc.client, ns(), 'cli')).spec.suspend, false);
  });
});
