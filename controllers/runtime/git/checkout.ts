// Checks out one revision of a remote repository into a directory, fetching as little as the ref
// allows: depth 1 of exactly the branch, tag, semver-selected tag or named ref; a commit by its hash
// (protocol v2 servers allow that), else by a full fetch. Commands run through exec.ts (process-group
// kill on timeout). The result carries the raw commit (and tag) objects for signature verification.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type GitAuth, type GitSession, type ProxyConfig, withSession } from './auth.ts';
import { GitError, isGitError } from './errors.ts';
import { type GitRunOptions, runGit } from './exec.ts';
import { type CommitObject, parseCommit, parseTag, subject, type TagObject } from './objects.ts';
import { type GitRef, listRefs, planRef, type RefPlan, resolveRef, revisionString } from './refs.ts';

export interface CheckoutOptions {
  /** http(s):// or ssh:// URL. */
  url: string;
  ref?: GitRef;
  /** From authFromSecret; undefined for anonymous HTTP(S). */
  auth?: GitAuth;
  /** HTTP(S) proxy for every request (from proxyFromSecret). */
  proxy?: ProxyConfig;
  /** Target directory: created when missing, must be empty. The caller removes it afterwards. */
  dir: string;
  /** Bound on the whole operation; git and its helpers are killed when it passes. */
  timeoutMs: number;
  /** Check out submodules (recursively, shallow where the server allows) with the same credentials. */
  recurseSubmodules?: boolean;
  /** Only these directories of the repository are materialized (paths relative to its root). */
  sparseCheckout?: string[];
  /** Limit on the fetched objects and on the checked-out files (.git excluded). */
  maxSizeBytes?: number;
  signal?: AbortSignal;
}

export interface CheckoutResult {
  commit: string;
  /** Flux's artifact revision, e.g. `main@sha1:<hex>`. */
  revision: string;
  /** Subject line of the commit message. */
  message?: string;
  /** Bytes of the checked-out files, .git excluded. */
  size: number;
  /** The checked-out commit object (its signature and signed payload included). */
  commitObject: CommitObject;
  /**
   * The tag the ref went through (tag, semver, or a name under refs/tags/); `object` and `hash` only
   * for annotated tags.
   */
  tag?: CheckedOutTag;
}

export interface CheckedOutTag {
  /** The tag's name: from the tag object when annotated, else the ref's short name. */
  name: string;
  /** Hash of the tag object. */
  hash?: string;
  object?: TagObject;
}

/**
 * Clones `url` at `ref` into `dir` and reports the commit and its revision string. Throws GitError:
 * NotFound, Auth, HostKey, Unreachable, Timeout, Invalid, TooLarge or Other, without secrets.
 */
export async function checkout(opts: CheckoutOptions): Promise<CheckoutResult> {
  const plan = planRef(opts.ref);
  const sparse = (opts.sparseCheckout ?? []).map(sparseDir);
  const deadline = Date.now() + opts.timeoutMs;
  await prepareDir(opts.dir);
  try {
    return await withSession(opts.url, opts.auth, { deadline, signal: opts.signal, proxy: opts.proxy }, (s) =>
      checkoutIn(s, plan, sparse, deadline, opts),
    );
  } catch (err) {
    if (isGitError(err) && err.kind === 'Timeout')
      throw new GitError('Timeout', `${err.message} (timeout ${opts.timeoutMs / 1000}s)`);
    throw err;
  }
}

async function checkoutIn(
  s: GitSession,
  plan: RefPlan,
  sparse: string[],
  deadline: number,
  opts: CheckoutOptions,
): Promise<CheckoutResult> {
  const { dir } = opts;
  const git = (args: string[], what: string, extra: Partial<GitRunOptions> = {}) =>
    runGit(args, {
      env: s.env,
      cwd: dir,
      deadline,
      signal: opts.signal,
      secrets: s.secrets,
      credentialsGiven: s.credentialsGiven,
      what,
      ...extra,
    });
  const limit = opts.maxSizeBytes;
  // Stop git as soon as the received objects, or the files being written, pass the limit, rather
  // than after a download or a checkout that may fill the disk (a small pack can inflate hugely).
  const watchSize = (what: string, path: string, skip?: string): Partial<GitRunOptions> =>
    limit === undefined
      ? {}
      : {
          watch: async () =>
            (await dirSize(path, skip)) > limit
              ? tooLarge(`${what} exceed the size limit of ${limit} bytes`)
              : undefined,
        };
  const watch = watchSize('the fetched objects', join(dir, '.git'));
  const cloneWhat = `unable to clone '${s.url}'`;

  await git(['init', '-q', '.'], 'unable to create the checkout directory');
  await git(['remote', 'add', 'origin', s.url], cloneWhat);
  if (sparse.length > 0)
    await git(['sparse-checkout', 'set', '--no-cone', '--', ...sparse], 'unable to set up sparse checkout');

  /** Fetches one ref; returns the fetched object (a tag object for annotated tags). */
  const fetchRef = async (remoteRef: string, depth: boolean) => {
    try {
      await git(
        [
          'fetch',
          '-q',
          '--no-tags',
          '--no-recurse-submodules',
          ...(depth ? ['--depth', '1'] : []),
          'origin',
          remoteRef,
        ],
        cloneWhat,
        watch,
      );
    } catch (err) {
      if (isGitError(err) && err.kind === 'NotFound')
        throw new GitError('NotFound', `${cloneWhat}: couldn't find remote ref "${remoteRef}"`);
      throw err;
    }
    return (await git(['rev-parse', '--verify', 'FETCH_HEAD'], cloneWhat)).trim();
  };
  const peel = async (object: string) =>
    (await git(['rev-parse', '--verify', `${object}^{commit}`], cloneWhat)).trim();

  let commit: string;
  let label: string | undefined;
  let tag: CheckedOutTag | undefined;
  switch (plan.kind) {
    case 'commit':
      commit = plan.commit;
      label = plan.label;
      await fetchCommit(plan, git, fetchRef, watch, cloneWhat);
      break;
    case 'semver': {
      const refs = await listRefs(s, deadline, { signal: opts.signal, patterns: ['refs/tags/*'] });
      const resolved = resolveRef({ semver: plan.range }, refs);
      const remoteRef = resolved.remoteRef ?? '';
      const fetched = await fetchRef(remoteRef, true);
      commit = await peel(fetched);
      label = remoteRef.slice('refs/tags/'.length);
      tag = await describeTag(git, fetched, commit, label);
      break;
    }
    default: {
      const fetched = await fetchRef(plan.remoteRef, true);
      commit = await peel(fetched);
      label = plan.label;
      if (plan.remoteRef.startsWith('refs/tags/'))
        tag = await describeTag(git, fetched, commit, plan.remoteRef.slice('refs/tags/'.length));
    }
  }

  await git(
    ['checkout', '-q', '--detach', commit],
    `unable to check out ${commit}`,
    watchSize('the checked-out files', dir, '.git'),
  );
  if (opts.recurseSubmodules) await updateSubmodules(git, watch);

  for (const p of sparse) {
    const isDir = await stat(join(dir, p)).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!isDir)
      throw new GitError(
        'NotFound',
        `sparse checkout directory '${p.slice(1, -1)}' does not exist in the repository`,
      );
  }
  const size = await dirSize(dir, '.git');
  if (limit !== undefined && size > limit)
    throw tooLarge(`the checked-out files (${size} bytes) exceed the size limit of ${limit} bytes`);
  const commitObject = parseCommit(await readObject(git, 'commit', commit));
  return {
    commit,
    revision: revisionString(label, commit),
    message: subject(commitObject.message),
    size,
    commitObject,
    tag,
  };
}

type Git = (args: string[], what: string, extra?: Partial<GitRunOptions>) => Promise<string>;

/** The raw bytes of an object, as `git cat-file <type>` prints them (latin1: one char per byte). */
async function readObject(git: Git, type: 'commit' | 'tag', object: string): Promise<string> {
  return git(['cat-file', type, object], `unable to read ${type} ${object}`, { encoding: 'latin1' });
}

/** A fetched tag: annotated when the fetched object is not the commit itself. */
async function describeTag(
  git: Git,
  fetched: string,
  commit: string,
  refName: string,
): Promise<CheckedOutTag> {
  if (fetched === commit) return { name: refName };
  const object = parseTag(await readObject(git, 'tag', fetched));
  return { name: object.name || refName, hash: fetched, object };
}

/**
 * Fetches a fixed commit. With a branch (as Flux): the branch's history, which must contain it.
 * Otherwise the commit itself at depth 1; servers that refuse unadvertised objects (protocol v0)
 * get a full fetch of branches and tags instead.
 */
async function fetchCommit(
  plan: Extract<RefPlan, { kind: 'commit' }>,
  git: Git,
  fetchRef: (remoteRef: string, depth: boolean) => Promise<string>,
  watch: Partial<GitRunOptions>,
  what: string,
): Promise<void> {
  const present = () =>
    git(['cat-file', '-e', `${plan.commit}^{commit}`], what).then(
      () => true,
      () => false,
    );
  if (plan.branch) {
    await fetchRef(`refs/heads/${plan.branch}`, false);
    if (!(await present()))
      throw new GitError('NotFound', `${what}: commit ${plan.commit} is not in branch "${plan.branch}"`);
    return;
  }
  try {
    await git(
      ['fetch', '-q', '--no-tags', '--no-recurse-submodules', '--depth', '1', 'origin', plan.commit],
      what,
      watch,
    );
    return;
  } catch (err) {
    if (!isGitError(err) || err.kind !== 'NotFound') throw err;
  }
  await git(
    [
      'fetch',
      '-q',
      '--no-tags',
      '--no-recurse-submodules',
      'origin',
      '+refs/heads/*:refs/remotes/origin/*',
      '+refs/tags/*:refs/tags/*',
    ],
    what,
    watch,
  );
  if (!(await present())) throw new GitError('NotFound', `${what}: commit ${plan.commit} not found`);
}

/** Shallow where the servers allow fetching the recorded commits directly, else full. */
async function updateSubmodules(git: Git, watch: Partial<GitRunOptions>): Promise<void> {
  const what = 'unable to update submodules';
  try {
    await git(['submodule', 'update', '--init', '--recursive', '--depth', '1'], what, watch);
  } catch (err) {
    if (!isGitError(err) || !['NotFound', 'Other'].includes(err.kind)) throw err;
    await git(['submodule', 'update', '--init', '--recursive'], what, watch);
  }
}

/** A sparse checkout directory as an anchored non-cone pattern: `./deploy/` → `/deploy/`. */
function sparseDir(path: string): string {
  const p = path.replace(/^\.\//, '').replace(/^\/+|\/+$/g, '');
  if (!p || p === '.' || p.split('/').some((seg) => seg === '..' || seg === '.') || /[*?[\\!#\n]/.test(p))
    throw new GitError('Invalid', `invalid sparse checkout directory '${path}'`);
  return `/${p}/`;
}

/** Creates `dir` when missing; it must be empty. */
export async function prepareDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0)
    throw new GitError('Invalid', `checkout directory ${dir} is not empty`);
}

function tooLarge(message: string): GitError {
  return new GitError('TooLarge', message);
}

/** Bytes of the regular files under dir, not following symlinks, skipping entries named `skip`. */
async function dirSize(dir: string, skip?: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.name === skip) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p, skip);
    else if (e.isFile()) total += (await stat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
