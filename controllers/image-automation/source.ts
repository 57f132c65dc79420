// The Git side of an ImageUpdateAutomation (Flux's SourceManager): where to clone from and push to,
// read from the GitRepository it names and its own spec.git; a work tree on the push branch; and one
// commit pushed, replayed on top of the remote branch when someone else pushed in between.
import type { ImageUpdateAutomation } from '../api/image.ts';
import { Reasons } from '../api/names.ts';
import type { GitRepository } from '../api/source.ts';
import type { Client } from '../runtime/client.ts';
import { parseDuration } from '../runtime/duration.ts';
import { GenericError, messageOf, StallingError } from '../runtime/errors.ts';
import { authFromSecret, type GitAuth } from '../runtime/git/auth.ts';
import { checkout } from '../runtime/git/checkout.ts';
import { isGitError } from '../runtime/git/errors.ts';
import { defaultBranch, type GitRef, planRef, remoteHead, revisionString } from '../runtime/git/refs.ts';
import {
  cloneBranch,
  commitAll,
  fetchBranch,
  type Identity,
  push,
  type Remote,
  switchTo,
} from '../runtime/git/repository.ts';
import { loadSigningKey, type SigningKey } from '../runtime/git/signature.ts';
import type { ProxyConfig } from '../runtime/http.ts';
import { proxyFromSecret } from '../runtime/http-secrets.ts';
import { readSecret } from '../runtime/secrets.ts';

/** Everything needed to clone, commit and push for one automation. */
export interface SourceConfig {
  remote: Remote;
  /** What to clone: spec.git.checkout.ref, else the GitRepository's ref, else the default branch. */
  checkoutRef?: GitRef;
  pushBranch: string;
  /** The push branch differs from the checkout branch: it starts from its remote state, if any. */
  switchBranch: boolean;
  refspec?: string;
  pushOptions: string[];
  author: Identity;
  signingKey?: SigningKey;
}

const managerFailed = (message: string) =>
  new GenericError(Reasons.SourceManagerFailed, `failed configuring source manager: ${message}`);

/** Flux's configurePush: the push branch, and whether it differs from the checkout branch. */
function pushTarget(obj: ImageUpdateAutomation, checkoutRef: GitRef | undefined) {
  const branch = obj.spec.git?.push?.branch;
  if (branch) {
    return {
      pushBranch: branch,
      switchBranch: branch !== (checkoutRef ? checkoutRef.branch : defaultBranch),
    };
  }
  if (!checkoutRef?.branch) {
    throw managerFailed(
      'push spec not provided, and cannot be inferred from .spec.git.checkout.ref or GitRepository .spec.ref',
    );
  }
  return { pushBranch: checkoutRef.branch, switchBranch: false };
}

/** The OpenPGP key of spec.git.commit.signingKey (`git.asc`, optional `passphrase`). */
async function signingKeyOf(obj: ImageUpdateAutomation, client: Client): Promise<SigningKey | undefined> {
  const ref = obj.spec.git?.commit.signingKey;
  if (!ref) return undefined;
  const name = ref.secretRef.name;
  let data: Record<string, Buffer>;
  try {
    data = await readSecret(client, obj.metadata.namespace ?? '', name);
  } catch (err) {
    throw managerFailed(`could not find signing key secret '${name}': ${messageOf(err)}`);
  }
  const armored = data['git.asc'];
  if (!armored) throw managerFailed(`signing key secret '${name}' does not contain a 'git.asc' key`);
  try {
    return await loadSigningKey(armored.toString('utf8'), data.passphrase?.toString('utf8'));
  } catch (err) {
    throw managerFailed(`could not read signing key from secret '${name}': ${messageOf(err)}`);
  }
}

/**
 * Reads the source configuration (Flux's NewSourceManager). A spec that cannot work (no spec.git, a
 * cloud provider Tide cannot sign in to) is Stalled InvalidSourceConfiguration; a missing
 * GitRepository or Secret is Ready=False SourceManagerFailed (retried).
 */
export async function sourceConfig(
  obj: ImageUpdateAutomation,
  repo: GitRepository | undefined,
  client: Client,
): Promise<SourceConfig> {
  const git = obj.spec.git;
  if (!git) {
    throw new StallingError(
      Reasons.InvalidSourceConfiguration,
      "source kind 'GitRepository' necessitates field .spec.git: invalid source configuration",
    );
  }
  if (!repo) {
    throw managerFailed(
      `referenced git repository does not exist: gitrepositories.source.toolkit.fluxcd.io "${obj.spec.sourceRef.name}" not found`,
    );
  }
  const repoNs = repo.metadata.namespace ?? '';
  const provider = repo.spec.provider ?? 'generic';
  if (provider !== 'generic') {
    throw new StallingError(
      Reasons.InvalidSourceConfiguration,
      `GitRepository '${repoNs}/${repo.metadata.name}' uses provider '${provider}', which Tide does not ` +
        'support: use provider generic with a secretRef',
    );
  }
  const checkoutRef = git.checkout?.ref ?? repo.spec.ref;
  const { pushBranch, switchBranch } = pushTarget(obj, checkoutRef);
  let auth: GitAuth | undefined;
  const secretRef = repo.spec.secretRef;
  if (secretRef) {
    try {
      auth = authFromSecret(repo.spec.url, await readSecret(client, repoNs, secretRef.name));
    } catch (err) {
      throw managerFailed(`failed to get auth secret '${repoNs}/${secretRef.name}': ${messageOf(err)}`);
    }
  }
  let proxy: ProxyConfig | undefined;
  const proxyRef = repo.spec.proxySecretRef;
  if (proxyRef) {
    try {
      proxy = proxyFromSecret(await readSecret(client, repoNs, proxyRef.name), `${repoNs}/${proxyRef.name}`);
    } catch (err) {
      throw managerFailed(messageOf(err));
    }
  }
  const options = Object.entries(git.push?.options ?? {}).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return {
    remote: { url: repo.spec.url, auth, proxy, timeoutMs: parseDuration(repo.spec.timeout ?? '60s') },
    checkoutRef,
    pushBranch,
    switchBranch,
    refspec: git.push?.refspec || undefined,
    pushOptions: options,
    author: { name: git.commit.author.name ?? '', email: git.commit.author.email },
    signingKey: await signingKeyOf(obj, client),
  };
}

/** The revision the checkout ref points at now, without cloning (to skip an unchanged run). */
export async function checkoutRevision(cfg: SourceConfig): Promise<string> {
  const { url, auth, timeoutMs, proxy } = cfg.remote;
  return (await remoteHead(url, cfg.checkoutRef, auth, timeoutMs, { proxy })).revision;
}

/** Ready=False GitOperationFailed for a Git failure, with Flux's prefix; other errors pass through. */
export function gitFailed(err: unknown, prefix: string): unknown {
  if (!isGitError(err)) return err;
  return new GenericError(Reasons.GitOperationFailed, `${prefix}: ${err.message}`);
}

/**
 * Clones the checkout ref into `dir` and puts the work tree where commits go: the push branch's
 * remote state when the push branch differs and exists, else the checkout commit. Returns the
 * checkout's revision (`main@sha1:…`).
 */
export async function prepareWorkTree(cfg: SourceConfig, dir: string): Promise<string> {
  const plan = planRef(cfg.checkoutRef);
  let revision: string;
  if (plan.kind === 'branch') {
    const branch = plan.label;
    const wt = await cloneBranch(cfg.remote, dir, { branch, depth: 1 });
    revision = revisionString(branch, wt.head ?? '');
  } else {
    const { url, auth, proxy, timeoutMs } = cfg.remote;
    revision = (await checkout({ url, ref: cfg.checkoutRef, auth, proxy, dir, timeoutMs })).revision;
  }
  if (cfg.switchBranch) {
    const remoteTip = await fetchBranch(cfg.remote, dir, cfg.pushBranch);
    if (remoteTip) await switchTo(dir, remoteTip, cfg.pushBranch);
  }
  return revision;
}

export interface PushOutcome {
  commit: string;
  message: string;
  /** Pushes rejected because the branch moved, each followed by a fetch and a fresh update. */
  retries: number;
}

/**
 * Commits what `update` changes in the work tree and pushes it. When the push is rejected because
 * the remote branch moved, fetches the branch, puts the work tree on it and runs `update` again
 * (so the other change is kept and this one recomputed), at most `attempts` times. `update`
 * returns the commit message, or undefined when there is nothing to change (then nothing is
 * committed). Returns undefined when no commit was needed.
 */
export async function commitAndPush(
  cfg: SourceConfig,
  dir: string,
  update: () => Promise<string | undefined>,
  attempts = 4,
): Promise<PushOutcome | undefined> {
  for (let attempt = 1; ; attempt++) {
    const message = await update();
    if (message === undefined) return undefined;
    const commit = await commitAll(dir, { author: cfg.author, message, signingKey: cfg.signingKey });
    if (!commit) return undefined;
    try {
      await push(cfg.remote, dir, {
        branch: cfg.pushBranch,
        refspec: cfg.refspec,
        options: cfg.pushOptions,
      });
      return { commit, message, retries: attempt - 1 };
    } catch (err) {
      if (!isGitError(err) || err.kind !== 'Rejected' || attempt >= attempts) throw err;
      const tip = await fetchBranch(cfg.remote, dir, cfg.pushBranch);
      if (!tip) throw err;
      await switchTo(dir, tip, cfg.pushBranch);
    }
  }
}
