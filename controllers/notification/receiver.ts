// Receiver (v1): checks the spec, reads the token of its Secret and publishes the webhook path
// `/hook/<sha256(token + name + namespace)>` in status.webhookPath, where receiver-server.ts accepts
// calls. Requeued at spec.interval (10m) and at once when a Secret labelled for watching changes.

import { createHash } from 'node:crypto';
import { ReceiverKind } from '../api/kinds.ts';
import { Labels, Reasons } from '../api/names.ts';
import type { Receiver } from '../api/notification.ts';
import { CelCompileError, compileBool } from '../runtime/cel.ts';
import { readData } from '../runtime/configdata.ts';
import { terminalErrorMessage } from '../runtime/dependencies.ts';
import { GenericError, StallingError } from '../runtime/errors.ts';
import type { UnsupportedField } from '../runtime/fields.ts';
import { type KubeObject, keyOf } from '../runtime/object.ts';
import { defineController, type ReconcileContext, type WatchSpec } from '../runtime/reconciler.ts';
import { webhookTypes } from './webhooks.ts';

/** Index of the Receiver cache: status.webhookPath. */
export const byWebhookPath = 'webhookPath';
const bySecret = 'secretRef';

export const webhookPathPrefix = '/hook/';

/** The path a Receiver answers on. */
export const webhookPath = (token: string, name: string, namespace: string) =>
  `${webhookPathPrefix}${createHash('sha256')
    .update(token + name + namespace)
    .digest('hex')}`;

/** Variables of resourceFilter and resources[].filter. */
export const filterVariables = ['res', 'req'];

export const receiverUnsupportedFields: readonly UnsupportedField[] = [
  {
    path: 'spec.type',
    allowed: webhookTypes,
    why: 'generic-oidc (OIDC token authentication) is not implemented; use generic-hmac or a forge type',
  },
  { path: 'spec.oidcProviders', why: 'generic-oidc receivers are not implemented' },
];

const secretKey = (namespace: string, name: string) => `${namespace}/${name}`;

function secretKeys(o: KubeObject): string[] {
  const r = o as Receiver;
  return r.spec?.secretRef?.name ? [secretKey(r.metadata.namespace ?? '', r.spec.secretRef.name)] : [];
}

// Flux's --watch-configs-label-selector: only Secrets labelled for it are watched.
const secretWatch: WatchSpec = {
  kind: { group: '', version: 'v1', kind: 'Secret' },
  labelSelector: `${Labels.watch}=Enabled`,
  map: (o, primary) =>
    primary.byIndex(bySecret, secretKey(o.metadata.namespace ?? '', o.metadata.name ?? '')).map(keyOf),
  predicate: (a, b) => JSON.stringify(a.data) !== JSON.stringify(b.data),
};

/** Compiles every CEL filter; a bad one stalls the Receiver with InvalidCELExpression. */
function checkFilters(obj: Receiver): void {
  const check = (expr: string | undefined, what: string) => {
    if (!expr) return;
    try {
      compileBool(expr, { variables: filterVariables });
    } catch (err) {
      if (!(err instanceof CelCompileError)) throw err;
      throw new StallingError(
        Reasons.InvalidCELExpression,
        `${terminalErrorMessage}: invalid ${what}: ${err.message}`,
      );
    }
  };
  check(obj.spec.resourceFilter, 'resourceFilter expression');
  obj.spec.resources.forEach((r, i) => {
    check(r.filter, `filter expression for resources[${i}] (kind="${r.kind}", name="${r.name}")`);
  });
}

/** The Secret's `token`; fails with TokenNotFound (the webhook path is withdrawn meanwhile). */
async function readToken(obj: Receiver, ctx: ReconcileContext): Promise<string> {
  const ns = obj.metadata.namespace ?? '';
  const name = obj.spec.secretRef?.name ?? '';
  const data = await readData(ctx.client, { kind: 'Secret', namespace: ns, name });
  const problem = !data
    ? `unable to read token from secret '${ns}/${name}': not found`
    : data.token === undefined
      ? `invalid '${ns}/${name}' secret data: required fields 'token'`
      : undefined;
  if (problem) {
    obj.status = { ...obj.status, webhookPath: undefined };
    throw new GenericError(Reasons.TokenNotFound, problem);
  }
  return Buffer.from(data?.token ?? '', 'base64').toString('utf8');
}

export function receiverController() {
  return defineController<Receiver>({
    name: 'receiver',
    kind: ReceiverKind,
    conditionPolicy: { owned: [], negativePolarity: [] },
    unsupportedFields: receiverUnsupportedFields,
    indexes: {
      [byWebhookPath]: (o) => (o.status?.webhookPath ? [o.status.webhookPath] : []),
      [bySecret]: secretKeys,
    },
    watches: [secretWatch],

    /**
     * Stalls with InvalidCELExpression (a filter does not compile) or ValidationFailed (no secretRef);
     * fails with TokenNotFound until the Secret has a `token`; then sets status.webhookPath. The runner
     * derives Ready ("Receiver initialized for path: …").
     */
    async reconcile(obj, ctx) {
      checkFilters(obj);
      if (!obj.spec.secretRef?.name)
        throw new StallingError(
          Reasons.ValidationFailed,
          `${terminalErrorMessage}: secretRef is required when type is not generic-oidc`,
        );
      const token = await readToken(obj, ctx);
      const path = webhookPath(token, obj.metadata.name ?? '', obj.metadata.namespace ?? '');
      if (obj.status?.webhookPath !== path) ctx.log.info(`Receiver initialized for path: ${path}`);
      obj.status = { ...obj.status, webhookPath: path };
      return { readyMessage: `Receiver initialized for path: ${path}` };
    },
  });
}
