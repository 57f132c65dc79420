import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, type Client } from '../../../controllers/runtime/client.ts';
import { createRecorder, type FluxEvent } from '../../../controllers/runtime/events.ts';
import type { KubeObject, ObjectRef } from '../../../controllers/runtime/object.ts';

// Records the Event writes the recorder makes; `expire` makes the next count patch answer 404.
function fakeClient() {
  const calls: { op: string; ref?: ObjectRef; body: unknown }[] = [];
  let expire = false;
  const client = {
    create: async (obj: KubeObject) => {
      calls.push({ op: 'create', body: obj });
      return obj;
    },
    patch: async (ref: ObjectRef, _type: string, body: unknown) => {
      calls.push({ op: 'patch', ref, body });
      if (expire) {
        expire = false;
        throw new ApiError(404, 'events "x" not found', 'NotFound');
      }
      return {} as KubeObject;
    },
  } as unknown as Client;
  return { client, calls, expireNext: () => (expire = true) };
}

async function sink(statuses: number[] = []) {
  const events: FluxEvent[] = [];
  let hits = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits++;
      const status = statuses.shift() ?? 202;
      if (status < 300) events.push(JSON.parse(body));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    events,
    hits: () => hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const repo: KubeObject = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: {
    name: 'podinfo',
    namespace: 'flux-system',
    uid: 'u-1',
    resourceVersion: '42',
    annotations: { 'event.toolkit.fluxcd.io/deployment': 'blue', other: 'x' },
  },
};

describe('runtime/events', () => {
  it('creates one Kubernetes Event per object/type/reason/message and bumps its count on repeats', async () => {
    const f = fakeClient();
    const rec = createRecorder({ client: f.client, controller: 'source-controller', instance: 'pod-1' });
    rec.event(repo, 'Warning', 'GitOperationFailed', 'failed to checkout');
    await rec.flush();
    rec.event(repo, 'Warning', 'GitOperationFailed', 'failed to checkout');
    await rec.flush();
    rec.event(repo, 'Warning', 'GitOperationFailed', 'failed to checkout');
    rec.event(repo, 'Warning', 'GitOperationFailed', 'another message');
    await rec.flush();
    assert.deepEqual(
      f.calls.map((c) => c.op),
      ['create', 'patch', 'patch', 'create'],
    );
    const created = f.calls[0]?.body as Record<string, unknown> & KubeObject;
    assert.equal(created.metadata.namespace, 'flux-system');
    assert.match(created.metadata.name ?? '', /^podinfo\.[0-9a-f]+$/);
    assert.deepEqual(created.involvedObject, {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      name: 'podinfo',
      namespace: 'flux-system',
      uid: 'u-1',
      resourceVersion: '42',
    });
    assert.equal(created.type, 'Warning');
    assert.equal(created.reason, 'GitOperationFailed');
    assert.deepEqual(created.source, { component: 'source-controller' });
    assert.equal(created.reportingComponent, 'source-controller');
    assert.equal(created.reportingInstance, 'pod-1');
    assert.equal(created.count, 1);
    assert.deepEqual(created.metadata.annotations, { 'event.toolkit.fluxcd.io/deployment': 'blue' });
    assert.equal(f.calls[1]?.ref?.name, created.metadata.name);
    assert.equal((f.calls[1]?.body as { count: number } | undefined)?.count, 2);
    assert.equal((f.calls[2]?.body as { count: number } | undefined)?.count, 3);
  });

  it('records a new Event when the aggregated one has expired', async () => {
    const f = fakeClient();
    const rec = createRecorder({ client: f.client, controller: 'c' });
    rec.event(repo, 'Normal', 'Succeeded', 'ok');
    await rec.flush();
    f.expireNext();
    rec.event(repo, 'Normal', 'Succeeded', 'ok');
    await rec.flush();
    assert.deepEqual(
      f.calls.map((c) => c.op),
      ['create', 'patch', 'create'],
    );
  });

  it('limits how many Event writes one object can make (spam filter)', async () => {
    const f = fakeClient();
    let t = 0;
    const rec = createRecorder({
      client: f.client,
      controller: 'c',
      now: () => new Date(t),
      spam: { burst: 3, refillMs: 1000 },
    });
    for (let i = 0; i < 10; i++) rec.event(repo, 'Warning', 'Failed', `m${i}`);
    await rec.flush();
    assert.equal(f.calls.length, 3);
    t = 1000;
    rec.event(repo, 'Warning', 'Failed', 'later');
    await rec.flush();
    assert.equal(f.calls.length, 4);
  });

  it('forwards Flux event JSON; trace, notify:false and cluster-scoped objects stay Kubernetes-only', async () => {
    const s = await sink();
    try {
      const f = fakeClient();
      const rec = createRecorder({
        client: f.client,
        controller: 'source-controller',
        instance: 'pod-1',
        eventsAddr: s.url,
        now: () => new Date('2025-05-01T12:00:00.123Z'),
      });
      rec.event(repo, 'Warning', 'AuthenticationFailed', 'clone https://bob:hunter2@github.com/x failed', {
        metadata: { 'source.toolkit.fluxcd.io/revision': 'main@sha1:abc' },
      });
      rec.event(repo, 'Trace', 'Progressing', 'building');
      rec.event(repo, 'Normal', 'DependencyNotReady', 'waiting', { notify: false });
      rec.event(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cluster-scoped' } },
        'Normal',
        'Ok',
        'x',
      );
      rec.event(repo, 'Normal', 'NewArtifact', 'stored artifact');
      await rec.flush();
      assert.deepEqual(s.events[0], {
        involvedObject: {
          kind: 'GitRepository',
          namespace: 'flux-system',
          name: 'podinfo',
          uid: 'u-1',
          apiVersion: 'source.toolkit.fluxcd.io/v1',
          resourceVersion: '42',
        },
        severity: 'error',
        timestamp: '2025-05-01T12:00:00Z',
        message: 'clone https://bob:***@github.com/x failed',
        reason: 'AuthenticationFailed',
        metadata: {
          'source.toolkit.fluxcd.io/revision': 'main@sha1:abc',
          'event.toolkit.fluxcd.io/deployment': 'blue',
        },
        reportingController: 'source-controller',
        reportingInstance: 'pod-1',
      });
      assert.deepEqual(
        s.events.map((e) => [e.severity, e.reason]),
        [
          ['error', 'AuthenticationFailed'],
          ['info', 'NewArtifact'],
        ],
      );
      // Every one of them is a Kubernetes Event; the trace one as Normal; none holds the password.
      const k8s = f.calls.map((c) => c.body as { type: string; reason: string; message: string });
      assert.deepEqual(
        k8s.map((e) => [e.type, e.reason]),
        [
          ['Warning', 'AuthenticationFailed'],
          ['Normal', 'Progressing'],
          ['Normal', 'DependencyNotReady'],
          ['Normal', 'Ok'],
          ['Normal', 'NewArtifact'],
        ],
      );
      assert.doesNotMatch(JSON.stringify(f.calls), /hunter2/);
    } finally {
      await s.close();
    }
  });

  it('retries a forward that failed with 5xx, and does not retry 429', async () => {
    const s = await sink([503, 500]);
    try {
      const rec = createRecorder({ client: fakeClient().client, controller: 'c', eventsAddr: s.url });
      rec.event(repo, 'Normal', 'Ok', 'retried');
      await rec.flush();
      assert.equal(s.hits(), 3);
      assert.equal(s.events.length, 1);
    } finally {
      await s.close();
    }
    const limited = await sink([429]);
    try {
      const rec = createRecorder({ client: fakeClient().client, controller: 'c', eventsAddr: limited.url });
      rec.event(repo, 'Normal', 'Ok', 'dropped');
      await rec.flush();
      assert.equal(limited.hits(), 1);
    } finally {
      await limited.close();
    }
  });
});
