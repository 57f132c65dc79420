// The pure parts of the apply engine: drift detection, immutable-error detection, the takeover of stale
// field managers, and the health wait's decisions (with a fake client that serves scripted objects).
import assert from 'node:assert/strict';
import {
  hasDrifted,
  isImmutableError,
  staleManagers,
  takeOverManagers,
} from '../../../controllers/runtime/apply/apply.ts';
import { waitForHealth } from '../../../controllers/runtime/apply/health.ts';
import { ApiError, type Client } from '../../../controllers/runtime/client.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';

const live: KubeObject = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name: 'cfg',
    namespace: 'ns',
    resourceVersion: '10',
    generation: 1,
    labels: { a: '1' },
    managedFields: [{ manager: 'kustomize-controller' }],
  },
  data: { k: 'v' },
};

describe('apply/hasDrifted', () => {
  it('ignores managedFields, resourceVersion and status, but not data, labels or annotations', () => {
    const dry = structuredClone(live);
    dry.metadata.resourceVersion = '10';
    dry.metadata.managedFields = [{ manager: 'other' }];
    dry.status = { x: 1 };
    assert.equal(hasDrifted(live, dry), false);
    assert.equal(hasDrifted(live, { ...dry, data: { k: 'w' } }), true);
    assert.equal(hasDrifted(live, { ...dry, metadata: { ...dry.metadata, labels: { a: '2' } } }), true);
    assert.equal(hasDrifted(live, { ...dry, metadata: { ...dry.metadata, annotations: { n: 'x' } } }), true);
  });

  it('counts a dry-run without resourceVersion (a creation) as drift', () => {
    const dry = structuredClone(live);
    delete dry.metadata.resourceVersion;
    assert.equal(hasDrifted(live, dry), true);
  });
});

describe('apply/isImmutableError', () => {
  const err = (status: number, reason: string, message: string) =>
    new ApiError(status, `PATCH /apis/batch/v1/namespaces/ns/jobs/j: ${status} ${message}`, reason);

  it('recognises the API server and CEL messages for immutable fields', () => {
    assert.ok(
      isImmutableError(
        err(
          422,
          'Invalid',
          'Job.batch "j" is invalid: spec.template: Invalid value: ...: field is immutable',
        ),
      ),
    );
    assert.ok(
      isImmutableError(
        err(422, 'Invalid', 'spec.clusterIPs[0]: Invalid value: ...: may not change once set'),
      ),
    );
    assert.ok(
      isImmutableError(
        err(
          422,
          'Invalid',
          "spec: Forbidden: updates to statefulset spec for fields other than 'replicas' are forbidden",
        ),
      ),
    );
    assert.ok(isImmutableError(err(400, 'BadRequest', 'admission webhook denied: spec.size is immutable')));
  });

  it('does not take other validation errors or denials for immutability', () => {
    assert.equal(
      isImmutableError(err(422, 'Invalid', 'spec.replicas: Invalid value: -1: must be >= 0')),
      false,
    );
    assert.equal(
      isImmutableError(err(403, 'Forbidden', 'jobs.batch "j" is forbidden: User cannot patch')),
      false,
    );
  });
});

describe('apply/takeOverManagers', () => {
  const stale = staleManagers('kustomize-controller');
  const entry = (
    manager: string,
    operation: string,
    fields: Record<string, unknown>,
    subresource?: string,
  ) => ({
    manager,
    operation,
    apiVersion: 'apps/v1',
    time: '2025-01-01T00:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: fields,
    ...(subresource ? { subresource } : {}),
  });

  it('merges the fields of kubectl and before-first-apply into our Apply entry', () => {
    const out = takeOverManagers(
      [
        entry('kustomize-controller', 'Apply', { 'f:spec': { 'f:replicas': {} } }),
        entry('kubectl-client-side-apply', 'Update', { 'f:metadata': { 'f:labels': { 'f:x': {} } } }),
        entry('kubectl-edit', 'Update', { 'f:spec': { 'f:paused': {} } }),
        entry('kube-controller-manager', 'Update', { 'f:status': {} }, 'status'),
        entry('helm', 'Update', { 'f:data': {} }),
      ],
      stale,
      'kustomize-controller',
    );
    assert.deepEqual(
      out?.map((e) => [e.manager, e.operation]),
      [
        ['kustomize-controller', 'Apply'],
        ['kube-controller-manager', 'Update'],
        ['helm', 'Update'],
      ],
    );
    assert.deepEqual(out?.[0]?.fieldsV1, {
      'f:spec': { 'f:replicas': {}, 'f:paused': {} },
      'f:metadata': { 'f:labels': { 'f:x': {} } },
    });
  });

  it('renames a stale entry when we own nothing yet, and leaves clean objects alone', () => {
    const out = takeOverManagers(
      [entry('before-first-apply', 'Update', { 'f:data': {} })],
      stale,
      'kustomize-controller',
    );
    assert.deepEqual(
      out?.map((e) => [e.manager, e.operation, e.fieldsV1]),
      [['kustomize-controller', 'Apply', { 'f:data': {} }]],
    );
    assert.equal(
      takeOverManagers(
        [entry('kustomize-controller', 'Apply', {}), entry('helm', 'Update', {})],
        stale,
        'kustomize-controller',
      ),
      undefined,
    );
    // kubectl's scale subresource is not taken over: SSA with force takes spec.replicas back anyway.
    assert.equal(
      takeOverManagers([entry('kubectl', 'Update', {}, 'scale')], stale, 'kustomize-controller'),
      undefined,
    );
  });
});

describe('apply/waitForHealth', () => {
  // A client whose objects change from poll to poll: script[name][n] is the object at the n-th read.
  function fakeClient(script: Record<string, (KubeObject | undefined)[]>): Client {
    const reads: Record<string, number> = {};
    return {
      tryGet: async (ref: ObjectRef) => {
        const seq = script[ref.name] ?? [];
        const n = reads[ref.name] ?? 0;
        reads[ref.name] = n + 1;
        return seq[Math.min(n, seq.length - 1)];
      },
    } as unknown as Client;
  }
  const job = (name: string, type?: 'Complete' | 'Failed'): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'ns' },
    status: { conditions: type ? [{ type, status: 'True' }] : [] },
  });
  const entry = (name: string) => ({ id: `ns_${name}_batch_Job`, v: 'v1' });

  it('succeeds once every object is Current', async () => {
    const client = fakeClient({ a: [job('a'), job('a', 'Complete')], b: [job('b', 'Complete')] });
    const res = await waitForHealth(client, [entry('a'), entry('b')], { timeoutMs: 10_000, intervalMs: 1 });
    assert.equal(res.ok, true, res.message);
    assert.deepEqual(
      res.results.map((r) => [r.subject, r.status]),
      [
        ['Job/ns/a', 'Current'],
        ['Job/ns/b', 'Current'],
      ],
    );
  });

  it('fails fast when only Failed and Current objects remain', async () => {
    const client = fakeClient({ a: [job('a', 'Failed')], b: [job('b'), job('b', 'Complete')] });
    const started = Date.now();
    const res = await waitForHealth(client, [entry('a'), entry('b')], { timeoutMs: 60_000, intervalMs: 1 });
    assert.equal(res.ok, false);
    assert.equal(res.reason, 'Failed');
    assert.match(res.message, /^failed early due to stalled resources: \[Job\/ns\/a status: 'Failed'/);
    assert.doesNotMatch(res.message, /Job\/ns\/b/);
    assert.ok(Date.now() - started < 60_000);
  });

  it('times out naming what is not ready, a missing object as NotFound', async () => {
    const client = fakeClient({ a: [job('a')], b: [job('b', 'Complete')], c: [undefined] });
    const res = await waitForHealth(client, [entry('a'), entry('b'), entry('c')], {
      timeoutMs: 30,
      intervalMs: 5,
    });
    assert.equal(res.ok, false);
    assert.equal(res.reason, 'Timeout');
    assert.match(
      res.message,
      /^timeout waiting for: \[Job\/ns\/a status: 'InProgress': Job in progress, Job\/ns\/c status: 'NotFound'/,
    );
  });

  it('stops when its signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const res = await waitForHealth(fakeClient({ a: [job('a')] }), [entry('a')], {
      timeoutMs: 60_000,
      intervalMs: 5,
      signal: ac.signal,
    });
    assert.equal(res.reason, 'Canceled');
  });
});
