// Counts what the controllers ask of the Git server: fetches (a clone, or any transfer of objects) and
// ref listings (ls-remote, the no-change poll). Git speaks two protocols over smart HTTP: in v0 (go-git)
// a GET of info/refs lists the refs and a POST to git-upload-pack fetches; in v2 (the git CLI) the GET
// only advertises capabilities and each POST carries a command, ls-refs or fetch.
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type GitRequestKind = 'ref-listing' | 'fetch' | 'capabilities' | 'push' | 'other';

/** Classifies one request from its method, URL, Git-Protocol header and the first bytes of its body. */
export function classifyGitRequest(
  method: string,
  url: string,
  gitProtocol: string,
  bodyHead: string,
): GitRequestKind {
  const u = new URL(url, 'http://x');
  const service = u.searchParams.get('service');
  if (u.pathname.endsWith('/git-receive-pack') || service === 'git-receive-pack') return 'push';
  if (method === 'GET' && u.pathname.endsWith('/info/refs') && service === 'git-upload-pack')
    return /version=2/.test(gitProtocol) ? 'capabilities' : 'ref-listing';
  if (method === 'POST' && u.pathname.endsWith('/git-upload-pack')) {
    if (bodyHead.includes('command=ls-refs')) return 'ref-listing';
    if (bodyHead.includes('command=fetch') || /^[0-9a-f]{4}want /.test(bodyHead)) return 'fetch';
  }
  return 'other';
}

export type GitCounts = Record<GitRequestKind, number>;
export const emptyGitCounts = (): GitCounts => ({
  'ref-listing': 0,
  fetch: 0,
  capabilities: 0,
  push: 0,
  other: 0,
});

/** An onRequest hook for the Git server that adds every request to counts. */
export function gitRequestCounter(counts: GitCounts) {
  return (req: IncomingMessage) => {
    const protocol = String(req.headers['git-protocol'] ?? '');
    if (req.method !== 'POST') {
      counts[classifyGitRequest(req.method ?? 'GET', req.url ?? '/', protocol, '')]++;
      return;
    }
    // The first chunk holds the command (v2) or the first want line (v0); gzip when the client chose it.
    req.once('data', (chunk: Buffer) => {
      let head = chunk;
      if (req.headers['content-encoding'] === 'gzip') {
        try {
          head = gunzipSync(chunk, { finishFlush: 2 /* Z_SYNC_FLUSH: a partial stream is fine */ });
        } catch {
          /* unreadable: classified as other */
        }
      }
      counts[
        classifyGitRequest('POST', req.url ?? '/', protocol, head.subarray(0, 512).toString('latin1'))
      ]++;
    });
  };
}

export function diffGitCounts(after: GitCounts, before: GitCounts): GitCounts {
  const out = emptyGitCounts();
  for (const k of Object.keys(out) as GitRequestKind[]) out[k] = after[k] - before[k];
  return out;
}
