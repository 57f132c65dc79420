// The drift view of a Kustomization: what its source's current artifact renders to, built exactly as
// kustomize-controller builds it (runtime/kustomize/render.ts), planned against the cluster with the
// controller's own server-side dry-run apply (runtime/apply, dryRun) under the viewer's identity, and
// per object the diff between the live object and the dry-run result. Objects of the inventory that Git
// no longer renders are listed as pruned (prune: true) or orphaned.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Labels } from '../api/names.ts';
import { compileIgnoreRules, ignoredPaths } from '../runtime/apply/ignore.ts';
import { ApplyError, applyAll, type ChangeSetEntry } from '../runtime/apply/index.ts';
import { diffInventory, type InventoryEntry, subjectOfId, toInventory } from '../runtime/apply/inventory.ts';
import { fetchArtifact } from '../runtime/artifact/fetch.ts';
import { readData } from '../runtime/configdata.ts';
import { isReconcileError } from '../runtime/errors.ts';
import { renderKustomization } from '../runtime/kustomize/render.ts';
import type { KubeObject } from '../runtime/object.ts';
import type { Viewer } from './access.ts';
import { objectDiff } from './driftdiff.ts';
import { apiMessage, UiError } from './errors.ts';
import type { DriftObject, DriftView } from './model/views.ts';
import type { Store } from './store.ts';

/** kustomize-controller's field manager: the dry-run must see the cluster as its apply would. */
export const kustomizeFieldManager = 'kustomize-controller';

export interface DriftTools {
  kustomizeBin: string;
  sopsBin: string;
}

interface ManagedEntry {
  manager?: string;
  operation?: string;
  time?: string;
  subresource?: string;
}

function changedBy(live: KubeObject | undefined): DriftObject['changedBy'] {
  return ((live?.metadata.managedFields ?? []) as ManagedEntry[])
    .filter((m) => m.manager && m.manager !== kustomizeFieldManager && !m.subresource)
    .map((m) => ({ manager: m.manager as string, operation: m.operation ?? '', time: m.time }))
    .sort((a, b) => (b.time ?? '').localeCompare(a.time ?? ''));
}

const order: Record<string, number> = {
  configured: 0,
  created: 1,
  deleted: 2,
  orphaned: 3,
  skipped: 4,
  unchanged: 5,
};

/** A failure of the build, fetch or dry-run as the page shows it (422: the view cannot be computed). */
function failure(step: string, err: unknown): UiError {
  if (err instanceof UiError) return err;
  if (err instanceof ApplyError) {
    const hint = err.errors.some((e) => /Forbidden|access denied/.test(e))
      ? ' (the drift view dry-runs the apply as you: it needs the rights to patch these objects)'
      : '';
    return new UiError(422, `${step} failed${hint}:\n${err.errors.join('\n')}`);
  }
  const msg = isReconcileError(err) ? err.message : apiMessage(err);
  return new UiError(422, `${step} failed: ${msg}`);
}

export async function computeDrift(
  store: Store,
  viewer: Viewer,
  ks: KubeObject,
  tools: DriftTools,
): Promise<DriftView> {
  const namespace = ks.metadata.namespace ?? '';
  if (ks.spec?.kubeConfig)
    throw new UiError(
      422,
      'this Kustomization applies to a remote cluster (spec.kubeConfig); its drift is not computed here',
    );
  const ref = ks.spec?.sourceRef ?? {};
  const srcNs = ref.namespace || namespace;
  const source = store.object(ref.kind, srcNs, ref.name);
  const srcInfo = store.kindInfo(ref.kind);
  if (!source || !srcInfo || !(await viewer.checkList(srcInfo, srcNs)))
    throw new UiError(422, `source ${ref.kind}/${srcNs}/${ref.name} not found`);
  const artifact = source.status?.artifact;
  if (!artifact?.url) throw new UiError(422, `source ${ref.kind}/${srcNs}/${ref.name} has no artifact yet`);

  const work = await mkdtemp(join(tmpdir(), 'tide-ui-drift-'));
  let objects: KubeObject[];
  try {
    try {
      await fetchArtifact(artifact.url, {
        digest: artifact.digest ?? '',
        dest: work,
        retries: 1,
        timeoutMs: 30_000,
      });
    } catch (err) {
      throw new UiError(
        422,
        `the artifact ${artifact.url} could not be downloaded: ${(err as Error).message} ` +
          '(outside the cluster, port-forward the source-controller and set SOURCE_CONTROLLER_LOCALHOST)',
      );
    }
    objects = await renderKustomization(
      work,
      { metadata: { namespace }, spec: ks.spec },
      {
        ...tools,
        readData: (kind, name) => readData(viewer.client, { kind, namespace, name }),
      },
    ).catch((err) => {
      throw failure('the build', err);
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }

  const plans = new Map<string, { entry: ChangeSetEntry; dry?: KubeObject; live?: KubeObject }>();
  const labels = { [Labels.kustomizeName]: ks.metadata.name ?? '', [Labels.kustomizeNamespace]: namespace };
  let changes: ChangeSetEntry[];
  try {
    changes = await applyAll(viewer.client, objects, {
      fieldManager: kustomizeFieldManager,
      force: ks.spec?.force ?? false,
      labels,
      driftIgnoreRules: ks.spec?.ignore,
      dryRun: true,
      onPlan: (entry, dry, live) => plans.set(entry.id, { entry, dry, live }),
    });
  } catch (err) {
    throw failure('the server-side dry-run', err);
  }
  const rules = compileIgnoreRules(ks.spec?.ignore);
  const out: DriftObject[] = changes.map((entry) => {
    const p = plans.get(entry.id);
    const [kind, ns, name] = splitSubject(entry);
    const ignored = p?.dry ? ignoredPaths(rules, p.dry) : [];
    const hunks = entry.action === 'skipped' ? [] : objectDiff(p?.live, p?.dry, ignored);
    return {
      subject: entry.subject,
      kind,
      namespace: ns,
      name,
      action: entry.action,
      hunks,
      changedBy: changedBy(p?.live),
    };
  });
  const previous = ks.status?.inventory?.entries as InventoryEntry[] | undefined;
  for (const stale of diffInventory(previous, toInventory(changes))) {
    const subject = subjectOfId(stale.id);
    const [kind, ns, name] = splitSubject({ subject, id: stale.id });
    out.push({
      subject,
      kind,
      namespace: ns,
      name,
      action: ks.spec?.prune ? 'deleted' : 'orphaned',
      hunks: [],
      changedBy: [],
    });
  }
  out.sort((a, b) => (order[a.action] ?? 9) - (order[b.action] ?? 9) || a.subject.localeCompare(b.subject));
  const counts: Record<string, number> = {};
  for (const o of out) counts[o.action] = (counts[o.action] ?? 0) + 1;
  return {
    revision: artifact.revision ?? '',
    appliedRevision: ks.status?.lastAppliedRevision ?? '',
    computedAt: new Date().toISOString(),
    counts,
    objects: out,
  };
}

/** Kind, namespace and name of `Kind/namespace/name` (or `Kind/name`). */
function splitSubject(e: { subject: string; id: string }): [string, string, string] {
  const parts = e.subject.split('/');
  return parts.length === 3
    ? [parts[0] ?? '', parts[1] ?? '', parts[2] ?? '']
    : [parts[0] ?? '', '', parts[1] ?? ''];
}
