// The webhook receiver (--receiverAddr): `/hook/<digest>` finds its Receiver through the cache index
// of status.webhookPath. The body is read first (413 over 3 MiB); an unknown path is 404, a suspended
// or not Ready Receiver 503, a call that fails authentication 400 — all before anything is written.
// A valid call annotates each selected resource with reconcile.fluxcd.io/requestedAt, so its
// controller reconciles at once: 200, or 500 when a resource could not be annotated.
import type { IncomingMessage, RequestListener } from 'node:http';
import { allKinds } from '../api/kinds.ts';
import { Annotations, ConditionTypes } from '../api/names.ts';
import type { Receiver } from '../api/notification.ts';
import { compileBool } from '../runtime/cel.ts';
import type { Client } from '../runtime/client.ts';
import { getCondition } from '../runtime/conditions.ts';
import { readData } from '../runtime/configdata.ts';
import { BodyTooLargeError, readBody } from '../runtime/httpbody.ts';
import type { Informer } from '../runtime/informer.ts';
import type { Logger } from '../runtime/log.ts';
import { type KubeObject, parseApiVersion } from '../runtime/object.ts';
import type { GcrVerifier } from './gcr.ts';
import { byWebhookPath, filterVariables, webhookPathPrefix } from './receiver.ts';
import { answer, maxRequestBytes, type Observe, synced } from './server.ts';
import { type Accepted, validateWebhook } from './webhooks.ts';

export interface ReceiverServerDeps {
  client: Client;
  /** The Receiver cache, indexed by webhook path. */
  receivers: Informer;
  log: Logger;
  gcr: GcrVerifier;
  noCrossNamespaceRefs?: boolean;
  observe?: Observe;
  maxBodyBytes?: number;
  /** The request token written to requestedAt; Go's time.String() of now by default. */
  token?: () => string;
}

type Resource = Receiver['spec']['resources'][number];
type Filter = (res: KubeObject) => boolean;

/** Go's time.Now().String() in UTC, as Flux writes requestedAt: `2006-01-02 15:04:05.999999999 +0000 UTC`. */
export function goTimeString(epochNs: bigint): string {
  const iso = new Date(Number(epochNs / 1_000_000n)).toISOString();
  const fraction = (epochNs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''} +0000 UTC`;
}

const wallClockNs = () => BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);

/** Why a Receiver does not take calls now, if it does not. */
const unavailableWhy = (r: Receiver) =>
  r.spec.suspend
    ? 'receiver is suspended'
    : getCondition(r, ConditionTypes.Ready)?.status !== 'True'
      ? 'receiver is not ready'
      : undefined;

/** The default apiVersion of a kind a resource names without one. */
function apiVersionOf(r: Resource): string {
  if (r.apiVersion) return r.apiVersion;
  const kind = allKinds.find((k) => k.kind === r.kind);
  if (!kind) throw new Error(`apiVersion must be specified for kind '${r.kind}'`);
  return kind.apiVersion;
}

/** The request body as the filters' `req`: its JSON when it is JSON, else an empty map. */
function requestVars(req: IncomingMessage, accepted: Accepted): Record<string, unknown> {
  const types = (req.headers['content-type'] ?? '')
    .split(',')
    .map((t) => t.split(';')[0]?.trim().toLowerCase());
  if (!types.includes('application/json')) return {};
  const parsed = JSON.parse(accepted.body.toString('utf8') || 'null');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('failed to parse request body as JSON: not an object');
  return parsed;
}

/** One filter per resource: resourceFilter and its own filter, both when set. */
function filtersFor(receiver: Receiver, req: () => Record<string, unknown>): (Filter | undefined)[] {
  const compile = (expr: string | undefined) =>
    expr ? compileBool(expr, { variables: filterVariables }) : undefined;
  const top = compile(receiver.spec.resourceFilter);
  let body: Record<string, unknown> | undefined;
  return receiver.spec.resources.map((r) => {
    const own = compile(r.filter);
    const exprs = [top, own].filter((e) => e !== undefined);
    if (exprs.length === 0) return undefined;
    body ??= req();
    const vars = body;
    return (res) => exprs.every((e) => e.evaluate({ res, req: vars }));
  });
}

export function receiverHandler(deps: ReceiverServerDeps): RequestListener {
  const { client, log } = deps;
  const token = deps.token ?? (() => goTimeString(wallClockNs()));
  const maxBody = deps.maxBodyBytes ?? maxRequestBytes;

  /** Annotates one object when its filter accepts it (metadata only, as Flux's PartialObjectMetadata). */
  async function annotate(obj: KubeObject, filter: Filter | undefined, at: string, rlog: Logger) {
    const { managedFields: _, ...metadata } = obj.metadata;
    const id = `${obj.kind}/${metadata.name}.${metadata.namespace}`;
    if (filter && !filter({ apiVersion: obj.apiVersion, kind: obj.kind, metadata })) {
      rlog.debug(`resource '${id}' NOT annotated because CEL expression returned false`);
      return;
    }
    const ref = {
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      namespace: metadata.namespace,
      name: metadata.name ?? '',
    };
    await client.patch(ref, 'merge', {
      metadata: { annotations: { [Annotations.reconcileRequestedAt]: at } },
    });
    rlog.info(`resource '${id}' annotated`);
  }

  /** Requests the reconciliation of what one entry of spec.resources selects. */
  async function request(
    receiver: Receiver,
    r: Resource,
    filter: Filter | undefined,
    at: string,
    rlog: Logger,
  ) {
    const own = receiver.metadata.namespace ?? '';
    const namespace = r.namespace || own;
    if (deps.noCrossNamespaceRefs && namespace !== own)
      throw new Error('cross-namespace references are not allowed');
    const apiVersion = apiVersionOf(r);
    if (r.name !== '*') {
      const obj = await client.tryGet({ apiVersion, kind: r.kind, namespace, name: r.name });
      if (!obj) throw new Error(`unable to read ${r.kind} '${namespace}/${r.name}': not found`);
      return annotate({ ...obj, apiVersion, kind: r.kind }, filter, at, rlog);
    }
    if (!r.matchLabels) throw new Error("matchLabels field not set when using wildcard '*' as name");
    const labelSelector = Object.entries(r.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const list = await client.listAll(
      { ...parseApiVersion(apiVersion), kind: r.kind },
      { namespace, labelSelector },
    );
    if (list.items.length === 0)
      rlog.info(
        `no '${r.kind}' resources found with matching labels '${labelSelector}' in '${namespace}' namespace`,
      );
    for (const obj of list.items) await annotate({ ...obj, apiVersion, kind: r.kind }, filter, at, rlog);
  }

  /** The call checked against the Receiver's type and Secret; throws when refused. */
  async function authenticate(receiver: Receiver, req: IncomingMessage, body: Buffer): Promise<Accepted> {
    const name = receiver.spec.secretRef?.name ?? '';
    const secret = await readData(client, {
      kind: 'Secret',
      namespace: receiver.metadata.namespace ?? '',
      name,
    });
    if (!secret) throw new Error(`unable to read secret '${name}'`);
    const data = Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    const auth = {
      type: receiver.spec.type,
      token: data.token?.toString('utf8') ?? '',
      secret: data,
      events: receiver.spec.events ?? [],
      gcr: deps.gcr,
    };
    return validateWebhook({ headers: req.headers, body }, auth);
  }

  /** Requests every resource's reconciliation; false when one of them failed. */
  async function requestAll(
    receiver: Receiver,
    filters: (Filter | undefined)[],
    rlog: Logger,
  ): Promise<boolean> {
    const at = token();
    let ok = true;
    for (const [i, r] of receiver.spec.resources.entries()) {
      try {
        await request(receiver, r, filters[i], at, rlog);
      } catch (err) {
        rlog.error('unable to request reconciliation', err, { resource: { kind: r.kind, name: r.name } });
        ok = false;
      }
    }
    return ok;
  }

  /** The answer's status; side effects only for an authenticated call to a ready Receiver. */
  async function handle(req: IncomingMessage): Promise<number> {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (!path.startsWith(webhookPathPrefix)) return 404;
    let body: Buffer;
    try {
      body = await readBody(req, maxBody);
    } catch (err) {
      log.error('reading the request body failed', err);
      return err instanceof BodyTooLargeError ? 413 : 400;
    }
    if (!(await synced(() => deps.receivers.waitForSync()))) return 503;
    const receiver = deps.receivers.byIndex(byWebhookPath, path)[0] as Receiver | undefined;
    if (!receiver) return 404;
    const { name, namespace } = receiver.metadata;
    const rlog = log.with({ kind: receiver.kind, name, namespace });
    const unavailable = unavailableWhy(receiver);
    if (unavailable) {
      rlog.error('unable to process request', undefined, { why: unavailable });
      return 503;
    }
    let accepted: Accepted;
    try {
      accepted = await authenticate(receiver, req, body);
    } catch (err) {
      rlog.error('unable to validate payload', err);
      return 400;
    }
    rlog.info(`handling ${accepted.note}`);
    let filters: (Filter | undefined)[];
    try {
      filters = filtersFor(receiver, () => requestVars(req, accepted));
    } catch (err) {
      rlog.error('unable to create resource filters', err);
      return 500;
    }
    return (await requestAll(receiver, filters, rlog)) ? 200 : 500;
  }

  return (req, res) => {
    const started = process.hrtime.bigint();
    res.once('finish', () =>
      deps.observe?.(
        webhookPathPrefix,
        req.method ?? '',
        res.statusCode,
        Number(process.hrtime.bigint() - started) / 1e9,
      ),
    );
    handle(req).then(
      (status) => answer(req, res, status),
      (err) => {
        log.error('handling the webhook failed', err);
        answer(req, res, 500);
      },
    );
  };
}
