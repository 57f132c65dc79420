import assert from 'node:assert/strict';
import { reconcileOutcome, rfc3339Nano } from '../../../controllers/cli/wait.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const token = '2025-01-01T10:00:00.123456789Z';

function obj(
  status: { handled?: string; observedGeneration?: number; conditions?: Record<string, unknown>[] },
  generation = 2,
): KubeObject {
  return {
    metadata: { name: 'x', generation },
    status: {
      lastHandledReconcileAt: status.handled,
      observedGeneration: status.observedGeneration,
      conditions: status.conditions ?? [],
    },
  };
}
const cond = (type: string, status: string, message = '', observedGeneration?: number) => ({
  type,
  status,
  reason: 'R',
  message,
  lastTransitionTime: '2025-01-01T00:00:00Z',
  observedGeneration,
});

describe('cli/wait rfc3339Nano', () => {
  it('formats epoch nanoseconds like Go RFC3339Nano in UTC, trailing zeros dropped', () => {
    assert.equal(rfc3339Nano(1_735_725_600_123_456_789n), '2025-01-01T10:00:00.123456789Z');
    assert.equal(rfc3339Nano(1_735_725_600_250_000_000n), '2025-01-01T10:00:00.25Z');
    assert.equal(rfc3339Nano(1_735_725_600_000_000_007n), '2025-01-01T10:00:00.000000007Z');
    assert.equal(rfc3339Nano(1_735_725_600_000_000_000n), '2025-01-01T10:00:00Z');
  });
});

describe('cli/wait reconcileOutcome', () => {
  it('is pending until the controller echoes this request token', () => {
    const ready = [cond('Ready', 'True', 'ok', 2)];
    assert.equal(reconcileOutcome(obj({ conditions: ready }), token).state, 'pending');
    const older = obj({ handled: '2024-12-31T00:00:00Z', conditions: ready });
    assert.equal(reconcileOutcome(older, token).state, 'pending');
    assert.equal(reconcileOutcome(obj({ handled: token, conditions: ready }), token).state, 'ready');
  });

  it('fails with the Ready message when Ready is False for the current generation', () => {
    const failed = obj({ handled: token, conditions: [cond('Ready', 'False', 'auth failed', 2)] });
    assert.deepEqual(reconcileOutcome(failed, token), { state: 'failed', message: 'auth failed' });
  });

  it('ignores Reconciling (Flux leaves it True after a failed attempt)', () => {
    const retrying = obj({
      handled: token,
      conditions: [cond('Reconciling', 'True', 'retrying', 2), cond('Ready', 'False', 'boom', 2)],
    });
    assert.deepEqual(reconcileOutcome(retrying, token), { state: 'failed', message: 'boom' });
  });

  it('fails on Stalled=True whatever Ready says', () => {
    const stalled = obj({
      handled: token,
      conditions: [cond('Stalled', 'True', 'invalid spec', 2), cond('Ready', 'Unknown', 'x', 2)],
    });
    assert.deepEqual(reconcileOutcome(stalled, token), { state: 'failed', message: 'invalid spec' });
  });

  it('keeps waiting while Ready is Unknown, missing or about an older generation', () => {
    for (const o of [
      obj({ handled: token, conditions: [cond('Ready', 'Unknown', 'in progress', 2)] }),
      obj({ handled: token }),
      obj({ handled: token, conditions: [cond('Ready', 'True', 'old', 1)] }),
      obj({ handled: token, observedGeneration: 1, conditions: [cond('Ready', 'False', 'old')] }),
    ])
      assert.equal(reconcileOutcome(o, token).state, 'pending', JSON.stringify(o.status));
  });

  it('uses status.observedGeneration when the condition carries none', () => {
    const o = obj({ handled: token, observedGeneration: 2, conditions: [cond('Ready', 'True', 'ok')] });
    assert.equal(reconcileOutcome(o, token).state, 'ready');
  });
});
