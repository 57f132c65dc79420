// Health of applied objects with kstatus's rules (kubernetes-sigs/cli-utils pkg/kstatus/status), Flux's
// Job rule (fluxcd/pkg runtime/statusreaders: Current only once complete), and a Ready-condition rule
// for custom kinds; plus the poll that waits for a set of objects, failing fast once one has Failed.
import { ConditionTypes } from '../../api/names.ts';
import type { Client } from '../client.ts';
import { type KubeObject, parseApiVersion } from '../object.ts';
import { apiMessage, mapLimit, sleep } from './changeset.ts';
import { formatId, type InventoryEntry, metadataOf, parseId, refOfEntry, subjectOfId } from './inventory.ts';

export const Statuses = {
  InProgress: 'InProgress',
  Current: 'Current',
  Failed: 'Failed',
  Terminating: 'Terminating',
  NotFound: 'NotFound',
  Unknown: 'Unknown',
} as const;
export type Status = (typeof Statuses)[keyof typeof Statuses];

export interface StatusResult {
  status: Status;
  message: string;
}

interface Cond {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: status readers walk free-form JSON
type Json = any;

const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
const conditionsOf = (obj: KubeObject): Cond[] =>
  Array.isArray(obj.status?.conditions) ? (obj.status.conditions as Cond[]) : [];
const findCond = (obj: KubeObject, type: string): Cond | undefined =>
  conditionsOf(obj).find((c) => c.type === type);

const current = (message: string): StatusResult => ({ status: Statuses.Current, message });
const inProgress = (message: string): StatusResult => ({ status: Statuses.InProgress, message });
const failed = (message: string): StatusResult => ({ status: Statuses.Failed, message });

/** How long a pod may stay unschedulable before kstatus calls it Failed. */
const scheduleWindowMs = 15_000;

/**
 * kstatus's status of one object as read from the cluster. `now` only matters for Pods (an unschedulable
 * Pod is InProgress for its first 15 s).
 */
export function computeStatus(obj: KubeObject, now = Date.now()): StatusResult {
  return genericStatus(obj) ?? kindStatus(obj, now) ?? readyStatus(obj) ?? current('Resource is current');
}

function genericStatus(obj: KubeObject): StatusResult | undefined {
  if (obj.metadata.deletionTimestamp)
    return { status: Statuses.Terminating, message: 'Resource scheduled for deletion' };
  const generation = obj.metadata.generation;
  const observed = obj.status?.observedGeneration;
  if (typeof generation === 'number' && typeof observed === 'number' && observed !== generation)
    return inProgress(
      `${obj.kind} generation is ${generation}, but latest observed generation is ${observed}`,
    );
  // First of Reconciling/Stalled (abnormal-true) decides, as kstatus iterates the conditions in order.
  for (const c of conditionsOf(obj)) {
    if (c.type === ConditionTypes.Reconciling && c.status === 'True') return inProgress(c.message ?? '');
    if (c.type === ConditionTypes.Stalled && c.status === 'True') return failed(c.message ?? '');
  }
  return undefined;
}

const always = () => current('Resource is always ready');
const rules: Record<string, (o: KubeObject, now: number) => StatusResult> = {
  Service: serviceStatus,
  Pod: podStatus,
  Secret: always,
  ConfigMap: always,
  PersistentVolumeClaim: pvcStatus,
  'apps/StatefulSet': statefulSetStatus,
  'apps/DaemonSet': daemonSetStatus,
  'extensions/DaemonSet': daemonSetStatus,
  'apps/Deployment': deploymentStatus,
  'extensions/Deployment': deploymentStatus,
  'apps/ReplicaSet': replicaSetStatus,
  'extensions/ReplicaSet': replicaSetStatus,
  'policy/PodDisruptionBudget': () => current('AllowedDisruptions has been computed.'),
  'batch/CronJob': always,
  'batch/Job': jobStatus,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStatus,
};

function kindStatus(obj: KubeObject, now: number): StatusResult | undefined {
  const group = parseApiVersion(obj.apiVersion ?? '').group;
  const rule = rules[group ? `${group}/${obj.kind}` : (obj.kind ?? '')];
  return rule?.(obj, now);
}

// Not in kstatus: a custom kind that reports only `Ready` (many operators do) is Current once Ready=True.
function readyStatus(obj: KubeObject): StatusResult | undefined {
  const ready = findCond(obj, ConditionTypes.Ready);
  if (!ready) return undefined;
  return ready.status === 'True'
    ? current(ready.message || 'Resource is Ready')
    : inProgress(ready.message || `Ready is ${ready.status}`);
}

function deploymentStatus(obj: KubeObject): StatusResult {
  const spec: Json = obj.spec ?? {};
  const st: Json = obj.status ?? {};
  const progress = findCond(obj, 'Progressing');
  if (progress?.reason === 'ProgressDeadlineExceeded') return failed('Progress deadline exceeded');
  // Without a deadline the controller never sets Progressing, so there is nothing to wait for.
  const progressing =
    num(spec.progressDeadlineSeconds, 2147483647) === 2147483647 ||
    (progress?.status === 'True' && progress.reason === 'NewReplicaSetAvailable');
  const available = findCond(obj, 'Available')?.status === 'True';
  const want = num(spec.replicas, 1);
  const replicas = num(st.replicas, 0);
  const updated = num(st.updatedReplicas, 0);
  const ready = num(st.readyReplicas, 0);
  const avail = num(st.availableReplicas, 0);
  if (want > replicas) return inProgress(`Replicas: ${replicas}/${want}`);
  if (want > updated) return inProgress(`Updated: ${updated}/${want}`);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  if (updated > avail) return inProgress(`Available: ${avail}/${updated}`);
  if (want > ready) return inProgress(`Ready: ${ready}/${want}`);
  if (!progressing) return inProgress('ReplicaSet not Available');
  if (!available) return inProgress('Deployment not Available');
  return current(`Deployment is available. Replicas: ${replicas}`);
}

function statefulSetStatus(obj: KubeObject): StatusResult {
  const spec: Json = obj.spec ?? {};
  const st: Json = obj.status ?? {};
  if (spec.updateStrategy?.type === 'OnDelete')
    return current('StatefulSet is using the ondelete update strategy');
  const want = num(spec.replicas, 1);
  const ready = num(st.readyReplicas, 0);
  const cur = num(st.currentReplicas, 0);
  const updated = num(st.updatedReplicas, 0);
  const replicas = num(st.replicas, 0);
  const partition = num(spec.updateStrategy?.rollingUpdate?.partition, -1);
  if (want > replicas) return inProgress(`Replicas: ${replicas}/${want}`);
  if (want > ready) return inProgress(`Ready: ${ready}/${want}`);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  if (partition !== -1) {
    if (updated < want - partition) return inProgress(`updated: ${updated}/${want - partition}`);
    return current(`Partition rollout complete. updated: ${updated}`);
  }
  if (want > cur) return inProgress(`current: ${cur}/${want}`);
  if ((st.currentRevision ?? '') !== (st.updateRevision ?? ''))
    return inProgress('Waiting for updated revision to match current');
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
}

function daemonSetStatus(obj: KubeObject): StatusResult {
  // Once the controller has acted, both are set; their absence means it has not seen the object yet.
  if (typeof obj.metadata.generation !== 'number')
    return inProgress(`${obj.kind} metadata.generation not found`);
  if (typeof obj.status?.observedGeneration !== 'number')
    return inProgress(`${obj.kind} status.observedGeneration not found`);
  const st: Json = obj.status;
  const desired = num(st.desiredNumberScheduled, -1);
  if (desired === -1) return inProgress('Missing .status.desiredNumberScheduled');
  const checks: [number, string][] = [
    [num(st.currentNumberScheduled, 0), 'Current'],
    [num(st.updatedNumberScheduled, 0), 'Updated'],
    [num(st.numberAvailable, 0), 'Available'],
    [num(st.numberReady, 0), 'Ready'],
  ];
  for (const [have, what] of checks) if (desired > have) return inProgress(`${what}: ${have}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
}

function replicaSetStatus(obj: KubeObject): StatusResult {
  if (findCond(obj, 'ReplicaFailure')?.status === 'True')
    return inProgress('Replica Failure condition. Check Pods');
  const st: Json = obj.status ?? {};
  const want = num(obj.spec?.replicas, 1);
  const labelled = num(st.fullyLabeledReplicas, 0);
  const avail = num(st.availableReplicas, 0);
  const ready = num(st.readyReplicas, 0);
  const replicas = num(st.replicas, 0);
  if (want > labelled) return inProgress(`Labelled: ${labelled}/${want}`);
  if (want > avail) return inProgress(`Available: ${avail}/${want}`);
  if (want > ready) return inProgress(`Ready: ${ready}/${want}`);
  if (replicas > want) return inProgress(`Pending termination: ${replicas - want}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
}

function podStatus(obj: KubeObject, now: number): StatusResult {
  const phase: string = obj.status?.phase ?? '';
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      // kstatus: a finished pod has reached its end state, successful or not.
      return current('Pod has completed, but not successfully');
    case 'Running': {
      if (findCond(obj, ConditionTypes.Ready)?.status === 'True') return current('Pod is Ready');
      const crashing = ((obj.status?.containerStatuses ?? []) as Json[])
        .filter((cs) => cs?.state?.waiting?.reason === 'CrashLoopBackOff')
        .map((cs) => cs.name as string);
      if (crashing.length) return failed(`Containers in CrashLoop state: ${crashing.join(',')}`);
      return inProgress('Pod is running but is not Ready');
    }
    case 'Pending': {
      const sched = findCond(obj, 'PodScheduled');
      if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
        const created = Date.parse(String(obj.metadata.creationTimestamp ?? ''));
        if (Number.isNaN(created) || now - scheduleWindowMs < created)
          return inProgress('Pod has not been scheduled');
        return failed('Pod could not be scheduled');
      }
      return inProgress('Pod is in the Pending phase');
    }
    case '':
      return inProgress('Pod phase not available');
    default:
      return { status: Statuses.Unknown, message: `unknown phase ${phase}` };
  }
}

function pvcStatus(obj: KubeObject): StatusResult {
  const phase = obj.status?.phase ?? 'unknown';
  return phase === 'Bound' ? current('PVC is Bound') : inProgress(`PVC is not Bound. phase: ${phase}`);
}

// kstatus's Service rule: a LoadBalancer is Current once it has a cluster IP (not an ingress address).
function serviceStatus(obj: KubeObject): StatusResult {
  if ((obj.spec?.type ?? 'ClusterIP') === 'LoadBalancer' && !obj.spec?.clusterIP)
    return inProgress('ClusterIP not set. Service type: LoadBalancer');
  return current('Service is ready');
}

function jobStatus(obj: KubeObject): StatusResult {
  const parallelism = num(obj.spec?.parallelism, 1);
  const completions = num(obj.spec?.completions, parallelism);
  for (const c of conditionsOf(obj)) {
    if (c.type === 'Complete' && c.status === 'True')
      return current(`Job Completed. succeeded: ${num(obj.status?.succeeded, 0)}/${completions}`);
    if (c.type === 'Failed' && c.status === 'True')
      return failed(`Job Failed. failed: ${num(obj.status?.failed, 0)}/${completions}`);
  }
  return inProgress('Job in progress');
}

function crdStatus(obj: KubeObject): StatusResult {
  for (const c of conditionsOf(obj)) {
    if (c.type === 'NamesAccepted' && c.status === 'False') return failed(c.message ?? c.reason ?? '');
    if (c.type === 'Established') {
      if (c.status === 'False' && c.reason !== 'Installing') return failed(c.message ?? c.reason ?? '');
      if (c.status === 'True') return current('CRD is established');
    }
  }
  return inProgress('Install in progress');
}

export interface HealthResult extends StatusResult {
  id: string;
  /** `Kind/namespace/name`. */
  subject: string;
}

export interface WaitOptions {
  timeoutMs: number;
  /**
   * Longest time between polls (Flux polls every 5 s). Polls start `firstIntervalMs` after the first
   * read and double up to this: most objects turn Current within a second of being applied, and a
   * fixed long poll would hold every reconcile for at least one interval.
   */
  intervalMs?: number;
  /** Wait before the second read (default 100 ms). */
  firstIntervalMs?: number;
  /** Aborting ends the wait early with ok false and `reason: 'Canceled'`. */
  signal?: AbortSignal;
  /** Parallel GETs per poll. */
  concurrency?: number;
  /** Decides the status of the objects it covers instead of the rules above (healthCheckExprs). */
  statusOverride?: (obj: KubeObject) => StatusResult | undefined;
  /**
   * Labels the objects carry (the owner's): they are then read with one LIST per kind and namespace
   * where two or more share them, instead of a GET each; those the list does not show are read alone.
   */
  listSelector?: string;
  /** Objects as they are known to be now (an apply's answers), used instead of reading them first. */
  initial?: ReadonlyMap<string, KubeObject>;
}

export interface WaitResult {
  /** Every object is Current. */
  ok: boolean;
  /** Last status of every object, in the order asked. */
  results: HealthResult[];
  /** Why not ok: `timeout waiting for: [...]` or `failed early due to stalled resources: [...]`. */
  message: string;
  reason?: 'Timeout' | 'Failed' | 'Canceled';
}

/** Reads one object's status: NotFound when it does not exist, Unknown when it could not be read. */
export async function readStatus(
  client: Client,
  entry: InventoryEntry,
  statusOverride?: WaitOptions['statusOverride'],
): Promise<HealthResult> {
  const id = entry.id;
  const subject = subjectOfId(id);
  try {
    const obj = await client.tryGet(refOfEntry(entry));
    if (!obj) return { id, subject, status: Statuses.NotFound, message: 'Resource not found' };
    return { id, subject, ...(statusOverride?.(obj) ?? computeStatus(obj)) };
  } catch (err) {
    return { id, subject, status: Statuses.Unknown, message: apiMessage(err) };
  }
}

const describe = (rs: HealthResult[]) =>
  rs.map((r) => `${r.subject} status: '${r.status}'${r.message ? `: ${r.message}` : ''}`).join(', ');

/** The objects of the entries by id, one LIST per kind and namespace that two or more share. */
async function listObjects(
  client: Client,
  entries: readonly InventoryEntry[],
  selector: string,
): Promise<Map<string, KubeObject>> {
  const groups = new Map<string, { ref: ReturnType<typeof refOfEntry>; n: number }>();
  for (const e of entries) {
    const ref = refOfEntry(e);
    const key = `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { ref, n: 1 });
  }
  const out = new Map<string, KubeObject>();
  for (const { ref, n } of groups.values()) {
    if (n < 2) continue;
    const list = await client
      .listAll(
        { ...parseApiVersion(ref.apiVersion), kind: ref.kind },
        { labelSelector: selector, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      )
      .catch(() => undefined);
    for (const item of list?.items ?? []) out.set(formatId(metadataOf(item)), item);
  }
  return out;
}

/**
 * Polls the objects until all are Current (ok), until none is InProgress/Terminating/NotFound/Unknown
 * and at least one has Failed (fail fast), or until the timeout; the message names what is not ready.
 * An object seen Current is not read again; the others are polled with a doubling interval.
 */
export async function waitForHealth(
  client: Client,
  entries: readonly InventoryEntry[],
  opts: WaitOptions,
): Promise<WaitResult> {
  for (const e of entries) parseId(e.id);
  const deadline = Date.now() + opts.timeoutMs;
  const maxInterval = opts.intervalMs ?? 2000;
  let interval = Math.min(opts.firstIntervalMs ?? 100, maxInterval);
  const results: HealthResult[] = new Array(entries.length);
  let pending = entries.map((_, i) => i);
  let known = opts.initial;
  for (;;) {
    const unknown = pending.filter((i) => !known?.has((entries[i] as InventoryEntry).id));
    const listed = opts.listSelector
      ? await listObjects(
          client,
          unknown.map((i) => entries[i] as InventoryEntry),
          opts.listSelector,
        )
      : undefined;
    const read = await mapLimit(pending, opts.concurrency ?? 8, async (i): Promise<HealthResult> => {
      const e = entries[i] as InventoryEntry;
      const obj = known?.get(e.id) ?? listed?.get(e.id);
      if (!obj) return readStatus(client, e, opts.statusOverride);
      const subject = subjectOfId(e.id);
      return { id: e.id, subject, ...(opts.statusOverride?.(obj) ?? computeStatus(obj)) };
    });
    for (const [k, i] of pending.entries()) results[i] = read[k] as HealthResult;
    known = undefined; // only the first look may use what the caller knew
    pending = pending.filter((i) => results[i]?.status !== Statuses.Current);
    const notCurrent = pending.map((i) => results[i] as HealthResult);
    if (!notCurrent.length) return { ok: true, results, message: '' };
    if (notCurrent.every((r) => r.status === Statuses.Failed))
      return {
        ok: false,
        results,
        reason: 'Failed',
        message: `failed early due to stalled resources: [${describe(notCurrent)}]`,
      };
    const left = deadline - Date.now();
    const canceled =
      opts.signal?.aborted || (left > 0 && !(await sleep(Math.min(interval, left), opts.signal)));
    interval = Math.min(interval * 2, maxInterval);
    if (canceled)
      return {
        ok: false,
        results,
        reason: 'Canceled',
        message: `health check canceled: [${describe(notCurrent)}]`,
      };
    if (left <= 0)
      return {
        ok: false,
        results,
        reason: 'Timeout',
        message: `timeout waiting for: [${describe(notCurrent)}]`,
      };
  }
}
