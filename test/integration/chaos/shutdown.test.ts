// SIGTERM in the middle of an apply (a pod deleted, a rollout): the kustomize-controller lets the
// reconcile in flight finish within its graceful-shutdown timeout, writes its status and exits 0; the
// revision is applied whole, not half, before the process is gone.
import assert from 'node:assert/strict';
import { poll } from '../../../hack/testbed/proc.ts';
import type { TcpProxy } from '../../support/tcpproxy.ts';
import { apiRelay, at, createWorkload, names, useChaosEnv, type Workload } from './support.ts';

describe('chaos: SIGTERM in the middle of an apply', function () {
  this.timeout(300_000);
  const env = useChaosEnv('chaos-term', { startControllers: false });
  let relay: TcpProxy;
  let work: Workload;
  const items = names('item', 40);

  before(async function () {
    this.timeout(180_000);
    let kubeconfig: string;
    ({ relay, kubeconfig } = await apiRelay());
    await Promise.all([env.source.start(), env.kustomize.start({ kubeconfig })]);
    work = await createWorkload(env, 'term', at(items, 'v1'));
  });
  after(async () => {
    await relay?.close();
  });

  it('finishes the reconcile in flight, records it, then exits 0', async () => {
    relay.setDelay(40);
    const revision = await work.commit(at(items, 'v2'));
    await poll(
      'the apply under way',
      120_000,
      async () => {
        const live = await work.live();
        const done = items.filter((n) => live.get(n)?.rev === 'v2').length;
        if (done === items.length) throw new Error('finished before the signal');
        return done > 0 ? true : undefined;
      },
      50,
    );
    const code = await env.kustomize.terminate();
    relay.setDelay(0);
    assert.equal(code, 0, 'a graceful exit');
    // Read right after the exit, with no controller running: nothing else could have finished the work.
    const live = await work.live();
    assert.deepEqual(
      items.filter((n) => live.get(n)?.rev !== 'v2'),
      [],
      'every object of the revision was applied before the exit',
    );
    const ks = await work.kustomization();
    assert.equal(ks.status?.lastAppliedRevision, revision, 'the status names the applied revision');
    assert.equal(ks.status?.inventory?.entries.length, items.length);
    assert.match(env.kustomize.logs(), /"msg":"stopped"/);
  });
});
