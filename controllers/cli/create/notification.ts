// tide create alert|alert-provider|receiver (F2 cmd/flux/create_alert.go, create_alertprovider.go,
// create_receiver.go).
import { AlertKind, PROVIDER_TYPES, ProviderKind, RECEIVER_TYPES, ReceiverKind } from '../../api/index.ts';
import { type Context, list, required, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { alertKind, alertProviderKind, receiverKind } from '../kinds.ts';
import { type Creator, durationFlag, meta, oneOf, parseRefArg } from './common.ts';

/** `Kind/name[.namespace]` (name `*` for every object of the kind) as a cross-namespace reference. */
const resources = (ctx: Context, flag: string) =>
  list(ctx, flag).map((v) => {
    const r = parseRefArg(v, flag);
    if (!r.kind) throw new CliError(`invalid --${flag} "${v}": want <Kind>/<name>[.<namespace>]`);
    return { kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
  });

export const alert: Creator = {
  words: ['alert'],
  what: 'Alert',
  kind: alertKind,
  flags: ['provider-ref', 'event-severity', 'event-source', 'summary'],
  async build(ctx, name) {
    const severity = str(ctx, 'event-severity') ?? 'info';
    if (severity !== 'info' && severity !== 'error')
      throw new CliError(`invalid --event-severity "${severity}": want info or error`);
    const sources = resources(ctx, 'event-source');
    if (!sources.length) throw new CliError('--event-source is required, e.g. Kustomization/*');
    return [
      {
        apiVersion: AlertKind.apiVersion,
        kind: AlertKind.kind,
        metadata: meta(ctx, name),
        spec: {
          providerRef: { name: required(ctx, 'provider-ref') },
          eventSeverity: severity,
          eventSources: sources,
          ...(str(ctx, 'summary') ? { summary: str(ctx, 'summary') } : {}),
        },
      },
    ];
  },
};

export const alertProvider: Creator = {
  words: ['alert-provider'],
  what: 'Provider',
  kind: alertProviderKind,
  flags: ['type', 'channel', 'username', 'address', 'secret-ref'],
  async build(ctx, name) {
    const type = oneOf(ctx, 'type', PROVIDER_TYPES);
    return [
      {
        apiVersion: ProviderKind.apiVersion,
        kind: ProviderKind.kind,
        metadata: meta(ctx, name),
        spec: {
          type,
          ...(str(ctx, 'channel') ? { channel: str(ctx, 'channel') } : {}),
          ...(str(ctx, 'username') ? { username: str(ctx, 'username') } : {}),
          ...(str(ctx, 'address') ? { address: str(ctx, 'address') } : {}),
          ...(str(ctx, 'secret-ref') ? { secretRef: { name: str(ctx, 'secret-ref') } } : {}),
        },
      },
    ];
  },
};

export const receiver: Creator = {
  words: ['receiver'],
  what: 'Receiver',
  kind: receiverKind,
  flags: ['type', 'event', 'resource', 'secret-ref', 'interval'],
  async build(ctx, name) {
    const type = oneOf(ctx, 'type', RECEIVER_TYPES);
    const res = resources(ctx, 'resource');
    if (!res.length) throw new CliError('--resource is required, e.g. GitRepository/webapp');
    const events = list(ctx, 'event');
    return [
      {
        apiVersion: ReceiverKind.apiVersion,
        kind: ReceiverKind.kind,
        metadata: meta(ctx, name),
        spec: {
          type,
          interval: durationFlag(ctx, 'interval', '10m'),
          ...(events.length ? { events } : {}),
          resources: res,
          secretRef: { name: required(ctx, 'secret-ref') },
        },
      },
    ];
  },
};
