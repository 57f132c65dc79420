import assert from 'node:assert/strict';
import { ConditionTypes } from '../../../controllers/api/names.ts';
import {
  type Condition,
  type Conditioned,
  type ConditionPolicy,
  deleteCondition,
  getCondition,
  hasCondition,
  isFalse,
  isTrue,
  isUnknown,
  markFalse,
  markReconciling,
  markReconcilingProgress,
  markStalled,
  markTrue,
  markUnknown,
  setCondition,
  summarize,
} from '../../../controllers/runtime/conditions.ts';
import { GenericError, StallingError, WaitingError } from '../../../controllers/runtime/errors.ts';

const t0 = new Date('2025-01-01T10:00:00.250Z');
const t1 = new Date('2025-01-01T10:05:00Z');
const t2 = new Date('2025-01-01T10:10:00Z');

// A GitRepository-like object at generation 2, last observed at 1.
function object(generation = 2): Conditioned {
  return { metadata: { generation }, status: { observedGeneration: 1 } };
}

const policy: ConditionPolicy = {
  owned: ['Ready', 'Reconciling', 'Stalled', 'FetchFailed', 'ArtifactOutdated', 'ArtifactInStorage'],
  negativePolarity: ['FetchFailed', 'ArtifactOutdated', 'Stalled', 'Reconciling'],
};

const brief = (c: Condition | undefined) => c && [c.status, c.reason, c.message];
const types = (o: Conditioned) => o.status?.conditions?.map((c) => c.type);

describe('runtime/conditions', () => {
  describe('setCondition', () => {
    it('inserts a condition with RFC3339 second-precision time and the generation', () => {
      const o = object();
      markTrue(o, 'Ready', 'Succeeded', 'stored artifact', t0);
      assert.deepEqual(getCondition(o, ConditionTypes.Ready), {
        type: 'Ready',
        status: 'True',
        observedGeneration: 2,
        lastTransitionTime: '2025-01-01T10:00:00Z',
        reason: 'Succeeded',
        message: 'stored artifact',
      });
      assert.ok(isTrue(o, 'Ready') && !isFalse(o, 'Ready') && !isUnknown(o, 'Ready'));
      assert.ok(hasCondition(o, 'Ready') && !hasCondition(o, 'Stalled'));
      markUnknown(o, 'Ready', 'Progressing', 'working', t1);
      assert.ok(isUnknown(o, 'Ready') && !isTrue(o, 'Ready'));
      assert.equal(o.status!.conditions!.length, 1, 'updated in place, not appended');
    });

    it('keeps lastTransitionTime when nothing changed, but follows a new generation', () => {
      const o = object();
      markFalse(o, 'Ready', 'BuildFailed', 'bad yaml', t0);
      o.metadata!.generation = 3;
      markFalse(o, 'Ready', 'BuildFailed', 'bad yaml', t1);
      const c = getCondition(o, ConditionTypes.Ready)!;
      assert.equal(c.lastTransitionTime, '2025-01-01T10:00:00Z');
      assert.equal(c.observedGeneration, 3);
    });

    for (const [field, change] of [
      ['status', (o: Conditioned) => markTrue(o, 'Ready', 'BuildFailed', 'bad yaml', t1)],
      ['reason', (o: Conditioned) => markFalse(o, 'Ready', 'ArtifactFailed', 'bad yaml', t1)],
      ['message', (o: Conditioned) => markFalse(o, 'Ready', 'BuildFailed', 'worse yaml', t1)],
    ] as const) {
      it(`moves lastTransitionTime when the ${field} changes`, () => {
        const o = object();
        markFalse(o, 'Ready', 'BuildFailed', 'bad yaml', t0);
        change(o);
        assert.equal(getCondition(o, ConditionTypes.Ready)!.lastTransitionTime, '2025-01-01T10:05:00Z');
        assert.equal(o.status!.conditions!.length, 1);
      });
    }

    it('omits observedGeneration when the object has no generation', () => {
      const o: Conditioned = {};
      setCondition(o, { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: '' }, t0);
      assert.equal(getCondition(o, ConditionTypes.Ready)!.observedGeneration, undefined);
      assert.ok(isUnknown(o, 'Ready'));
    });

    it('orders Stalled, Reconciling, Ready first, then the rest by type, as Flux does', () => {
      const o = object();
      markTrue(o, 'FetchFailed', 'GitOperationFailed', 'x', t0);
      markTrue(o, 'Ready', 'Succeeded', 'x', t0);
      markTrue(o, 'ArtifactInStorage', 'Succeeded', 'x', t0);
      markTrue(o, 'Reconciling', 'Progressing', 'x', t0);
      markTrue(o, 'Stalled', 'AccessDenied', 'x', t0);
      assert.deepEqual(types(o), ['Stalled', 'Reconciling', 'Ready', 'ArtifactInStorage', 'FetchFailed']);
      deleteCondition(o, 'Reconciling');
      assert.deepEqual(types(o), ['Stalled', 'Ready', 'ArtifactInStorage', 'FetchFailed']);
    });

    it('markReconciling and markStalled exclude each other', () => {
      const o = object();
      markStalled(o, 'AccessDenied', 'denied', t0);
      markReconciling(o, 'Progressing', 'working', t0);
      assert.deepEqual(types(o), ['Reconciling']);
      markStalled(o, 'AccessDenied', 'denied', t0);
      assert.deepEqual(types(o), ['Stalled']);
    });
  });

  describe('markReconcilingProgress', () => {
    it('marks a new generation Reconciling=True and Ready=Unknown', () => {
      const o = object();
      markTrue(o, 'Ready', 'Succeeded', 'old', t0);
      markReconcilingProgress(o, undefined, t1);
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Reconciling)), [
        'True',
        'Progressing',
        'reconciliation in progress',
      ]);
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'Unknown',
        'Progressing',
        'Reconciliation in progress',
      ]);
    });

    it('leaves Ready alone for an already observed generation', () => {
      const o = object();
      o.status!.observedGeneration = 2;
      markTrue(o, 'Ready', 'Succeeded', 'stored artifact', t0);
      markReconcilingProgress(o, undefined, t1);
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'True',
        'Succeeded',
        'stored artifact',
      ]);
      assert.ok(isTrue(o, 'Reconciling'));
    });

    it('sets Ready=Unknown when Ready is missing, and uses ProgressingWithRetry after a failure', () => {
      const o = object();
      o.status!.observedGeneration = 2;
      markReconcilingProgress(o, undefined, t0);
      assert.ok(isUnknown(o, 'Ready'));
      summarize(o, policy, { error: new GenericError('BuildFailed', 'bad yaml') }, t1);
      markReconcilingProgress(o, 'building', t2);
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Reconciling)), [
        'True',
        'ProgressingWithRetry',
        'building',
      ]);
    });
  });

  describe('summarize', () => {
    it('StallingError: Stalled=True, Ready=False, no Reconciling, generation observed', () => {
      const o = object();
      markReconcilingProgress(o, undefined, t0);
      const s = summarize(o, policy, { error: new StallingError('InvalidCELExpression', 'bad expr') }, t1);
      assert.deepEqual(s, { ready: false, stalled: true });
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Stalled)), [
        'True',
        'InvalidCELExpression',
        'bad expr',
      ]);
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'False',
        'InvalidCELExpression',
        'bad expr',
      ]);
      assert.ok(!hasCondition(o, 'Reconciling'));
      assert.equal(o.status!.observedGeneration, 2);
    });

    for (const [name, error, reason] of [
      [
        'WaitingError',
        new WaitingError('DependencyNotReady', "dependency 'a' is not ready", 30_000),
        'DependencyNotReady',
      ],
      ['GenericError', new GenericError('ArtifactFailed', 'artifact not found'), 'ArtifactFailed'],
      ['a foreign error', new Error('connection refused'), 'ReconciliationFailed'],
    ] as const) {
      it(`${name}: Ready=False with its reason, Reconciling=True ProgressingWithRetry, generation not observed`, () => {
        const o = object();
        markStalled(o, 'AccessDenied', 'earlier', t0);
        markReconcilingProgress(o, 'fetching', t0);
        const s = summarize(o, policy, { error }, t1);
        assert.deepEqual(s, { ready: false, stalled: false });
        assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), ['False', reason, error.message]);
        assert.deepEqual(brief(getCondition(o, ConditionTypes.Reconciling)), [
          'True',
          'ProgressingWithRetry',
          'fetching',
        ]);
        assert.ok(!hasCondition(o, 'Stalled'));
        assert.equal(o.status!.observedGeneration, 1);
      });
    }

    it('keeps credentials out of condition messages', () => {
      const o = object();
      summarize(o, policy, { error: new Error('clone https://bot:s3cret@git.example/x failed') }, t0);
      assert.equal(
        getCondition(o, ConditionTypes.Ready)!.message,
        'clone https://bot:***@git.example/x failed',
      );
    });

    it('success: Ready=True Succeeded, Reconciling and Stalled removed, generation observed', () => {
      const o = object();
      markReconcilingProgress(o, undefined, t0);
      const s = summarize(o, policy, {}, t1);
      assert.deepEqual(s, { ready: true, stalled: false });
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'True',
        'Succeeded',
        'Reconciliation succeeded',
      ]);
      assert.deepEqual(types(o), ['Ready']);
      assert.equal(o.status!.observedGeneration, 2);
      assert.equal(getCondition(o, ConditionTypes.Ready)!.observedGeneration, 2);
    });

    it('success keeps a Ready=True set by a step, and readyMessage replaces it', () => {
      const o = object();
      markTrue(o, 'Ready', 'Succeeded', "stored artifact for revision 'main@sha1:abc'", t0);
      summarize(o, policy, {}, t1);
      const kept = getCondition(o, ConditionTypes.Ready)!;
      assert.equal(kept.message, "stored artifact for revision 'main@sha1:abc'");
      assert.equal(kept.lastTransitionTime, '2025-01-01T10:00:00Z');
      summarize(
        o,
        policy,
        { readyMessage: 'Applied revision: main@sha1:def', readyReason: 'ReconciliationSucceeded' },
        t2,
      );
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'True',
        'ReconciliationSucceeded',
        'Applied revision: main@sha1:def',
      ]);
    });

    it('success with a True negative-polarity condition: Ready=False mirrors the first one by priority', () => {
      const o = object();
      markTrue(o, 'ArtifactOutdated', 'NewRevision', 'new upstream revision main@sha1:def', t0);
      markTrue(o, 'FetchFailed', 'GitOperationFailed', 'auth failed', t0);
      markTrue(o, 'ArtifactInStorage', 'Succeeded', 'stored', t0);
      const s = summarize(o, policy, {}, t1);
      assert.deepEqual(s, { ready: false, stalled: false });
      assert.deepEqual(brief(getCondition(o, ConditionTypes.Ready)), [
        'False',
        'GitOperationFailed',
        'auth failed',
      ]);
      assert.equal(o.status!.observedGeneration, 2);
      // A False negative-polarity condition is healthy.
      markFalse(o, 'FetchFailed', 'Succeeded', '', t1);
      markFalse(o, 'ArtifactOutdated', 'Succeeded', '', t1);
      assert.deepEqual(summarize(o, policy, {}, t2), { ready: true, stalled: false });
      assert.ok(isTrue(o, 'Ready'));
    });
  });
});
