// Drift of a release (Flux's action.Diff / ApplyDiff): each object of the stored manifest is
// server-side applied in dry-run mode with Helm's field manager, and the result compared with the live
// object (labels, annotations, everything outside metadata and status), leaving out the fields of
// spec.driftDetection.ignore rules and objects marked helm.toolkit.fluxcd.io/driftDetection: disabled.
// A missing object is drift too. Correction creates the missing objects and patches the changed ones
// back to the dry-run result with a JSON patch, as Helm's field manager.
import { Annotations } from '../api/names.ts';
import { apiMessage, mapLimit } from '../runtime/apply/changeset.ts';
import type { IgnoreRule } from '../runtime/apply/ignore.ts';
import { compileIgnoreRules, ignoredPaths, withoutPaths } from '../runtime/apply/ignore.ts';
import {
  Actions,
  type ChangeSet,
  formatSubject,
  hasDrifted,
  idOf,
  metadataOf,
} from '../runtime/apply/index.ts';
import { type Client, isInvalid } from '../runtime/client.ts';
import { gvkOf, jsonEqual, type KubeObject, refOf } from '../runtime/object.ts';
import { releaseObjects } from './manifest.ts';
import type { Release } from './storage.ts';

/** Helm's field manager (helm.sh/helm/v4 pkg/kube ManagedFieldsManager). */
export const HELM_FIELD_MANAGER = 'helm';

export interface Drift {
  /** The object as the manifest has it (with namespace and Helm's marks). */
  desired: KubeObject;
  subject: string;
  /** `removed`: gone from the cluster; `changed`: differs from the manifest. */
  type: 'removed' | 'changed';
  /** JSON patch turning the live object into the dry-run result (changed objects). */
  patch?: unknown[];
}

export interface DriftReport {
  drifts: Drift[];
  /** Objects that could not be compared (the comparison of the others still counts). */
  errors: string[];
}

const disabled = (o: KubeObject) =>
  [o.metadata.labels, o.metadata.annotations].some((m) => m?.[Annotations.driftDetection] === 'disabled');

/** Compares the release's manifest with the cluster. Throws for bad ignore rules. */
export async function detectDrift(
  client: Client,
  rel: Release,
  ignore: readonly IgnoreRule[] | undefined,
): Promise<DriftReport> {
  const rules = compileIgnoreRules(ignore);
  const objects = (await releaseObjects(client, rel)).filter((o) => !disabled(o));
  const errors: string[] = [];
  const results = await mapLimit(objects, 4, async (desired): Promise<Drift | undefined> => {
    const subject = formatSubject(metadataOf(desired));
    try {
      const live = await client.tryGet(refOf(desired));
      if (!live) return { desired, subject, type: 'removed' };
      const dry = await client.apply<KubeObject>(desired, {
        fieldManager: HELM_FIELD_MANAGER,
        force: true,
        dryRun: true,
      });
      const paths = ignoredPaths(rules, dry);
      const l = withoutPaths(live, paths);
      const d = withoutPaths(dry, paths);
      if (!hasDrifted(l, d)) return undefined;
      return { desired, subject, type: 'changed', patch: patchOps(l, d) };
    } catch (err) {
      errors.push(`${subject}: ${maskSecret(desired, err)}`);
      return undefined;
    }
  });
  return { drifts: results.filter((d): d is Drift => d !== undefined), errors };
}

/** Flux's summary line per drifted object: `Deployment/ns/name changed (…)` or `… removed`. */
export function summarizeDrift(drifts: readonly Drift[]): string {
  return drifts
    .map((d) =>
      d.type === 'removed' ? `${d.subject} removed` : `${d.subject} changed (${describe(d.patch)})`,
    )
    .join('\n');
}

function describe(patch: unknown[] | undefined): string {
  const count = (op: string) => (patch ?? []).filter((p) => (p as { op: string }).op === op).length;
  return `${count('add')} additions, ${count('replace')} changes, ${count('remove')} removals`;
}

/** Creates the removed objects and patches the changed ones back; what was done, and what failed. */
export async function correctDrift(
  client: Client,
  drifts: readonly Drift[],
): Promise<{ changes: ChangeSet; errors: string[] }> {
  const changes: ChangeSet = [];
  const errors: string[] = [];
  const sorted = [...drifts].sort((a, b) => (idOf(a.desired) < idOf(b.desired) ? -1 : 1));
  for (const d of sorted) {
    const entry = {
      id: idOf(d.desired),
      v: gvkOf(d.desired).version,
      subject: d.subject,
      action: d.type === 'removed' ? Actions.Created : Actions.Configured,
    };
    try {
      if (d.type === 'removed') await client.create(d.desired, { fieldManager: HELM_FIELD_MANAGER });
      else await client.patch(refOf(d.desired), 'json', d.patch, { fieldManager: HELM_FIELD_MANAGER });
      changes.push(entry);
    } catch (err) {
      const what = d.type === 'removed' ? 'creation' : 'patch';
      errors.push(`${d.subject} ${what} failure: ${maskSecret(d.desired, err)}`);
    }
  }
  return { changes, errors };
}

/** The API's message; for an invalid Secret only its last part, which does not quote the data. */
function maskSecret(obj: KubeObject, err: unknown): string {
  const msg = apiMessage(err);
  if (obj.kind !== 'Secret' || !isInvalid(err)) return msg;
  return msg.slice(msg.lastIndexOf(':') + 1).trim();
}

const pointer = (segs: readonly string[]) =>
  segs.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON patch operations from live to want over the fields hasDrifted compares. */
export function patchOps(live: KubeObject, want: KubeObject): unknown[] {
  const ops: unknown[] = [];
  const walk = (a: unknown, b: unknown, segs: string[]) => {
    if (jsonEqual(a, b)) return;
    if (isMap(a) && isMap(b)) {
      for (const k of Object.keys(a)) if (!(k in b)) ops.push({ op: 'remove', path: pointer([...segs, k]) });
      for (const [k, v] of Object.entries(b)) {
        if (!(k in a)) ops.push({ op: 'add', path: pointer([...segs, k]), value: v });
        else walk(a[k], v, [...segs, k]);
      }
      return;
    }
    ops.push({ op: 'replace', path: pointer(segs), value: b });
  };
  for (const field of ['labels', 'annotations'] as const) {
    const a = live.metadata[field];
    const b = want.metadata[field];
    if (b === undefined && a !== undefined) ops.push({ op: 'remove', path: pointer(['metadata', field]) });
    else if (a === undefined && b !== undefined)
      ops.push({ op: 'add', path: pointer(['metadata', field]), value: b });
    else walk(a, b, ['metadata', field]);
  }
  const body = ({ metadata: _m, status: _s, ...rest }: KubeObject) => rest as Record<string, unknown>;
  walk(body(live), body(want), []);
  return ops;
}
