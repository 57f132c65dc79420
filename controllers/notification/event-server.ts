// The event intake (--events-addr): controllers POST Flux's event JSON. A body over 3 MiB is 413, one
// that is not an event 400; the metadata is cut to what alerting uses; a duplicate within the rate-limit
// window is 429 (emitters count it as delivered); anything else is 202 once its deliveries have started.
import type { RequestListener } from 'node:http';
import { BodyTooLargeError, readBody } from '../runtime/httpbody.ts';
import type { Logger } from '../runtime/log.ts';
import type { Dispatcher } from './dispatch.ts';
import { cleanupMetadata, parseEvent, rateLimitKey } from './event.ts';
import type { RateLimiter } from './ratelimit.ts';
import { answer, maxRequestBytes, type Observe, synced } from './server.ts';

export interface EventServerDeps {
  dispatcher: Dispatcher;
  limiter: RateLimiter;
  log: Logger;
  /** Resolves once the Alert and Provider caches are filled. */
  synced: () => Promise<void>;
  observe?: Observe;
  maxBodyBytes?: number;
}

export function eventHandler(deps: EventServerDeps): RequestListener {
  const { log } = deps;
  const maxBody = deps.maxBodyBytes ?? maxRequestBytes;
  return (req, res) => {
    const started = process.hrtime.bigint();
    res.once('finish', () =>
      deps.observe?.('/', req.method ?? '', res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    );
    void (async () => {
      if (req.method !== 'POST') return answer(req, res, 405);
      let body: Buffer;
      try {
        body = await readBody(req, maxBody);
      } catch (err) {
        log.error('reading the request body failed', err);
        return answer(req, res, err instanceof BodyTooLargeError ? 413 : 400);
      }
      let event: ReturnType<typeof parseEvent>;
      try {
        event = parseEvent(body);
      } catch (err) {
        log.error('decoding the request body failed', err);
        return answer(req, res, 400);
      }
      cleanupMetadata(event);
      if (!deps.limiter.allow(rateLimitKey(event))) {
        log.debug('Discarding event, rate limiting duplicate events', {
          involvedObject: event.involvedObject,
        });
        return answer(req, res, 429);
      }
      if (!(await synced(deps.synced))) {
        log.error('the Alert and Provider caches have not synced; refusing the event for now');
        return answer(req, res, 503);
      }
      await deps.dispatcher.dispatch(event);
      answer(req, res, 202);
    })().catch((err) => {
      log.error('handling the event failed', err);
      answer(req, res, 500);
    });
  };
}
