// What a HelmRelease says about its release, read the way Flux's helm-controller reads it (api/v2
// getters): the release name and namespaces, timeouts, the active remediation and retry strategy and
// their failure counters, the post-renderer and common-metadata digests, and the summary of the
// release conditions into Ready.
import { createHash } from 'node:crypto';
import type { HelmRelease } from '../api/helm.ts';
import { ConditionTypes } from '../api/names.ts';
import {
  type Condition,
  ConditionStatus,
  deleteCondition,
  getCondition,
  setCondition,
} from '../runtime/conditions.ts';
import { parseDuration } from '../runtime/duration.ts';
import { goJson, sortedMap } from './gojson.ts';
import { ReleaseActions } from './snapshot.ts';

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_RETRY_INTERVAL_MS = 5 * 60_000;
const DEFAULT_MAX_HISTORY = 5;
const MAX_RELEASE_NAME = 53;

/** Flux's ShortenName: names over 53 characters become `<first 40>-<12 hex of their SHA-256>`. */
export function shortenName(name: string): string {
  if (name.length <= MAX_RELEASE_NAME) return name;
  const sum = createHash('sha256').update(name).digest('hex');
  return `${name.slice(0, MAX_RELEASE_NAME - 13)}-${sum.slice(0, 12)}`;
}

const nsOf = (obj: HelmRelease) => obj.metadata.namespace ?? '';

/** The Helm release name: spec.releaseName, else `[<targetNamespace>-]<name>`, shortened. */
export const releaseName = (obj: HelmRelease) =>
  shortenName(
    obj.spec.releaseName ||
      (obj.spec.targetNamespace
        ? `${obj.spec.targetNamespace}-${obj.metadata.name}`
        : (obj.metadata.name ?? '')),
  );
export const releaseNamespace = (obj: HelmRelease) => obj.spec.targetNamespace || nsOf(obj);
export const storageNamespace = (obj: HelmRelease) => obj.spec.storageNamespace || nsOf(obj);
export const maxHistory = (obj: HelmRelease) => obj.spec.maxHistory ?? DEFAULT_MAX_HISTORY;

/** spec.timeout, else 5m. */
export const timeoutMs = (obj: HelmRelease) =>
  obj.spec.timeout ? parseDuration(obj.spec.timeout) : DEFAULT_TIMEOUT_MS;
/** An action's own timeout, else spec.timeout. */
export const actionTimeoutMs = (obj: HelmRelease, t: string | undefined) =>
  t ? parseDuration(t) : timeoutMs(obj);

export type ReleaseAction = 'install' | 'upgrade';

/** How failures of an install or upgrade are remediated (Flux's Remediation interface). */
export interface Remediation {
  action: ReleaseAction;
  retries: number;
  strategy: 'rollback' | 'uninstall';
  mustIgnoreTestFailures(testIgnoreFailures: boolean): boolean;
  mustRemediateLastFailure(): boolean;
  failureCount(obj: HelmRelease): number;
  incrementFailureCount(obj: HelmRelease): void;
  retriesExhausted(obj: HelmRelease): boolean;
  isUninstallAfterUpgrade(): boolean;
}

export function installRemediation(obj: HelmRelease): Remediation {
  const r = obj.spec.install?.remediation ?? {};
  const retries = r.retries ?? 0;
  const count = (o: HelmRelease) => o.status?.installFailures ?? 0;
  return {
    action: ReleaseActions.Install,
    retries,
    strategy: 'uninstall',
    mustIgnoreTestFailures: (def) => r.ignoreTestFailures ?? def,
    mustRemediateLastFailure: () => r.remediateLastFailure ?? false,
    failureCount: count,
    incrementFailureCount: (o) => {
      o.status = { ...o.status, installFailures: count(o) + 1 };
    },
    retriesExhausted: (o) => retries >= 0 && count(o) > retries,
    isUninstallAfterUpgrade: () => false,
  };
}

export function upgradeRemediation(obj: HelmRelease): Remediation {
  const r = obj.spec.upgrade?.remediation ?? {};
  const retries = r.retries ?? 0;
  const count = (o: HelmRelease) => o.status?.upgradeFailures ?? 0;
  const strategy = r.strategy ?? 'rollback';
  return {
    action: ReleaseActions.Upgrade,
    retries,
    strategy,
    mustIgnoreTestFailures: (def) => r.ignoreTestFailures ?? def,
    mustRemediateLastFailure: () => r.remediateLastFailure ?? retries > 0,
    failureCount: count,
    incrementFailureCount: (o) => {
      o.status = { ...o.status, upgradeFailures: count(o) + 1 };
    },
    retriesExhausted: (o) => retries >= 0 && count(o) > retries,
    isUninstallAfterUpgrade: () => strategy === 'uninstall',
  };
}

/** The remediation of the last release action attempted; undefined before any. */
export function activeRemediation(obj: HelmRelease): Remediation | undefined {
  switch (obj.status?.lastAttemptedReleaseAction) {
    case ReleaseActions.Install:
      return installRemediation(obj);
    case ReleaseActions.Upgrade:
      return upgradeRemediation(obj);
    default:
      return undefined;
  }
}

/** The RetryOnFailure strategy of the last release action, as its retry interval; undefined otherwise. */
export function activeRetry(obj: HelmRelease): { intervalMs: number; interval: string } | undefined {
  const action = obj.status?.lastAttemptedReleaseAction;
  const strategy =
    action === ReleaseActions.Install
      ? obj.spec.install?.strategy
      : action === ReleaseActions.Upgrade
        ? obj.spec.upgrade?.strategy
        : undefined;
  if (strategy?.name !== 'RetryOnFailure') return undefined;
  const intervalMs = strategy.retryInterval
    ? parseDuration(strategy.retryInterval)
    : DEFAULT_RETRY_INTERVAL_MS;
  return { intervalMs, interval: strategy.retryInterval ?? '5m0s' };
}

export const testSpec = (obj: HelmRelease) => obj.spec.test ?? {};

export function clearFailures(obj: HelmRelease): void {
  obj.status = { ...obj.status, failures: 0, installFailures: 0, upgradeFailures: 0 };
}

export function incrementFailures(obj: HelmRelease): void {
  obj.status = { ...obj.status, failures: (obj.status?.failures ?? 0) + 1 };
}

// ---- digests of post-rendering inputs (Go struct order, as Flux encodes them) --------------------

const selector = (s: Record<string, string | undefined> | undefined) => {
  if (!s) return undefined;
  const keys = ['group', 'version', 'kind', 'namespace', 'name', 'annotationSelector', 'labelSelector'];
  return Object.fromEntries(keys.filter((k) => s[k]).map((k) => [k, s[k]]));
};

/** Flux's postrender.Digest of spec.postRenderers; empty when there are none. */
export function postRenderersDigest(obj: HelmRelease): string {
  const prs = obj.spec.postRenderers;
  if (!prs) return '';
  const canonical = prs.map((pr) => {
    const k = pr.kustomize;
    if (!k) return {};
    const kustomize: Record<string, unknown> = {};
    if (k.patches?.length)
      kustomize.patches = k.patches.map((p) => ({
        patch: p.patch,
        ...(p.target ? { target: selector(p.target) } : {}),
      }));
    if (k.images?.length)
      kustomize.images = k.images.map((i) => ({
        name: i.name,
        ...(i.newName ? { newName: i.newName } : {}),
        ...(i.newTag ? { newTag: i.newTag } : {}),
        ...(i.digest ? { digest: i.digest } : {}),
      }));
    return { kustomize };
  });
  return `sha256:${createHash('sha256')
    .update(`${goJson(canonical)}\n`)
    .digest('hex')}`;
}

/** Flux's CommonMetadataDigest of spec.commonMetadata; empty when it is unset. */
export function commonMetadataDigest(obj: HelmRelease): string {
  const cm = obj.spec.commonMetadata;
  if (!cm) return '';
  const canonical: Record<string, unknown> = {};
  if (cm.annotations && Object.keys(cm.annotations).length) canonical.annotations = sortedMap(cm.annotations);
  if (cm.labels && Object.keys(cm.labels).length) canonical.labels = sortedMap(cm.labels);
  return `sha256:${createHash('sha256')
    .update(`${goJson(canonical)}\n`)
    .digest('hex')}`;
}

// ---- Ready ---------------------------------------------------------------------------------------

/**
 * Flux's summarize of the release conditions: Ready follows the newest of Remediated, TestSuccess (when
 * tests are enabled and failures count) and Released, in that order of precedence; Ready is False
 * whenever Remediated leads (a remediated release is not the desired one). Records the post-renderer
 * and common-metadata digests the release now reflects.
 */
export function summarizeRelease(obj: HelmRelease, now?: Date): void {
  const test = testSpec(obj);
  const order: string[] =
    test.enable && !test.ignoreFailures
      ? [ConditionTypes.Remediated, ConditionTypes.TestSuccess, ConditionTypes.Released]
      : [ConditionTypes.Remediated, ConditionTypes.Released];
  if (!test.enable) deleteCondition(obj, ConditionTypes.TestSuccess);
  const present = order
    .map((t, i) => ({ c: getCondition(obj, t), i }))
    .filter((x): x is { c: Condition; i: number } => x.c !== undefined)
    .sort((a, b) => (b.c.observedGeneration ?? 0) - (a.c.observedGeneration ?? 0) || a.i - b.i);
  const top = present[0]?.c;
  if (top) {
    const status = top.type === ConditionTypes.Remediated ? ConditionStatus.False : top.status;
    if (status === ConditionStatus.True) deleteCondition(obj, ConditionTypes.Stalled);
    setCondition(obj, { type: ConditionTypes.Ready, status, reason: top.reason, message: top.message }, now);
  }
  obj.status = {
    ...obj.status,
    observedPostRenderersDigest: postRenderersDigest(obj) || undefined,
    observedCommonMetadataDigest: commonMetadataDigest(obj) || undefined,
  };
}
