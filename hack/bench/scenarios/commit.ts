// Commit → applied: one GitRepository + Kustomization of many ConfigMaps (prune and wait on). Each
// commit is pushed, then `reconcile.fluxcd.io/requestedAt` is set on the GitRepository (what `flux
// reconcile source git` does); three cases: change one object, change all, delete half (each delete is
// preceded by an untimed commit that restores the full set). The stages are read from the outside, from
// watch events, the same way for both suites:
//   fetch   push → the GitRepository's artifact has the commit's revision
//   build   artifact → first changed object seen (download, kustomize build, diff: the work before a write)
//   apply   first → last changed object seen (the writes, and the deletes of the prune)
//   health  last changed object → Kustomization Ready with the revision applied (health checks, status)

import { GitRepositoryKind } from '../../../controllers/api/index.ts';
import { Annotations } from '../../../controllers/api/names.ts';
import type { KubeObject } from '../../../controllers/runtime/object.ts';
import { type ApiCalls, auditOffset, countAuditWindow, emptyCalls } from '../audit.ts';
import { createWorkTree, ensureNamespaces, type WorkTree } from '../bed.ts';
import type { SuiteId } from '../config.ts';
import {
  bringUp,
  type Context,
  type Deployed,
  failure,
  type ScenarioOutput,
  seconds,
  timeoutMs,
} from '../scenario.ts';
import { round, type Spread, spread } from '../stats.ts';
import { describeControllers, type Suite } from '../suites.ts';
import { isReady, Tracker } from '../track.ts';
import { benchNamespace, configMapFiles, configMapName, gitRepository, kustomization } from '../workload.ts';

export const commitCases = ['one', 'all', 'half'] as const;
export type CommitCase = (typeof commitCases)[number];

export interface CommitRow {
  suite: SuiteId;
  case: CommitCase;
  objects: number;
  /** Commits measured (those that completed). */
  commits: number;
  /** Seconds, p50/p95/max over the commits. */
  total?: Spread;
  fetch?: Spread;
  build?: Spread;
  apply?: Spread;
  health?: Spread;
  /** The controllers' API requests per measured commit, by verb. */
  apiPerCommit?: Record<string, number>;
  /** First apply of all objects (s), for scale. */
  initialApplyS?: number;
  error?: string;
}

interface Stages {
  total: number;
  fetch: number;
  build: number;
  apply: number;
  health: number;
}

const targetNamespace = 'commit';
const name = 'cms';
const configMapKind = { group: '', version: 'v1', kind: 'ConfigMap' };

interface Expectation {
  /** ConfigMap name → the version it must show, or null when it must be deleted. */
  changes: Map<string, string | null>;
  files: Record<string, string | null>;
}

function planCommit(c: CommitCase, k: number, n: number, versions: string[]): Expectation {
  const changes = new Map<string, string | null>();
  if (c === 'one') {
    versions[1] = `one-${k}`;
    changes.set(configMapName(1), versions[1]);
  } else if (c === 'all') {
    for (let i = 1; i <= n; i++) {
      versions[i] = `all-${k}`;
      changes.set(configMapName(i), versions[i]!);
    }
  } else {
    for (let i = 2; i <= n; i += 2) changes.set(configMapName(i), null);
  }
  const omit = c === 'half' ? (i: number) => i % 2 === 0 : undefined;
  return { changes, files: configMapFiles(n, (i) => versions[i]!, omit) };
}

/** Pushes a commit, asks for a reconcile, and times the stages until the revision is applied. */
async function applyCommit(
  ctx: Context,
  d: Deployed,
  cms: Tracker,
  tree: WorkTree,
  plan: Expectation,
  message: string,
): Promise<Stages | undefined> {
  const seen = new Set<string>();
  let first: number | undefined;
  let last: number | undefined;
  let revision = '';
  let artifactAt: number | undefined;
  const stopCm = cms.listen((o: KubeObject, deleted) => {
    const want = plan.changes.get(o.metadata.name ?? '');
    if (want === undefined || seen.has(o.metadata.name ?? '')) return;
    const match =
      want === null ? deleted : !deleted && (o as { data?: { version?: string } }).data?.version === want;
    if (!match) return;
    seen.add(o.metadata.name ?? '');
    first ??= Date.now();
    last = Date.now();
  });
  const stopGr = d.sources.listen((o) => {
    if (revision && o.status?.artifact?.revision === revision) artifactAt ??= Date.now();
  });
  try {
    const sha = await tree.commit(plan.files, message);
    const t0 = Date.now();
    revision = `main@sha1:${sha}`;
    await d.bed.admin.patch(
      {
        apiVersion: GitRepositoryKind.apiVersion,
        kind: GitRepositoryKind.kind,
        name,
        namespace: benchNamespace,
      },
      'merge',
      { metadata: { annotations: { [Annotations.reconcileRequestedAt]: new Date().toISOString() } } },
    );
    const ready = await d.kustomizations.waitAll(
      1,
      (o) => o.status?.lastAppliedRevision === revision && isReady(o),
      timeoutMs(ctx),
    );
    // The harness's own watch may deliver the last ConfigMap event just after the Kustomization's.
    for (let i = 0; i < 50 && seen.size < plan.changes.size; i++)
      await new Promise((r) => setTimeout(r, 100));
    if (ready.at === undefined || artifactAt === undefined || first === undefined || last === undefined) {
      ctx.log(
        `${message}: not applied in time (artifact ${artifactAt !== undefined}, ${seen.size}/${plan.changes.size} objects seen, ready ${ready.at !== undefined})`,
      );
      return undefined;
    }
    const s = (a: number, b: number) => Math.max(0, seconds(a, b)!);
    return {
      total: s(t0, ready.at),
      fetch: s(t0, artifactAt),
      build: s(artifactAt, first),
      apply: s(first, last),
      health: s(last, ready.at),
    };
  } finally {
    stopCm();
    stopGr();
  }
}

function addCalls(into: ApiCalls, from: ApiCalls) {
  into.total += from.total;
  for (const [k, v] of Object.entries(from.byVerb)) into.byVerb[k] = (into.byVerb[k] ?? 0) + v;
}

interface CommitRun {
  suite: Suite;
  bedName: string;
  n: number;
  d: Deployed;
  cms: Tracker;
  tree: WorkTree;
  /** The version each ConfigMap has in the last commit (index 1..n). */
  versions: string[];
  /** The last commit deleted the even-numbered half. */
  halfDeleted: boolean;
  initialApplyS?: number;
}

/** The commits of one case; a delete of half is preceded by an untimed commit restoring the full set. */
async function runCase(ctx: Context, r: CommitRun, c: CommitCase): Promise<CommitRow> {
  const stages: Stages[] = [];
  const calls = emptyCalls();
  for (let k = 1; k <= ctx.cfg.commits; k++) {
    if (c === 'half' && r.halfDeleted) {
      const changes = new Map<string, string | null>();
      for (let i = 2; i <= r.n; i += 2) changes.set(configMapName(i), r.versions[i]!);
      const restore = { changes, files: configMapFiles(r.n, (i) => r.versions[i]!) };
      await applyCommit(ctx, r.d, r.cms, r.tree, restore, `${r.bedName} restore ${k}`);
      r.halfDeleted = false;
    }
    const from = await auditOffset(r.d.bed.auditLog);
    const plan = planCommit(c, k, r.n, r.versions);
    const st = await applyCommit(ctx, r.d, r.cms, r.tree, plan, `${r.bedName} ${c} ${k}`);
    addCalls(calls, await countAuditWindow(r.d.bed.auditLog, from, await auditOffset(r.d.bed.auditLog)));
    if (st) stages.push(st);
    else r.d.controllers.checkAlive();
    if (c === 'half') r.halfDeleted = true;
  }
  r.d.controllers.checkAlive();
  const pick = (key: keyof Stages) => spread(stages.map((s) => s[key]));
  ctx.log(`${r.bedName}: ${c}: p50 ${round(pick('total').p50)} s over ${stages.length} commits`);
  return {
    suite: r.suite.id,
    case: c,
    objects: r.n,
    commits: stages.length,
    total: pick('total'),
    fetch: pick('fetch'),
    build: pick('build'),
    apply: pick('apply'),
    health: pick('health'),
    apiPerCommit: Object.fromEntries(
      Object.entries(calls.byVerb).map(([verb, v]) => [verb, round(v / ctx.cfg.commits, 1)]),
    ),
    initialApplyS: r.initialApplyS,
  };
}

/** A bed with the suite's controllers and the n ConfigMaps applied once. */
async function setUp(ctx: Context, suite: Suite, bedName: string, n: number): Promise<CommitRun> {
  let tree: WorkTree | undefined;
  const d = await bringUp(ctx, suite, bedName, ['source', 'kustomize'], async (bed) => {
    tree = await createWorkTree(bed, name);
    await ensureNamespaces(bed.admin, [targetNamespace]);
  });
  try {
    const cms = await new Tracker(d.bed.admin, configMapKind, targetNamespace).start();
    const r: CommitRun = {
      suite,
      bedName,
      n,
      d,
      cms,
      tree: tree!,
      versions: Array(n + 1).fill('v0'),
      halfDeleted: false,
    };
    const t0 = Date.now();
    const sha0 = await r.tree.commit(
      configMapFiles(n, (i) => r.versions[i]!),
      'initial',
    );
    await d.bed.admin.create(gitRepository({ name, url: r.tree.url, interval: '60m' }));
    await d.bed.admin.create(
      kustomization({ name, source: name, path: './cms', targetNamespace, interval: '60m', timeout: '10m' }),
    );
    const initial = await d.kustomizations.waitAll(
      1,
      (o) => o.status?.lastAppliedRevision === `main@sha1:${sha0}` && isReady(o),
      timeoutMs(ctx),
    );
    if (initial.at === undefined) throw new Error(`the initial ${n} objects were not applied in time`);
    r.initialApplyS = seconds(t0, initial.at);
    ctx.log(`${bedName}: initial apply of ${n} objects in ${r.initialApplyS} s`);
    return r;
  } catch (err) {
    await d.stop();
    throw err;
  }
}

export async function runCommit(ctx: Context): Promise<ScenarioOutput<CommitRow>> {
  const out: ScenarioOutput<CommitRow> = { rows: [], notes: [], flags: {}, apiserverFlags: [] };
  const n = ctx.cfg.commitObjects;
  for (const suite of ctx.suites) {
    out.flags[suite.id] = describeControllers(suite, ['source', 'kustomize'], ctx.cfg);
    const bedName = `commit-${suite.id}-${n}`;
    ctx.log(`${bedName}: starting`);
    let r: CommitRun | undefined;
    try {
      r = await setUp(ctx, suite, bedName, n);
      out.apiserverFlags = r.d.bed.apiserverFlags;
      for (const c of commitCases) {
        const row = await runCase(ctx, r, c);
        out.rows.push(row);
        if (row.commits < ctx.cfg.commits)
          out.notes.push(`${suite.label} ${c}: ${ctx.cfg.commits - row.commits} commits not applied in time`);
      }
    } catch (err) {
      const error = failure(ctx, out, bedName, err);
      out.rows.push({ suite: suite.id, case: 'one', objects: n, commits: 0, error });
    } finally {
      await r?.cms.stop();
      await r?.d.stop();
    }
  }
  return out;
}
