// Prometheus metrics: Flux's shared vocabulary (gotk_reconcile_duration_seconds) plus Tide's own
// runtime metrics, served on /metrics like Flux's :8080 endpoint.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Listener, listen } from './listen.ts';

export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'stalled';

export interface RuntimeMetrics {
  registry: Registry;
  reconcileDuration: Histogram<'kind' | 'name' | 'namespace'>;
  reconcileTotal: Counter<'controller' | 'kind' | 'result'>;
  queueDepth: Gauge<'controller'>;
  informerRestarts: Counter<'kind'>;
  informerRelists: Counter<'kind'>;
  informerEvents: Counter<'kind' | 'type'>;
  informerHealthy: Gauge<'kind'>;
}

/** Go's prometheus.ExponentialBucketsRange: count buckets growing by a constant factor from min to max. */
export function exponentialBucketsRange(min: number, max: number, count: number): number[] {
  const factor = (max / min) ** (1 / (count - 1));
  return Array.from({ length: count }, (_, i) => min * factor ** i);
}

/** fluxcd/pkg runtime/metrics: 10 buckets from 10 ms to 30 min. */
export const reconcileDurationBuckets = exponentialBucketsRange(10e-3, 1800, 10);

export function createMetrics(registry: Registry = new Registry()): RuntimeMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    reconcileDuration: new Histogram({
      name: 'gotk_reconcile_duration_seconds',
      help: 'The duration in seconds of a GitOps Toolkit resource reconciliation.',
      labelNames: ['kind', 'name', 'namespace'],
      buckets: reconcileDurationBuckets,
      registers,
    }),
    reconcileTotal: new Counter({
      name: 'tide_reconcile_total',
      help: 'Reconciliations by outcome (success, error, requeue, stalled).',
      labelNames: ['controller', 'kind', 'result'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'tide_workqueue_depth',
      help: 'Keys waiting for a worker.',
      labelNames: ['controller'],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'tide_informer_restarts_total',
      help: 'Watch restarts per informer.',
      labelNames: ['kind'],
      registers,
    }),
    informerRelists: new Counter({
      name: 'tide_informer_relists_total',
      help: 'Full relists per informer (initial list, expired resourceVersion, periodic resync).',
      labelNames: ['kind'],
      registers,
    }),
    informerEvents: new Counter({
      name: 'tide_informer_events_total',
      help: 'Watch events received per informer and event type.',
      labelNames: ['kind', 'type'],
      registers,
    }),
    informerHealthy: new Gauge({
      name: 'tide_informer_healthy',
      help: '1 when the informer is synced and watching, else 0.',
      labelNames: ['kind'],
      registers,
    }),
  };
}

/** Serves GET /metrics on addr (`:0` picks a free port); resolves once listening. */
export async function serveMetrics(addr: string, registry: Registry): Promise<Listener> {
  return listen(addr, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
}
