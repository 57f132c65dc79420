// notification-controller: the event intake that routes controllers' events to Providers through
// Alerts, the webhook receiver that makes sources reconcile at once, and the Receiver reconciler.
//   node dist/controllers/notification/main.js --events-addr=:9090 --receiverAddr=:9292 \
//     --rate-limit-interval=5m

import type { ParseArgsOptionsConfig } from 'node:util';
import { AlertKind, ProviderKind, ReceiverKind } from '../api/kinds.ts';

import { createClient } from '../runtime/client.ts';
import { parseDuration } from '../runtime/duration.ts';
import { createRecorder } from '../runtime/events.ts';
import { KubeConfig } from '../runtime/kubeconfig.ts';
import { listen } from '../runtime/listen.ts';
import { createLogger } from '../runtime/log.ts';
import { parseFlags, runManager } from '../runtime/manager.ts';
import { byProvider, bySource, providerKeys, sourceKeys } from './alerts.ts';
import { createDispatcher } from './dispatch.ts';
import { eventHandler } from './event-server.ts';
import { createGcrVerifier } from './gcr.ts';
import { createRateLimiter } from './ratelimit.ts';
import { receiverController } from './receiver.ts';
import { receiverHandler } from './receiver-server.ts';
import { httpMetrics } from './server.ts';
import { watchSpecs } from './specs.ts';

const name = 'notification-controller';
const inCluster = Boolean(process.env.KUBERNETES_SERVICE_HOST);

export const notificationFlags = {
  // Here --events-addr is where events are received (Flux binds :9090 in a pod; loopback elsewhere).
  'events-addr': { type: 'string', default: inCluster ? ':9090' : '127.0.0.1:9090' },
  receiverAddr: { type: 'string', default: inCluster ? ':9292' : '127.0.0.1:9292' },
  'rate-limit-interval': { type: 'string', default: '5m' },
  'no-cross-namespace-refs': { type: 'boolean', default: false },
} satisfies ParseArgsOptionsConfig;

/** Flux's retryablehttp settings for provider calls: 4 retries, waits from 2s to 30s. */
const retry = { max: 4, minMs: 2000, maxMs: 30_000 };

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const { flags, values } = parseFlags(argv, { extra: notificationFlags });
  const flag = (k: keyof typeof notificationFlags) => values[k];
  const rateLimitMs = parseDuration(String(flag('rate-limit-interval')));
  if (rateLimitMs <= 0) throw new Error('--rate-limit-interval must be positive');
  const noCrossNamespaceRefs = flag('no-cross-namespace-refs') === true;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  const log = createLogger({ level: flags.logLevel });
  const client = createClient(kubeConfig, { fieldManager: name, userAgent: `tide/${name}` });
  // Its own events stay Kubernetes Events, as Flux's: --events-addr is where this one listens.
  const recorder = createRecorder({ client, controller: name, log });
  return runManager({
    name,
    controllers: [receiverController()],
    argv,
    extraFlags: notificationFlags,
    kubeConfig,
    client,
    log,
    recorder,
    async setup(manager) {
      const alerts = manager.informer(AlertKind);
      alerts.addIndex(bySource, sourceKeys);
      alerts.addIndex(byProvider, providerKeys);
      const providers = manager.informer(ProviderKind);
      const receivers = manager.informer(ReceiverKind);
      watchSpecs({ alerts, providers, recorder, log });
      const dispatcher = createDispatcher({
        client,
        recorder,
        log,
        alerts,
        providers,
        noCrossNamespaceRefs,
        retry,
      });
      const synced = async () => {
        await Promise.all([alerts.waitForSync(), providers.waitForSync()]);
      };
      const registry = manager.metrics.registry;
      const events = await listen(
        String(flag('events-addr')),
        eventHandler({
          dispatcher,
          limiter: createRateLimiter(rateLimitMs),
          log: log.with({ logger: 'event-server' }),
          synced,
          observe: httpMetrics(registry, 'gotk_event'),
        }),
        { readsBodies: true },
      );
      log.info('starting event server', { addr: `${events.address}:${events.port}` });
      const hooks = await listen(
        String(flag('receiverAddr')),
        receiverHandler({
          client,
          receivers,
          log: log.with({ logger: 'receiver-server' }),
          gcr: createGcrVerifier(),
          noCrossNamespaceRefs,
          observe: httpMetrics(registry, 'gotk_receiver'),
        }),
        { readsBodies: true },
      );
      log.info('starting webhook receiver server', { addr: `${hooks.address}:${hooks.port}` });
      return async () => {
        await Promise.all([events.close(), hooks.close()]);
        // Deliveries already started get a few seconds, as Flux's servers do on shutdown.
        await dispatcher.flush(5000);
      };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(JSON.stringify({ level: 'error', msg: `${name} failed to start`, error: err.message }));
      process.exit(1);
    },
  );
}
