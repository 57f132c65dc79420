// Remote refs (git ls-remote) and Flux's reference resolution: which of spec.ref's fields wins, what
// remote ref to fetch, and the revision string recorded in the artifact (fluxcd/pkg git.Commit String
// and AbsoluteReference, source-controller commitReference).
import { highestMatch, parseConstraint } from '../semver.ts';
import { type GitAuth, type GitSession, type ProxyConfig, withSession } from './auth.ts';
import { GitError } from './errors.ts';
import { runGit } from './exec.ts';
import { smartHttpLsRemote } from './smarthttp.ts';

/** spec.ref of a GitRepository. */
export interface GitRef {
  branch?: string;
  tag?: string;
  semver?: string;
  name?: string;
  commit?: string;
}

/** Flux's default when spec.ref names nothing. */
export const defaultBranch = 'master';

/**
 * What a ref asks for, after Flux's precedence (branch < tag < semver < name < commit):
 * - `ref`: one remote ref (branch, tag or name), its revision label being `label`;
 * - `semver`: the highest tag matching `range`;
 * - `commit`: a fixed commit; `label` (name, else branch) prefixes its revision; with `branch` the
 *   commit must be in that branch (Flux clones the branch, then looks the commit up).
 */
export type RefPlan =
  | { kind: 'branch' | 'tag' | 'name'; remoteRef: string; label: string }
  | { kind: 'semver'; range: string }
  | { kind: 'commit'; commit: string; label?: string; branch?: string };

const hexSha = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

// git check-ref-format's rules, roughly: no leading '-' or '/', no trailing '/' or '.lock', no '..',
// whitespace, control characters or any of ~ ^ : ? * [ \.
const badRefChars = /^[-/]|\/$|\.lock$|\.\.|[\s\p{Cc}~^:?*[\\]/u;

function checkRefPart(field: string, value: string): string {
  if (badRefChars.test(value))
    throw new GitError('Invalid', `invalid ${field} '${value}': not a valid Git ref name`);
  return value;
}

/** Validates a ref and applies the precedence; throws GitError Invalid for malformed fields. */
export function planRef(ref: GitRef = {}): RefPlan {
  if (ref.commit) {
    const commit = ref.commit.toLowerCase();
    if (!hexSha.test(commit))
      throw new GitError(
        'Invalid',
        `invalid commit '${ref.commit}': must be a full 40 (or 64) hex digit hash`,
      );
    const branch = ref.branch ? checkRefPart('branch', ref.branch) : undefined;
    const label = ref.name ? checkRefPart('ref name', ref.name) : branch;
    return { kind: 'commit', commit, label, branch };
  }
  if (ref.name) {
    const name = checkRefPart('ref name', ref.name);
    return { kind: 'name', remoteRef: name, label: name };
  }
  if (ref.semver) {
    try {
      parseConstraint(ref.semver);
    } catch (err) {
      throw new GitError('Invalid', `semver parse error: ${(err as Error).message}`);
    }
    return { kind: 'semver', range: ref.semver };
  }
  if (ref.tag) {
    const tag = checkRefPart('tag', ref.tag);
    return { kind: 'tag', remoteRef: `refs/tags/${tag}`, label: tag };
  }
  const branch = checkRefPart('branch', ref.branch || defaultBranch);
  return { kind: 'branch', remoteRef: `refs/heads/${branch}`, label: branch };
}

/** `sha1:<hex>` (or `sha256:` for 64 hex digits), Flux's git.Hash Digest. */
export function commitDigest(commit: string): string {
  return `${commit.length === 64 ? 'sha256' : 'sha1'}:${commit}`;
}

/** Flux's revision string: `<label>@sha1:<hex>`, or `sha1:<hex>` without a label. */
export function revisionString(label: string | undefined, commit: string): string {
  return label ? `${label}@${commitDigest(commit)}` : commitDigest(commit);
}

export interface ResolvedRef {
  commit: string;
  /** Flux's artifact revision, e.g. `main@sha1:…`, `v1.2.0@sha1:…`, `refs/heads/main@sha1:…`, `sha1:…`. */
  revision: string;
  /** The remote ref that points at the commit; absent for commit refs. */
  remoteRef?: string;
}

/**
 * Parses `git ls-remote` output into ref name → commit. Annotated tags appear twice (`refs/tags/v1`
 * → tag object, `refs/tags/v1^{}` → commit): the peeled commit replaces the tag object.
 */
export function parseLsRemote(output: string): Map<string, string> {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    const m = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/.exec(line.trim());
    if (!m) continue;
    const [, sha = '', name = ''] = m;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  for (const [name, sha] of peeled) refs.set(name, sha);
  return refs;
}

const notFound = (remoteRef: string) => new GitError('NotFound', `couldn't find remote ref "${remoteRef}"`);

/**
 * Resolves spec.ref against remote refs (as from lsRemote) to a commit and Flux's revision string.
 * Commit refs need no refs at all. Throws GitError NotFound (no such branch/tag/ref, no tag matching
 * the range) or Invalid (malformed commit, name or range).
 */
export function resolveRef(ref: GitRef | undefined, refs: ReadonlyMap<string, string>): ResolvedRef {
  const plan = planRef(ref);
  switch (plan.kind) {
    case 'commit':
      return { commit: plan.commit, revision: revisionString(plan.label, plan.commit) };
    case 'semver': {
      const tags = [...refs.keys()].filter((r) => r.startsWith('refs/tags/')).map((r) => r.slice(10));
      // Equal versions (`v1.0.0` and `1.0.0`, or differing build metadata) go to the greater tag name;
      // Flux takes the newest tag, a time that ls-remote does not show.
      const best = highestMatch(tags, plan.range, { tieBreak: (a, b) => (a < b ? -1 : a > b ? 1 : 0) });
      if (!best) throw new GitError('NotFound', `no match found for semver: ${plan.range}`);
      const remoteRef = `refs/tags/${best.tag}`;
      const commit = refs.get(remoteRef) ?? '';
      return { commit, revision: revisionString(best.tag, commit), remoteRef };
    }
    default: {
      const commit = refs.get(plan.remoteRef);
      if (!commit) throw notFound(plan.remoteRef);
      return { commit, revision: revisionString(plan.label, commit), remoteRef: plan.remoteRef };
    }
  }
}

export interface RemoteOptions {
  signal?: AbortSignal;
  /** HTTP(S) proxy for the request. */
  proxy?: ProxyConfig;
  /**
   * ls-remote patterns (matched against the end of ref names; protocol v2 servers filter by them).
   * A `refs/tags/…` pattern also gets its `^{}` twin so annotated tags are peeled.
   */
  patterns?: string[];
}

/** Lists the remote's refs: ref name → commit (annotated tags peeled). */
export async function lsRemote(
  url: string,
  auth: GitAuth | undefined,
  timeoutMs: number,
  opts: RemoteOptions = {},
): Promise<Map<string, string>> {
  // HTTP(S) remotes are asked directly (no git process); SSH goes through git and ssh.
  if (/^https?:\/\//i.test(url))
    return smartHttpLsRemote(url, auth, {
      timeoutMs,
      signal: opts.signal,
      patterns: opts.patterns,
      proxy: opts.proxy,
    });
  const deadline = Date.now() + timeoutMs;
  return withSession(url, auth, { deadline, signal: opts.signal, proxy: opts.proxy }, (s) =>
    listRefs(s, deadline, opts),
  );
}

/** lsRemote within an open session (checkout reuses its session for semver refs). */
export async function listRefs(
  s: GitSession,
  deadline: number,
  opts: RemoteOptions = {},
): Promise<Map<string, string>> {
  const patterns = (opts.patterns ?? []).flatMap((p) =>
    p.startsWith('refs/tags/') && !p.endsWith('^{}') && !p.endsWith('*') ? [p, `${p}^{}`] : [p],
  );
  const out = await runGit(['ls-remote', '--', s.url, ...patterns], {
    env: s.env,
    deadline,
    signal: opts.signal,
    secrets: s.secrets,
    credentialsGiven: s.credentialsGiven,
    what: `unable to list remote refs of '${s.url}'`,
  });
  return parseLsRemote(out);
}

/**
 * The revision spec.ref currently resolves to, without cloning: one ls-remote limited to the refs
 * the spec can use, none at all for commit refs. The controller compares it with the stored
 * artifact's revision to skip an unchanged checkout.
 */
export async function remoteHead(
  url: string,
  ref: GitRef | undefined,
  auth: GitAuth | undefined,
  timeoutMs: number,
  opts: Pick<RemoteOptions, 'signal' | 'proxy'> = {},
): Promise<ResolvedRef> {
  const plan = planRef(ref);
  if (plan.kind === 'commit') return resolveRef(ref, new Map());
  const patterns = plan.kind === 'semver' ? ['refs/tags/*'] : [plan.remoteRef];
  const refs = await lsRemote(url, auth, timeoutMs, { ...opts, patterns });
  return resolveRef(ref, refs);
}
