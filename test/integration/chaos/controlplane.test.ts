// The control plane fails under running controllers: kube-apiserver and then etcd are stopped while the
// kustomize-controller is in the middle of applying a revision (its API traffic slowed by a relay) and
// every informer has its watch open, and started again. The cluster converges to Git with nothing
// deleted that stayed in Git.
import assert from 'node:assert/strict';
import {
  type Component,
  startComponent,
  stopComponent,
  waitApiReady,
} from '../../../hack/testbed/controlplane.ts';
import { alive, poll } from '../../../hack/testbed/proc.ts';
import type { TcpProxy } from '../../support/tcpproxy.ts';
import { testbed } from '../../support/testbed.ts';
import {
  apiRelay,
  assertNotRecreated,
  at,
  createWorkload,
  names,
  useChaosEnv,
  type Workload,
} from './support.ts';

describe('chaos: kube-apiserver and etcd restarted under running controllers', function () {
  this.timeout(400_000);
  const env = useChaosEnv('chaos-cp', { startControllers: false });
  let relay: TcpProxy;
  let work: Workload;
  const items = names('item', 40);

  before(async function () {
    this.timeout(180_000);
    let kubeconfig: string;
    ({ relay, kubeconfig } = await apiRelay());
    await Promise.all([env.source.start(), env.kustomize.start({ kubeconfig })]);
    work = await createWorkload(env, 'cp', at(items, 'v1'));
  });
  after(async () => {
    // Whatever happened, leave the control plane running for the next suites.
    const cp = testbed().controlPlane;
    for (const c of ['etcd', 'kube-apiserver'] as const) {
      const pid = cp.pids[c];
      if (!pid || !alive(pid)) await startComponent(cp, c);
    }
    await waitApiReady(cp, 60_000);
    await relay?.close();
  });

  /** Commits `rev` for every item and stops `component` once the apply of it is under way. */
  async function restartMidApply(component: Component, rev: string) {
    const cp = testbed().controlPlane;
    const before = await work.live();
    relay.setDelay(40);
    const revision = await work.commit(at(items, rev));
    await poll(
      'the apply under way',
      120_000,
      async () => {
        const live = await work.live();
        const done = items.filter((n) => live.get(n)?.rev === rev).length;
        if (done === items.length) throw new Error('finished before the fault');
        return done > 0 ? true : undefined;
      },
      50,
    );
    await stopComponent(cp, component);
    // Down long enough for every client to notice: watches end, requests fail.
    await new Promise((r) => setTimeout(r, 3_000));
    relay.setDelay(0);
    await startComponent(cp, component);
    await waitApiReady(cp, 120_000);
    const after = await work.converged(revision);
    assertNotRecreated(before, after, items);
    assert.ok(env.source.running() && env.kustomize.running(), 'the controllers did not exit');
  }

  it('converges after kube-apiserver restarts in the middle of an apply', async () => {
    await restartMidApply('kube-apiserver', 'v2');
  });

  it('converges after etcd restarts in the middle of an apply', async () => {
    await restartMidApply('etcd', 'v3');
  });
});
