// Links from a revision to the commit on the Git host's web page, for the hosts whose URL scheme is
// known (GitHub, GitLab, Bitbucket, Codeberg and Gitea-style hosts, Azure DevOps). Pure.

/** The commit hash of a Flux revision: `main@sha1:<hex>`, `sha1:<hex>`, `sha256:<hex>` or `main/<hex>`. */
export function commitOf(revision: string): string | undefined {
  const m = /(?:^|@)(?:sha1|sha256):([0-9a-f]{40}|[0-9a-f]{64})$/.exec(revision);
  if (m) return m[1];
  return /\/([0-9a-f]{40})$/.exec(revision)?.[1];
}

/** host and path (without `.git`) of an https, ssh or scp-like Git URL. */
export function parseGitUrl(url: string): { host: string; path: string } | undefined {
  const scp = /^[^@/\s]+@([^:/\s]+):(.+)$/.exec(url);
  let host: string;
  let path: string;
  if (scp && !url.includes('://')) {
    host = scp[1] as string;
    path = scp[2] as string;
  } else {
    try {
      const u = new URL(url);
      if (!/^(https?|ssh|git\+ssh):$/.test(u.protocol)) return undefined;
      host = u.hostname;
      path = u.pathname;
    } catch {
      return undefined;
    }
  }
  path = path
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '');
  return path ? { host: host.toLowerCase(), path } : undefined;
}

/** The web page of the commit `revision` names in the repository at `repoUrl`, for known hosts. */
export function commitUrl(repoUrl: string, revision: string): string | undefined {
  const sha = commitOf(revision);
  const repo = parseGitUrl(repoUrl);
  if (!sha || !repo) return undefined;
  const { host, path } = repo;
  if (host === 'github.com' || host === 'codeberg.org' || host === 'gitea.com')
    return `https://${host}/${path}/commit/${sha}`;
  if (host === 'gitlab.com') return `https://gitlab.com/${path}/-/commit/${sha}`;
  if (host === 'bitbucket.org') return `https://bitbucket.org/${path}/commits/${sha}`;
  // https://dev.azure.com/<org>/<project>/_git/<repo>; ssh://git@ssh.dev.azure.com/v3/<org>/<project>/<repo>
  if (host === 'dev.azure.com') return `https://dev.azure.com/${path}/commit/${sha}`;
  if (host === 'ssh.dev.azure.com') {
    const [, org, project, name] = /^v3\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
    return org ? `https://dev.azure.com/${org}/${project}/_git/${name}/commit/${sha}` : undefined;
  }
  return undefined;
}
