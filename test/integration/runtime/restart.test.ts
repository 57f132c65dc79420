// Robustness of a runtime-built controller when the API server goes away mid-watch: no update is lost.
// The kube-apiserver process is stopped under a running manager and started again; the manager reaches
// it through a TCP relay that stays cut while objects are changed (and one deleted), so those writes
// provably land before the informer has re-established its watch.
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { createManager, type Manager, parseFlags } from '../../../controllers/runtime/manager.ts';
import { startComponent, stopComponent, waitApiReady } from '../../../hack/testbed/controlplane.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { startTcpProxy, type TcpProxy } from '../../support/tcpproxy.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  adminClient,
  installWidgetCrd,
  isReady,
  testLogger,
  type Widget,
  waitWidget,
  widget,
  widgetController,
  widgetRef,
} from './widget.ts';

const metricValue = async (m: Manager, name: string): Promise<number> => {
  const metric = await m.metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.kind === 'Widget')
    .reduce((sum, v) => sum + v.value, 0);
};

describe('runtime: kube-apiserver restart in the middle of a watch', function () {
  this.timeout(300_000);
  const ns = useNamespace('rt-restart');
  let manager: Manager;
  let relay: TcpProxy;
  const logs = testLogger();
  const names = Array.from({ length: 8 }, (_, i) => `w${i}`);

  before(async () => {
    await installWidgetCrd();
    // The manager's kubeconfig points at the relay; the test's own clients go to the API server directly.
    const direct = new URL(testbed().kubeconfig.getCurrentCluster()?.server ?? '');
    relay = await startTcpProxy(direct.hostname, Number(direct.port));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(testbed().kubeconfig.exportConfig());
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster');
    kubeConfig.clusters = kubeConfig.clusters.map((c) =>
      c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${relay.port}` } : c,
    );
    const { flags } = parseFlags([
      '--concurrent=2',
      '--metrics-addr=0',
      '--health-addr=0',
      '--enable-leader-election=false',
      '--watch-all-namespaces=false',
    ]);
    manager = createManager({
      name: 'widget-controller',
      namespace: ns(),
      flags,
      kubeConfig,
      log: logs.log,
      controllers: [widgetController()],
      // Short backoffs keep the test quick; the cap is what matters for a long outage.
      informerOptions: { backoff: { initialMs: 200, maxMs: 2_000 }, idleTimeoutMs: 20_000 },
      queue: { baseDelayMs: 200, maxDelayMs: 2_000 },
    });
    await manager.start();
    await manager.waitForSync();
  });

  after(async () => {
    // Whatever happened, leave the API server running for the next suites.
    const cp = testbed().controlPlane;
    await waitApiReady(cp, 5_000).catch(async () => {
      await startComponent(cp, 'kube-apiserver');
      await waitApiReady(cp);
    });
    relay?.restore();
    await manager?.stop();
    await relay?.close();
  });

  it('reconciles every object to its final spec, with updates and a delete made while the watch was down', async () => {
    const c = adminClient();
    for (const n of names) await c.create(widget(ns(), n, { value: 'v1', interval: '1h' }));
    for (const n of names)
      await waitWidget(c, ns(), n, 'observed v1', (w) => isReady(w) && w.status?.observed === 'v1');
    const restartsBefore = await metricValue(manager, 'tide_informer_restarts_total');

    // Move the store's revision past the informer's last Widget event (bookmarks come only once a minute):
    // the restarted API server's watch cache then starts after it, so the old watch position is expired.
    await c.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bump', namespace: ns() } });

    const cp = testbed().controlPlane;
    const informer = manager.runners[0]?.informers[0];
    relay.cut();
    await stopComponent(cp, 'kube-apiserver');
    await poll('the informer noticed the outage', 30_000, async () =>
      informer?.isWatching() === false ? true : undefined,
    );
    await startComponent(cp, 'kube-apiserver');
    await waitApiReady(cp);

    // The relay is still cut: these writes land while the informer cannot watch.
    const fresh = adminClient();
    for (const n of names.slice(0, 6)) {
      await fresh.patch(widgetRef(ns(), n), 'merge', { spec: { value: 'v2' } });
    }
    await fresh.delete(widgetRef(ns(), 'w7'));
    assert.equal(informer?.isWatching(), false, 'the writes landed while the watch was down');
    assert.equal(
      (await fresh.get<Widget>(widgetRef(ns(), 'w0'))).status?.observed,
      'v1',
      'nothing reconciled the writes yet',
    );
    relay.restore();
    // And some after it is back, updated twice in a row.
    await poll('informer watching again', 60_000, async () => (informer?.isWatching() ? true : undefined));
    for (const n of names.slice(3, 6)) {
      await fresh.patch(widgetRef(ns(), n), 'merge', { spec: { value: 'v3' } });
      await fresh.patch(widgetRef(ns(), n), 'merge', { spec: { value: 'v4' } });
    }

    const want: Record<string, string> = {
      w0: 'v2',
      w1: 'v2',
      w2: 'v2',
      w3: 'v4',
      w4: 'v4',
      w5: 'v4',
      w6: 'v1',
    };
    for (const [n, v] of Object.entries(want)) {
      const w: Widget = await waitWidget(
        fresh,
        ns(),
        n,
        `observed ${v}`,
        (x) => x.status?.observed === v && isReady(x),
        60_000,
      );
      assert.equal(w.status?.observedGeneration, w.metadata.generation, n);
    }
    // The deleted object was finalized by the controller and is gone.
    await poll('w7 gone', 30_000, async () =>
      (await fresh.tryGet(widgetRef(ns(), 'w7'))) ? undefined : true,
    );

    const restarts = await metricValue(manager, 'tide_informer_restarts_total');
    assert.ok(restarts > restartsBefore, `restarts ${restartsBefore} → ${restarts}`);
    const relists = await metricValue(manager, 'tide_informer_relists_total');
    assert.ok(relists >= 1, 'the expired watch position (410) made the informer relist');
  });
});
