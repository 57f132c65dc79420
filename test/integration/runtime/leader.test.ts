// Leader election between two managers running the same controller against one Lease: only the leader
// reconciles, a graceful stop hands over at once (the lease is released), and a leader that cannot renew
// stops itself.
import assert from 'node:assert/strict';
import { isConflict } from '../../../controllers/runtime/client.ts';
import { createManager, type Manager, parseFlags } from '../../../controllers/runtime/manager.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { poll } from '../../../hack/testbed/proc.ts';
import { testbed, useNamespace } from '../../support/testbed.ts';
import {
  adminClient,
  installWidgetCrd,
  testLogger,
  waitWidget,
  widget,
  widgetController,
  widgetRef,
} from './widget.ts';

interface Lease extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseTransitions?: number;
    leaseDurationSeconds?: number;
    renewTime?: string;
  };
}

describe('runtime/leader election', function () {
  this.timeout(120_000);
  const ns = useNamespace('rt-leader');
  const runs: Record<string, number> = { a: 0, b: 0 };
  const managers: Manager[] = [];

  function start(id: 'a' | 'b'): Manager {
    const { flags } = parseFlags([
      '--enable-leader-election',
      `--leader-election-namespace=${ns()}`,
      '--leader-election-lease-duration=4s',
      '--leader-election-renew-deadline=3s',
      '--leader-election-retry-period=250ms',
      '--watch-all-namespaces=false',
      '--metrics-addr=0',
      '--health-addr=127.0.0.1:0',
    ]);
    const m = createManager({
      name: 'widget-controller',
      namespace: ns(),
      identity: id,
      flags,
      kubeConfig: testbed().kubeconfig,
      log: testLogger().log.with({ manager: id }),
      controllers: [
        widgetController({
          id,
          onReconcile: () => {
            runs[id] = (runs[id] ?? 0) + 1;
          },
        }),
      ],
    });
    managers.push(m);
    return m;
  }

  before(installWidgetCrd);
  after(async () => {
    await Promise.all(managers.map((m) => m.stop()));
  });

  const leaseRef = () => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    name: 'widget-controller-leader-election',
    namespace: ns(),
  });

  it('lets only the leader reconcile, and hands over on a graceful stop', async () => {
    const c = adminClient();
    const a = start('a');
    await a.start();
    await poll('a leads', 20_000, async () => (a.isLeader() ? true : undefined));
    const b = start('b');
    await b.start();
    await b.waitForSync();
    const readyz = await fetch(`http://127.0.0.1:${b.ports().health}/readyz`);
    assert.equal(readyz.status, 200, 'a standby with synced informers is ready');

    await c.create(widget(ns(), 'w', { value: '1' }));
    await waitWidget(
      c,
      ns(),
      'w',
      'reconciled by a',
      (w) => w.status?.observed === '1' && w.status.reconciledBy === 'a',
    );
    await c.patch(widgetRef(ns(), 'w'), 'merge', { spec: { value: '2' } });
    await waitWidget(
      c,
      ns(),
      'w',
      'value 2 by a',
      (w) => w.status?.observed === '2' && w.status.reconciledBy === 'a',
    );
    assert.equal(b.isLeader(), false);
    assert.equal(runs.b, 0, 'the standby never reconciled');
    assert.ok((runs.a ?? 0) >= 2);

    await a.stop();
    assert.equal(await a.done, 'stopped');
    // Measured from the release (stop may take a while on a loaded machine): b retries every 250 ms,
    // while waiting out the 4 s lease would take over 3.5 s.
    const stoppedAt = Date.now();
    await poll('b leads', 20_000, async () => (b.isLeader() ? true : undefined));
    const takeover = Date.now() - stoppedAt;
    // Released, not expired: b does not wait out the 4 s lease.
    assert.ok(takeover < 2_500, `takeover took ${takeover} ms`);
    const lease = await c.get<Lease>(leaseRef());
    assert.equal(lease.spec.holderIdentity, 'b');
    assert.ok((lease.spec.leaseTransitions ?? 0) >= 1);

    const runsOfA = runs.a;
    await c.patch(widgetRef(ns(), 'w'), 'merge', { spec: { value: '3' } });
    await waitWidget(
      c,
      ns(),
      'w',
      'value 3 by b',
      (w) => w.status?.observed === '3' && w.status.reconciledBy === 'b',
    );
    assert.equal(runs.a, runsOfA, 'the stopped manager no longer reconciles');
  });

  it('stops a leader that can no longer renew its lease', async () => {
    const c = adminClient();
    const b = managers.find((m) => m.isLeader());
    assert.ok(b, 'a leader from the previous test');
    // Another party takes the lease over: b's renewals fail until its renew deadline passes.
    // Read-modify-write races b's renewals (every retry period): retry on a conflict as any client would.
    await poll(
      'intruder holds the lease',
      20_000,
      async () => {
        const lease = await c.get<Lease>(leaseRef());
        try {
          await c.update<Lease>({
            ...lease,
            spec: {
              ...lease.spec,
              holderIdentity: 'intruder',
              leaseDurationSeconds: 60,
              renewTime: new Date().toISOString().replace('Z', '000Z'),
            },
          });
          return true;
        } catch (err) {
          if (isConflict(err)) return undefined;
          throw err;
        }
      },
      50,
    );
    const reason = await Promise.race([
      b.done,
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    assert.equal(reason, 'lost-leadership');
    assert.equal(b.isLeader(), false);
    assert.equal((await c.get<Lease>(leaseRef())).spec.holderIdentity, 'intruder');
  });
});
