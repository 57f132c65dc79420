// ImageUpdateAutomation: clones the GitRepository it names, writes the latest images of the
// ImagePolicies of its namespace (those its policySelector picks) into the marked fields of the YAML
// files under update.path, and commits and pushes the change: one commit per run, none when nothing
// changed, replayed on the moved branch when someone pushed in between. Skips the clone when neither
// the policies' picks nor the checkout branch changed since the last run.

import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, sep } from 'node:path';
import type { ImagePolicy, ImageRef, ImageUpdateAutomation } from '../api/image.ts';
import { GitRepositoryKind, ImagePolicyKind, ImageUpdateAutomationKind } from '../api/kinds.ts';
import { Reasons } from '../api/names.ts';
import type { GitRepository } from '../api/source.ts';
import { GenericError, messageOf, StallingError } from '../runtime/errors.ts';
import { revisionString } from '../runtime/git/refs.ts';
import { jsonEqual, type KubeObject, keyOf, objectKey } from '../runtime/object.ts';
import { defineController, type ReconcileContext } from '../runtime/reconciler.ts';
import { compileMessageTemplate, renderMessage } from './message.ts';
import { labelMatcher } from './selector.ts';
import { type PolicyImage, SetterError, type UpdateResult, updateWithSetters } from './setters.ts';
import {
  checkoutRevision,
  commitAndPush,
  gitFailed,
  type PushOutcome,
  prepareWorkTree,
  type SourceConfig,
  sourceConfig,
} from './source.ts';
import type { Template } from './template/exec.ts';

const readyMessage = 'repository up-to-date';

export interface AutomationDeps {
  /** --no-cross-namespace-refs: the GitRepository must be in the automation's namespace. */
  noCrossNamespaceRefs: boolean;
}

/** namespace/name of the GitRepository an automation writes to. */
const sourceKeyOf = (obj: ImageUpdateAutomation) =>
  objectKey(obj.spec.sourceRef.namespace || obj.metadata.namespace, obj.spec.sourceRef.name);

/** RFC 3339 with whole seconds, as metav1.Time serializes. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The ImagePolicies of the namespace the selector picks that have a latest image (Flux's getPolicies). */
function selectPolicies(obj: ImageUpdateAutomation, ctx: ReconcileContext): ImagePolicy[] {
  let matches: ReturnType<typeof labelMatcher>;
  try {
    matches = labelMatcher(obj.spec.policySelector);
  } catch (err) {
    throw new StallingError(
      Reasons.InvalidPolicySelector,
      `failed to parse policy selector: ${messageOf(err)}`,
    );
  }
  return (ctx.listCached(ImagePolicyKind) as ImagePolicy[])
    .filter((p) => p.metadata.namespace === obj.metadata.namespace && matches(p.metadata.labels))
    .filter((p) => p.status?.latestRef)
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

/** The directory of spec.update.path inside the work tree; `..` cannot leave it, nor can a symlink. */
async function updateDir(obj: ImageUpdateAutomation, work: string): Promise<string> {
  const rel = updatePath(obj);
  const dir = join(work, rel);
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    throw new GenericError(Reasons.UpdateFailed, `failed to apply policies: ${messageOf(err)}`);
  }
  const root = await realpath(work);
  if (real !== root && !real.startsWith(root + sep)) {
    throw new GenericError(
      Reasons.UpdateFailed,
      `failed to apply policies: update path '${rel}' leaves the repository`,
    );
  }
  return real;
}

/** Runs the setters; a value Tide cannot rewrite safely is Ready=False UpdateFailed. */
async function applyPolicies(dir: string, policies: ImagePolicy[]): Promise<UpdateResult> {
  const images: PolicyImage[] = policies.map((p) => ({
    namespace: p.metadata.namespace ?? '',
    name: p.metadata.name ?? '',
    latest: p.status!.latestRef!,
  }));
  try {
    return await updateWithSetters(dir, images);
  } catch (err) {
    if (err instanceof SetterError || (err as NodeJS.ErrnoException).code !== undefined)
      throw new GenericError(Reasons.UpdateFailed, `failed to apply policies: ${messageOf(err)}`);
    throw err;
  }
}

/** spec.update.path inside the repository, normalized: `..` cannot climb above its root. */
const updatePath = (obj: ImageUpdateAutomation) =>
  posix.normalize(`/${obj.spec.update?.path ?? ''}`).slice(1);

/**
 * Flux's push summary, then the commit message, then every change by file (relative to the
 * repository root, where the template's paths are relative to update.path).
 */
function pushSummary(
  obj: ImageUpdateAutomation,
  cfg: SourceConfig,
  outcome: PushOutcome,
  result: UpdateResult,
): string {
  let s = `pushed commit '${outcome.commit.slice(0, 7)}' to branch '${cfg.pushBranch}'`;
  if (cfg.refspec) s += ` and refspecs '${cfg.refspec}'`;
  s += `\n${outcome.message}`;
  const lines = [...result.keys()].sort().flatMap((file) => {
    const path = posix.join(updatePath(obj), file);
    return result
      .get(file)!
      .flatMap((o) => o.changes.map((c) => `- ${path}: ${c.oldValue} -> ${c.newValue}`));
  });
  return `${s}\n\nChanges:\n${lines.join('\n')}`;
}

const policiesChanged = (a: Record<string, ImageRef> | undefined, b: Record<string, ImageRef>) =>
  !jsonEqual(a ?? {}, b);

/**
 * What the spec alone rules out, Stalled: a source kind other than GitRepository, a cross-namespace
 * source with --no-cross-namespace-refs, an update strategy other than Setters. Returns the
 * GitRepository's key.
 */
function checkSpec(obj: ImageUpdateAutomation, deps: AutomationDeps): string {
  if (obj.spec.sourceRef.kind !== GitRepositoryKind.kind) {
    throw new StallingError(
      Reasons.InvalidSourceConfiguration,
      `source kind '${obj.spec.sourceRef.kind}' not supported: invalid source configuration`,
    );
  }
  const srcKey = sourceKeyOf(obj);
  if (deps.noCrossNamespaceRefs && !srcKey.startsWith(`${obj.metadata.namespace}/`)) {
    throw new StallingError(
      Reasons.AccessDenied,
      `can't access '${GitRepositoryKind.kind}/${srcKey}', cross-namespace references have been blocked`,
    );
  }
  const strategy = obj.spec.update?.strategy ?? 'Setters';
  if (strategy !== 'Setters')
    throw new StallingError(Reasons.InvalidUpdateStrategy, `unsupported update strategy: ${strategy}`);
  return srcKey;
}

/**
 * Whether the last run's result still holds (Flux's partial clone): the same picks, the checkout
 * branch where it was, and nothing pushed elsewhere. Costs one ls-remote.
 */
async function unchanged(
  obj: ImageUpdateAutomation,
  cfg: SourceConfig,
  observedPolicies: Record<string, ImageRef>,
): Promise<boolean> {
  const observed = obj.status?.observedSourceRevision;
  const syncNeeded =
    policiesChanged(obj.status?.observedPolicies, observedPolicies) ||
    cfg.switchBranch ||
    Boolean(cfg.refspec);
  if (syncNeeded || !observed) return false;
  try {
    return (await checkoutRevision(cfg)) === observed;
  } catch (err) {
    throw gitFailed(err, 'failed to checkout source');
  }
}

interface Run {
  cfg: SourceConfig;
  template: Template;
  policies: ImagePolicy[];
  observedPolicies: Record<string, ImageRef>;
}

/**
 * Clones, applies the policies and, when something changed, commits and pushes; records the
 * observed revision and policies, and after a push the commit, its time and an event. The work tree
 * is removed afterwards.
 */
async function run(obj: ImageUpdateAutomation, ctx: ReconcileContext, r: Run): Promise<void> {
  const { cfg, observedPolicies } = r;
  const work = await mkdtemp(join(tmpdir(), 'tide-iua-'));
  try {
    let revision: string;
    try {
      revision = await prepareWorkTree(cfg, work);
    } catch (err) {
      throw gitFailed(err, 'failed to checkout source');
    }
    let result: UpdateResult = new Map();
    const automation = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
    const update = async () => {
      result = await applyPolicies(await updateDir(obj, work), r.policies);
      if (result.size === 0) return undefined;
      return renderMessage(r.template, automation, result, obj.spec.git?.commit.messageTemplateValues);
    };
    let outcome: PushOutcome | undefined;
    try {
      outcome = await commitAndPush(cfg, work, update);
    } catch (err) {
      throw gitFailed(err, 'failed to update source');
    }
    if (!outcome) {
      obj.status = { ...obj.status, observedSourceRevision: revision, observedPolicies };
      return;
    }
    if (outcome.retries > 0)
      ctx.log.info('the branch moved during the run; pushed on top of it', { retries: outcome.retries });
    obj.status = {
      ...obj.status,
      // With another push branch, the checkout branch is what the next run compares against.
      observedSourceRevision: cfg.switchBranch ? revision : revisionString(cfg.pushBranch, outcome.commit),
      observedPolicies,
      lastPushCommit: outcome.commit,
      lastPushTime: rfc3339(ctx.now()),
    };
    ctx.event('Normal', Reasons.Succeeded, pushSummary(obj, cfg, outcome, result));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function imageUpdateAutomationController(deps: AutomationDeps) {
  return defineController<ImageUpdateAutomation>({
    name: 'imageupdateautomation',
    kind: ImageUpdateAutomationKind,
    conditionPolicy: { owned: [], negativePolarity: [] },
    unsupportedFields: [
      {
        path: 'spec.git.commit.signingKey.type',
        allowed: ['gpg'],
        why: 'commits are signed with OpenPGP keys only; SSH signing is not implemented',
      },
    ],
    watches: [
      {
        kind: GitRepositoryKind,
        map: (repo, primary) =>
          primary
            .list()
            .filter((a) => sourceKeyOf(a as ImageUpdateAutomation) === keyOf(repo))
            .map(keyOf),
        predicate: (o, n) => o.metadata.generation !== n.metadata.generation,
      },
      {
        kind: ImagePolicyKind,
        // The link is a marker in Git, so every automation of the namespace may be concerned.
        map: (policy, primary) =>
          primary
            .list()
            .filter((a) => a.metadata.namespace === policy.metadata.namespace)
            .map(keyOf),
        predicate: (o: KubeObject, n: KubeObject) => {
          const next = (n as ImagePolicy).status?.latestRef;
          return next !== undefined && !jsonEqual((o as ImagePolicy).status?.latestRef, next);
        },
      },
    ],

    /**
     * Sets only Ready (via the runner): Stalled for a spec that cannot work (InvalidPolicySelector,
     * InvalidSourceConfiguration, InvalidUpdateStrategy, AccessDenied, RemovedTemplateField,
     * UnsupportedField for a message template Tide cannot render); Ready=False SourceManagerFailed,
     * GitOperationFailed (clone, template, commit, push) or UpdateFailed (setters), retried; Ready=True
     * "repository up-to-date". Emits an event naming the commit, files and images after a push.
     */
    async reconcile(obj, ctx) {
      obj.status = { ...obj.status, lastAutomationRunTime: rfc3339(ctx.now()) };
      const template = compileMessageTemplate(obj.spec.git?.commit.messageTemplate);
      const policies = selectPolicies(obj, ctx);
      const srcKey = checkSpec(obj, deps);
      const repo = ctx.cached(GitRepositoryKind, srcKey) as GitRepository | undefined;
      const cfg = await sourceConfig(obj, repo, ctx.client);
      const observedPolicies = Object.fromEntries(
        policies.map((p) => [p.metadata.name ?? '', p.status!.latestRef!]),
      );
      if (await unchanged(obj, cfg, observedPolicies)) return { readyMessage };
      await run(obj, ctx, { cfg, template, policies, observedPolicies });
      return { readyMessage };
    },
  });
}
