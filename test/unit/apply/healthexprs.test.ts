// healthCheckExprs: which entry covers an object, and the order in which its expressions decide.
import assert from 'node:assert/strict';
import { compileHealthExprs } from '../../../controllers/runtime/apply/healthexprs.ts';
import { CelCompileError } from '../../../controllers/runtime/cel.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';

const widget = (status: Record<string, unknown>, generation = 1, kind = 'Widget'): KubeObject => ({
  apiVersion: 'example.com/v1',
  kind,
  metadata: { name: 'w', namespace: 'ns', generation },
  status,
});

const rules = [
  {
    apiVersion: 'example.com/v1alpha1',
    kind: 'Widget',
    current: "status.phase == 'Ready'",
    failed: "status.phase == 'Broken' || has(status.broken) && status.broken == true",
    inProgress: "status.phase == 'Ready' && has(status.pending)",
  },
  { apiVersion: 'example.com/v1', current: 'true' },
];

describe('runtime/apply/healthexprs', () => {
  const statusOf = compileHealthExprs(rules);
  if (!statusOf) throw new Error('no evaluator');

  it('evaluates inProgress, then failed, then current; none true is InProgress', () => {
    assert.equal(statusOf(widget({ phase: 'Ready' }))?.status, 'Current');
    assert.equal(statusOf(widget({ phase: 'Broken' }))?.status, 'Failed');
    assert.equal(statusOf(widget({ phase: 'Ready', broken: true }))?.status, 'Failed');
    assert.equal(statusOf(widget({ phase: 'Ready', broken: true, pending: 1 }))?.status, 'InProgress');
    assert.equal(statusOf(widget({ phase: 'Starting' }))?.status, 'InProgress');
  });

  it('is InProgress while status.observedGeneration is behind metadata.generation', () => {
    const r = statusOf(widget({ phase: 'Ready', observedGeneration: 1 }, 2));
    assert.equal(r?.status, 'InProgress');
    assert.match(r?.message ?? '', /generation is 2, but latest observed generation is 1/);
  });

  it('matches by group and kind whatever the version; a group-only entry covers the other kinds', () => {
    assert.equal(statusOf(widget({}, 1, 'Gadget'))?.status, 'Current');
    const other = { apiVersion: 'other.io/v1', kind: 'Widget', metadata: { name: 'x' } };
    assert.equal(statusOf(other), undefined);
  });

  it('is Unknown with the error when an expression cannot be evaluated', () => {
    const r = statusOf(widget({}));
    assert.equal(r?.status, 'Unknown');
    assert.match(r?.message ?? '', /failed to evaluate the CEL expression .*No such key: phase/);
  });

  it('refuses an entry that does not parse, or a second entry for the same group and kind', () => {
    assert.throws(
      () => compileHealthExprs([{ apiVersion: 'a/v1', kind: 'K', current: 'status.x ==' }]),
      (err: Error) => err instanceof CelCompileError && /healthCheckExprs\[0\]: current/.test(err.message),
    );
    assert.throws(
      () =>
        compileHealthExprs([
          { apiVersion: 'a/v1', kind: 'K', current: 'true' },
          { apiVersion: 'a/v2', kind: 'K', current: 'false' },
        ]),
      /duplicate custom health check for GroupKind a\/K at healthCheckExprs\[1\]/,
    );
    assert.equal(compileHealthExprs([]), undefined);
  });
});
