// The Git side of `tide bootstrap` and `tide rollback`: a work tree of one branch in a temporary
// directory, commits by the CLI's identity, and a push that replays our commits once when the branch
// moved meanwhile (Rejected), as image automation does.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authFromSecret, type GitAuth, type SecretData } from '../runtime/git/auth.ts';
import { isGitError } from '../runtime/git/errors.ts';
import { revisionString } from '../runtime/git/refs.ts';
import {
  cloneBranch,
  commitAll,
  fetchBranch,
  headCommit,
  type Identity,
  push,
  type Remote,
  rebaseOnto,
} from '../runtime/git/repository.ts';
import { redact } from '../runtime/log.ts';
import { runProcess } from '../runtime/process.ts';
import type { Context } from './command.ts';
import { CliError } from './errors.ts';

export interface WorkTree {
  dir: string;
  remote: Remote;
  branch: string;
  /** The branch's commit when cloned; undefined for a new branch or an empty repository. */
  base?: string;
  /** Commits made and not yet pushed. */
  commits: number;
}

/** The runtime's GitAuth from a Secret's data (Flux's keys), or anonymous when there is none. */
export function authOf(url: string, data: SecretData | undefined): GitAuth | undefined {
  try {
    return data && Object.keys(data).length ? authFromSecret(url, data) : undefined;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Clones `branch` (a missing branch or an empty repository starts unborn) into a temporary directory. */
export async function openWorkTree(
  ctx: Context,
  url: string,
  branch: string,
  auth: GitAuth | undefined,
): Promise<WorkTree> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-git-'));
  const remote: Remote = {
    url,
    auth,
    timeoutMs: Math.max(1000, ctx.deadline - Date.now()),
    signal: ctx.signal,
  };
  ctx.log.action(`cloning branch "${branch}" from Git repository "${redact(url)}"`);
  try {
    const wt = await cloneBranch(remote, join(dir, 'repo'), { branch, allowMissing: true });
    ctx.log.success(
      wt.head ? 'cloned repository' : `branch "${branch}" does not exist yet: it starts with this commit`,
    );
    return { dir: wt.dir, remote, branch, base: wt.head, commits: 0 };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new CliError(`failed to clone repository: ${(err as Error).message}`);
  }
}

export async function closeWorkTree(wt: WorkTree): Promise<void> {
  await rm(join(wt.dir, '..'), { recursive: true, force: true });
}

/** Commits every change of the work tree; undefined (and nothing committed) when nothing changed. */
export async function commit(wt: WorkTree, author: Identity, message: string): Promise<string | undefined> {
  const sha = await commitAll(wt.dir, { author, message });
  if (sha) wt.commits++;
  return sha;
}

/** Pushes the branch; when it moved meanwhile, replays our commits on the new tip and pushes once more. */
export async function pushWorkTree(ctx: Context, wt: WorkTree): Promise<string> {
  ctx.log.action(`pushing to "${redact(wt.remote.url)}"`);
  try {
    await push(wt.remote, wt.dir, { branch: wt.branch });
  } catch (err) {
    if (!isGitError(err) || err.kind !== 'Rejected')
      throw new CliError(`failed to push: ${err instanceof Error ? err.message : String(err)}`);
    ctx.log.waiting('the branch moved meanwhile: replaying the commits on its new tip');
    const tip = await fetchBranch(wt.remote, wt.dir, wt.branch);
    if (!tip) throw new CliError(`failed to push: ${(err as Error).message}`);
    await rebaseOnto(wt.dir, tip);
    await push(wt.remote, wt.dir, { branch: wt.branch }).catch((e: Error) => {
      throw new CliError(`failed to push: ${e.message}`);
    });
  }
  wt.commits = 0;
  const head = (await headCommit(wt.dir)) ?? '';
  ctx.log.success(`pushed ${revisionString(wt.branch, head)}`);
  return head;
}

/** Flux's revision string of the work tree's HEAD: `<branch>@sha1:<commit>`. */
export async function headRevision(wt: WorkTree): Promise<string> {
  const head = await headCommit(wt.dir);
  if (!head) throw new CliError(`branch "${wt.branch}" has no commits`);
  return revisionString(wt.branch, head);
}

/** known_hosts lines of an SSH server, from ssh-keyscan (openssh-client). */
export async function scanKnownHosts(host: string, port: string): Promise<string> {
  const res = await runProcess('ssh-keyscan', ['-T', '10', ...(port ? ['-p', port] : []), host], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeoutMs: 30_000,
  }).catch((err: Error) => {
    throw new CliError(`cannot scan the host keys of ${host}: ${err.message}`);
  });
  const lines = res.stdout
    .toString('utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  if (!lines.length)
    throw new CliError(`cannot scan the host keys of ${host}: ${res.stderr.trim() || 'no keys'}`);
  return `${lines.join('\n')}\n`;
}
