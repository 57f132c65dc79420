// Downloads a source artifact, verifies its digest and extracts it (fluxcd/pkg http/fetch ArchiveFetcher),
// for the consumers of sources (kustomize and helm controllers). The request is retried on connection
// errors, timeouts, 429 and 5xx (but 501) with exponential backoff, as go-retryablehttp; a 404 is an
// ArtifactNotFoundError (the source has not produced it yet, or GC removed it: requeue). The body goes to
// a temp file under a size cap and nothing is extracted unless its digest matches.

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpClient } from '../http.ts';
import { formatDigest, newHash, parseDigest } from './digest.ts';
import { ArtifactError, ArtifactNotFoundError, DigestMismatchError, SizeLimitError } from './errors.ts';
import { DEFAULT_MAX_UNTAR_BYTES, type ExtractResult, extractTarGz } from './extract.ts';

/** Flux's kustomize-controller `--http-retry` default. */
export const DEFAULT_RETRIES = 9;
export const DEFAULT_MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;

export interface FetchOptions {
  /** Expected digest, `<algorithm>:<hex>` (sha256, sha384, sha512) or bare hex meaning sha256. */
  digest: string;
  /** Directory to extract into (created if missing); use a fresh one, a failed extraction leaves debris. */
  dest: string;
  /** Cap on the downloaded bytes; Infinity disables it. Default 100 MiB. */
  maxDownloadBytes?: number;
  /** Cap on the sum of extracted file sizes; Infinity disables it. Default 100 MiB. */
  maxUntarBytes?: number;
  /** Retries after the first attempt. Default 9. */
  retries?: number;
  /** Limit of one attempt (request and body). Default 60 s. */
  timeoutMs?: number;
  /** Backoff before retry n (0-based) is min(maxMs, minMs * 2^n); Flux uses 5 s and 30 s. */
  backoff?: { minMs: number; maxMs: number };
  /** Replaces host[:port] of the URL; defaults to $SOURCE_CONTROLLER_LOCALHOST (Flux), for running out of cluster. */
  hostOverride?: string;
  signal?: AbortSignal;
}

export interface FetchResult {
  /** The URL actually fetched (after the host override). */
  url: string;
  /** Downloaded bytes. */
  size: number;
  extracted: ExtractResult;
}

// Not retried: the answer will not change by asking again.
class Permanent extends Error {}

export async function fetchArtifact(url: string, opts: FetchOptions): Promise<FetchResult> {
  const expected = parseDigest(opts.digest);
  const target = withHost(url, opts.hostOverride ?? process.env.SOURCE_CONTROLLER_LOCALHOST);
  const tmp = await mkdtemp(join(tmpdir(), 'tide-fetch-'));
  try {
    const file = join(tmp, 'artifact.tar.gz');
    const downloaded = await downloadWithRetries(target, file, expected.algorithm, opts);
    const want = `${expected.algorithm}:${expected.hex}`;
    if (downloaded.digest !== want) throw new DigestMismatchError(want, downloaded.digest);
    const extracted = await extractTarGz(file, opts.dest, {
      maxBytes: opts.maxUntarBytes ?? DEFAULT_MAX_UNTAR_BYTES,
    });
    return { url: target, size: downloaded.size, extracted };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function downloadWithRetries(
  url: string,
  file: string,
  algorithm: string,
  opts: FetchOptions,
): Promise<{ digest: string; size: number }> {
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const backoff = opts.backoff ?? { minMs: 5_000, maxMs: 30_000 };
  for (let attempt = 0; ; attempt++) {
    try {
      return await download(url, file, algorithm, opts);
    } catch (e) {
      if (e instanceof Permanent) throw e.cause;
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (attempt >= retries) {
        const msg = `failed to download ${url} after ${attempt + 1} attempt(s): ${messageOf(e)}`;
        throw new ArtifactError('FetchFailed', msg, { cause: e });
      }
      const wait = Math.min(backoff.maxMs, backoff.minMs * 2 ** attempt);
      await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {});
    }
  }
}

function withHost(url: string, host: string | undefined): string {
  if (!host) return url;
  const u = new URL(url);
  u.host = host;
  return u.toString();
}

// One attempt: throws Permanent for answers that retrying cannot change, anything else is retried.
async function download(
  url: string,
  file: string,
  algorithm: string,
  opts: FetchOptions,
): Promise<{ digest: string; size: number }> {
  const max = opts.maxDownloadBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
  // identity: the digest is of the bytes as stored.
  const res = await httpClient().request({
    url,
    headers: { 'accept-encoding': 'identity' },
    timeoutMs: opts.timeoutMs ?? 60_000,
    maxRedirects: 10,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (res.status !== 200) {
    await res.discard();
    if (res.status === 404) throw new Permanent('', { cause: new ArtifactNotFoundError(url) });
    const error = new ArtifactError('FetchFailed', `failed to download ${url}: HTTP ${res.status}`);
    if (res.status === 429 || (res.status >= 500 && res.status !== 501)) throw error;
    throw new Permanent('', { cause: error });
  }
  if (Number(res.header('content-length') ?? 0) > max) {
    await res.discard();
    throw new Permanent('', { cause: new SizeLimitError('download', max) });
  }
  const hash = newHash(algorithm);
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      // Headers can lie: count what arrives.
      if (size > max) return done(new Permanent('', { cause: new SizeLimitError('download', max) }));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await res.pipe(limit, createWriteStream(file));
  return { digest: formatDigest(algorithm, hash), size };
}

function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e.message}${cause}`;
}
