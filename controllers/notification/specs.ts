// Provider and Alert (v1beta3) have no status in Flux, so no condition can say a spec is refused.
// Tide tells the user the way Flux reports their problems: a Warning event on the object (reason
// UnsupportedField or InvalidConfig, visible in `kubectl describe` and `kubectl events`), the same
// warning on every Alert using a refused Provider, and an error log line. The checks run when an
// object is first seen and on every new generation; at dispatch time an Alert whose Provider is
// refused gets a NotificationDispatchFailed warning for the event it could not deliver.
import { AlertKind, ProviderKind } from '../api/kinds.ts';
import type { KindDescriptor } from '../api/meta.ts';
import { Reasons } from '../api/names.ts';
import type { Alert, Provider } from '../api/notification.ts';
import type { Recorder } from '../runtime/events.ts';
import { type UnsupportedField, unsupportedFieldMessage } from '../runtime/fields.ts';
import type { Informer } from '../runtime/informer.ts';
import type { Logger } from '../runtime/log.ts';
import { type KubeObject, keyOf } from '../runtime/object.ts';
import { alertProblems, byProvider } from './alerts.ts';
import { supportedTypes } from './providers/index.ts';

/** A kind without a reconciler of its own, and the spec fields Tide refuses in it. */
export interface StaticKind {
  kind: KindDescriptor;
  unsupportedFields: readonly UnsupportedField[];
}

export const providerUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.type',
    allowed: supportedTypes,
    why: `the provider types Tide implements are ${supportedTypes.join(', ')}`,
  },
  {
    path: 'spec.serviceAccountName',
    why: 'cloud workload identity is not implemented; put static credentials in the Secret of secretRef',
  },
];

export const providerKind: StaticKind = { kind: ProviderKind, unsupportedFields: providerUnsupportedFields };
/** Every Alert field is implemented. */
export const alertKind: StaticKind = { kind: AlertKind, unsupportedFields: [] };

/** Why a Provider is refused, or undefined when Tide can use it. */
export const providerRefusal = (p: Provider): string | undefined =>
  unsupportedFieldMessage(p, providerUnsupportedFields);

export interface SpecWatchDeps {
  alerts: Informer;
  providers: Informer;
  recorder: Recorder;
  log: Logger;
}

/** Warns about refused Providers and broken Alerts as they appear and change. */
export function watchSpecs(deps: SpecWatchDeps): void {
  const { recorder, log } = deps;
  // One warning per object generation, however often the informer relists.
  const checked = new Map<string, number | undefined>();
  const fresh = (o: KubeObject) => {
    const id = o.metadata.uid ?? keyOf(o);
    if (checked.has(id) && checked.get(id) === o.metadata.generation) return false;
    checked.set(id, o.metadata.generation);
    if (checked.size > 10_000) checked.delete(checked.keys().next().value as string);
    return true;
  };
  const warn = (o: KubeObject, reason: string, message: string) => {
    log.error(message, undefined, { kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
    recorder.event(o, 'Warning', reason, message);
  };

  const checkProvider = (o: KubeObject) => {
    if (!fresh(o)) return;
    const p = o as Provider;
    if (p.spec?.interval) log.info('spec.interval of a v1beta3 Provider is deprecated and has no effect');
    const refusal = providerRefusal(p);
    if (!refusal) return;
    warn(p, Reasons.UnsupportedField, refusal);
    for (const a of deps.alerts.byIndex(byProvider, keyOf(p)))
      warn(a, Reasons.UnsupportedField, `Provider '${p.metadata.name}': ${refusal}`);
  };
  const checkAlert = (o: KubeObject) => {
    if (!fresh(o)) return;
    const a = o as Alert;
    for (const problem of alertProblems(a)) warn(a, Reasons.InvalidConfig, problem);
    const p = deps.providers.get(`${a.metadata.namespace}/${a.spec?.providerRef?.name}`) as
      | Provider
      | undefined;
    const refusal = p && providerRefusal(p);
    if (refusal) warn(a, Reasons.UnsupportedField, `Provider '${p.metadata.name}': ${refusal}`);
  };
  deps.providers.addHandler({ add: checkProvider, update: (_o, n) => checkProvider(n) });
  deps.alerts.addHandler({ add: checkAlert, update: (_o, n) => checkAlert(n) });
}
