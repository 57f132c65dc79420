// status.history of a Release: snapshots of the Helm releases the controller made, as Flux's
// helm-controller records them (api/v2 Snapshot, internal/release/observation.go). A snapshot's digest is
// Flux's: the SHA-256 of the release "observation" (name, version, info, chart metadata, config,
// manifest, hooks without test hooks, namespace, OCI digest) JSON-encoded the way Go does it, so that
// a release Flux recorded verifies under Tide and the other way round. The controller trusts the
// storage only while the newest release still has the digest it recorded.
import { createHash } from 'node:crypto';
import type { Snapshot } from '../api/helm.ts';
import { valuesDigest } from '../runtime/helm/values.ts';
import { goJson } from './gojson.ts';
import type { Release, ReleaseHook } from './storage.ts';

/** Version of the snapshot format (Flux's CurrentSnapshotAPIVersion). */
export const SNAPSHOT_API_VERSION = 'v2';

/** Flux's defaultMaxHistory: snapshots kept in status.history. */
export const MAX_HISTORY = 5;

export const ReleaseActions = {
  Install: 'install',
  Upgrade: 'upgrade',
  Rollback: 'rollback',
  Uninstall: 'uninstall',
  UninstallRemediation: 'uninstall-remediation',
} as const;

export type TestHookStatus = NonNullable<Snapshot['testHooks']>[string];

const HookPhases = { Succeeded: 'Succeeded', Failed: 'Failed' } as const;
const testEvent = 'test';
const zeroTime = '0001-01-01T00:00:00Z';

const isTestHook = (h: ReleaseHook) => (h.events ?? []).includes(testEvent);

// ---- the release as Helm 4's Go structs encode it once decoded -----------------------------------
// A release stored by another Helm (3 wrote zero times as "") reads into the same Go structs and
// encodes with their field order and omission rules, so each part is rebuilt field by field here.

type Json = Record<string, unknown>;
type Field = [name: string, omit: 'empty' | 'zero' | 'never', encode?: (v: unknown) => unknown];

const isZeroTime = (v: unknown) =>
  v === undefined || v === null || v === '' || String(v).startsWith('0001-01-01');
const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

function struct(fields: readonly Field[]): (v: unknown) => Json {
  return (v) => {
    const src = (v ?? {}) as Json;
    const out: Json = {};
    for (const [name, omit, encode] of fields) {
      const value = src[name];
      if (omit === 'zero' ? isZeroTime(value) : omit === 'empty' ? isEmpty(value) : false) continue;
      out[name] = encode ? encode(value) : (value ?? defaults[name] ?? '');
    }
    return out;
  };
}
const defaults: Json = { phase: '' };
const list = (encode: (v: unknown) => unknown) => (v: unknown) => (Array.isArray(v) ? v.map(encode) : v);
/** A map[string]any: keys sorted at every level, as Go encodes maps. */
function goMap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(goMap);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, goMap((v as Json)[k])]),
  );
}

const info = struct([
  ['first_deployed', 'zero'],
  ['last_deployed', 'zero'],
  ['deleted', 'zero'],
  ['description', 'empty'],
  ['status', 'empty'],
  ['rollback_revision', 'empty'],
  ['notes', 'empty'],
  ['resources', 'empty'],
]);
const maintainer = struct([
  ['name', 'empty'],
  ['email', 'empty'],
  ['url', 'empty'],
]);
const dependency = struct([
  ['name', 'never'],
  ['version', 'empty'],
  ['repository', 'never'],
  ['condition', 'empty'],
  ['tags', 'empty'],
  ['enabled', 'empty'],
  ['import-values', 'empty'],
  ['alias', 'empty'],
]);
const chartMetadata = struct([
  ['name', 'empty'],
  ['home', 'empty'],
  ['sources', 'empty'],
  ['version', 'empty'],
  ['description', 'empty'],
  ['keywords', 'empty'],
  ['maintainers', 'empty', list(maintainer)],
  ['icon', 'empty'],
  ['apiVersion', 'empty'],
  ['condition', 'empty'],
  ['tags', 'empty'],
  ['appVersion', 'empty'],
  ['deprecated', 'empty'],
  ['annotations', 'empty', goMap],
  ['kubeVersion', 'empty'],
  ['dependencies', 'empty', list(dependency)],
  ['type', 'empty'],
]);
const hookExecution = struct([
  ['started_at', 'zero'],
  ['completed_at', 'zero'],
  ['phase', 'never'],
]);
const hook = struct([
  ['name', 'empty'],
  ['kind', 'empty'],
  ['path', 'empty'],
  ['manifest', 'empty'],
  ['events', 'empty'],
  ['last_run', 'never', hookExecution],
  ['weight', 'empty'],
  ['delete_policies', 'empty'],
  ['output_log_policies', 'empty'],
]);

/**
 * Flux's snapshot digest of a stored release: `sha256:<hex>` of the Go JSON encoding (with the trailing
 * newline of json.Encoder) of the observation. Test hooks are left out so that a `helm test` run by hand
 * does not make the release look foreign.
 */
export function observationDigest(rel: Release, ociDigest?: string): string {
  const config = rel.config && Object.keys(rel.config).length > 0 ? goMap(rel.config) : null;
  const hooks = (rel.hooks ?? []).filter((h) => !isTestHook(h)).map(hook);
  const observation = {
    name: rel.name ?? '',
    version: rel.version ?? 0,
    info: info(rel.info),
    chartMetadata: chartMetadata(rel.chart?.metadata),
    config,
    manifest: rel.manifest ?? '',
    hooks: hooks.length > 0 ? hooks : null,
    namespace: rel.namespace ?? '',
    ...(ociDigest ? { ociDigest } : {}),
  };
  return `sha256:${createHash('sha256')
    .update(`${goJson(observation)}\n`)
    .digest('hex')}`;
}

/** metav1.Time of a Go time: whole seconds in UTC; undefined for the zero time. */
export function metaTime(t: string | undefined): string | undefined {
  if (!t || t.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return undefined;
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface SnapshotOptions {
  action?: string;
  ociDigest?: string;
  testHooks?: Record<string, TestHookStatus>;
}

/** The snapshot of a stored release (Flux's ObservedToSnapshot). */
export function snapshotOf(rel: Release, opts: SnapshotOptions = {}): Snapshot {
  const md = rel.chart?.metadata ?? {};
  const info = rel.info ?? {};
  const s: Snapshot = {
    apiVersion: SNAPSHOT_API_VERSION,
    digest: observationDigest(rel, opts.ociDigest),
    name: rel.name,
    namespace: rel.namespace,
    version: rel.version,
    status: info.status ?? '',
    chartName: md.name ?? '',
    chartVersion: md.version ?? '',
    configDigest: valuesDigest(rel.config ?? {}),
    firstDeployed: metaTime(info.first_deployed) ?? zeroTime,
    lastDeployed: metaTime(info.last_deployed) ?? zeroTime,
  };
  if (opts.action) s.action = opts.action;
  if (md.appVersion) s.appVersion = md.appVersion;
  const deleted = metaTime(info.deleted);
  if (deleted) s.deleted = deleted;
  if (opts.testHooks) s.testHooks = opts.testHooks;
  if (opts.ociDigest) s.ociDigest = opts.ociDigest;
  return s;
}

export interface TestFilter {
  name: string;
  exclude?: boolean;
}

/** Whether spec.test.filters select the test named `name` (Flux's isTestHookSelected). */
export function isTestSelected(name: string, filters: readonly TestFilter[] = []): boolean {
  let hasInclude = false;
  let included = false;
  for (const f of filters) {
    if (f.exclude) {
      if (f.name === name) return false;
      continue;
    }
    hasInclude = true;
    if (f.name === name) included = true;
  }
  return !hasInclude || included;
}

/** The last runs of the release's test hooks selected by the filters, by name. */
export function testHooksOf(rel: Release, filters?: readonly TestFilter[]): Record<string, TestHookStatus> {
  const out: Record<string, TestHookStatus> = {};
  for (const h of rel.hooks ?? []) {
    if (!isTestHook(h) || !isTestSelected(h.name, filters)) continue;
    const status: TestHookStatus = {};
    const started = metaTime(h.last_run?.started_at);
    const completed = metaTime(h.last_run?.completed_at);
    if (started) status.lastStarted = started;
    if (completed) status.lastCompleted = completed;
    if (h.last_run?.phase) status.phase = h.last_run.phase;
    out[h.name] = status;
  }
  return out;
}

// ---- history -------------------------------------------------------------------------------------

const deployedOrSuperseded = (s: Snapshot) => s.status === 'deployed' || s.status === 'superseded';

export const fullReleaseName = (s: Snapshot | undefined) =>
  s ? `${s.namespace}/${s.name}.v${s.version}` : '';
export const versionedChartName = (s: Snapshot | undefined) => (s ? `${s.chartName}@${s.chartVersion}` : '');

export const targets = (s: Snapshot | undefined, name: string, namespace: string, version: number) =>
  s !== undefined && s.name === name && s.namespace === namespace && s.version === version;

/** Newest first, as Flux keeps it. */
export const sortHistory = (h: readonly Snapshot[]) => [...h].sort((a, b) => b.version - a.version);

export const latest = (h: readonly Snapshot[] | undefined) => (h?.length ? sortHistory(h)[0] : undefined);

export function hasTestInPhase(s: Snapshot | undefined, phase: string): boolean {
  return Object.values(s?.testHooks ?? {}).some((t) => t?.phase === phase);
}

/** Flux's HasBeenTested: every test ran to success, or one failed (no tests at all counts as tested). */
export function hasBeenTested(s: Snapshot | undefined): boolean {
  if (!s?.testHooks) return false;
  const hooks = Object.values(s.testHooks);
  if (hooks.length === 0) return true;
  if (hooks.some((t) => t?.phase === HookPhases.Failed)) return true;
  return hooks.every((t) => t?.phase === HookPhases.Succeeded);
}

export const hasFailedTest = (s: Snapshot | undefined) => hasTestInPhase(s, HookPhases.Failed);

/** The newest deployed or superseded snapshot before the latest (without failed tests unless ignored). */
export function previous(h: readonly Snapshot[] | undefined, ignoreTests: boolean): Snapshot | undefined {
  const sorted = sortHistory(h ?? []);
  return sorted.slice(1).find((s) => deployedOrSuperseded(s) && (ignoreTests || !hasFailedTest(s)));
}

/** Drops what is older than the previous successful release (Flux's Snapshots.Truncate). */
export function truncate(h: readonly Snapshot[] | undefined, ignoreTests: boolean): Snapshot[] {
  const sorted = sortHistory(h ?? []);
  if (sorted.length < 2) return sorted;
  for (let i = 1; i < sorted.length; i++) {
    const s = sorted[i] as Snapshot;
    if (deployedOrSuperseded(s) && (ignoreTests || !hasFailedTest(s))) return sorted.slice(0, i + 1);
  }
  return sorted.slice(0, MAX_HISTORY);
}

/** Keeps at most MAX_HISTORY snapshots, newest first (Flux's TruncateIgnoringPreviousSnapshots). */
export const truncateIgnoringPrevious = (h: readonly Snapshot[] | undefined) =>
  sortHistory(h ?? []).slice(0, MAX_HISTORY);
