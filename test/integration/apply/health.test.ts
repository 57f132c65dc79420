// Health checks of applied objects on the test bed, where kwok runs the pods of a Deployment: Current once
// available, a timeout naming a Deployment that cannot schedule, and an early end once one has Failed.
import assert from 'node:assert/strict';
import { applyAll } from '../../../controllers/runtime/apply/apply.ts';
import { waitForHealth } from '../../../controllers/runtime/apply/health.ts';
import { toInventory } from '../../../controllers/runtime/apply/inventory.ts';
import { useNamespace } from '../../support/testbed.ts';
import { configMap, deployment, engineClient, fieldManager } from './fixtures.ts';

describe('apply/waitForHealth', () => {
  const ns = useNamespace('health');
  const nowhere = { 'tide.dev/no-such-node': 'true' };

  it('passes once kwok makes the Deployment available', async () => {
    const c = engineClient();
    const cs = await applyAll(
      c,
      [deployment(ns(), 'web', { replicas: 2 }), configMap(ns(), 'cfg', { a: 'b' })],
      {
        fieldManager,
      },
    );
    const res = await waitForHealth(c, toInventory(cs), { timeoutMs: 120_000, intervalMs: 1000 });
    assert.equal(res.ok, true, res.message);
    assert.deepEqual(
      res.results.map((r) => [r.subject, r.status]),
      [
        [`ConfigMap/${ns()}/cfg`, 'Current'],
        [`Deployment/${ns()}/web`, 'Current'],
      ],
    );
  });

  it('times out naming a Deployment that can never be ready', async () => {
    const c = engineClient();
    const cs = await applyAll(
      c,
      [deployment(ns(), 'stuck', { nodeSelector: nowhere }), deployment(ns(), 'fine', { replicas: 1 })],
      { fieldManager },
    );
    const res = await waitForHealth(c, toInventory(cs), { timeoutMs: 10_000, intervalMs: 1000 });
    assert.equal(res.ok, false);
    assert.equal(res.reason, 'Timeout');
    assert.match(
      res.message,
      new RegExp(`^timeout waiting for: \\[Deployment/${ns()}/stuck status: 'InProgress'`),
    );
    assert.doesNotMatch(res.message, /Deployment\/[^/]+\/fine/);
  });

  it('fails fast once the only object not Current has Failed', async () => {
    const c = engineClient();
    // Unschedulable with a 1 s progress deadline: the deployment controller soon reports
    // ProgressDeadlineExceeded, which kstatus calls Failed.
    const cs = await applyAll(c, [deployment(ns(), 'doomed', { nodeSelector: nowhere, deadline: 1 })], {
      fieldManager,
    });
    const res = await waitForHealth(c, toInventory(cs), { timeoutMs: 150_000, intervalMs: 1000 });
    assert.equal(res.ok, false);
    assert.equal(res.reason, 'Failed', res.message);
    assert.match(
      res.message,
      new RegExp(`^failed early due to stalled resources: \\[Deployment/${ns()}/doomed status: 'Failed'`),
    );
  });
});
