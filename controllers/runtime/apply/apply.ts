// Staged server-side apply, as fluxcd/pkg ssa does it (manager_apply.go ApplyAllStaged/ApplyAll):
//   1. CustomResourceDefinitions, Namespaces and ClusterRoles, then wait until they are Current (CRDs
//      Established and served by discovery), so custom resources of a CRD in the same set apply now;
//   2. class kinds (StorageClass, IngressClass, PriorityClass, ...), then wait;
//   3. everything else.
// In each stage every object is first planned (GET + server-side dry-run apply, with bounded concurrency);
// only when every plan succeeded are the objects that differ from the live state applied. An object whose
// dry-run equals the live object is not written at all, so an unchanged revision costs no writes.
import { createHash } from 'node:crypto';
import { Annotations, Labels } from '../../api/names.ts';
import type { Client, RestMapping } from '../client.ts';
import { isConflict, isForbidden, isInvalid, isNoMatch, isNotFound } from '../client.ts';
import { gvkOf, jsonEqual, type KubeObject, type ObjectRef, parseApiVersion, refOf } from '../object.ts';
import {
  Actions,
  ApplyError,
  apiMessage,
  type ChangeSet,
  type ChangeSetEntry,
  mapLimit,
  sleep,
} from './changeset.ts';
import { computeStatus, Statuses } from './health.ts';
import {
  type CompiledIgnoreRule,
  compileIgnoreRules,
  type IgnoreRule,
  ignoredPaths,
  resolveIgnoredDrift,
  withoutPaths,
} from './ignore.ts';
import { compareMetadata, formatId, formatSubject, metadataOf } from './inventory.ts';

export interface FieldManagerRef {
  /** Prefix of the manager name, e.g. `kubectl` matches kubectl-client-side-apply and kubectl-edit. */
  name: string;
  operation: 'Apply' | 'Update';
}

export interface ApplyOptions {
  /** SSA field manager; `kustomize-controller` for Kustomizations. */
  fieldManager: string;
  /** Recreate objects whose change touches an immutable field (else only objects annotated force: Enabled). */
  force?: boolean;
  /** Objects planned or applied in parallel. */
  concurrency?: number;
  /** Added to every object, e.g. kustomize.toolkit.fluxcd.io/name and /namespace. */
  labels?: Record<string, string>;
  /** How long to wait for CRDs/Namespaces/classes to become ready, and for a recreated object to go. */
  waitForCrdsMs?: number;
  /** Plan only: nothing is written; the ChangeSet says what would happen. */
  dryRun?: boolean;
  /** More managers whose fields are taken over (Flux's --disallowed-field-managers). */
  disallowedFieldManagers?: string[];
  /** Fields left out of drift detection and kept at their live value (spec.ignore); see ignore.ts. */
  driftIgnoreRules?: readonly IgnoreRule[];
  /**
   * Told every object's plan: its entry, the server-side dry-run result and the live object (either
   * absent when not computed, e.g. a skipped object); the dashboard's drift view diffs the two.
   */
  onPlan?(entry: ChangeSetEntry, dry: KubeObject | undefined, live: KubeObject | undefined): void;
  /**
   * Labels every object this owner applied carries (e.g. `kustomize.toolkit.fluxcd.io/name=x,…`): the
   * live objects are then read with one LIST per kind and namespace instead of a GET each (those the
   * list does not show, not yet labelled or absent, are read one by one).
   */
  liveSelector?: string;
  /**
   * What this owner's last apply left, kept by the caller between applies: an object whose desired
   * state and live resourceVersion are both unchanged since is Unchanged without a dry-run (nobody,
   * not even a controller writing its status, has written it since). Updated in place.
   */
  memory?: ApplyMemory;
  /** Filled with every object's state after the apply (the apply's answer, or the live object). */
  results?: Map<string, KubeObject>;
}

/** Per object id: the digest of the applied desired state, and the resourceVersion it left. */
export type ApplyMemory = Map<string, { digest: string; resourceVersion: string }>;

const defaults = { concurrency: 4, waitForCrdsMs: 60_000, pollMs: 500 };

/**
 * Managers whose fields Flux takes over before applying, so that their edits are reverted: kubectl
 * (client-side apply, edit, patch, and server-side apply), before-first-apply, and the controller's own
 * pre-SSA updates.
 */
export function staleManagers(fieldManager: string, disallowed: readonly string[] = []): FieldManagerRef[] {
  return [
    { name: 'kubectl', operation: 'Apply' },
    { name: 'kubectl', operation: 'Update' },
    { name: 'before-first-apply', operation: 'Update' },
    { name: fieldManager, operation: 'Update' },
    ...disallowed.flatMap((name) => [
      { name, operation: 'Apply' as const },
      { name, operation: 'Update' as const },
    ]),
  ];
}

// Removed from live objects before applying (Flux's ApplyCleanupOptions): kubectl's and Flux v1's markers.
const staleAnnotations = [
  Annotations.lastAppliedConfiguration,
  Annotations.legacyChecksum,
  Annotations.legacySyncChecksum,
];
const staleLabels = [Labels.legacyGcMark];

/** Server-side applies the objects in Flux's stages; throws ApplyError naming every object that failed. */
export async function applyAll(
  client: Client,
  objects: readonly KubeObject[],
  opts: ApplyOptions,
): Promise<ChangeSet> {
  const prepared = objects.map((o) => prepare(o, opts.labels));
  const dupes = findDuplicates(prepared);
  if (dupes.length) throw new ApplyError(dupes, []);
  let ignore: CompiledIgnoreRule[];
  try {
    ignore = compileIgnoreRules(opts.driftIgnoreRules);
  } catch (err) {
    throw new ApplyError([(err as Error).message], []);
  }

  const stages: KubeObject[][] = [[], [], []];
  for (const o of prepared) stages[stageOf(o)]?.push(o);
  const plan: PlanContext = { crdKinds: new Set(stages[0]?.filter(isCrd).flatMap(crdKindKeys)), ignore };

  const done: ChangeSet = [];
  for (const [i, stage] of stages.entries()) {
    if (!stage.length) continue;
    stage.sort((a, b) => compareMetadata(metadataOf(a), metadataOf(b)));
    done.push(...(await applyStage(client, stage, opts, done, plan)));
    if (i < 2 && !opts.dryRun) await waitForStage(client, stage, done, opts);
  }
  return done;
}

function prepare(obj: KubeObject, labels: Record<string, string> | undefined): KubeObject {
  const o = structuredClone(obj);
  if (!o.apiVersion || !o.kind || !o.metadata?.name)
    throw new ApplyError(
      [`object without apiVersion, kind or metadata.name: ${JSON.stringify(obj).slice(0, 200)}`],
      [],
    );
  if (labels && Object.keys(labels).length) o.metadata.labels = { ...o.metadata.labels, ...labels };
  normalize(o);
  return o;
}

/** Fixes of fluxcd/pkg ssa/normalize for known SSA quirks of built-in kinds. */
function normalize(o: KubeObject): void {
  delete o.metadata.creationTimestamp;
  if (!isCrd(o)) delete o.status;
  const group = parseApiVersion(o.apiVersion ?? '').group;
  // Ports are keyed by (port, protocol): without the default protocol SSA sees a different list item.
  const defaultProtocol = (ports: unknown) => {
    if (!Array.isArray(ports)) return;
    for (const p of ports) if (p && typeof p === 'object' && !p.protocol) p.protocol = 'TCP';
  };
  const podSpec = (spec: { containers?: { ports?: unknown }[] } | undefined) => {
    for (const c of spec?.containers ?? []) defaultProtocol(c.ports);
  };
  if (group === '' && o.kind === 'Pod') podSpec(o.spec);
  if (group === 'apps' || (group === 'batch' && o.kind === 'Job')) podSpec(o.spec?.template?.spec);
  if (group === 'batch' && o.kind === 'CronJob') podSpec(o.spec?.jobTemplate?.spec?.template?.spec);
  if (group === '' && o.kind === 'Service') defaultProtocol(o.spec?.ports);
  // stringData is write-only and never shows up in a dry-run result: apply it as data.
  if (group === '' && o.kind === 'Secret' && o.stringData && typeof o.stringData === 'object') {
    const data = { ...((o.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(o.stringData as Record<string, string>))
      data[k] = Buffer.from(String(v)).toString('base64');
    o.data = data;
    delete o.stringData;
  }
}

function findDuplicates(objs: KubeObject[]): string[] {
  const seen = new Set<string>();
  const dupes: string[] = [];
  for (const o of objs) {
    const id = formatId(metadataOf(o));
    if (seen.has(id)) dupes.push(`${formatSubject(metadataOf(o))} is defined more than once`);
    seen.add(id);
  }
  return dupes;
}

const isCrd = (o: KubeObject) =>
  o.kind === 'CustomResourceDefinition' && (o.apiVersion ?? '').startsWith('apiextensions.k8s.io/');

/** Flux's IsClusterDefinition: CRDs, Namespaces and ClusterRoles (not bindings) go first. */
function stageOf(o: KubeObject): 0 | 1 | 2 {
  if (isCrd(o)) return 0;
  if (o.kind === 'Namespace' && o.apiVersion === 'v1') return 0;
  if (o.kind === 'ClusterRole' && (o.apiVersion ?? '').startsWith('rbac.authorization.k8s.io/')) return 0;
  if (o.kind?.endsWith('Class')) return 1;
  return 2;
}

const crdKindKeys = (crd: KubeObject): string[] =>
  ((crd.spec?.versions ?? []) as { name: string }[]).map(
    (v) => `${crd.spec?.group}/${v.name}/${crd.spec?.names?.kind}`,
  );

function metaMatches(obj: KubeObject | undefined, key: string, value: string): boolean {
  if (!obj) return false;
  const eq = (v: string | undefined) =>
    v !== undefined && v !== '' && v.toLowerCase() === value.toLowerCase();
  return eq(obj.metadata.labels?.[key]) || eq(obj.metadata.annotations?.[key]);
}

/** What planning every object of one applyAll needs. */
interface PlanContext {
  /** Kinds of the CRDs in the set (their objects cannot be dry-run before the CRDs exist). */
  crdKinds: Set<string>;
  ignore: CompiledIgnoreRule[];
}

interface Plan {
  entry: ChangeSetEntry;
  /** Digest of the desired object, for ApplyOptions.memory. */
  digest?: string;
  /** Set when the object must be applied. */
  obj?: KubeObject;
  /** The dry-run result and the live object, when read (for onPlan). */
  dry?: KubeObject;
  live?: KubeObject;
}

async function applyStage(
  client: Client,
  objects: KubeObject[],
  opts: ApplyOptions,
  before: ChangeSet,
  plan: PlanContext,
): Promise<ChangeSet> {
  const concurrency = opts.concurrency ?? defaults.concurrency;
  const errors: string[] = [];
  const lives = opts.liveSelector
    ? await listLive(client, objects, opts.liveSelector, concurrency)
    : undefined;
  const plans = await mapLimit(objects, concurrency, (o) =>
    planObject(client, o, opts, plan, lives).catch((err: Error) => {
      errors.push(err.message);
      return undefined;
    }),
  );
  const planned = plans.filter((p): p is Plan => p !== undefined);
  for (const p of planned) opts.onPlan?.(p.entry, p.dry, p.live);
  if (errors.length) throw new ApplyError(errors.sort(), [...before]);
  if (opts.dryRun) return planned.map((p) => p.entry);

  const applied = await mapLimit(planned, concurrency, async (p) => {
    if (!p.obj) {
      remember(opts, p, p.live);
      if (p.live) opts.results?.set(p.entry.id, p.live);
      return p.entry;
    }
    try {
      const after = await client.apply(p.obj, { fieldManager: opts.fieldManager, force: true });
      remember(opts, p, after);
      opts.results?.set(p.entry.id, after);
      return p.entry;
    } catch (err) {
      errors.push(`${p.entry.subject} apply failed${reasonOf(err)}: ${apiMessage(err)}`);
      return undefined;
    }
  });
  const entries = applied.filter((e): e is ChangeSetEntry => e !== undefined);
  if (errors.length) throw new ApplyError(errors.sort(), [...before, ...entries]);
  return entries;
}

/** ` (Reason)` of an API error, with `: access denied` for a 403, to put before `: <API message>`. */
const reasonOf = (err: unknown): string => {
  const reason = (err as { reason?: string }).reason;
  return `${reason ? ` (${reason})` : ''}${isForbidden(err) ? ': access denied' : ''}`;
};

/** GET, skip rules, dry-run (recreating on an immutable change when forced), metadata cleanup, drift. */
async function planObject(
  client: Client,
  obj: KubeObject,
  opts: ApplyOptions,
  plan: PlanContext,
  lives?: Map<string, KubeObject | null>,
): Promise<Plan> {
  if (!(await resolveScope(client, obj, opts, plan.crdKinds)))
    return { entry: entryOf(obj, Actions.Created) };
  const subject = formatSubject(metadataOf(obj));
  const ref = refOf(obj);
  const id = formatId(metadataOf(obj));
  const found = await findLive(client, obj, opts, lives?.get(id), subject);
  const live = found.live;
  const digest = opts.memory ? digestOf(obj) : undefined;
  const early = skipOrRecall(obj, live, opts.memory?.get(id), digest);
  if (early) return early;

  const dry = found.dry ?? (await dryRunOrRecreate(client, obj, live, opts, subject));
  if (!dry) return { entry: entryOf(obj, Actions.Configured), live };
  const current = dry.recreated ? undefined : live;
  const merge = metaMatches(obj, Annotations.ssa, 'Merge') || metaMatches(current, Annotations.ssa, 'Merge');
  const patched = current && !merge ? await cleanupMetadata(client, ref, obj, current, opts, subject) : false;
  const ignored = current ? ignoredPaths(plan.ignore, dry.obj) : [];
  const drifted = (live: KubeObject) =>
    ignored.length
      ? hasDrifted(withoutPaths(live, ignored), withoutPaths(dry.obj, ignored))
      : hasDrifted(live, dry.obj);
  if (!patched && current && !drifted(current))
    return { entry: entryOf(obj, Actions.Unchanged), dry: dry.obj, live, digest };
  const action = dry.obj.metadata.resourceVersion ? Actions.Configured : Actions.Created;
  const payload =
    current && ignored.length ? resolveIgnoredDrift(obj, current, dry.obj, ignored, opts.fieldManager) : obj;
  // A cleanup patch or an ignored field resolved against the live object: its outcome is not the
  // object's alone, so the next apply looks again.
  const remembered = patched || ignored.length ? undefined : digest;
  return { entry: entryOf(obj, action), obj: payload, dry: dry.obj, live, digest: remembered };
}

/**
 * The live object: from the stage's list when it showed it; else, when the list could have shown it
 * (`listed` null: the object carries no owner labels yet, so it is most likely new), a dry-run says
 * whether it exists and is reused as the plan's dry-run when it does not; else a GET.
 */
async function findLive(
  client: Client,
  obj: KubeObject,
  opts: ApplyOptions,
  listed: KubeObject | null | undefined,
  subject: string,
): Promise<{ live?: KubeObject; dry?: { obj: KubeObject; recreated: boolean } }> {
  if (listed) return { live: listed };
  const excluded =
    metaMatches(obj, Annotations.ssa, 'Ignore') || metaMatches(obj, Annotations.reconcile, 'Disabled');
  if (listed === null && !excluded) {
    const probe = await dryRunApply(client, obj, opts).catch(() => undefined);
    if (probe && !probe.metadata.resourceVersion) return { dry: { obj: probe, recreated: false } };
  }
  return { live: await getLive(client, refOf(obj), subject) };
}

/**
 * Skipped (ssa: Ignore, reconcile: Disabled, IfNotPresent on a live object), or Unchanged when the
 * desired state and the live resourceVersion are both what the last apply left; else undefined.
 */
function skipOrRecall(
  obj: KubeObject,
  live: KubeObject | undefined,
  last: { digest: string; resourceVersion: string } | undefined,
  digest: string | undefined,
): Plan | undefined {
  const excluded = (o: KubeObject | undefined) =>
    metaMatches(o, Annotations.ssa, 'Ignore') || metaMatches(o, Annotations.reconcile, 'Disabled');
  if (excluded(obj) || excluded(live) || (live && metaMatches(obj, Annotations.ssa, 'IfNotPresent')))
    return { entry: entryOf(obj, Actions.Skipped), live };
  if (live && last && last.digest === digest && last.resourceVersion === live.metadata.resourceVersion)
    return { entry: entryOf(obj, Actions.Unchanged), live, digest };
  return undefined;
}

const digestOf = (obj: KubeObject): string => createHash('sha256').update(JSON.stringify(obj)).digest('hex');

/** Records what the apply left for the object (only Unchanged and applied objects; skipped ones are forgotten). */
function remember(opts: ApplyOptions, p: Plan, after: KubeObject | undefined): void {
  if (!opts.memory) return;
  const rv = after?.metadata.resourceVersion;
  const keep =
    p.digest && rv && (p.entry.action === Actions.Unchanged || p.obj) && p.entry.action !== Actions.Skipped;
  if (keep) opts.memory.set(p.entry.id, { digest: p.digest as string, resourceVersion: rv });
  else opts.memory.delete(p.entry.id);
}

/**
 * The live objects of a stage by id, read with one LIST per kind and namespace (label selector
 * `selector`); null for an object its list did not show (not labelled as ours: most likely new).
 */
async function listLive(
  client: Client,
  objects: readonly KubeObject[],
  selector: string,
  concurrency: number,
): Promise<Map<string, KubeObject | null>> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string; n: number }>();
  for (const o of objects) {
    const key = `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}`;
    const g = groups.get(key);
    if (g) g.n++;
    else
      groups.set(key, {
        apiVersion: o.apiVersion ?? '',
        kind: o.kind ?? '',
        namespace: o.metadata.namespace,
        n: 1,
      });
  }
  const out = new Map<string, KubeObject | null>();
  const listedGroups = new Set<string>();
  await mapLimit([...groups.entries()], concurrency, async ([key, g]) => {
    const gvk = { ...parseApiVersion(g.apiVersion), kind: g.kind };
    // A failure here only costs the GETs it would have saved.
    const list = await client
      .listAll(gvk, { labelSelector: selector, ...(g.namespace ? { namespace: g.namespace } : {}) })
      .catch(() => undefined);
    if (!list) return;
    listedGroups.add(key);
    for (const item of list.items) {
      if (g.namespace === undefined && item.metadata.namespace) continue;
      out.set(formatId(metadataOf(item)), item);
    }
  });
  for (const o of objects) {
    const key = `${o.apiVersion}|${o.kind}|${o.metadata.namespace ?? ''}`;
    const id = formatId(metadataOf(o));
    if (listedGroups.has(key) && !out.has(id)) out.set(id, null);
  }
  return out;
}

/**
 * Checks the kind is served and the namespace fits its scope (dropping a namespace from a cluster-scoped
 * object, as kubectl does). False in a dry run for a kind of a CRD of the same set, which cannot be served yet.
 */
async function resolveScope(
  client: Client,
  obj: KubeObject,
  opts: ApplyOptions,
  crdKinds: Set<string>,
): Promise<boolean> {
  const gvk = gvkOf(obj);
  const subject = formatSubject(metadataOf(obj));
  let mapping: RestMapping;
  try {
    mapping = await client.mapping(gvk);
  } catch (err) {
    if (!isNoMatch(err)) throw new Error(`${subject} discovery failed: ${apiMessage(err)}`);
    if (opts.dryRun && crdKinds.has(`${gvk.group}/${gvk.version}/${gvk.kind}`)) return false;
    throw new Error(
      `${subject}: no matches for kind "${gvk.kind}" in version "${obj.apiVersion}" (is its CustomResourceDefinition installed?)`,
    );
  }
  if (mapping.namespaced && !obj.metadata.namespace) throw new Error(`${subject} namespace not specified`);
  if (!mapping.namespaced) delete obj.metadata.namespace;
  return true;
}

/**
 * The server-side dry-run of obj. On an immutable-field error with force (spec.force or the object's
 * annotation) the live object is deleted, and the dry-run repeated against its absence; undefined when
 * that would happen in a dry run.
 */
async function dryRunOrRecreate(
  client: Client,
  obj: KubeObject,
  live: KubeObject | undefined,
  opts: ApplyOptions,
  subject: string,
): Promise<{ obj: KubeObject; recreated: boolean } | undefined> {
  try {
    return { obj: await dryRunApply(client, obj, opts), recreated: false };
  } catch (err) {
    if (!live || !isImmutableError(err)) throw dryRunError(subject, err);
    const force =
      opts.force ||
      metaMatches(obj, Annotations.force, 'Enabled') ||
      metaMatches(live, Annotations.force, 'Enabled');
    if (!force) throw immutableError(subject, err);
  }
  if (opts.dryRun) return undefined;
  await deleteAndWait(client, refOf(obj), live, subject, opts.waitForCrdsMs ?? defaults.waitForCrdsMs);
  try {
    return { obj: await dryRunApply(client, obj, opts), recreated: true };
  } catch (err) {
    throw dryRunError(subject, err);
  }
}

const entryOf = (obj: KubeObject, action: ChangeSetEntry['action']): ChangeSetEntry => {
  const m = metadataOf(obj);
  return { id: formatId(m), v: gvkOf(obj).version, subject: formatSubject(m), action };
};

async function getLive(client: Client, ref: ObjectRef, subject: string): Promise<KubeObject | undefined> {
  try {
    return await client.tryGet(ref);
  } catch (err) {
    throw new Error(`${subject} get failed${reasonOf(err)}: ${apiMessage(err)}`);
  }
}

const dryRunApply = (client: Client, obj: KubeObject, opts: ApplyOptions) =>
  client.apply(obj, { fieldManager: opts.fieldManager, force: true, dryRun: true });

function dryRunError(subject: string, err: unknown): Error {
  if (isNotFound(err) && !isNoMatch(err)) return new Error(`${subject} not found: ${apiMessage(err)}`);
  return new Error(`${subject} dry-run failed${reasonOf(err)}: ${apiMessage(err)}`);
}

function immutableError(subject: string, err: unknown): Error {
  // The API server dumps the whole old value (a Job's pod template runs to kilobytes): elide long ones.
  const msg = apiMessage(err).replace(
    /Invalid value: .{120,}?: (?=field is immutable|may not change once set)/s,
    'Invalid value: …: ',
  );
  const why = /immutable/i.test(msg) ? '' : '; the field is immutable';
  return new Error(
    `${subject} dry-run failed${reasonOf(err)}: ${msg}${why}; spec.force: true ` +
      `(or the annotation ${Annotations.force}: Enabled) would recreate the object`,
  );
}

/**
 * A change the API refuses because a field cannot change after creation: kubectl's rule (Invalid or
 * Conflict) narrowed to the messages that say so, plus CEL/webhook "immutable" messages of any status.
 */
export function isImmutableError(err: unknown): boolean {
  const msg = apiMessage(err);
  if ((isInvalid(err) || isConflict(err)) && /immutable|may not change once set|are forbidden/i.test(msg))
    return true;
  return /is\simmutable|immutable\sfield/i.test(msg);
}

async function deleteAndWait(
  client: Client,
  ref: ObjectRef,
  live: KubeObject,
  subject: string,
  timeoutMs: number,
): Promise<void> {
  try {
    await client.delete(ref, {
      propagationPolicy: 'Background',
      preconditions: live.metadata.uid ? { uid: live.metadata.uid } : undefined,
    });
  } catch (err) {
    if (!isConflict(err))
      throw new Error(`${subject} immutable field detected, failed to delete object: ${apiMessage(err)}`);
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cur = await client.tryGet(ref);
    if (!cur || cur.metadata.uid !== live.metadata.uid) return;
    if (Date.now() > deadline)
      throw new Error(`${subject} immutable field detected, timed out waiting for the object to be deleted`);
    await sleep(defaults.pollMs);
  }
}

/**
 * Flux's cleanupMetadata: one JSON patch that drops kubectl's last-applied annotation (and Flux v1's
 * markers) and hands the fields of stale managers (kubectl edits, before-first-apply) to our manager, so
 * that the apply that follows reverts or removes them. Returns whether the object was (or, in a dry run,
 * would be) patched.
 */
async function cleanupMetadata(
  client: Client,
  ref: ObjectRef,
  desired: KubeObject,
  live: KubeObject,
  opts: ApplyOptions,
  subject: string,
): Promise<boolean> {
  let cur: KubeObject | undefined = live;
  for (let attempt = 0; cur; attempt++) {
    const ops = cleanupOps(desired, cur, opts);
    if (!ops.length) return false;
    if (opts.dryRun) return true;
    // Only against the version we read, so a concurrent writer's managedFields entry (a controller
    // writing status, say) is never replaced by our stale copy; on a race, read again and retry.
    ops.unshift({ op: 'test', path: '/metadata/resourceVersion', value: cur.metadata.resourceVersion });
    try {
      await client.patch(ref, 'json', ops, { fieldManager: opts.fieldManager });
      return true;
    } catch (err) {
      if (!(isInvalid(err) || isConflict(err)) || attempt >= 4)
        throw new Error(
          `${subject} metadata.managedFields cleanup failed${reasonOf(err)}: ${apiMessage(err)}`,
        );
    }
    cur = await client.tryGet(ref);
  }
  return false;
}

function cleanupOps(desired: KubeObject, live: KubeObject, opts: ApplyOptions): unknown[] {
  const ops: unknown[] = [];
  const pointer = (k: string) => k.replaceAll('~', '~0').replaceAll('/', '~1');
  for (const k of staleAnnotations)
    if (live.metadata.annotations?.[k] !== undefined && desired.metadata.annotations?.[k] === undefined)
      ops.push({ op: 'remove', path: `/metadata/annotations/${pointer(k)}` });
  for (const k of staleLabels)
    if (live.metadata.labels?.[k] !== undefined && desired.metadata.labels?.[k] === undefined)
      ops.push({ op: 'remove', path: `/metadata/labels/${pointer(k)}` });
  const managed = takeOverManagers(
    live.metadata.managedFields as ManagedFieldsEntry[] | undefined,
    staleManagers(opts.fieldManager, opts.disallowedFieldManagers),
    opts.fieldManager,
  );
  if (managed) ops.push({ op: 'replace', path: '/metadata/managedFields', value: managed });
  return ops;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
  [key: string]: unknown;
}

/**
 * The managedFields with every entry of a stale manager (name prefix and operation, not a subresource)
 * turned into our Apply entry. Entries are merged into one: the API server keys entries by manager and
 * operation, so two `fieldManager`/Apply entries would make it keep only one of their field sets.
 * Undefined when no entry matches.
 */
export function takeOverManagers(
  entries: readonly ManagedFieldsEntry[] | undefined,
  stale: readonly FieldManagerRef[],
  fieldManager: string,
): ManagedFieldsEntry[] | undefined {
  if (!entries?.length) return undefined;
  const isStale = (e: ManagedFieldsEntry) =>
    !e.subresource && stale.some((m) => (e.manager ?? '').startsWith(m.name) && e.operation === m.operation);
  if (!entries.some(isStale)) return undefined;
  const out: ManagedFieldsEntry[] = [];
  let ours: ManagedFieldsEntry | undefined;
  const isOurs = (e: ManagedFieldsEntry) =>
    e.manager === fieldManager && e.operation === 'Apply' && !e.subresource;
  for (const e of entries) {
    if (!isOurs(e) && !isStale(e)) {
      out.push(e);
      continue;
    }
    if (!ours) {
      ours = { ...e, manager: fieldManager, operation: 'Apply', fieldsV1: structuredClone(e.fieldsV1 ?? {}) };
      out.push(ours);
    } else {
      ours.fieldsV1 = mergeFields(ours.fieldsV1 ?? {}, e.fieldsV1 ?? {});
      if (isOurs(e)) ours.apiVersion = e.apiVersion;
    }
  }
  return out;
}

/** Union of two FieldsV1 trees (objects of `f:`/`k:`/`v:`/`i:` keys, leaves `{}`). */
function mergeFields(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      cur && typeof cur === 'object' && v && typeof v === 'object'
        ? mergeFields(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/**
 * Flux's hasDrifted: a dry-run without resourceVersion is a creation; otherwise labels, annotations and
 * everything outside metadata and status are compared with the live object.
 */
export function hasDrifted(live: KubeObject, dry: KubeObject): boolean {
  if (!dry.metadata.resourceVersion) return true;
  if (!jsonEqual(live.metadata.labels ?? {}, dry.metadata.labels ?? {})) return true;
  if (!jsonEqual(live.metadata.annotations ?? {}, dry.metadata.annotations ?? {})) return true;
  const body = ({ metadata: _m, status: _s, ...rest }: KubeObject) => rest;
  return !jsonEqual(body(live), body(dry));
}

/**
 * Waits until the stage's applied objects are Current (CRDs Established, Namespaces Active), then until
 * discovery serves the kinds of its CRDs, so that the next stage can map them.
 */
async function waitForStage(
  client: Client,
  stage: KubeObject[],
  done: ChangeSet,
  opts: ApplyOptions,
): Promise<void> {
  const skipped = new Set(done.filter((e) => e.action === Actions.Skipped).map((e) => e.id));
  const objs = stage.filter((o) => !skipped.has(formatId(metadataOf(o))));
  const deadline = Date.now() + (opts.waitForCrdsMs ?? defaults.waitForCrdsMs);
  for (;;) {
    const pending = (
      await mapLimit(objs, opts.concurrency ?? defaults.concurrency, (o) => notReady(client, o))
    ).flat();
    if (!pending.length) return;
    if (Date.now() > deadline)
      throw new ApplyError([`timeout waiting for: [${pending.sort().join(', ')}]`], done);
    await sleep(defaults.pollMs);
  }
}

/** Why a stage-1/2 object is not ready yet: not Current, or (a CRD) one of its versions not yet served. */
async function notReady(client: Client, o: KubeObject): Promise<string[]> {
  const subject = formatSubject(metadataOf(o));
  const live = await client.tryGet(refOf(o)).catch(() => undefined);
  const st = live ? computeStatus(live) : { status: Statuses.NotFound, message: 'not found' };
  if (st.status !== Statuses.Current) return [`${subject} status: '${st.status}'`];
  if (!isCrd(o)) return [];
  const out: string[] = [];
  for (const v of (o.spec?.versions ?? []) as { name: string; served?: boolean }[]) {
    if (v.served === false) continue;
    const gvk = { group: o.spec.group, version: v.name, kind: o.spec.names?.kind };
    const served = await client.mapping(gvk).then(
      () => true,
      () => false,
    );
    if (!served) out.push(`${subject} status: 'InProgress': ${o.spec.group}/${v.name} not served yet`);
  }
  return out;
}
