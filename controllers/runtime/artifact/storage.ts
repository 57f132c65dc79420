// Artifact storage on the local filesystem (fluxcd/pkg artifact/storage): files live at
// `<basePath>/<lowercase kind>/<namespace>/<name>/<file>` and are served over HTTP at
// `http://<advertised host>/<same path>`. Every write goes to a temp file in the target directory, is
// fsynced and renamed into place, so readers (the file server, GC) see the old file or the new one,
// never a partial one. Writes to one path are serialized by an in-process lock: one leader process owns
// the storage, so no file lock is needed (Flux uses `<file>.lock`).

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, rename, rm, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Artifact } from '../../api/meta.ts';
import { keyedLock } from '../lock.ts';
import { type ArchiveFilter, buildArchive } from './archive.ts';
import { CANONICAL_ALGORITHM, digestFile, formatDigest, newHash, parseDigest } from './digest.ts';
import { ArtifactError } from './errors.ts';

/** Prefix of in-flight temp files; artifact file names may not start with a dot. */
export const TEMP_PREFIX = '.tmp-';

/** An artifact before it is written: where it goes and what it was built from. */
export type ArtifactRef = Pick<Artifact, 'path' | 'url' | 'revision'> & Partial<Artifact>;

export interface StorageOptions {
  /** Root directory of the storage (Flux `--storage-path`); created if missing. */
  basePath: string;
  /** Advertised `host[:port]` (Flux `--storage-adv-addr`), or a base URL with its scheme. */
  hostname: string;
  /** Clock for lastUpdateTime and GC ages (ms since epoch). */
  now?: () => number;
}

export interface GcOptions {
  /**
   * Most artifact files kept for the object, the current one included (Flux `--artifact-retention-records`,
   * "the maximum number of artifacts to be kept in storage after a garbage collection"). Default 2.
   */
  retentionRecords?: number;
  /** Files other than the current one older than this are deleted (Flux `--artifact-retention-ttl`). Default 60 s. */
  ttlMs?: number;
}

export interface Storage {
  readonly basePath: string;
  readonly hostname: string;
  /** `<lowercase kind>/<namespace>/<name>` */
  artifactDir(kind: string, namespace: string, name: string): string;
  artifactFor(kind: string, namespace: string, name: string, revision: string, fileName: string): ArtifactRef;
  /** Absolute path of the artifact file; throws on a path that could leave the storage. */
  localPath(artifact: Pick<Artifact, 'path'>): string;
  artifactUrl(path: string): string;
  /** A copy of the artifact whose URL points at the current advertised address (re-done every reconcile). */
  setArtifactUrl<T extends Pick<Artifact, 'path' | 'url'>>(artifact: T): T;
  /** Archives `dir` (deterministic tar.gz); returns the artifact with digest, size and lastUpdateTime. */
  archive(artifact: ArtifactRef, dir: string, filter?: ArchiveFilter): Promise<Artifact>;
  copyFromPath(artifact: ArtifactRef, file: string): Promise<Artifact>;
  /**
   * Stores the content of another artifact of this storage as `artifact` (a hard link, else a copy),
   * taking its digest and size; undefined when the source file is gone (garbage-collected).
   */
  linkFrom(artifact: ArtifactRef, source: Artifact): Promise<Artifact | undefined>;
  writeBytes(artifact: ArtifactRef, data: Uint8Array | string): Promise<Artifact>;
  writeStream(artifact: ArtifactRef, source: Readable | AsyncIterable<Uint8Array>): Promise<Artifact>;
  /** The artifact file exists and is a regular file. */
  exists(artifact: Pick<Artifact, 'path'>): Promise<boolean>;
  /** The file exists and its digest equals the recorded one. */
  verify(artifact: Pick<Artifact, 'path' | 'digest'>): Promise<boolean>;
  /**
   * Deletes old artifact files of the object: keeps `current`, and among the others the newest ones
   * younger than the TTL, up to `retentionRecords` files in all. Returns the deleted paths (storage-relative).
   */
  garbageCollect(
    kind: string,
    namespace: string,
    name: string,
    current: Pick<Artifact, 'path'> | undefined,
    opts?: GcOptions,
  ): Promise<string[]>;
  /** Removes the object's whole artifact directory; returns it (storage-relative) if it existed. */
  removeAll(kind: string, namespace: string, name: string): Promise<string | undefined>;
}

export function createStorage(opts: StorageOptions): Storage {
  const basePath = opts.basePath;
  const hostname = opts.hostname;
  const now = opts.now ?? Date.now;
  const withLock = keyedLock();

  const artifactDir = (kind: string, namespace: string, name: string): string => {
    for (const [what, v] of [
      ['kind', kind],
      ['namespace', namespace],
      ['name', name],
    ] as const) {
      checkComponent(what, v);
    }
    return `${kind.toLowerCase()}/${namespace}/${name}`;
  };

  const localPath = (artifact: Pick<Artifact, 'path'>): string => {
    const parts = artifact.path.replace(/^\/+/, '').split('/');
    for (const part of parts) checkComponent('artifact path', part);
    return join(basePath, ...parts);
  };

  const artifactUrl = (path: string): string => {
    const rel = path.replace(/^\/+/, '');
    return /^https?:\/\//.test(hostname)
      ? `${hostname.replace(/\/+$/, '')}/${rel}`
      : `http://${hostname}/${rel}`;
  };

  // Writes through a temp file beside the target, then renames; the temp file never survives a failure.
  const atomicWrite = async (
    artifact: ArtifactRef,
    produce: (tmp: string) => Promise<{ digest: string; size: number }>,
  ): Promise<Artifact> => {
    const dest = localPath(artifact);
    if (basename(dest).startsWith('.')) {
      throw new ArtifactError('InvalidPath', `artifact file name may not start with a dot: ${artifact.path}`);
    }
    const written = await withLock(dest, async () => {
      const dir = dirname(dest);
      await mkdir(dir, { recursive: true, mode: 0o750 });
      const tmp = join(dir, `${TEMP_PREFIX}${basename(dest)}-${randomBytes(6).toString('hex')}`);
      try {
        const result = await produce(tmp);
        await rename(tmp, dest);
        await fsyncDir(dir);
        return result;
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    });
    return { ...artifact, digest: written.digest, size: written.size, lastUpdateTime: rfc3339(now()) };
  };

  const writeStream = (artifact: ArtifactRef, source: Readable | AsyncIterable<Uint8Array>) =>
    atomicWrite(artifact, async (tmp) => {
      const hash = newHash(CANONICAL_ALGORITHM);
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(source, tap, createWriteStream(tmp, { mode: 0o600, flush: true }));
      return { digest: formatDigest(CANONICAL_ALGORITHM, hash), size };
    });

  return {
    basePath,
    hostname,
    artifactDir,
    localPath,
    artifactUrl,

    artifactFor(kind, namespace, name, revision, fileName) {
      checkComponent('file name', fileName);
      const path = `${artifactDir(kind, namespace, name)}/${fileName}`;
      return { path, url: artifactUrl(path), revision };
    },

    setArtifactUrl(artifact) {
      if (artifact.path === '') return artifact;
      return { ...artifact, url: artifactUrl(artifact.path) };
    },

    archive: (artifact, dir, filter) =>
      atomicWrite(artifact, (tmp) => buildArchive(dir, tmp, filter === undefined ? {} : { filter })),
    copyFromPath: (artifact, file) => writeStream(artifact, createReadStream(file)),
    async linkFrom(artifact, source) {
      const from = localPath(source);
      if (!source.digest || source.size === undefined) return undefined;
      try {
        return await atomicWrite(artifact, async (tmp) => {
          // Artifact files are written once and never changed, so a link shares them safely.
          await link(from, tmp).catch(() => copyFile(from, tmp));
          // Fresh for the garbage collector of either owner, which goes by age.
          const t = new Date(now());
          await utimes(tmp, t, t);
          return { digest: source.digest, size: source.size ?? 0 };
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    writeBytes: (artifact, data) => writeStream(artifact, Readable.from([Buffer.from(data)])),
    writeStream,

    async exists(artifact) {
      const st = await lstat(localPath(artifact)).catch(() => undefined);
      return st?.isFile() ?? false;
    },

    async verify(artifact) {
      if (!artifact.digest) return false;
      try {
        const { algorithm } = parseDigest(artifact.digest);
        return (await digestFile(localPath(artifact), algorithm)) === artifact.digest;
      } catch {
        return false;
      }
    },

    async garbageCollect(kind, namespace, name, current, gc = {}) {
      const rel = artifactDir(kind, namespace, name);
      const dir = join(basePath, rel);
      const currentPath = current?.path ? localPath(current) : undefined;
      const files = (await listFiles(dir)).filter((f) => join(dir, f.name) !== currentPath);
      const errors: unknown[] = [];
      const deleted: string[] = [];
      for (const f of selectGarbage(files, now(), gc)) {
        await rm(join(dir, f)).then(
          () => deleted.push(`${rel}/${f}`),
          (e: unknown) => errors.push(e),
        );
      }
      if (errors.length > 0) throw new AggregateError(errors, `garbage collection of ${rel} failed`);
      return deleted;
    },

    async removeAll(kind, namespace, name) {
      const rel = artifactDir(kind, namespace, name);
      const dir = join(basePath, rel);
      const existed = (await lstat(dir).catch(() => undefined)) !== undefined;
      await rm(dir, { recursive: true, force: true });
      return existed ? rel : undefined;
    },
  };
}

/**
 * Names of the files to delete among the object's files other than the current artifact: those older
 * than the TTL, and beyond the newest `retentionRecords - 1` (the current one takes a record).
 */
export function selectGarbage(
  files: ReadonlyArray<{ name: string; mtimeMs: number }>,
  now: number,
  opts: GcOptions = {},
): string[] {
  const retentionRecords = opts.retentionRecords ?? 2;
  const ttlMs = opts.ttlMs ?? 60_000;
  const garbage: string[] = [];
  let kept = 1; // the current artifact
  const newestFirst = [...files].sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
  for (const f of newestFirst) {
    const expired = now - f.mtimeMs > ttlMs;
    // Temp files of a crashed write go once old enough; fresh ones belong to a running write.
    if (f.name.startsWith(TEMP_PREFIX)) {
      if (expired) garbage.push(f.name);
    } else if (expired || kept >= retentionRecords) garbage.push(f.name);
    else kept++;
  }
  return garbage;
}

function checkComponent(what: string, v: string): void {
  if (v === '' || v === '.' || v === '..' || /[/\\\0]/.test(v)) {
    throw new ArtifactError('InvalidPath', `invalid ${what} ${JSON.stringify(v)}`);
  }
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// Makes the rename itself durable.
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function listFiles(dir: string): Promise<Array<{ name: string; mtimeMs: number }>> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  const files: Array<{ name: string; mtimeMs: number }> = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue; // directories and symlinks are not artifacts
    const st = await lstat(join(dir, entry.name)).catch(() => undefined);
    if (st?.isFile()) files.push({ name: entry.name, mtimeMs: st.mtimeMs });
  }
  return files;
}
