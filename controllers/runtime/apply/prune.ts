// Garbage collection of what left the inventory (fluxcd/pkg ssa manager_delete.go, as kustomize-controller
// calls it): delete with Background propagation, in reverse apply order, only objects that still carry the
// owner's labels and are not opted out; and the Kustomization deletionPolicy for finalization.

import { Annotations } from '../../api/names.ts';
import { type Client, isNoMatch } from '../client.ts';
import { type KubeObject, type ObjectRef, parseApiVersion } from '../object.ts';
import { Actions, ApplyError, apiMessage, type ChangeSet, type ChangeSetEntry, sleep } from './changeset.ts';
import { type InventoryEntry, idOf, refOfEntry, subjectOfId } from './inventory.ts';

export const DeletionPolicies = {
  /** Delete on finalization when spec.prune is true (the default). */
  MirrorPrune: 'MirrorPrune',
  Delete: 'Delete',
  /** Delete, then wait until every object is gone. */
  WaitForTermination: 'WaitForTermination',
  /** Never delete. */
  Orphan: 'Orphan',
} as const;
export type DeletionPolicy = (typeof DeletionPolicies)[keyof typeof DeletionPolicies];

export interface DeleteStaleOptions {
  /**
   * Labels an object must still carry to be deleted, e.g. `{ 'kustomize.toolkit.fluxcd.io/name': n,
   * 'kustomize.toolkit.fluxcd.io/namespace': ns }`: an object taken over by another owner is left alone.
   */
  ownerLabels?: Record<string, string>;
  /** Unset for a regular prune; a finalizer passes the Kustomization's policy and spec.prune. */
  deletionPolicy?: DeletionPolicy;
  /** spec.prune, read by MirrorPrune (default true). */
  prune?: boolean;
  /** WaitForTermination: how long to wait for the objects to go (default 60 s) and how often to look. */
  timeoutMs?: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

// Opt-outs that protect an object from deletion, matched in labels or annotations, case-insensitively.
const exclusions: [string, string][] = [
  [Annotations.prune, 'disabled'],
  [Annotations.reconcile, 'disabled'],
  [Annotations.ssa, 'ignore'],
];

/** Whether a finalizer deletes the inventory under this policy (kustomize-controller's rule). */
export function shouldDeleteOnFinalize(policy: DeletionPolicy | undefined, prune: boolean): boolean {
  switch (policy ?? DeletionPolicies.MirrorPrune) {
    case DeletionPolicies.MirrorPrune:
      return prune;
    case DeletionPolicies.Delete:
    case DeletionPolicies.WaitForTermination:
      return true;
    default:
      return false;
  }
}

/**
 * Deletes the stale objects, one at a time in the order given (diffInventory's reverse apply order).
 * Each gets an entry: `deleted`, or `skipped` when it is already gone, opted out, or no longer ours.
 * Throws ApplyError, with the entries so far, when some deletions failed (or WaitForTermination timed out).
 */
export async function deleteStale(
  client: Client,
  entries: readonly InventoryEntry[],
  opts: DeleteStaleOptions = {},
): Promise<ChangeSet> {
  const entry = (e: InventoryEntry, action: ChangeSetEntry['action']): ChangeSetEntry => ({
    id: e.id,
    v: e.v,
    subject: subjectOfId(e.id),
    action,
  });
  if (opts.deletionPolicy && !shouldDeleteOnFinalize(opts.deletionPolicy, opts.prune ?? true))
    return entries.map((e) => entry(e, Actions.Skipped));

  const out: ChangeSet = [];
  const errors: string[] = [];
  const deleted: Deleted[] = [];
  const listed = await listOwned(client, entries, opts.ownerLabels);
  for (const e of entries) {
    try {
      const uid = await deleteOne(client, e, opts, listed.get(e.id));
      out.push(entry(e, uid === undefined ? Actions.Skipped : Actions.Deleted));
      if (uid !== undefined) deleted.push({ e, uid });
    } catch (err) {
      // A kind no longer served went with its CRD, and its objects with it.
      if (isNoMatch(err)) out.push(entry(e, Actions.Skipped));
      else errors.push(`${subjectOfId(e.id)} delete failed: ${apiMessage(err)}`);
    }
  }
  if (errors.length) throw new ApplyError(errors, out);
  if (opts.deletionPolicy === DeletionPolicies.WaitForTermination && deleted.length)
    await waitForTermination(client, deleted, out, opts);
  return out;
}

interface Deleted {
  e: InventoryEntry;
  uid: string;
}

/**
 * The live objects of the entries by id, read with one LIST per kind and namespace by the owner labels
 * where two or more entries share them: null for an entry its list did not show (gone, or no longer
 * ours: skipped either way); absent where no list was made or it failed, so a GET decides.
 */
async function listOwned(
  client: Client,
  entries: readonly InventoryEntry[],
  ownerLabels: Record<string, string> | undefined,
): Promise<Map<string, KubeObject | null>> {
  const out = new Map<string, KubeObject | null>();
  const selector = Object.entries(ownerLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!selector) return out;
  const groups = new Map<string, { ref: ObjectRef; ids: string[] }>();
  for (const e of entries) {
    const ref = refOfEntry(e);
    const key = `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ''}`;
    const g = groups.get(key) ?? { ref, ids: [] };
    g.ids.push(e.id);
    groups.set(key, g);
  }
  for (const { ref, ids } of groups.values()) {
    if (ids.length < 2) continue;
    const gvk = { ...parseApiVersion(ref.apiVersion), kind: ref.kind };
    const list = await client
      .listAll(gvk, { labelSelector: selector, ...(ref.namespace ? { namespace: ref.namespace } : {}) })
      .catch(() => undefined);
    if (!list) continue;
    const byId = new Map<string, KubeObject>();
    for (const item of list.items) {
      if (!ref.namespace && item.metadata.namespace) continue;
      byId.set(idOf({ ...item, apiVersion: ref.apiVersion, kind: ref.kind }), item);
    }
    for (const id of ids) out.set(id, byId.get(id) ?? null);
  }
  return out;
}

/** Deletes one object if it is there, ours and not opted out; returns its uid then, else undefined. */
async function deleteOne(
  client: Client,
  e: InventoryEntry,
  opts: DeleteStaleOptions,
  listed: KubeObject | null | undefined,
): Promise<string | undefined> {
  const ref = refOfEntry(e);
  const live = listed === undefined ? await client.tryGet(ref) : listed;
  if (!live || !ownedBy(live.metadata.labels, opts.ownerLabels) || optedOut(live)) return undefined;
  const uid = live.metadata.uid ?? '';
  const preconditions = uid ? { uid } : undefined;
  return (await client.delete(ref, { propagationPolicy: 'Background', preconditions })) ? uid : undefined;
}

function ownedBy(labels: Record<string, string> | undefined, owner: Record<string, string> | undefined) {
  return Object.entries(owner ?? {}).every(([k, v]) => labels?.[k] === v);
}

function optedOut(obj: {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}) {
  return exclusions.some(([k, v]) =>
    [obj.metadata.labels?.[k], obj.metadata.annotations?.[k]].some((x) => x?.toLowerCase() === v),
  );
}

async function waitForTermination(
  client: Client,
  deleted: Deleted[],
  out: ChangeSet,
  opts: DeleteStaleOptions,
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let left = deleted;
  for (;;) {
    const still = await Promise.all(
      left.map(async (d) => {
        const cur = await client.tryGet(refOfEntry(d.e)).catch(() => undefined);
        return cur && (!d.uid || cur.metadata.uid === d.uid) ? d : undefined;
      }),
    );
    left = still.filter((d): d is Deleted => d !== undefined);
    if (!left.length) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || !(await sleep(Math.min(opts.intervalMs ?? 2000, remaining), opts.signal)))
      throw new ApplyError(
        left.map((d) => `${subjectOfId(d.e.id)} termination timeout`),
        out,
      );
  }
}
