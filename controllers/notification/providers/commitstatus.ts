// Git commit statuses: GitHub (and GitHub Enterprise), GitLab, Gitea and Bitbucket Cloud. The
// repository comes from the Provider's address, the commit from the event's revision metadata; the
// status is `success` for info events and `failure` for errors, under the commit status identifier,
// and is not written again when the forge already shows the same state and description.
import { createHash } from 'node:crypto';
import { Reasons } from '../../api/names.ts';
import { commitOf, revisionOf } from '../event.ts';
import { basicAuth, send } from './send.ts';
import type { Notification, Notifier, ProviderSettings } from './types.ts';

/**
 * Host URL and repository path of a Git address: `https://host[:port]/owner/repo[.git]`,
 * `ssh://git@host/owner/repo.git` or `git@host:owner/repo.git` (ssh is answered over https).
 */
export function parseGitAddress(address: string): { host: string; id: string } {
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.+)$/.exec(address);
  let host: string;
  let path: string;
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    host = `https://${scp[1]}`;
    path = scp[2] as string;
  } else {
    let u: URL;
    try {
      u = new URL(address);
    } catch {
      throw new Error(`failed parsing URL '${address}'`);
    }
    const scheme = u.protocol === 'ssh:' ? 'https:' : u.protocol;
    host = `${scheme}//${u.host}`;
    path = decodeURIComponent(u.pathname);
  }
  return { host, id: path.replace(/^\/+/, '').replace(/\.git$/, '') };
}

function ownerRepo(id: string): [string, string] {
  const parts = id.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`invalid repository id '${id}'`);
  return [parts[0], parts[1]];
}

/** Go's camel-case split of fluxcd's notifier: `ReconciliationSucceeded` → Reconciliation, Succeeded. */
export function splitCamelCase(src: string): string[] {
  const cls = (c: string) => (/\p{Ll}/u.test(c) ? 1 : /\p{Lu}/u.test(c) ? 2 : /\p{Nd}/u.test(c) ? 3 : 4);
  const runs: string[][] = [];
  let last = 0;
  for (const c of src) {
    const k = cls(c);
    if (k === last) runs[runs.length - 1]?.push(c);
    else runs.push([c]);
    last = k;
  }
  // "PDFLoader" → "PDF", "Loader": an upper-case run gives its last letter to a following lower-case run.
  for (let i = 0; i < runs.length - 1; i++) {
    const a = runs[i] as string[];
    const b = runs[i + 1] as string[];
    if (cls(a[0] ?? '') === 2 && cls(b[0] ?? '') === 1) b.unshift(a.pop() as string);
  }
  return runs.filter((r) => r.length > 0).map((r) => r.join(''));
}

/** The status name (`kustomization/podinfo`) and description (`reconciliation succeeded`). */
export function nameAndDescription(n: Notification): { name: string; description: string } {
  return {
    name: `${n.involvedObject.kind}/${n.involvedObject.name}`.toLowerCase(),
    description: splitCamelCase(n.reason).join(' ').toLowerCase(),
  };
}

/** The commit the notification is about; an error when its metadata has no usable revision. */
function commitFor(n: Notification): string {
  const revision = revisionOf(n.metadata);
  if (revision === undefined) throw new Error('missing revision metadata');
  return commitOf(revision);
}

function requireToken(s: ProviderSettings, what: string): string {
  const token = s.token || s.basic?.password;
  if (!token) throw new Error(`${what} token cannot be empty`);
  return token;
}

function requireStatusId(s: ProviderSettings): string {
  if (!s.commitStatus) throw new Error('commit status cannot be empty');
  return s.commitStatus;
}

type Status = Record<string, unknown>;

/** A JSON answer of the forge's API: a list of statuses, or one status (undefined when `accept`ed as absent). */
async function getJson<T>(
  s: ProviderSettings,
  url: string,
  signal: AbortSignal,
  headers: Record<string, string>,
  accept?: (status: number) => boolean,
): Promise<T | undefined> {
  const res = await send(s, url, signal, { headers, ...(accept ? { accept } : {}) });
  if (res.status === 404 || res.body.length === 0) return undefined;
  return JSON.parse(res.body.toString('utf8')) as T;
}

/** True when the newest status of this context (forges list newest first) already says the same. */
function unchanged(
  statuses: Status[],
  context: string,
  stateKey: string,
  state: string,
  description: string,
) {
  const latest = statuses.find((x) => x.context === context && x[stateKey] && x.description);
  return latest?.[stateKey] === state && latest.description === description;
}

const progressing = (n: Notification) => n.reason === Reasons.Progressing;
const okState = (n: Notification, ok: string, failed: string) => (n.severity === 'error' ? failed : ok);

export function github(s: ProviderSettings): Notifier {
  const token = requireToken(s, 'github');
  const context = requireStatusId(s);
  const { host, id } = parseGitAddress(s.address);
  const [owner, repo] = ownerRepo(id);
  // github.com's API lives on api.github.com; GitHub Enterprise serves it under /api/v3.
  const api = new URL(host).hostname === 'github.com' ? 'https://api.github.com/' : `${host}/api/v3/`;
  const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.github.v3+json' };
  return {
    async post(n, signal) {
      if (progressing(n)) return;
      const sha = commitFor(n);
      const state = okState(n, 'success', 'failure');
      const { description } = nameAndDescription(n);
      const base = `${api}repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
      const statuses = await getJson<Status[]>(
        s,
        `${base}/commits/${sha}/statuses?per_page=50`,
        signal,
        headers,
      );
      if (unchanged(statuses ?? [], context, 'state', state, description)) return;
      await send(s, `${base}/statuses/${sha}`, signal, { json: { state, context, description }, headers });
    },
  };
}

export function gitlab(s: ProviderSettings): Notifier {
  const token = requireToken(s, 'gitlab');
  const name = requireStatusId(s);
  const { host, id } = parseGitAddress(s.address);
  const project = `${host}/api/v4/projects/${encodeURIComponent(id)}`;
  const headers = { 'private-token': token };
  return {
    async post(n, signal) {
      if (progressing(n)) return;
      const sha = commitFor(n);
      const state = okState(n, 'success', 'failed');
      const { description } = nameAndDescription(n);
      const query = `name=${encodeURIComponent(name)}`;
      const url = `${project}/repository/commits/${sha}/statuses?${query}`;
      const statuses = (await getJson<Status[]>(s, url, signal, headers)) ?? [];
      const same = (x: Status) =>
        x.sha === sha && x.status === state && x.description === description && x.name === name;
      if (statuses.some(same)) return;
      await send(s, `${project}/statuses/${sha}`, signal, { json: { state, name, description }, headers });
    },
  };
}

export function gitea(s: ProviderSettings): Notifier {
  const token = requireToken(s, 'gitea');
  const context = requireStatusId(s);
  const { host, id } = parseGitAddress(s.address);
  const [owner, repo] = ownerRepo(id);
  const base = `${host}/api/v1/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/statuses`;
  const headers = { authorization: `token ${token}` };
  return {
    async post(n, signal) {
      const sha = commitFor(n);
      // Gitea shows progress as pending.
      const state = progressing(n) ? 'pending' : okState(n, 'success', 'failure');
      const { description } = nameAndDescription(n);
      const statuses = await getJson<Status[]>(s, `${base}/${sha}?page=0&limit=50`, signal, headers);
      if (unchanged(statuses ?? [], context, 'status', state, description)) return;
      const status = { state, target_url: '', description, context };
      await send(s, `${base}/${sha}`, signal, { json: status, headers });
    },
  };
}

export function bitbucket(s: ProviderSettings): Notifier {
  const token = requireToken(s, 'bitbucket');
  const id = requireStatusId(s);
  const sep = token.indexOf(':');
  if (sep < 0 || token.indexOf(':', sep + 1) >= 0)
    throw new Error('invalid token format, expected to be <user>:<password>');
  const auth = basicAuth(token.slice(0, sep), token.slice(sep + 1));
  const { host, id: repoId } = parseGitAddress(s.address);
  const [owner, repo] = ownerRepo(repoId);
  // Bitbucket Cloud's API; another host (a test double, a gateway) serves it under /2.0.
  const api = new URL(host).hostname === 'bitbucket.org' ? 'https://api.bitbucket.org/2.0' : `${host}/2.0`;
  // Bitbucket limits keys to 40 characters.
  const key = createHash('sha1').update(id).digest('hex');
  const headers = { authorization: auth };
  return {
    async post(n, signal) {
      if (progressing(n)) return;
      const sha = commitFor(n);
      const state = okState(n, 'SUCCESSFUL', 'FAILED');
      const { name, description } = nameAndDescription(n);
      const base = `${api}/repositories/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/commit/${sha}/statuses/build`;
      const absent = (status: number) => (status >= 200 && status < 300) || status === 404;
      const current = await getJson<Status>(s, `${base}/${key}`, signal, headers, absent);
      if (current?.state === state && current.description === description) return;
      const status = { state, key, name, description, url: 'https://bitbucket.org' };
      await send(s, base, signal, { json: status, headers });
    },
  };
}
