import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { parseListenAddress } from '../../../controllers/runtime/listen.ts';
import {
  createMetrics,
  reconcileDurationBuckets,
  serveMetrics,
} from '../../../controllers/runtime/metrics.ts';

describe('runtime/metrics', () => {
  it('uses Flux buckets for gotk_reconcile_duration_seconds: 10 from 10ms to 30min', () => {
    assert.equal(reconcileDurationBuckets.length, 10);
    assert.equal(reconcileDurationBuckets[0], 0.01);
    assert.ok(Math.abs(reconcileDurationBuckets[9]! - 1800) < 1e-9);
    const ratio = reconcileDurationBuckets[1]! / reconcileDurationBuckets[0]!;
    assert.ok(Math.abs(ratio - (1800 / 0.01) ** (1 / 9)) < 1e-9, 'buckets grow by a constant factor');
  });

  it('exposes the reconcile histogram with its labels and the runtime metrics', async () => {
    const m = createMetrics();
    m.reconcileDuration.observe({ kind: 'GitRepository', name: 'podinfo', namespace: 'flux-system' }, 0.42);
    m.reconcileTotal.inc({ controller: 'source', kind: 'GitRepository', result: 'success' });
    m.queueDepth.set({ controller: 'source' }, 3);
    m.informerEvents.inc({ kind: 'GitRepository', type: 'MODIFIED' });
    m.informerHealthy.set({ kind: 'GitRepository' }, 1);
    const text = await m.registry.metrics();
    assert.match(
      text,
      /^gotk_reconcile_duration_seconds_bucket\{le="0\.01",kind="GitRepository",name="podinfo",namespace="flux-system"\} 0$/m,
    );
    assert.match(
      text,
      /^gotk_reconcile_duration_seconds_count\{kind="GitRepository",name="podinfo",namespace="flux-system"\} 1$/m,
    );
    assert.match(
      text,
      /^tide_reconcile_total\{controller="source",kind="GitRepository",result="success"\} 1$/m,
    );
    assert.match(text, /^tide_workqueue_depth\{controller="source"\} 3$/m);
    assert.match(text, /^tide_informer_events_total\{kind="GitRepository",type="MODIFIED"\} 1$/m);
    assert.match(text, /^tide_informer_healthy\{kind="GitRepository"\} 1$/m);
    assert.match(text, /^# TYPE tide_informer_restarts_total counter$/m);
    assert.match(text, /^# TYPE tide_informer_relists_total counter$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m, 'default process metrics are collected');
  });

  it('registers into the given registry, so two controllers can have their own', async () => {
    const a = new Registry();
    const b = new Registry();
    createMetrics(a).reconcileTotal.inc({ controller: 'a', kind: 'K', result: 'error' });
    createMetrics(b);
    assert.match(await a.metrics(), /controller="a"/);
    assert.doesNotMatch(await b.metrics(), /controller="a"/);
  });

  it('parses listen addresses like Go', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListenAddress(':8080'), { host: undefined, port: 8080 });
    assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['8080', 'host', ':', ':99999', 'a:b'])
      assert.throws(() => parseListenAddress(bad), /invalid/);
  });

  it('serves /metrics over HTTP on a free port', async () => {
    const m = createMetrics();
    m.reconcileDuration.observe({ kind: 'Kustomization', name: 'apps', namespace: 'flux-system' }, 1.5);
    const server = await serveMetrics('127.0.0.1:0', m.registry);
    try {
      assert.ok(server.port > 0);
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(
        await res.text(),
        /^gotk_reconcile_duration_seconds_sum\{kind="Kustomization",name="apps",namespace="flux-system"\} 1\.5$/m,
      );
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${server.port}/metrics`));
  });
});
