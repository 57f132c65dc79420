// From an accepted event to deliveries: the Alerts it matches (found through the Alert cache's
// event-source index), for each its Provider (skipped when suspended or not interested), the combined
// metadata, then one delivery per Alert. Deliveries run in the background, each under its Provider's
// timeout with bounded retries, so a Provider that is slow or down delays neither the others nor the
// event intake; a failed delivery is a Warning event on the Alert (NotificationDispatchFailed).

import { Annotations, COMMIT_STATUS_UPDATE, EventMetadata, Reasons } from '../api/names.ts';
import type { Alert, Provider } from '../api/notification.ts';
import type { Client } from '../runtime/client.ts';
import type { Recorder } from '../runtime/events.ts';
import type { Informer } from '../runtime/informer.ts';
import type { Logger } from '../runtime/log.ts';
import { alertMatches, bySource, type LabelsOf, sourceKey } from './alerts.ts';
import {
  combineMetadata,
  excludeInternalMetadata,
  type NotificationEvent,
  objectGroupPrefix,
} from './event.ts';
import { isCommitStatusType, isGenericType, notifierFor } from './providers/index.ts';
import type { Notification, Notifier, RetryPolicy } from './providers/types.ts';
import { commitStatusId, providerSettings, providerTimeoutMs } from './settings.ts';
import { providerRefusal } from './specs.ts';

export interface DispatcherDeps {
  client: Client;
  recorder: Recorder;
  log: Logger;
  /** The Alert cache, indexed by event source (alerts.ts bySource). */
  alerts: Informer;
  providers: Informer;
  /** Refuse events of objects in other namespaces than the Alert's (--no-cross-namespace-refs). */
  noCrossNamespaceRefs?: boolean;
  retry: RetryPolicy;
  /** Deliveries in flight beyond which new ones are dropped (logged), so memory stays bounded. */
  maxInFlight?: number;
}

export interface Dispatcher {
  /** Matches the event and starts its deliveries; resolves once they are started. */
  dispatch(event: NotificationEvent): Promise<void>;
  /** Waits for the deliveries in flight, at most `timeoutMs`. */
  flush(timeoutMs: number): Promise<void>;
}

interface Delivery {
  notifier: Notifier;
  notification: Notification;
  timeoutMs: number;
}

/**
 * Commit status updates go to Git providers and generic ones (which forward everything), not to chat;
 * Git providers take status updates, events naming a commit (`event.toolkit.fluxcd.io/commit`), and
 * failures.
 */
function interested(type: string, event: NotificationEvent): boolean {
  const meta = event.metadata ?? {};
  const statusUpdate =
    meta[`${objectGroupPrefix(event)}${EventMetadata.commitStatus}`] === COMMIT_STATUS_UPDATE;
  if (!isCommitStatusType(type)) return !statusUpdate || isGenericType(type);
  const commit = meta[`${Annotations.eventPrefix}${EventMetadata.commit}`];
  return Boolean(commit) || statusUpdate || event.severity === 'error';
}

const describe = (e: NotificationEvent) =>
  `${e.involvedObject.kind}/${e.involvedObject.namespace}/${e.involvedObject.name}`;

export function createDispatcher(deps: DispatcherDeps): Dispatcher {
  const { client, recorder, log } = deps;
  const maxInFlight = deps.maxInFlight ?? 1000;
  const inFlight = new Set<Promise<void>>();

  const labelsOf: LabelsOf = async (ref) => {
    try {
      const obj = await client.tryGet(ref);
      return obj ? (obj.metadata.labels ?? {}) : undefined;
    } catch {
      return undefined;
    }
  };

  const warn = (alert: Alert, reason: string, message: string) => {
    log.error(message, undefined, { alert: `${alert.metadata.namespace}/${alert.metadata.name}` });
    recorder.event(alert, 'Warning', reason, message);
  };

  /** The delivery of the event through the Alert's Provider, or undefined when there is none to make. */
  async function prepare(event: NotificationEvent, alert: Alert): Promise<Delivery | undefined> {
    const ns = alert.metadata.namespace ?? '';
    if (deps.noCrossNamespaceRefs && event.involvedObject.namespace !== ns)
      throw new Error(
        `discarding event, access denied to cross-namespace sources: alert '${ns}/${alert.metadata.name}' ` +
          `can't process event from '${describe(event)}', cross-namespace references have been blocked`,
      );
    const provider = deps.providers.get(`${ns}/${alert.spec.providerRef.name}`) as Provider | undefined;
    if (!provider)
      throw new Error(`failed to read provider: Provider '${ns}/${alert.spec.providerRef.name}' not found`);
    if (provider.spec.suspend) return undefined;
    const refusal = providerRefusal(provider);
    if (refusal) throw new Error(`Provider '${provider.metadata.name}': ${refusal}`);
    const type = provider.spec.type;
    if (!interested(type, event)) {
      log.debug('event not for this provider type (commit status rules)', { provider: type });
      return undefined;
    }
    const { metadata, conflicts } = combineMetadata(event, alert);
    if (Object.keys(conflicts).length > 0) {
      const keys = Object.entries(conflicts).map(([k, s]) => `${k} (${s.join(', ')})`);
      warn(
        alert,
        Reasons.MetadataAppendFailed,
        `metadata key conflicts detected (please refer to the Alert API docs and Flux RFC 0008): ${keys.join('; ')}`,
      );
    }
    const notification: Notification = { ...event, metadata };
    const commitStatus = isCommitStatusType(type) ? commitStatusId(provider, notification, alert) : undefined;
    const settings = await providerSettings(client, { provider, commitStatus, retry: deps.retry });
    return { notifier: notifierFor(settings), notification, timeoutMs: providerTimeoutMs(provider) };
  }

  function deliver(alert: Alert, d: Delivery, event: NotificationEvent) {
    if (inFlight.size >= maxInFlight) {
      log.error('dropping notification: too many deliveries in flight', undefined, {
        alert: `${alert.metadata.namespace}/${alert.metadata.name}`,
        inFlight: inFlight.size,
      });
      return;
    }
    const p = d.notifier
      .post(d.notification, AbortSignal.timeout(d.timeoutMs))
      .then(
        () =>
          log.debug('notification sent', {
            alert: alert.metadata.name,
            provider: alert.spec.providerRef.name,
          }),
        (err: Error) =>
          warn(
            alert,
            Reasons.NotificationDispatchFailed,
            `failed to send notification for ${describe(event)}: ${err.message}`,
          ),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  return {
    async dispatch(event) {
      excludeInternalMetadata(event);
      const io = event.involvedObject;
      const fields = { kind: io.kind, name: io.name, namespace: io.namespace };
      const candidates = deps.alerts.byIndex(bySource, sourceKey(io.kind, io.namespace)) as Alert[];
      const matched: Alert[] = [];
      for (const alert of candidates) {
        const report = (reason: string, message: string) => warn(alert, reason, message);
        if (await alertMatches(alert, event, labelsOf, report)) matched.push(alert);
      }
      if (matched.length === 0) {
        log.debug('discarding event, no alerts found for the involved object', fields);
        return;
      }
      log.info('dispatching event', { ...fields, reason: event.reason, alerts: matched.length });
      for (const alert of matched) {
        try {
          const delivery = await prepare(event, alert);
          if (delivery) deliver(alert, delivery, event);
        } catch (err) {
          warn(
            alert,
            Reasons.NotificationDispatchFailed,
            `failed to dispatch notification for ${describe(event)}: ${(err as Error).message}`,
          );
        }
      }
    },
    async flush(timeoutMs) {
      const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...inFlight]), deadline]);
    },
  };
}
