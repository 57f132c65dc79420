// Garbage collection of stale inventory entries against a real API server: opt-outs, ownership, and the
// deletion policies of finalization.

import assert from 'node:assert/strict';
import { Annotations, Labels } from '../../../controllers/api/names.ts';
import { applyAll } from '../../../controllers/runtime/apply/apply.ts';
import { diffInventory, toInventory } from '../../../controllers/runtime/apply/inventory.ts';
import { deleteStale } from '../../../controllers/runtime/apply/prune.ts';
import { useNamespace } from '../../support/testbed.ts';
import { configMap, engineClient, fieldManager, otherClient, ownerLabels, refOf } from './fixtures.ts';

describe('apply/deleteStale', () => {
  const ns = useNamespace('prune');

  it('deletes what left the inventory, except objects opted out, taken over, or already gone', async () => {
    const c = engineClient();
    const first = [
      configMap(ns(), 'keep', { k: 'v' }),
      configMap(ns(), 'stale', { k: 'v' }),
      configMap(ns(), 'protected', { k: 'v' }, { [Annotations.prune]: 'disabled' }),
      configMap(ns(), 'moved', { k: 'v' }),
      configMap(ns(), 'gone', { k: 'v' }),
    ];
    const applied = await applyAll(c, first, { fieldManager, labels: ownerLabels });
    const previous = toInventory(applied);
    // Another Kustomization now owns "moved"; "gone" was deleted by hand.
    await otherClient().patch(refOf(configMap(ns(), 'moved', {})), 'merge', {
      metadata: { labels: { [Labels.kustomizeName]: 'other' } },
    });
    await c.delete(refOf(configMap(ns(), 'gone', {})));

    const next = toInventory(await applyAll(c, first.slice(0, 1), { fieldManager, labels: ownerLabels }));
    const stale = diffInventory(previous, next);
    assert.deepEqual(
      stale.map((e) => e.id),
      [
        `${ns()}_stale__ConfigMap`,
        `${ns()}_protected__ConfigMap`,
        `${ns()}_moved__ConfigMap`,
        `${ns()}_gone__ConfigMap`,
      ],
    );

    const cs = await deleteStale(c, stale, { ownerLabels });
    assert.deepEqual(Object.fromEntries(cs.map((e) => [e.subject, e.action])), {
      [`ConfigMap/${ns()}/stale`]: 'deleted',
      [`ConfigMap/${ns()}/protected`]: 'skipped',
      [`ConfigMap/${ns()}/moved`]: 'skipped',
      [`ConfigMap/${ns()}/gone`]: 'skipped',
    });
    const exists = async (name: string) => (await c.tryGet(refOf(configMap(ns(), name, {})))) !== undefined;
    assert.equal(await exists('stale'), false);
    assert.equal(await exists('protected'), true);
    assert.equal(await exists('moved'), true);
    assert.equal(await exists('keep'), true);
  });

  it('follows the deletion policy on finalization', async () => {
    const c = engineClient();
    const objs = [configMap(ns(), 'f1', { k: 'v' }), configMap(ns(), 'f2', { k: 'v' })];
    const inv = toInventory(await applyAll(c, objs, { fieldManager, labels: ownerLabels }));

    for (const [policy, prune] of [
      ['Orphan', true],
      ['MirrorPrune', false],
    ] as const) {
      const cs = await deleteStale(c, inv, { ownerLabels, deletionPolicy: policy, prune });
      assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['skipped']), policy);
    }
    for (const o of objs) assert.ok(await c.tryGet(refOf(o)));

    const cs = await deleteStale(c, inv, {
      ownerLabels,
      deletionPolicy: 'WaitForTermination',
      intervalMs: 200,
    });
    assert.deepEqual(new Set(cs.map((e) => e.action)), new Set(['deleted']));
    for (const o of objs) assert.equal(await c.tryGet(refOf(o)), undefined);
  });
});
