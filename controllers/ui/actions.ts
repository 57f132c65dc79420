// The page's actions, each one write as the viewer (the API server's RBAC decides; a refusal comes back
// with its own message): reconcile (optionally the source first), suspend, resume, and rollback through
// the Rollback interface, which the CLI wires to `tide rollback` where it exists.
import { Annotations } from '../api/names.ts';
import type { Client } from '../runtime/client.ts';
import type { ObjectRef } from '../runtime/object.ts';
import type { Viewer } from './access.ts';
import { UiError } from './errors.ts';
import type { KindInfo, Row } from './model/rows.ts';
import type { Store } from './store.ts';

export const actionNames = ['reconcile', 'suspend', 'resume', 'rollback'] as const;
export type ActionName = (typeof actionNames)[number];

/**
 * Rolls a Kustomization back (a revert commit of the last applied change, as `tide rollback
 * kustomization`). The dashboard offers the action only when one is given.
 */
export interface Rollback {
  /** Returns what was done, in a sentence; throws with a message the page shows. */
  rollback(client: Client, target: { namespace: string; name: string }): Promise<string>;
}

export interface ActionOptions {
  withSource?: boolean;
  rollback?: Rollback;
  now?: () => Date;
}

const refOf = (store: Store, row: Pick<Row, 'kind' | 'namespace' | 'name'>): ObjectRef => {
  const d = store.descriptor(row.kind);
  if (!d) throw new UiError(404, `unknown kind ${row.kind}`);
  return { apiVersion: d.apiVersion, kind: row.kind, namespace: row.namespace, name: row.name };
};

const requestPatch = (token: string, extra: Record<string, unknown> = {}) => ({
  ...extra,
  metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
});

type Target = { row: Row; info: KindInfo; client: Client; token: string; what: string };

/** Reconcile: the requestedAt annotation, on the source first when asked. */
async function reconcile(store: Store, t: Target, withSource: boolean): Promise<string> {
  const { row, info, client, token, what } = t;
  if (!info.hasStatus) throw new UiError(400, `${row.kind} has no controller status to reconcile`);
  if (row.suspended) throw new UiError(409, `${what} is suspended: resume it first`);
  const ref = withSource ? row.source : undefined;
  const source = ref ? store.row(`${ref.kind}/${ref.namespace}/${ref.name}`) : undefined;
  if (ref && !source) throw new UiError(404, `source ${ref.kind}/${ref.namespace}/${ref.name} not found`);
  if (source) await client.patch(refOf(store, source), 'merge', requestPatch(token));
  await client.patch(refOf(store, row), 'merge', requestPatch(token));
  return `reconcile of ${what}${source ? ' and its source' : ''} requested`;
}

/** Suspend sets spec.suspend; resume clears it and asks for a reconcile at once, as flux resume does. */
async function setSuspended(store: Store, t: Target, suspend: boolean): Promise<string> {
  if (!t.info.suspendable)
    throw new UiError(400, `${t.row.kind} cannot be ${suspend ? 'suspended' : 'resumed'}`);
  const body = suspend ? { spec: { suspend: true } } : requestPatch(t.token, { spec: { suspend: false } });
  await t.client.patch(refOf(store, t.row), 'merge', body);
  return `${t.what} ${suspend ? 'suspended' : 'resumed'}`;
}

export async function runAction(
  store: Store,
  viewer: Viewer,
  target: { kind: string; namespace: string; name: string },
  action: ActionName,
  opts: ActionOptions = {},
): Promise<{ message: string }> {
  const row = store.row(`${target.kind}/${target.namespace}/${target.name}`);
  const info = store.kindInfo(target.kind);
  if (!row || !info || !(await viewer.checkList(info, target.namespace)))
    throw new UiError(404, `${target.kind} ${target.namespace}/${target.name} not found`);
  const t: Target = {
    row,
    info,
    client: viewer.client,
    token: (opts.now ?? (() => new Date()))().toISOString(),
    what: `${row.kind} ${row.namespace}/${row.name}`,
  };
  if (action === 'reconcile') return { message: await reconcile(store, t, opts.withSource === true) };
  if (action === 'suspend' || action === 'resume')
    return { message: await setSuspended(store, t, action === 'suspend') };
  if (!opts.rollback) throw new UiError(501, 'rollback is not available in this version of Tide');
  if (row.kind !== 'Kustomization') throw new UiError(400, 'only Kustomizations can be rolled back');
  return { message: await opts.rollback.rollback(t.client, { namespace: row.namespace, name: row.name }) };
}
