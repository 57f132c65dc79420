// The Kubernetes client of every controller: discovery (GVK → resource), CRUD and patches of unstructured
// objects, server-side apply, status writes and finalizers, and a raw watch stream for the informer.
// It speaks HTTP through runtime/http.ts: one keep-alive pool per TLS/proxy configuration of the
// KubeConfig, shared by every client made from it (impersonating ones included).

import type { Readable } from 'node:stream';
import { type HttpClient, type HttpResponse, httpClient, type TlsConfig } from './http.ts';
import type { HttpsOptions, KubeConfigSource } from './kubeconfig.ts';
import {
  apiVersionOf,
  type GVK,
  gvkOf,
  gvkString,
  type KubeList,
  type KubeObject,
  type ObjectRef,
  parseApiVersion,
} from './object.ts';

// Not imported: an ES import of node:http loads the undici bundled in Node (see http.ts).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** An error answered by the API server (or a transport failure, status 0), with its Status message. */
export class ApiError extends Error {
  override name = 'ApiError';
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** metav1.Status reason, e.g. NotFound, AlreadyExists, Conflict, Expired. */
  readonly reason: string;
  readonly details: unknown;
  constructor(status: number, message: string, reason = '', details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.reason = reason;
    this.details = details;
  }
  /** Works across module copies, where instanceof does not. */
  get isApiError(): true {
    return true;
  }
}

const statusOf = (err: unknown): number | undefined =>
  (err as ApiError | undefined)?.isApiError ? (err as ApiError).status : undefined;
export const isApiError = (err: unknown): err is ApiError => statusOf(err) !== undefined;
export const isNotFound = (err: unknown): boolean => statusOf(err) === 404;
export const isConflict = (err: unknown): boolean => statusOf(err) === 409;
export const isForbidden = (err: unknown): boolean => statusOf(err) === 403;
export const isGone = (err: unknown): boolean => statusOf(err) === 410;
export const isInvalid = (err: unknown): boolean => statusOf(err) === 422;
/** No kind of that group/version/kind is served (CRD not installed). */
export const isNoMatch = (err: unknown): boolean =>
  statusOf(err) === 404 && (err as ApiError).reason === 'NoKindMatch';

export interface RestMapping extends GVK {
  /** Plural resource name, e.g. gitrepositories. */
  resource: string;
  namespaced: boolean;
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const patchContentType: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  /** The server closes the watch after this many seconds (a clean end, then re-watch). */
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  signal?: AbortSignal;
  /** Called on every chunk of bytes: the informer's idle timer. */
  onData?: () => void;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
}
export interface PatchOptions extends WriteOptions {
  subresource?: string;
  /** Server-side apply only: take ownership of conflicting fields. */
  force?: boolean;
}
export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ClientOptions {
  /** Field manager of writes (SSA, create, patch); `gotk-<controller>` in Tide's controllers. */
  fieldManager?: string;
  userAgent?: string;
  /** Per-request timeout of non-watch calls. */
  timeoutMs?: number;
  /**
   * Act as another user (Impersonate-User/-Group headers), e.g. a Kustomization's serviceAccountName as
   * `system:serviceaccount:<namespace>:<name>`; the kubeconfig's user needs the `impersonate` verb.
   */
  impersonate?: { user: string; groups?: string[] };
}

export interface Client {
  readonly server: string;
  readonly fieldManager: string;
  /** Resolves a kind to its resource; discovery is cached and refreshed once on a miss. */
  mapping(gvk: GVK): Promise<RestMapping>;
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  /** Like get, but undefined when the object does not exist. */
  tryGet<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined>;
  /** One page of a list (pass limit/continue to paginate). */
  list<T extends KubeObject = KubeObject>(gvk: GVK, opts?: ListOptions): Promise<KubeList<T>>;
  /** Every item, following continue tokens with pages of `limit` (default 500). */
  listAll<T extends KubeObject = KubeObject>(gvk: GVK, opts?: ListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject = KubeObject>(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT: optimistic update, fails with 409 when metadata.resourceVersion is stale. */
  update<T extends KubeObject = KubeObject>(
    obj: T,
    opts?: WriteOptions & { subresource?: string },
  ): Promise<T>;
  /** Deletes; resolves false when the object was already gone. */
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<boolean>;
  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    type: PatchType,
    body: unknown,
    opts?: PatchOptions,
  ): Promise<T>;
  /** Server-side apply of obj (apiVersion, kind, metadata.name[, namespace] and the fields you own). */
  apply<T extends KubeObject = KubeObject>(obj: KubeObject, opts?: PatchOptions): Promise<T>;
  /**
   * JSON merge patch of `{status: patch}` to the status subresource: only status can change. With
   * `resourceVersion`, the write fails with 409 when the object changed since that version.
   */
  patchStatus<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    statusPatch: unknown,
    opts?: { resourceVersion?: string },
  ): Promise<T>;
  /** Server-side apply of `{status}` to the status subresource (e.g. to fake another controller in tests). */
  applyStatus<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    status: unknown,
    opts?: { fieldManager?: string; force?: boolean },
  ): Promise<T>;
  /** Adds a finalizer without losing others'; no request when present. Returns the up-to-date object. */
  addFinalizer<T extends KubeObject>(obj: T, finalizer: string): Promise<T>;
  /** Removes one finalizer, leaving others'; no request when absent. */
  removeFinalizer<T extends KubeObject>(obj: T, finalizer: string): Promise<T>;
  /** Streams a watch; resolves when the server ends it, rejects with ApiError on failure. */
  watch(gvk: GVK, opts: WatchOptions, onEvent: (ev: WatchEvent) => void): Promise<void>;
  /** A raw call, for the few APIs without a typed helper. */
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /**
   * Passes a request through as it is (bytes in, the streaming response out) with this client's
   * credentials and impersonation: for a local API gateway in front of a program that speaks to the API
   * server itself (the helm binary). `headers` are the caller's content negotiation headers only.
   */
  forward(req: ForwardRequest): Promise<HttpResponse>;
  /**
   * GETs a text resource (a pod's log, `?follow=true` too) line by line; resolves when the server ends
   * it or the signal aborts. Empty lines are skipped.
   */
  streamLines(path: string, onLine: (line: string) => void, opts?: { signal?: AbortSignal }): Promise<void>;
}

export interface ForwardRequest {
  method: string;
  /** Path and query, e.g. `/api/v1/namespaces/a/secrets?labelSelector=owner%3Dhelm`. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/** The TLS settings applyToHTTPSOptions derived from the kubeconfig; its CA replaces the system roots. */
function tlsOf(opts: HttpsOptions): TlsConfig {
  const pem = (v: unknown) => v as string | Buffer;
  return {
    ...(opts.ca ? { ca: pem(opts.ca), systemRoots: false } : {}),
    ...(opts.cert ? { cert: pem(opts.cert) } : {}),
    ...(opts.key ? { key: pem(opts.key) } : {}),
    ...(opts.servername ? { servername: opts.servername } : {}),
    insecureSkipVerify: opts.rejectUnauthorized === false,
  };
}

interface Transport {
  http: HttpClient;
  headers: Record<string, string>;
  at: number;
}

const authTtlMs = 10_000;

export function createClient(kc: KubeConfigSource, options: ClientOptions = {}): Client {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  const isHttps = server.startsWith('https:');
  const fieldManager = options.fieldManager ?? 'tide';
  const userAgent = options.userAgent ?? `tide/${fieldManager}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const impersonate: Record<string, string | string[]> = {};
  if (options.impersonate) {
    impersonate['impersonate-user'] = options.impersonate.user;
    if (options.impersonate.groups?.length) impersonate['impersonate-group'] = options.impersonate.groups;
  }

  // TLS material and auth headers, refreshed every few seconds so rotated tokens are picked up; the
  // HTTP client (its pool) changes only when the TLS material or the proxy does.
  let transport: Transport | undefined;
  async function getTransport(): Promise<Transport> {
    if (transport && Date.now() - transport.at < authTtlMs) return transport;
    const opts: HttpsOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const tls = isHttps ? tlsOf(opts) : undefined;
    const proxy = cluster?.proxyUrl ? { address: cluster.proxyUrl } : undefined;
    transport = { http: httpClient({ tls, proxy }), headers, at: Date.now() };
    return transport;
  }

  interface Call {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    path: string;
    body?: unknown;
    /** Extra request headers (forward: the caller's accept and content type). */
    headers?: Record<string, string>;
    contentType?: string;
    signal?: AbortSignal;
    /** No inactivity limit (watches, which the informer supervises). */
    stream?: boolean;
  }

  const connectionError = (c: Call, err: unknown) =>
    new ApiError(0, `${c.method} ${c.path}: ${(err as Error).message}`, 'ConnectionError', undefined, {
      cause: err,
    });

  async function open(call: Call): Promise<HttpResponse> {
    const t = await getTransport();
    const body =
      call.body === undefined
        ? undefined
        : typeof call.body === 'string' || call.body instanceof Uint8Array
          ? call.body
          : JSON.stringify(call.body);
    const headers: Record<string, string | string[]> = {
      accept: 'application/json',
      'user-agent': userAgent,
      ...call.headers,
      ...t.headers,
      ...impersonate,
    };
    if (body !== undefined) headers['content-type'] = call.contentType ?? 'application/json';
    try {
      return await t.http.request({
        method: call.method,
        url: `${server}${call.path}`,
        headers,
        body,
        signal: call.signal,
        idleTimeoutMs: call.stream ? 0 : timeoutMs,
      });
    } catch (err) {
      throw connectionError(call, err);
    }
  }

  function errorFrom(call: Call, status: number, text: string): ApiError {
    let parsed: { message?: string; reason?: string; details?: unknown } = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not a Status */
    }
    const message = parsed.message ?? (text.trim() || STATUS_CODES[status] || 'error');
    return new ApiError(
      status,
      `${call.method} ${call.path}: ${status} ${message}`,
      parsed.reason ?? '',
      parsed.details,
    );
  }

  async function call<T>(c: Call): Promise<T> {
    const res = await open(c);
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw connectionError(c, err);
    }
    if (res.status < 200 || res.status > 299) throw errorFrom(c, res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // Discovery: one cached resource list per group/version, refetched on a miss at most once a second.
  const discovery = new Map<string, { at: number; resources: Map<string, RestMapping> }>();
  async function discover(group: string, version: string): Promise<Map<string, RestMapping>> {
    const gv = apiVersionOf({ group, version });
    const path = group ? `/apis/${gv}` : `/api/${version}`;
    const resources = new Map<string, RestMapping>();
    try {
      const list = await call<{ resources: { name: string; kind: string; namespaced: boolean }[] }>({
        method: 'GET',
        path,
      });
      for (const r of list.resources) {
        if (!r.name.includes('/'))
          resources.set(r.kind, { group, version, kind: r.kind, resource: r.name, namespaced: r.namespaced });
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    discovery.set(gv, { at: Date.now(), resources });
    return resources;
  }

  async function mapping(gvk: GVK): Promise<RestMapping> {
    const gv = apiVersionOf(gvk);
    let entry = discovery.get(gv);
    let found = entry?.resources.get(gvk.kind);
    if (!found && (!entry || Date.now() - entry.at > 1000)) {
      found = (await discover(gvk.group, gvk.version)).get(gvk.kind);
      entry = discovery.get(gv);
    }
    if (!found) throw new ApiError(404, `no resource is served for ${gvkString(gvk)}`, 'NoKindMatch');
    return found;
  }

  function qs(params: Record<string, string | number | boolean | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  function collectionPath(m: RestMapping, namespace: string | undefined): string {
    const base = m.group ? `/apis/${m.group}/${m.version}` : `/api/${m.version}`;
    return m.namespaced && namespace
      ? `${base}/namespaces/${namespace}/${m.resource}`
      : `${base}/${m.resource}`;
  }

  async function objectPath(ref: ObjectRef, subresource?: string): Promise<string> {
    const m = await mapping({ ...parseApiVersion(ref.apiVersion), kind: ref.kind });
    if (m.namespaced && !ref.namespace) throw new Error(`${ref.kind} ${ref.name}: namespace is required`);
    const p = `${collectionPath(m, ref.namespace)}/${encodeURIComponent(ref.name)}`;
    return subresource ? `${p}/${subresource}` : p;
  }

  const refFrom = (obj: KubeObject): ObjectRef => {
    const { apiVersion, kind } = obj;
    if (!apiVersion || !kind || !obj.metadata?.name)
      throw new Error('object needs apiVersion, kind and name');
    return { apiVersion, kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
  };

  const writeQuery = (opts: WriteOptions = {}) =>
    qs({ fieldManager: opts.fieldManager ?? fieldManager, dryRun: opts.dryRun ? 'All' : undefined });

  async function list<T extends KubeObject>(gvk: GVK, opts: ListOptions = {}): Promise<KubeList<T>> {
    const m = await mapping(gvk);
    const { namespace, ...rest } = opts;
    const out = await call<KubeList<T>>({
      method: 'GET',
      path: `${collectionPath(m, namespace)}${qs({ ...rest })}`,
    });
    // Lists omit apiVersion/kind on items; put them back so items are self-describing.
    for (const item of out.items) {
      item.apiVersion ??= apiVersionOf(gvk);
      item.kind ??= gvk.kind;
    }
    return out;
  }

  async function patch<T extends KubeObject>(
    ref: ObjectRef,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<T> {
    const path = await objectPath(ref, opts.subresource);
    const force = type === 'apply' && opts.force ? true : undefined;
    return call<T>({
      method: 'PATCH',
      path: `${path}${qs({ fieldManager: opts.fieldManager ?? fieldManager, force, dryRun: opts.dryRun ? 'All' : undefined })}`,
      body,
      contentType: patchContentType[type],
    });
  }

  // A JSON patch whose test op fails answers 422 (or 409 on a resourceVersion precondition): reread, retry.
  async function withFreshRetry<T extends KubeObject>(obj: T, attempt: (cur: T) => Promise<T>): Promise<T> {
    let cur = obj;
    for (let i = 0; ; i++) {
      try {
        return await attempt(cur);
      } catch (err) {
        if (i >= 4 || !(isInvalid(err) || isConflict(err))) throw err;
        cur = await client.get<T>(refFrom(obj));
      }
    }
  }

  const client: Client = {
    server,
    fieldManager,
    mapping,
    get: async <T extends KubeObject>(ref: ObjectRef) =>
      call<T>({ method: 'GET', path: await objectPath(ref) }),
    tryGet: async <T extends KubeObject>(ref: ObjectRef) => {
      try {
        return await call<T>({ method: 'GET', path: await objectPath(ref) });
      } catch (err) {
        if (isNotFound(err) && !isNoMatch(err)) return undefined;
        throw err;
      }
    },
    list,
    listAll: async <T extends KubeObject>(gvk: GVK, opts: ListOptions = {}) => {
      const first = await list<T>(gvk, { limit: 500, ...opts });
      let next = first.metadata.continue;
      while (next) {
        const page = await list<T>(gvk, { limit: 500, ...opts, continue: next });
        first.items.push(...page.items);
        first.metadata.resourceVersion = page.metadata.resourceVersion;
        next = page.metadata.continue;
      }
      delete first.metadata.continue;
      return first;
    },
    create: async <T extends KubeObject>(obj: T, opts?: WriteOptions) => {
      const m = await mapping(gvkOf(obj));
      return call<T>({
        method: 'POST',
        path: `${collectionPath(m, obj.metadata.namespace)}${writeQuery(opts)}`,
        body: obj,
      });
    },
    update: async <T extends KubeObject>(obj: T, opts: WriteOptions & { subresource?: string } = {}) =>
      call<T>({
        method: 'PUT',
        path: `${await objectPath(refFrom(obj), opts.subresource)}${writeQuery(opts)}`,
        body: obj,
      }),
    delete: async (ref, opts = {}) => {
      try {
        await call({
          method: 'DELETE',
          path: await objectPath(ref),
          body: { apiVersion: 'v1', kind: 'DeleteOptions', ...opts },
        });
        return true;
      } catch (err) {
        if (isNotFound(err) && !isNoMatch(err)) return false;
        throw err;
      }
    },
    patch,
    apply: <T extends KubeObject>(obj: KubeObject, opts: PatchOptions = {}) =>
      patch<T>(refFrom(obj), 'apply', obj, opts),
    patchStatus: <T extends KubeObject>(
      ref: ObjectRef,
      statusPatch: unknown,
      opts: { resourceVersion?: string } = {},
    ) => {
      const body = opts.resourceVersion
        ? { metadata: { resourceVersion: opts.resourceVersion }, status: statusPatch }
        : { status: statusPatch };
      return patch<T>(ref, 'merge', body, { subresource: 'status' });
    },
    applyStatus: <T extends KubeObject>(ref: ObjectRef, status: unknown, opts: PatchOptions = {}) => {
      const body = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, namespace: ref.namespace },
        status,
      };
      return patch<T>(ref, 'apply', body, { force: true, ...opts, subresource: 'status' });
    },
    addFinalizer: (obj, finalizer) => {
      if (obj.metadata.finalizers?.includes(finalizer)) return Promise.resolve(obj);
      return withFreshRetry(obj, async (cur) => {
        const have = cur.metadata.finalizers ?? [];
        if (have.includes(finalizer)) return cur;
        // Append under a test of the list we saw, so a concurrent writer's finalizer is never dropped.
        const ops = have.length
          ? [
              { op: 'test', path: '/metadata/finalizers', value: have },
              { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
            ]
          : [
              { op: 'test', path: '/metadata/resourceVersion', value: cur.metadata.resourceVersion },
              { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
            ];
        return patch(refFrom(cur), 'json', ops);
      });
    },
    removeFinalizer: (obj, finalizer) => {
      if (!obj.metadata.finalizers?.includes(finalizer)) return Promise.resolve(obj);
      return withFreshRetry(obj, async (cur) => {
        const i = cur.metadata.finalizers?.indexOf(finalizer) ?? -1;
        if (i < 0) return cur;
        const path = `/metadata/finalizers/${i}`;
        try {
          return await patch(refFrom(cur), 'json', [
            { op: 'test', path, value: finalizer },
            { op: 'remove', path },
          ]);
        } catch (err) {
          // Gone already: removing our finalizer was the last thing keeping it.
          if (isNotFound(err) && !isNoMatch(err)) return cur;
          throw err;
        }
      });
    },
    watch: async (gvk, opts, onEvent) => {
      const m = await mapping(gvk);
      const path = `${collectionPath(m, opts.namespace)}${qs({
        watch: 'true',
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        timeoutSeconds: opts.timeoutSeconds,
        allowWatchBookmarks: opts.allowWatchBookmarks ? 'true' : undefined,
      })}`;
      const c: Call = { method: 'GET', path, signal: opts.signal, stream: true };
      const res = await open(c);
      if (res.status !== 200) throw errorFrom(c, res.status, await res.text().catch(() => ''));
      await readLines(res.body, opts.onData, (line) => {
        const ev = JSON.parse(line) as WatchEvent;
        if (ev.object && ev.type !== 'ERROR' && ev.type !== 'BOOKMARK') {
          ev.object.apiVersion ??= apiVersionOf(gvk);
          ev.object.kind ??= gvk.kind;
        }
        onEvent(ev);
      }).catch((err: Error) => {
        throw isApiError(err)
          ? err
          : new ApiError(0, `watch ${path}: ${err.message}`, 'ConnectionError', undefined, { cause: err });
      });
    },
    request: <T>(method: string, path: string, body?: unknown, contentType?: string) =>
      call<T>({ method: method.toUpperCase() as Call['method'], path, body, contentType }),
    forward: (req) => {
      const { 'content-type': contentType, ...headers } = req.headers ?? {};
      return open({
        method: req.method.toUpperCase() as Call['method'],
        path: req.path,
        body: req.body,
        contentType,
        headers,
        signal: req.signal,
        stream: true,
      });
    },
    streamLines: async (path, onLine, opts = {}) => {
      const c: Call = { method: 'GET', path, signal: opts.signal, stream: true };
      let res: HttpResponse;
      try {
        res = await open(c);
      } catch (err) {
        if (opts.signal?.aborted) return;
        throw err;
      }
      if (res.status !== 200) throw errorFrom(c, res.status, await res.text().catch(() => ''));
      await readLines(res.body, undefined, onLine).catch((err: Error) => {
        if (opts.signal?.aborted) return;
        throw new ApiError(0, `GET ${path}: ${err.message}`, 'ConnectionError', undefined, { cause: err });
      });
    },
  };
  return client;
}

/** Splits a response into newline-delimited JSON lines; resolves at end of stream, rejects on error. */
function readLines(
  body: Readable,
  onData: (() => void) | undefined,
  onLine: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let ended = false;
    body.setEncoding('utf8');
    body.on('data', (chunk: string) => {
      onData?.();
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) {
          try {
            onLine(line);
          } catch (err) {
            body.destroy(err as Error);
            return;
          }
        }
        nl = buf.indexOf('\n');
      }
    });
    body.on('end', () => {
      ended = true;
      resolve();
    });
    body.on('error', reject);
    // A close without 'end' means the connection broke mid-stream.
    body.on('close', () => (ended ? resolve() : reject(new Error('connection closed before the end'))));
  });
}
