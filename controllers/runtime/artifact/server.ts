// The artifact file server (Flux serves `--storage-path` with http.FileServer on `--storage-addr`, no auth):
// GET and HEAD of regular files below the storage root, nothing else. No directory listings; paths with
// `..`, `.`, empty, dot-prefixed (temp files) or undecodable segments, and files whose real path leaves
// the root (symlinks) are all 404. The ETag is derived from the file's inode, size and mtime in
// nanoseconds: free to compute, stable across restarts, and new whenever storage replaces the file (an
// atomic rename brings a new inode and mtime).

import { type BigIntStats, constants } from 'node:fs';
import { type FileHandle, mkdir, open, realpath } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type Listener, listen } from '../listen.ts';

export interface ServeOptions {
  /** Storage root; or pass a storage, whose basePath is used. */
  basePath?: string;
  storage?: { readonly basePath: string };
  /** `host:port`, `:port` (all interfaces) or `[v6]:port`; port 0 picks a free one. */
  addr: string;
  /**
   * Told the storage-relative path of every GET or HEAD answered 404: an artifact a consumer asks for
   * and that is gone (storage wiped) can be rebuilt at once instead of at its source's next interval.
   */
  onNotFound?: (path: string) => void;
}

export type ArtifactServer = Listener;

export async function serveArtifacts(opts: ServeOptions): Promise<ArtifactServer> {
  const basePath = opts.basePath ?? opts.storage?.basePath;
  if (basePath === undefined) throw new Error('serveArtifacts needs basePath or storage');
  await mkdir(basePath, { recursive: true });
  const root = await realpath(basePath);
  return listen(opts.addr, (req, res) => {
    handle(root, req, res, opts.onNotFound).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
}

async function handle(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  onNotFound?: (path: string) => void,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const fh = await openFile(root, req.url ?? '');
  if (fh === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    const path = requestPath(req.url ?? '');
    if (path !== undefined) onNotFound?.(path);
    return;
  }
  let streaming = false;
  try {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const etag = etagOf(st);
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, {
      'content-type': contentType(req.url ?? ''),
      'content-length': st.size.toString(),
      etag,
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    streaming = true;
    await pipeline(fh.createReadStream({ autoClose: true }), res);
  } finally {
    if (!streaming) await fh.close();
  }
}

// The decoded segments of a request path, or undefined when one is empty, dot-prefixed or undecodable.
function segmentsOf(url: string): string[] | undefined {
  const path = url.split(/[?#]/, 1)[0] ?? '';
  if (!path.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const raw of path.slice(1).split('/')) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (seg === '' || seg.startsWith('.') || /[/\\\0]/.test(seg)) return undefined;
    segments.push(seg);
  }
  return segments;
}

/** The storage-relative path a request names, when it is a valid one. */
const requestPath = (url: string) => segmentsOf(url)?.join('/');

// Resolves a request path to an open file below root, or undefined for anything else.
async function openFile(root: string, url: string): Promise<FileHandle | undefined> {
  const segments = segmentsOf(url);
  if (segments === undefined) return undefined;
  const real = await realpath(join(root, ...segments)).catch(() => undefined);
  if (real === undefined || !real.startsWith(root + sep)) return undefined;
  return open(real, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
}

function etagOf(st: BigIntStats): string {
  return `"${st.ino.toString(16)}-${st.size.toString(16)}-${st.mtimeNs.toString(16)}"`;
}

// If-None-Match holds `*` or a list of (possibly weak) tags; GET/HEAD use the weak comparison.
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === etag;
  });
}

function contentType(url: string): string {
  const path = (url.split(/[?#]/, 1)[0] ?? '').toLowerCase();
  if (path.endsWith('.tar.gz') || path.endsWith('.tgz')) return 'application/gzip';
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'text/yaml';
  return 'application/octet-stream';
}
