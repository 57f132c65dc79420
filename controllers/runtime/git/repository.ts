// Writing to a repository, for image automation and `tide bootstrap`: clone a branch, commit the work
// tree (optionally OpenPGP-signed), push (a moved remote branch is its own error kind, Rejected, so
// the caller can fetch, replay and push again), fetch and replay local commits on top, revert.
//
// Network operations open a session each (auth.ts: credentials only in the environment and 0600
// files, removed afterwards) and name the remote by URL, so nothing stored in the work tree's
// configuration is trusted. Local operations run with localEnv(): no credentials at all.
//
// Signed commits are built the way git builds them: `git commit-tree` writes the unsigned commit,
// its exact bytes are signed, and the object with a `gpgsig` header is written with `git hash-object
// -t commit -w`. Git formats and validates every field; no gpg binary or agent is involved.
import { type GitAuth, type GitSession, localEnv, type ProxyConfig, withSession } from './auth.ts';
import { prepareDir } from './checkout.ts';
import { GitError, gitFailure, isGitError } from './errors.ts';
import { type GitRunOptions, runCommand, runGit } from './exec.ts';
import { addCommitSignature, parseCommit, subject } from './objects.ts';
import { listRefs, planRef } from './refs.ts';
import type { SigningKey } from './signature.ts';

/** A remote repository and how to reach it. */
export interface Remote {
  /** http(s):// or ssh:// URL. */
  url: string;
  auth?: GitAuth;
  proxy?: ProxyConfig;
  /** Bound on each network operation. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Identity {
  name: string;
  email: string;
}

/** Bound on local operations. */
const localTimeoutMs = 60_000;

type Git = (args: string[], what: string, extra?: Partial<GitRunOptions>) => Promise<string>;

/** git in `dir` without credentials. */
function localGit(dir: string): Git {
  return (args, what, extra = {}) =>
    runGit(args, {
      env: localEnv(),
      cwd: dir,
      deadline: Date.now() + localTimeoutMs,
      secrets: [],
      what,
      ...extra,
    });
}

/** Runs fn with a session for the remote; the returned git carries its credentials. */
async function withRemote<T>(
  remote: Remote,
  dir: string,
  fn: (git: Git, s: GitSession, deadline: number) => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + remote.timeoutMs;
  const opts = { deadline, signal: remote.signal, proxy: remote.proxy };
  try {
    return await withSession(remote.url, remote.auth, opts, (s) => {
      const git: Git = (args, what, extra = {}) =>
        runGit(args, {
          env: s.env,
          cwd: dir,
          deadline,
          signal: remote.signal,
          secrets: s.secrets,
          credentialsGiven: s.credentialsGiven,
          what,
          ...extra,
        });
      return fn(git, s, deadline);
    });
  } catch (err) {
    if (isGitError(err) && err.kind === 'Timeout')
      throw new GitError('Timeout', `${err.message} (timeout ${remote.timeoutMs / 1000}s)`);
    throw err;
  }
}

const branchRef = (branch: string) => {
  const plan = planRef({ branch });
  if (plan.kind !== 'branch') throw new GitError('Invalid', `invalid branch '${branch}'`);
  return plan.remoteRef;
};

export interface CloneOptions {
  branch: string;
  /** Fetch only this many commits of history (pushing from a shallow clone works). */
  depth?: number;
  /**
   * When the branch does not exist (or the repository is empty), start it unborn instead of failing
   * with NotFound: the first commit creates it (`tide bootstrap` on a new repository).
   */
  allowMissing?: boolean;
}

export interface WorkTree {
  dir: string;
  branch: string;
  /** The checked-out commit; undefined when the branch does not exist yet. */
  head?: string;
}

/** Clones `branch` of the remote into the empty (or missing) `dir`, checked out on that branch. */
export async function cloneBranch(remote: Remote, dir: string, opts: CloneOptions): Promise<WorkTree> {
  const ref = branchRef(opts.branch);
  await prepareDir(dir);
  await localGit(dir)(['init', '-q', '-b', opts.branch, '.'], 'unable to create the work tree');
  const head = await fetchInto(remote, dir, ref, opts.depth);
  if (head === undefined && !opts.allowMissing)
    throw new GitError('NotFound', `unable to clone '${remote.url}': couldn't find remote ref "${ref}"`);
  if (head !== undefined)
    await localGit(dir)(['checkout', '-q', '-B', opts.branch, head], `unable to check out ${head}`);
  return { dir, branch: opts.branch, head };
}

/**
 * Fetches the remote's `branch` into `refs/remotes/origin/<branch>` and returns its commit, or
 * undefined when the remote has no such branch. The work tree is not touched.
 */
export async function fetchBranch(remote: Remote, dir: string, branch: string): Promise<string | undefined> {
  return fetchInto(remote, dir, branchRef(branch));
}

async function fetchInto(
  remote: Remote,
  dir: string,
  ref: string,
  depth?: number,
): Promise<string | undefined> {
  return withRemote(remote, dir, async (git, s, deadline) => {
    const refs = await listRefs(s, deadline, { signal: remote.signal, patterns: [ref] });
    const commit = refs.get(ref);
    if (!commit) return undefined;
    const tracking = `refs/remotes/origin/${ref.slice('refs/heads/'.length)}`;
    await git(
      [
        'fetch',
        '-q',
        '--no-tags',
        '--no-recurse-submodules',
        ...(depth ? ['--depth', String(depth)] : []),
        s.url,
        `+${ref}:${tracking}`,
      ],
      `unable to fetch '${ref}' from '${s.url}'`,
    );
    return (
      await git(['rev-parse', '--verify', `${tracking}^{commit}`], 'unable to read the fetched ref')
    ).trim();
  });
}

/**
 * Puts the work tree on `commit` (e.g. a branch fetched with fetchBranch), on the local `branch`
 * when given (created or moved there), else detached. Uncommitted changes are discarded.
 */
export async function switchTo(dir: string, commit: string, branch?: string): Promise<void> {
  if (branch) branchRef(branch);
  const args = ['checkout', '-q', '--force', ...(branch ? ['-B', branch] : ['--detach']), commit];
  await localGit(dir)(args, `unable to check out ${commit}`);
}

/** The commit HEAD points at; undefined on an unborn branch. */
export async function headCommit(dir: string): Promise<string | undefined> {
  const res = await runCommand('git', ['rev-parse', '-q', '--verify', 'HEAD^{commit}'], {
    env: localEnv(),
    cwd: dir,
    deadline: Date.now() + localTimeoutMs,
    secrets: [],
    what: 'unable to read HEAD',
  });
  return res.code === 0 ? res.stdout.trim() : undefined;
}

export interface CommitOptions {
  author: Identity;
  /** Defaults to the author. */
  committer?: Identity;
  message: string;
  /** Signs the commit (OpenPGP). */
  signingKey?: SigningKey;
  /** Author and committer time, as a Date or git's raw `<seconds> <+hhmm>`; defaults to now. */
  date?: Date | string;
  /** Author time when it differs from `date` (a replayed commit keeps its own). */
  authorDate?: Date | string;
}

const rawDate = (d: Date | string | undefined) =>
  d === undefined ? undefined : typeof d === 'string' ? d : `${Math.floor(d.getTime() / 1000)} +0000`;

/**
 * Commits every change in the work tree (added, modified, deleted files) on the current branch and
 * returns the new commit, or undefined when nothing changed: no empty commits.
 */
export async function commitAll(dir: string, opts: CommitOptions): Promise<string | undefined> {
  const git = localGit(dir);
  const what = 'unable to commit';
  await git(['add', '-A'], what);
  const tree = (await git(['write-tree'], what)).trim();
  const parent = await headCommit(dir);
  const parentTree = parent ? (await git(['rev-parse', `${parent}^{tree}`], what)).trim() : emptyTree;
  if (tree === parentTree) return undefined;

  const committer = opts.committer ?? opts.author;
  const date = rawDate(opts.date);
  const authorDate = rawDate(opts.authorDate) ?? date;
  const env = {
    ...localEnv(),
    GIT_AUTHOR_NAME: opts.author.name,
    GIT_AUTHOR_EMAIL: opts.author.email,
    GIT_COMMITTER_NAME: committer.name,
    GIT_COMMITTER_EMAIL: committer.email,
    ...(authorDate ? { GIT_AUTHOR_DATE: authorDate } : {}),
    ...(date ? { GIT_COMMITTER_DATE: date } : {}),
  };
  const message = opts.message.endsWith('\n') ? opts.message : `${opts.message}\n`;
  let commit = (
    await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'], what, {
      env,
      input: message,
    })
  ).trim();
  if (opts.signingKey) {
    const raw = Buffer.from(
      await git(['cat-file', 'commit', commit], what, { encoding: 'latin1' }),
      'latin1',
    );
    const signed = addCommitSignature(raw, await opts.signingKey.sign(raw));
    commit = (await git(['hash-object', '-t', 'commit', '-w', '--stdin'], what, { input: signed })).trim();
  }
  // The old value guards against a concurrent change of the branch (or its creation, when unborn).
  await git(['update-ref', '-m', `commit: ${subject(message)}`, 'HEAD', commit, parent ?? ''], what);
  return commit;
}

/** The tree of no files (the same in every SHA-1 repository). */
const emptyTree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

export interface PushOptions {
  /** Pushes HEAD to this branch. */
  branch?: string;
  /** Pushes this refspec as well (e.g. `refs/heads/main:refs/heads/auto`). */
  refspec?: string;
  /** Overwrite the remote branch even when it moved (not the refspec: give it a `+` for that). */
  force?: boolean;
  /** Push options (`git push -o`), for servers that accept them. */
  options?: string[];
}

/** One line of `git push --porcelain`. */
export interface PushedRef {
  /** ' ' fast-forward, '+' forced, '-' deleted, '*' new, '!' rejected, '=' up to date. */
  flag: string;
  from: string;
  to: string;
  /** e.g. `[rejected]`, `[remote rejected]`, `[new branch]`, `abc..def`. */
  summary: string;
  /** The parenthesized reason, e.g. `fetch first`, `non-fast-forward`, `pre-receive hook declined`. */
  reason?: string;
}

/** Parses `git push --porcelain` output. */
export function parsePushPorcelain(stdout: string): PushedRef[] {
  const out: PushedRef[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^([ +\-*!=])\t([^\t:]*):([^\t]*)\t(.*?)(?: \((.*)\))?$/.exec(line);
    if (!m) continue;
    const [, flag = '', from = '', to = '', summary = '', reason] = m;
    out.push({ flag, from, to, summary, ...(reason ? { reason } : {}) });
  }
  return out;
}

/**
 * Pushes to the remote. Throws GitError Rejected when the remote branch moved (fetch, replay and
 * push again), and the usual kinds otherwise (Auth, NotFound, Unreachable, Timeout, Other for a
 * server-side refusal such as a hook). Returns the refs as git reported them.
 */
export async function push(remote: Remote, dir: string, opts: PushOptions): Promise<PushedRef[]> {
  const refspecs = [
    ...(opts.branch ? [`${opts.force ? '+' : ''}HEAD:${branchRef(opts.branch)}`] : []),
    ...(opts.refspec ? [opts.refspec] : []),
  ];
  if (refspecs.length === 0) throw new GitError('Invalid', 'nothing to push: give a branch or a refspec');
  return withRemote(remote, dir, async (_git, s, deadline) => {
    const what = `unable to push to '${s.url}'`;
    const args = [
      'push',
      '--porcelain',
      ...(opts.options ?? []).flatMap((o) => ['-o', o]),
      s.url,
      ...refspecs,
    ];
    const res = await runCommand('git', args, {
      env: s.env,
      cwd: dir,
      deadline,
      signal: remote.signal,
      secrets: s.secrets,
      what,
    });
    const refs = parsePushPorcelain(res.stdout);
    if (res.code === 0) return refs;
    const refused = refs.filter((r) => r.flag === '!');
    const moved = refused.find((r) => r.summary === '[rejected]');
    const describe = (r: PushedRef) => `${r.to} ${r.summary}${r.reason ? ` (${r.reason})` : ''}`;
    if (moved)
      throw new GitError(
        'Rejected',
        `${what}: ${describe(moved)}: the remote branch has changes this push does not have`,
      );
    if (refused.length > 0) throw new GitError('Other', `${what}: ${refused.map(describe).join('; ')}`);
    throw gitFailure(what, res.stderr, { secrets: s.secrets, credentialsGiven: s.credentialsGiven });
  });
}

const conflicted = (stderr: string) =>
  /CONFLICT|could not (apply|revert)|after resolving the conflicts/i.test(stderr);

/**
 * Replays the commits of HEAD that `upstream` does not have on top of it (oldest first, keeping
 * authors, dates and messages; signing again with `signingKey`, committed by `committer` or the
 * original committer), so the branch can be pushed after the remote moved. Changes `upstream`
 * already has are dropped. Returns the new HEAD. On a conflict the work tree is put back where it
 * was and GitError Conflict is thrown. Merge commits are not replayed (Invalid).
 */
export async function rebaseOnto(
  dir: string,
  upstream: string,
  opts: { signingKey?: SigningKey; committer?: Identity } = {},
): Promise<string> {
  const git = localGit(dir);
  const what = `unable to replay commits onto ${upstream}`;
  const original = await headCommit(dir);
  if (!original) throw new GitError('Invalid', `${what}: the branch has no commits`);
  const base = (await git(['merge-base', original, upstream], what)).trim();
  const commits = (await git(['rev-list', '--reverse', '--parents', `${base}..${original}`], what))
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '));
  if (commits.some((c) => c.length > 2))
    throw new GitError('Invalid', `${what}: merge commits cannot be replayed`);
  await git(['reset', '-q', '--hard', upstream], what);
  try {
    for (const [commit = ''] of commits) {
      const res = await runCommand('git', ['cherry-pick', '--no-commit', commit], {
        env: localEnv(),
        cwd: dir,
        deadline: Date.now() + localTimeoutMs,
        secrets: [],
        what,
      });
      if (res.code !== 0) {
        if (conflicted(res.stderr + res.stdout))
          throw new GitError('Conflict', `${what}: commit ${commit} conflicts with the changes upstream`);
        throw gitFailure(what, res.stderr);
      }
      const c = parseCommit(await git(['cat-file', 'commit', commit], what, { encoding: 'latin1' }));
      const author = { name: c.author?.name ?? '', email: c.author?.email ?? '' };
      const committer = opts.committer ?? { name: c.committer?.name ?? '', email: c.committer?.email ?? '' };
      await commitAll(dir, {
        author,
        committer,
        message: c.message,
        signingKey: opts.signingKey,
        authorDate: c.author?.when,
      });
    }
  } catch (err) {
    await git(['cherry-pick', '--quit'], what).catch(() => {});
    await git(['reset', '-q', '--hard', original], what);
    throw err;
  }
  return (await headCommit(dir)) ?? '';
}

/**
 * Commits the inverse of `commit` on the current branch (for `tide rollback`), with git's message
 * (`Revert "<subject>"` and `This reverts commit <hash>.`) unless one is given; a merge commit is
 * reverted against its first parent. Returns the new commit, or undefined when reverting changes
 * nothing. On a conflict the work tree is put back and GitError Conflict is thrown.
 */
export async function revert(
  dir: string,
  commit: string,
  opts: Omit<CommitOptions, 'message'> & { message?: string },
): Promise<string | undefined> {
  const git = localGit(dir);
  const what = `unable to revert ${commit}`;
  const original = await headCommit(dir);
  const target = parseCommit(await git(['cat-file', 'commit', commit], what, { encoding: 'latin1' }));
  const full = (await git(['rev-parse', '--verify', `${commit}^{commit}`], what)).trim();
  const res = await runCommand(
    'git',
    ['revert', '--no-commit', ...(target.parents.length > 1 ? ['-m', '1'] : []), full],
    { env: localEnv(), cwd: dir, deadline: Date.now() + localTimeoutMs, secrets: [], what },
  );
  if (res.code !== 0) {
    await git(['revert', '--quit'], what).catch(() => {});
    if (original) await git(['reset', '-q', '--hard', original], what);
    if (conflicted(res.stderr + res.stdout))
      throw new GitError('Conflict', `${what}: it conflicts with later changes`);
    throw gitFailure(what, res.stderr);
  }
  await git(['revert', '--quit'], what).catch(() => {});
  const message = opts.message ?? `Revert "${subject(target.message)}"\n\nThis reverts commit ${full}.\n`;
  return commitAll(dir, { ...opts, message });
}
