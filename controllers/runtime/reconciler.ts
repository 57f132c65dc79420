// The reconciler contract every Tide controller uses. A definition says which kind it reconciles, which
// conditions it owns, and how to reconcile and finalize one object; the runner does everything else the
// way Flux's reconcilers do, in one place:
//   cache lookup → deletion (finalize, drop finalizers.fluxcd.io) → add the finalizer → suspend check →
//   Reconciling/Ready=Unknown (written at once only for a new generation) → reconcile → summarize →
//   requestedAt handshake → status merge patch (only when changed) → metrics, events → requeue at
//   spec.interval (jittered by the queue), spec.retryInterval or backoff on failure.
// Definitions never write Ready/Reconciling/Stalled themselves; they set their own conditions and throw
// typed errors (errors.ts).
import { randomUUID } from 'node:crypto';
import { Annotations, ConditionTypes, FINALIZER, Reasons } from '../api/names.ts';
import { type Client, isConflict } from './client.ts';
import {
  type Condition,
  type Conditioned,
  type ConditionPolicy,
  getCondition,
  markReconcilingProgress,
  mergeOwnedConditions,
  summarize,
} from './conditions.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { GenericError, isReconcileError, isStalling, isWaiting, messageOf, reasonOf } from './errors.ts';
import type { EventOptions, EventType, Recorder } from './events.ts';
import { refuseUnsupported, type UnsupportedField } from './fields.ts';
import { createInformer, type IndexFunc, type Informer, type InformerOptions } from './informer.ts';
import type { Logger } from './log.ts';
import type { RuntimeMetrics } from './metrics.ts';
import {
  type GVK,
  hasFinalizer,
  isDeleting,
  jsonEqual,
  type KubeObject,
  keyOf,
  mergePatchOf,
  refOf,
  stripForCache,
} from './object.ts';
import {
  type QueueOptions,
  startWorkers,
  type WorkerContext,
  type WorkerResult,
  WorkQueue,
} from './queue.ts';

export interface ReconcileResult {
  /** Overrides the spec.interval requeue after a success. */
  requeueAfterMs?: number;
  /** Ready=True message (e.g. "stored artifact for revision 'main@sha1:…'"). */
  readyMessage?: string;
  /** Ready=True reason, when it depends on what the reconcile did (HelmRelease: UpgradeSucceeded, …). */
  readyReason?: string;
  /** Metadata of the success event, e.g. `{ 'source.toolkit.fluxcd.io/revision': rev }`. */
  eventMetadata?: Record<string, string>;
}

export interface ReconcileContext {
  client: Client;
  /** Carries controller, kind, name, namespace and reconcileID. */
  log: Logger;
  recorder: Recorder;
  now(): Date;
  /** An object of the primary or a watched kind, from the informer cache ("namespace/name"). */
  cached(kind: GVK, key: string): KubeObject | undefined;
  /** Every cached object of the primary or a watched kind. */
  listCached(kind: GVK): KubeObject[];
  /** Records an event on the object being reconciled. */
  event(type: EventType, reason: string, message: string, opts?: EventOptions): void;
  /**
   * Adds metadata to every event of this attempt from now on, the outcome's included (Flux's
   * controllers attach the revision being applied to their failure events too).
   */
  eventMetadata(metadata: Record<string, string>): void;
  /** Writes the status changed so far (e.g. before a long step); the runner writes the rest at the end. */
  patchStatus(): Promise<void>;
  /**
   * Runs a wait on the world outside (health checks) without holding one of the controller's
   * `--concurrent` slots: another object is reconciled meanwhile.
   */
  whileWaiting<T>(wait: () => Promise<T>): Promise<T>;
}

/** The cache of the primary kind as a watch's map sees it. */
export interface PrimaryCache {
  list(): KubeObject[];
  /** Primary objects filed under `key` by the definition's index `name` (see `indexes`). */
  byIndex(name: string, key: string): KubeObject[];
}

export interface WatchSpec {
  kind: GVK;
  labelSelector?: string;
  /**
   * Keys ("namespace/name") of the primary objects to reconcile when obj changes; `primary.byIndex`
   * finds those referring to obj without scanning them all.
   */
  map(obj: KubeObject, primary: PrimaryCache): string[];
  /** Filters updates; all updates pass by default. */
  predicate?(oldObj: KubeObject, newObj: KubeObject): boolean;
}

export interface ControllerDefinition<T extends KubeObject = KubeObject> {
  /** Controller name in logs and metrics, e.g. `gitrepository`. */
  name: string;
  kind: GVK;
  conditionPolicy: ConditionPolicy;
  /** Manage finalizers.fluxcd.io (default true). */
  finalizer?: boolean;
  /** Ready reason on success (default Succeeded; Kustomization uses ReconciliationSucceeded). */
  readyReason?: string;
  /**
   * Spec fields the CRD accepts that this controller does not implement (or not for every value): an
   * object setting one is Stalled with reason UnsupportedField before reconcile runs.
   */
  unsupportedFields?: readonly UnsupportedField[];
  /** Does the work; the doc comment of each definition's reconcile names the conditions it sets. */
  reconcile(obj: T, ctx: ReconcileContext): Promise<ReconcileResult | undefined>;
  /** Runs when the object is being deleted, before the finalizer is removed; throw to retry. */
  finalize?(obj: T, ctx: ReconcileContext): Promise<void>;
  watches?: WatchSpec[];
  /** Indexes kept on the primary informer, by name: the keys each primary object refers to. */
  indexes?: Record<string, IndexFunc>;
}

/** Identity with type inference: `export const gitRepository = defineController({...})`. */
export function defineController<T extends KubeObject>(
  def: ControllerDefinition<T>,
): ControllerDefinition<T> {
  return def;
}

/** Supplies (possibly shared) informers; the manager shares one per kind and selector across controllers. */
export type InformerFactory = (kind: GVK, labelSelector?: string) => Informer;

export interface ControllerDeps {
  client: Client;
  log: Logger;
  recorder: Recorder;
  metrics?: RuntimeMetrics;
  clock?: { now(): number };
  /** Parallel reconciles (Flux --concurrent); one object is never reconciled twice at once. */
  concurrency?: number;
  /** Spread of interval requeues (Flux --interval-jitter-percentage/100), default 0.05. */
  jitterFraction?: number;
  /** Watch one namespace instead of all (Flux --watch-all-namespaces=false). */
  namespace?: string;
  informers?: InformerFactory;
  /** Passed to informers created here (timeouts, backoff). */
  informerOptions?: Partial<InformerOptions>;
  queue?: QueueOptions;
}

export interface ControllerRunner {
  readonly name: string;
  readonly informers: Informer[];
  readonly queue: WorkQueue;
  /** Starts the informers (they fill the queue; workers drain it once started). */
  startInformers(): void;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
  /** Starts the workers; call after sync, and only on the leader. */
  startWorkers(): void;
  /** Stops taking keys and waits for in-flight reconciles. */
  stopWorkers(): Promise<void>;
  /** Stops workers, then informers this runner created. */
  stop(): Promise<void>;
  enqueue(key: string): void;
  /** Informers + workers in one call (no leader election). */
  start(signal?: AbortSignal): Promise<void>;
}

const requestedAt = (o: KubeObject) => o.metadata.annotations?.[Annotations.reconcileRequestedAt];

// Flux's GenerationChangedPredicate || ReconcileRequestedPredicate, plus deletion progress, so our own
// status writes do not trigger another reconcile.
function primaryChanged(oldObj: KubeObject, newObj: KubeObject): boolean {
  const o = oldObj.metadata;
  const n = newObj.metadata;
  if (o.generation !== n.generation || requestedAt(oldObj) !== requestedAt(newObj)) return true;
  return Boolean(n.deletionTimestamp) && (!o.deletionTimestamp || !jsonEqual(o.finalizers, n.finalizers));
}

const sameKind = (a: GVK, b: GVK) => a.group === b.group && a.version === b.version && a.kind === b.kind;

/**
 * Writes the object's status as a JSON merge patch of what changed since the last write. A merge patch
 * replaces the whole condition list, so it carries ours for the owned types and the server's for the
 * rest, guarded by resourceVersion so a concurrent change to another writer's condition is never lost
 * (a conflict rereads and retries).
 */
function statusWriter(
  client: Client,
  obj: KubeObject,
  before: Record<string, unknown>,
  owned: ReadonlySet<string>,
  onWritten: (resourceVersion: string | undefined) => void,
): () => Promise<void> {
  let written: unknown = before;
  let server = { conditions: before.conditions as Condition[] | undefined, rv: obj.metadata.resourceVersion };
  const send = async (patch: Record<string, unknown>, ours: Condition[] | undefined) => {
    const ref = refOf(obj);
    for (let attempt = 0; ; attempt++) {
      const guard = 'conditions' in patch;
      if (guard) patch.conditions = mergeOwnedConditions(server.conditions, ours, owned);
      try {
        const res = await client.patchStatus(ref, patch, guard ? { resourceVersion: server.rv } : {});
        server = { conditions: res.status?.conditions, rv: res.metadata.resourceVersion };
        onWritten(res.metadata.resourceVersion);
        return;
      } catch (err) {
        if (!guard || !isConflict(err) || attempt >= 4) throw err;
        const fresh = await client.get(ref);
        server = { conditions: fresh.status?.conditions, rv: fresh.metadata.resourceVersion };
      }
    }
  };
  return async () => {
    const next = (obj.status ?? {}) as { conditions?: Condition[] };
    const patch = mergePatchOf(written, next) as Record<string, unknown> | undefined;
    if (patch === undefined) return;
    await send(patch, next.conditions);
    // Others' conditions now in our copy too, so the next diff does not try to drop them.
    if (next.conditions) next.conditions = mergeOwnedConditions(server.conditions, next.conditions, owned);
    written = structuredClone(obj.status);
  };
}

export function runController<T extends KubeObject>(
  def: ControllerDefinition<T>,
  deps: ControllerDeps,
): ControllerRunner {
  const { client, recorder, metrics } = deps;
  const clock = deps.clock ?? { now: Date.now };
  const ownInformers: Informer[] = [];
  const informerFor: InformerFactory =
    deps.informers ??
    ((kind, labelSelector) => {
      const inf = createInformer({
        client,
        kind,
        namespace: deps.namespace,
        labelSelector,
        metrics,
        log: deps.log,
        ...deps.informerOptions,
      });
      ownInformers.push(inf);
      return inf;
    });
  const queue = new WorkQueue({
    ...deps.queue,
    onDepthChange: (n) => metrics?.queueDepth.set({ controller: def.name }, n),
  });
  const baseLog = deps.log.with({
    controller: def.name,
    controllerGroup: def.kind.group,
    controllerKind: def.kind.kind,
  });

  const primary = informerFor(def.kind);
  primary.addHandler({
    add: (obj) => queue.add(keyOf(obj)),
    update: (o, n) => primaryChanged(o, n) && queue.add(keyOf(n)),
  });
  for (const [name, fn] of Object.entries(def.indexes ?? {})) primary.addIndex(name, fn);
  const informers = [primary];
  for (const w of def.watches ?? []) {
    const inf = informerFor(w.kind, w.labelSelector);
    const enqueue = (obj: KubeObject) => {
      for (const key of w.map(obj, primary)) queue.add(key);
    };
    inf.addHandler({
      add: enqueue,
      update: (o, n) => (!w.predicate || w.predicate(o, n)) && enqueue(n),
      delete: enqueue,
    });
    informers.push(inf);
  }

  const owned = new Set<string>([
    ConditionTypes.Ready,
    ConditionTypes.Reconciling,
    ConditionTypes.Stalled,
    ...def.conditionPolicy.owned,
  ]);

  // Errors already counted in reconcile totals, so the outer catch does not count them twice.
  const counted = new WeakSet<object>();
  // resourceVersion of the last status this runner wrote, by key, until the cache has caught up.
  const written = new Map<string, string>();
  const findInformer = (kind: GVK) => {
    const inf = informers.find((i) => sameKind(i.kind, kind));
    if (!inf) throw new Error(`${def.name}: ${kind.kind} is not watched by this controller`);
    return inf;
  };

  const labelsOf = (obj: KubeObject) => ({
    kind: def.kind.kind,
    name: obj.metadata.name ?? '',
    namespace: obj.metadata.namespace ?? '',
  });

  function contextFor(
    obj: T,
    log: Logger,
    writeStatus: () => Promise<void>,
    metadata: Record<string, string> = {},
    worker: WorkerContext = { whileWaiting: (wait) => wait() },
  ): ReconcileContext {
    return {
      client,
      log,
      recorder,
      now: () => new Date(clock.now()),
      cached: (kind, key) => findInformer(kind).get(key),
      listCached: (kind) => findInformer(kind).list(),
      event: (type, reason, message, opts) =>
        recorder.event(obj, type, reason, message, { ...opts, metadata: { ...metadata, ...opts?.metadata } }),
      eventMetadata: (m) => {
        Object.assign(metadata, m);
      },
      patchStatus: writeStatus,
      whileWaiting: (wait) => worker.whileWaiting(wait),
    };
  }

  async function finalizeObject(obj: T, log: Logger): Promise<WorkerResult | undefined> {
    if (def.finalizer === false || !hasFinalizer(obj, FINALIZER)) return undefined;
    const ctx = contextFor(obj, log, async () => {});
    try {
      await def.finalize?.(obj, ctx);
    } catch (err) {
      recorder.event(obj, 'Warning', reasonOf(err), messageOf(err));
      log.error('finalization failed', err);
      throw err;
    }
    await client.removeFinalizer(obj, FINALIZER);
    log.info('finalizer removed');
    return undefined;
  }

  // One attempt: progress conditions, the definition's reconcile, summarize, the requestedAt handshake,
  // and the status write. Returns what happened; the callers below decide events and requeue.
  async function attempt(obj: T, log: Logger, worker?: WorkerContext) {
    const now = () => new Date(clock.now());
    const before = structuredClone(obj.status ?? {});
    const key = keyOf(obj);
    const writeStatus = statusWriter(client, obj, before, owned, (rv) => rv && written.set(key, rv));
    const c = obj as unknown as Conditioned;
    markReconcilingProgress(c, undefined, now());
    // Show "in progress" before the work only for a new generation: steady-state runs skip the round trip.
    if (obj.metadata.generation !== before.observedGeneration) await writeStatus();

    let error: unknown;
    let result: ReconcileResult = {};
    const eventMetadata: Record<string, string> = {};
    try {
      refuseUnsupported(obj, def.unsupportedFields ?? []);
      result = (await def.reconcile(obj, contextFor(obj, log, writeStatus, eventMetadata, worker))) ?? {};
    } catch (err) {
      error = err;
    }
    const outcome = {
      error,
      readyMessage: result.readyMessage,
      readyReason: result.readyReason ?? def.readyReason,
    };
    const summary = summarize(c, def.conditionPolicy, outcome, now());
    const token = requestedAt(obj);
    if (token !== undefined) obj.status = { ...obj.status, lastHandledReconcileAt: token };
    await writeStatus();
    if (error === undefined && !summary.ready) {
      // A negative-polarity condition holds Ready=False: a failure that the next attempt may fix.
      const ready = getCondition(c, ConditionTypes.Ready);
      error = new GenericError(ready?.reason ?? Reasons.Failed, ready?.message ?? 'not ready');
    }
    return {
      error,
      result: { ...result, eventMetadata: { ...eventMetadata, ...result.eventMetadata } },
      readyBefore: getCondition({ status: before } as Conditioned, ConditionTypes.Ready),
    };
  }

  // Event, log and metric of a failed attempt; requeue at spec.retryInterval, else let the queue decide
  // (Waiting: its delay; Stalling: none; others: backoff).
  function failed(obj: T, error: unknown, log: Logger, metadata?: Record<string, string>): WorkerResult {
    const rerr = isReconcileError(error) ? error : undefined;
    const reason = reasonOf(error);
    if (!rerr || rerr.event) {
      const type = rerr?.severity === 'info' ? 'Normal' : 'Warning';
      recorder.event(obj, type, reason, messageOf(error), { notify: rerr?.notify ?? true, metadata });
    }
    if (isWaiting(error)) log.info(messageOf(error), { reason });
    else log.error('Reconciler error', error, { reason });
    const result = isStalling(error) ? 'stalled' : isWaiting(error) ? 'requeue' : 'error';
    metrics?.reconcileTotal.inc({ controller: def.name, kind: def.kind.kind, result });
    if (typeof error === 'object' && error !== null) counted.add(error);
    const retry = obj.spec?.retryInterval;
    if (isStalling(error) || isWaiting(error) || typeof retry !== 'string') throw error;
    return { requeueAfterMs: parseDuration(retry) };
  }

  // A Normal event only when Ready changed (status or message), as Flux avoids an event per interval.
  function succeeded(
    obj: T,
    result: ReconcileResult,
    readyBefore: Condition | undefined,
    started: number,
    log: Logger,
  ) {
    metrics?.reconcileTotal.inc({ controller: def.name, kind: def.kind.kind, result: 'success' });
    const interval = typeof obj.spec?.interval === 'string' ? parseDuration(obj.spec.interval) : undefined;
    const next = result.requeueAfterMs ?? interval;
    const took = formatDuration(clock.now() - started);
    const msg = `Reconciliation finished in ${took}${next ? `, next run in ${formatDuration(next)}` : ''}`;
    const readyAfter = getCondition(obj as unknown as Conditioned, ConditionTypes.Ready);
    if (readyBefore?.status !== readyAfter?.status || readyBefore?.message !== readyAfter?.message) {
      recorder.event(obj, 'Normal', Reasons.ReconciliationSucceeded, msg, { metadata: result.eventMetadata });
    }
    log.info(msg);
    return next ? { requeueAfterMs: next } : undefined;
  }

  async function reconcileObject(
    obj: T,
    log: Logger,
    started: number,
    worker?: WorkerContext,
  ): Promise<WorkerResult | undefined> {
    const { error, result, readyBefore } = await attempt(obj, log, worker);
    if (error !== undefined) return failed(obj, error, log, result.eventMetadata);
    return succeeded(obj, result, readyBefore, started, log);
  }

  /**
   * The object to reconcile: the cached one, unless the cache has not yet seen our last status write
   * (a reconcile right after another would act on a status it already replaced), then a fresh read.
   */
  async function current(key: string): Promise<KubeObject | undefined> {
    const cached = primary.get(key);
    const last = written.get(key);
    written.delete(key);
    if (!cached || last === undefined || cached.metadata.resourceVersion === last) return cached;
    const fresh = await client.tryGet(refOf(cached));
    return fresh && stripForCache(fresh);
  }

  async function handle(key: string, worker?: WorkerContext): Promise<WorkerResult | undefined> {
    const cached = await current(key);
    if (!cached) return undefined; // deleted: nothing left to do
    const started = clock.now();
    let obj = structuredClone(cached) as T;
    const log = baseLog.with({
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      reconcileID: randomUUID(),
    });
    try {
      if (isDeleting(obj)) return await finalizeObject(obj, log);
      // Before anything else, so a delete racing the first reconcile still runs finalize.
      if (def.finalizer !== false && !hasFinalizer(obj, FINALIZER)) {
        obj = stripForCache(await client.addFinalizer(obj, FINALIZER));
      }
      if (obj.spec?.suspend === true) {
        log.info('Reconciliation is suspended for this object');
        return undefined;
      }
      return await reconcileObject(obj, log, started, worker);
    } catch (err) {
      // Failures before or after reconcile (API errors writing status or finalizers) are retried too.
      if (!(typeof err === 'object' && err !== null && counted.has(err)))
        metrics?.reconcileTotal.inc({ controller: def.name, kind: def.kind.kind, result: 'error' });
      throw err;
    } finally {
      metrics?.reconcileDuration.observe(labelsOf(obj), (clock.now() - started) / 1000);
    }
  }

  let workers: { stop(): Promise<void> } | undefined;
  const runner: ControllerRunner = {
    name: def.name,
    informers,
    queue,
    startInformers: () => {
      for (const i of informers) i.start();
    },
    hasSynced: () => informers.every((i) => i.hasSynced()),
    waitForSync: async (signal) => {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    },
    startWorkers: () => {
      workers ??= startWorkers(
        queue,
        { concurrency: deps.concurrency ?? 4, jitterFraction: deps.jitterFraction },
        handle,
      );
    },
    stopWorkers: async () => {
      queue.shutdown();
      await workers?.stop();
    },
    stop: async () => {
      await runner.stopWorkers();
      await Promise.all(ownInformers.map((i) => i.stop()));
    },
    enqueue: (key) => queue.add(key),
    start: async (signal) => {
      runner.startInformers();
      await runner.waitForSync(signal);
      runner.startWorkers();
    },
  };
  return runner;
}
