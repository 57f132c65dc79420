// status.history of a Kustomization (fluxcd/pkg apis/meta History): one snapshot per digest of the
// applied manifests and outcome, most recent first, at most five.
import { createHash } from 'node:crypto';
import type { KustomizationStatus } from '../api/kustomize.ts';
import { formatDuration } from '../runtime/duration.ts';
import type { KubeObject } from '../runtime/object.ts';

export type Snapshot = NonNullable<KustomizationStatus['history']>[number];

export const historyMaxSize = 5;

/** `sha256:<hex>` of the built objects, the identity of a snapshot. */
export function manifestsDigest(objects: readonly KubeObject[]): string {
  const h = createHash('sha256');
  for (const o of objects) h.update(`${JSON.stringify(o)}\n`);
  return `sha256:${h.digest('hex')}`;
}

export interface Reconciliation {
  digest: string;
  /** Ready reason of the outcome, e.g. ReconciliationSucceeded or HealthCheckFailed. */
  status: string;
  at: Date;
  durationMs: number;
  metadata: Record<string, string>;
}

/**
 * The history with `r` recorded: the snapshot of the same digest and status is updated and moved to
 * the front, else a new one goes in front; the oldest beyond five are dropped.
 */
export function upsertHistory(history: readonly Snapshot[] | undefined, r: Reconciliation): Snapshot[] {
  const now = r.at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const rest = [...(history ?? [])];
  const i = rest.findIndex((s) => s.digest === r.digest && s.lastReconciledStatus === r.status);
  const previous = i >= 0 ? rest.splice(i, 1)[0] : undefined;
  const snapshot: Snapshot = {
    digest: r.digest,
    firstReconciled: previous?.firstReconciled ?? now,
    lastReconciled: now,
    lastReconciledDuration: formatDuration(r.durationMs),
    lastReconciledStatus: r.status,
    totalReconciliations: (previous?.totalReconciliations ?? 0) + 1,
    metadata: r.metadata,
  };
  return [snapshot, ...rest].slice(0, historyMaxSize);
}
