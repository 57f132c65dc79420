// What the event server (--events-addr) and the webhook receiver (--receiverAddr) share: request
// bodies read under a size limit, answers without a body, and Flux's HTTP metrics of both servers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, type Registry } from 'prom-client';
import { closeAfter } from '../runtime/httpbody.ts';

/** Flux caps request bodies of both servers at 3 MiB. */
export const maxRequestBytes = 3 * 1024 * 1024;

/** Answers with a status and no body; a refused upload (413) ends the connection instead of draining it. */
export function answer(req: IncomingMessage, res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  if (status === 413) closeAfter(req, res);
  res.writeHead(status).end();
}

/**
 * Waits for caches to fill, at most `timeoutMs`: false when they have not, so a request is answered
 * 503 (emitters retry) instead of hanging while a CRD is missing.
 */
export async function synced(wait: () => Promise<void>, timeoutMs = 10_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([wait().then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

export type Observe = (handler: string, method: string, status: number, seconds: number) => void;

/** `<prefix>_http_request_duration_seconds{code,handler,method,service}`, as go-http-metrics names it. */
export function httpMetrics(registry: Registry, prefix: 'gotk_event' | 'gotk_receiver'): Observe {
  const name = `${prefix}_http_request_duration_seconds`;
  const existing = registry.getSingleMetric(name) as Histogram | undefined;
  const histogram =
    existing ??
    new Histogram({
      name,
      help: 'The latency of the HTTP requests.',
      labelNames: ['code', 'handler', 'method', 'service'],
      registers: [registry],
    });
  return (handler, method, status, seconds) =>
    histogram.observe({ code: String(status), handler, method, service: '' }, seconds);
}
