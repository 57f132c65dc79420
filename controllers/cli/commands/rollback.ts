// tide rollback kustomization <name> [--to <revision>]
// Rolls a Kustomization back through Git, not behind its back: `git revert` commits of every change
// applied since the target revision (default: the previously applied one, from status.history) on the
// source branch, pushed; then the source and the Kustomization reconcile, and the command waits until
// the revert commit is applied. History stays in Git, and the next reconcile keeps the rollback.
import { Annotations, Reasons } from '../../api/names.ts';
import { decodeData, readData } from '../../runtime/configdata.ts';
import { localEnv } from '../../runtime/git/auth.ts';
import { runGit } from '../../runtime/git/exec.ts';
import { revisionString } from '../../runtime/git/refs.ts';
import { revert } from '../../runtime/git/repository.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { type Command, type Context, str } from '../command.ts';
import { CliError } from '../errors.ts';
import { authOf, closeWorkTree, headRevision, openWorkTree, pushWorkTree, type WorkTree } from '../gitops.ts';
import { gitKind, kustomizationKind } from '../kinds.ts';
import { getObject } from '../kube.ts';
import { newToken, refOf, waitForRevision } from '../wait.ts';

/** The commit of a revision: `main@sha1:<hex>`, `sha1:<hex>` or a bare (abbreviated) hash. */
export function commitOf(revision: string): string {
  const m = /(?:^|@)(?:sha1:|sha256:)?([0-9a-f]{4,64})$/.exec(revision.trim());
  if (!m) throw new CliError(`invalid revision "${revision}": want <branch>@sha1:<commit> or a commit hash`);
  return m[1]!;
}

/**
 * The revision to go back to: --to, else the newest successful entry of status.history whose revision
 * differs from the one applied now.
 */
export function targetRevision(ks: KubeObject, to: string | undefined): string {
  if (to) return to;
  const current = ks.status?.lastAppliedRevision;
  const history: { lastReconciledStatus?: string; metadata?: { revision?: string } }[] =
    ks.status?.history ?? [];
  const previous = history.find(
    (h) =>
      h.lastReconciledStatus === Reasons.ReconciliationSucceeded &&
      h.metadata?.revision &&
      h.metadata.revision !== current,
  );
  if (!previous?.metadata?.revision)
    throw new CliError('no earlier applied revision in status.history to roll back to: pass --to <revision>');
  return previous.metadata.revision;
}

async function run(ctx: Context, args: string[]): Promise<number> {
  const [word, name, ...extra] = args;
  if (!word || !kustomizationKind.words.includes(word))
    throw new CliError('tide rollback needs a kind: kustomization (ks)');
  if (!name || extra.length) throw new CliError('tide rollback kustomization takes one name');
  const client = await ctx.client();
  const ks = await getObject(client, kustomizationKind, name, ctx.namespace);
  const applied = ks.status?.lastAppliedRevision;
  if (!applied) throw new CliError(`Kustomization '${name}' has applied nothing yet`);
  const src = kustomizationKind.source!(ks);
  if (src.kind !== gitKind)
    throw new CliError(`rollback goes through Git: the source of '${name}' is a ${src.kind.kind}`);
  const repo = await getObject(client, gitKind, src.name, src.namespace);
  const branch: string | undefined = repo.spec?.ref?.branch;
  if (
    !branch ||
    repo.spec?.ref?.tag ||
    repo.spec?.ref?.semver ||
    repo.spec?.ref?.commit ||
    repo.spec?.ref?.name
  )
    throw new CliError(
      `rollback needs a GitRepository that follows a branch; '${src.name}' follows ${JSON.stringify(repo.spec?.ref ?? {})}`,
    );
  const target = commitOf(targetRevision(ks, str(ctx, 'to')));
  const current = commitOf(applied);

  const secretName: string | undefined = repo.spec?.secretRef?.name;
  const data = secretName
    ? await readData(client, { kind: 'Secret', namespace: src.namespace, name: secretName })
    : undefined;
  if (secretName && !data)
    throw new CliError(`Secret '${src.namespace}/${secretName}' of GitRepository '${src.name}' not found`);
  const wt = await openWorkTree(
    ctx,
    repo.spec.url,
    branch,
    authOf(repo.spec.url, data && decodeData('Secret', data)),
  );
  try {
    const from = await revertSince(ctx, wt, target, current, applied);
    await pushWorkTree(ctx, wt);
    const revision = await headRevision(wt);
    // Fetch and apply now, not at the next interval.
    const token = newToken(ctx);
    for (const [kind, obj] of [
      [gitKind, repo],
      [kustomizationKind, ks],
    ] as const)
      await client.patch(refOf(kind, obj.metadata.name ?? '', obj.metadata.namespace ?? ''), 'merge', {
        metadata: { annotations: { [Annotations.reconcileRequestedAt]: token } },
      });
    await waitForRevision(ctx, kustomizationKind, refOf(kustomizationKind, name, ctx.namespace), revision);
    ctx.log.success(
      `Kustomization ${ctx.namespace}/${name} rolled back to the state of ${revisionString(branch, from)}: applied ${revision}`,
    );
    return 0;
  } finally {
    await closeWorkTree(wt);
  }
}

/**
 * Commits `git revert` of every commit after `target` up to the applied `current`, newest first (merges
 * against their first parent); returns the full hash of target. Refuses a target that is not an
 * ancestor of current, and a revert that changes nothing.
 */
async function revertSince(
  ctx: Context,
  wt: WorkTree,
  target: string,
  current: string,
  applied: string,
): Promise<string> {
  const git = (gitArgs: string[], what: string) =>
    runGit(gitArgs, { env: localEnv(), cwd: wt.dir, deadline: ctx.deadline, secrets: [], what });
  const full = async (c: string) =>
    (
      await git(['rev-parse', '--verify', `${c}^{commit}`], `commit ${c}`).catch(() => {
        throw new CliError(`commit ${c} is not in branch "${wt.branch}" of ${wt.remote.url}`);
      })
    ).trim();
  const [from, to] = [await full(target), await full(current)];
  if (from === to) throw new CliError(`already at ${revisionString(wt.branch, from)}`);
  await git(['merge-base', '--is-ancestor', from, to], 'ancestry').catch(() => {
    throw new CliError(`${revisionString(wt.branch, from)} is not an ancestor of the applied ${applied}`);
  });
  const commits = (await git(['rev-list', `${from}..${to}`], 'cannot list the commits to revert'))
    .split('\n')
    .filter(Boolean);
  ctx.log.action(`reverting ${commits.length} commit(s) applied since ${revisionString(wt.branch, from)}`);
  const author = {
    name: str(ctx, 'author-name') ?? 'Tide',
    email: str(ctx, 'author-email') ?? 'tide@localhost',
  };
  for (const c of commits) {
    const sha = await revert(wt.dir, c, { author }).catch((err: Error) => {
      throw new CliError(`cannot revert ${c.slice(0, 8)}: ${err.message}`);
    });
    if (!sha) continue;
    wt.commits++;
    ctx.log.success(`reverted ${c.slice(0, 8)} in ${sha.slice(0, 8)}`);
  }
  if (!wt.commits)
    throw new CliError(`reverting ${commits.length} commit(s) changes nothing on "${wt.branch}"`);
  return from;
}

export const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'Roll a Kustomization back with git revert commits',
  flags: {
    to: { type: 'string', description: 'the revision to go back to (default: the previously applied one)' },
    'author-name': { type: 'string', description: 'author name of the revert commits (default "Tide")' },
    'author-email': { type: 'string', description: 'author email of the revert commits' },
  },
  words: ['kustomization'],
  run,
  help: `Roll a Kustomization back through Git: revert every commit applied since the target revision
(--to, default the previously applied one from status.history) on the source branch with git revert
commits, push them, reconcile the source and the Kustomization and wait until the revert is applied.
Unlike a rollback inside the cluster, the history stays in Git and the next reconcile keeps it.

Usage:
  tide rollback kustomization <name> [--to <revision>] [flags]

Examples:
  # Undo the last applied change of apps
  tide rollback ks apps

  # Go back to a known good commit
  tide rollback ks apps --to main@sha1:3f1c9a…
`,
};
