// The kustomize-controller SIGKILLed in the middle of a large apply and of a prune, then started again:
// the cluster converges to Git, nothing that stayed in Git is deleted (same uid), and what the cut apply
// created but the next revision dropped is pruned (the inventory named it before it was applied). The
// controller's API traffic goes through a relay that slows it, so the kill lands mid-way.
import assert from 'node:assert/strict';
import { poll } from '../../../hack/testbed/proc.ts';
import type { TcpProxy } from '../../support/tcpproxy.ts';
import {
  apiRelay,
  assertNotRecreated,
  at,
  createWorkload,
  names,
  useChaosEnv,
  type Workload,
} from './support.ts';

describe('chaos: kustomize-controller killed mid-apply and mid-prune', function () {
  this.timeout(400_000);
  const env = useChaosEnv('chaos-kill', { startControllers: false });
  let relay: TcpProxy;
  let relayKubeconfig: string;
  let work: Workload;
  const items = names('item', 40);
  const extras = names('extra', 20);

  before(async function () {
    this.timeout(180_000);
    ({ relay, kubeconfig: relayKubeconfig } = await apiRelay());
    await Promise.all([env.source.start(), env.kustomize.start({ kubeconfig: relayKubeconfig })]);
    work = await createWorkload(env, 'kill', at(items, 'v1'));
  });
  after(async () => {
    await relay?.close();
  });

  /** Slows the controller's API traffic, runs `commit`, and kills the controller once `midway` holds. */
  async function killWhen(
    midway: (live: Map<string, { rev: string }>) => boolean | 'done',
    commit: () => Promise<string>,
  ) {
    relay.setDelay(40);
    const revision = await commit();
    const seen = await poll(
      'the controller in the middle of its work',
      120_000,
      async () => {
        const state = midway(await work.live());
        if (state === 'done') throw new Error('finished before the kill');
        return state ? true : undefined;
      },
      50,
    ).catch((err: Error) => err);
    await env.kustomize.kill();
    relay.setDelay(0);
    if (seen instanceof Error) throw seen;
    return revision;
  }

  it('converges after a kill mid-apply, pruning what the cut apply created and Git dropped meanwhile', async () => {
    const before = await work.live();
    await killWhen(
      (live) => {
        const updated = items.filter((n) => live.get(n)?.rev === 'v2').length;
        const created = extras.filter((n) => live.has(n)).length;
        if (updated === items.length && created === extras.length) return 'done';
        return created > 0 && updated < items.length;
      },
      () => work.commit({ ...at(items, 'v2'), ...at(extras, 'v2') }),
    );
    const cut = await work.live();
    assert.ok(
      extras.some((n) => cut.has(n)),
      'the cut apply created some of the new objects',
    );
    // While the controller is down, Git drops the new objects again.
    const revision = await work.commit(at(items, 'v3'));
    await env.kustomize.start({ kubeconfig: relayKubeconfig });
    const after = await work.converged(revision);
    assertNotRecreated(before, after, items);
  });

  it('converges after a kill mid-prune, deleting only what left Git', async () => {
    const kept = items.slice(0, 15);
    const before = await work.live();
    const revision = await killWhen(
      (live) => {
        const left = items.filter((n) => live.has(n)).length;
        if (left === kept.length) return 'done';
        return left > kept.length && left < items.length;
      },
      () => work.commit(at(kept, 'v3')),
    );
    await env.kustomize.start({ kubeconfig: relayKubeconfig });
    const after = await work.converged(revision);
    assertNotRecreated(before, after, kept);
  });
});
