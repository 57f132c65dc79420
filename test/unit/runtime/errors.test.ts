import assert from 'node:assert/strict';
import { runInNewContext } from 'node:vm';
import {
  GenericError,
  isReconcileError,
  isStalling,
  isWaiting,
  messageOf,
  reasonOf,
  StallingError,
  WaitingError,
} from '../../../controllers/runtime/errors.ts';

describe('runtime/errors', () => {
  it('carries reason, message, cause and event defaults like Flux', () => {
    const cause = new Error('403');
    const stalled = new StallingError('AccessDenied', 'cross-namespace ref not allowed', { cause });
    assert.equal(stalled.reason, 'AccessDenied');
    assert.equal(stalled.message, 'cross-namespace ref not allowed');
    assert.equal(stalled.cause, cause);
    assert.deepEqual([stalled.event, stalled.notify, stalled.severity], [true, true, 'error']);

    const waiting = new WaitingError('DependencyNotReady', 'dependency default/a is not ready', 30_000);
    assert.equal(waiting.requeueAfterMs, 30_000);
    assert.deepEqual([waiting.event, waiting.notify, waiting.severity], [true, false, 'info']);

    const generic = new GenericError('BuildFailed', 'kustomize build failed', { notify: false });
    assert.deepEqual([generic.event, generic.notify], [true, false]);
    assert.ok(generic instanceof Error);
  });

  it('guards tell the outcomes apart', () => {
    const s = new StallingError('R', 'm');
    const w = new WaitingError('R', 'm', 1);
    const g = new GenericError('R', 'm');
    assert.deepEqual([isStalling(s), isStalling(w), isStalling(g)], [true, false, false]);
    assert.deepEqual([isWaiting(s), isWaiting(w), isWaiting(g)], [false, true, false]);
    assert.deepEqual([s, w, g, new Error('x'), 'x', null, { reason: 'R' }].map(isReconcileError), [
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('guards match an error built by another copy of the class (cross-realm)', () => {
    const foreign: unknown = runInNewContext(`
      class E extends Error { constructor() { super('m'); this.reason = 'ArtifactFailed'; this.kind = 'stalling'; }
        get isReconcileError() { return true; } }
      new E();`);
    assert.ok(!(foreign instanceof StallingError));
    assert.ok(isReconcileError(foreign));
    assert.ok(isStalling(foreign));
    assert.equal(reasonOf(foreign), 'ArtifactFailed');
  });

  it('reasonOf falls back for foreign errors; messageOf stringifies anything', () => {
    assert.equal(reasonOf(new Error('boom')), 'ReconciliationFailed');
    assert.equal(reasonOf('boom', 'Failed'), 'Failed');
    assert.equal(reasonOf(new GenericError('PruneFailed', 'x')), 'PruneFailed');
    assert.equal(messageOf(new Error('boom')), 'boom');
    assert.equal(messageOf('plain'), 'plain');
    assert.equal(messageOf({ message: 'obj' }), 'obj');
  });
});
