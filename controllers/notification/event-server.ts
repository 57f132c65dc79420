// The event intake (--events-addr): controllers POST Flux's event JSON. A body over 3 MiB is 413, one
// that is not an event 400; the metadata is cut to what alerting uses; a duplicate within the rate-limit
// window is 429 (emitters count it as delivered); anything else is 202 once its deliveries have started.
import type { RequestListener } from 'node:http';
import type { Logger } from '../runtime/log.ts';
import type { Dispatcher } from './dispatch.ts';
import { cleanupMetadata, parseEvent, rateLimitKey } from './event.ts';
import type { RateLimiter } from './ratelimit.ts';
import { answer, type Observe, readBody, synced, TooLargeError } from './server.ts';

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
  return (req, res) => {
    const started = process.hrtime.bigint();
    res.once('finish', () =>
      deps.observe?.('/', req.method ?? '', res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    );
    void (async () => {
      if (req.method !== 'POST') return answer(res, 405);
      let body: Buffer;
      try {
        body = await readBody(req, deps.maxBodyBytes);
      } catch (err) {
        log.error('reading the request body failed', err);
        return answer(res, err instanceof TooLargeError ? 413 : 400, true);
      }
      let event: ReturnType<typeof parseEvent>;
      try {
        event = parseEvent(body);
      } catch (err) {
        log.error('decoding the request body failed', err);
        return answer(res, 400);
      }
      cleanupMetadata(event);
      if (!deps.limiter.allow(rateLimitKey(event))) {
        log.debug('Discarding event, rate limiting duplicate events', {
          involvedObject: event.involvedObject,
        });
        return answer(res, 429);
      }
      if (!(await synced(deps.synced))) {
        log.error('the Alert and Provider caches have not synced; refusing the event for now');
        return answer(res, 503);
      }
      await deps.dispatcher.dispatch(event);
      answer(res, 202);
    })().catch((err) => {
      log.error('handling the event failed', err);
      answer(res, 500);
    });
  };
}
