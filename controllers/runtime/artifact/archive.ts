// Deterministic tar.gz of a directory (fluxcd/pkg artifact/storage/archive.go): the same tree gives the same
// bytes, hence the same digest, whoever builds it and whenever. Only regular files and directories are
// archived (symlinks, sockets, devices are skipped); headers carry no owner, no times and a fixed mode:
// dirs 0750, files 0600, files with any execute bit 0700. Entries come in a depth-first walk with each
// directory's children in byte order of their names, and each directory before its contents.
//
// Determinism holds for one Node.js zlib build: Chromium's zlib (bundled by Node) may pick a CPU-specific
// hash for match finding, so two CPU families could compress the same tar differently. The tar stream
// itself is byte-identical everywhere.

import { constants, createWriteStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Header, Pax } from 'tar';
import { CANONICAL_ALGORITHM, formatDigest, newHash } from './digest.ts';

export const DIR_MODE = 0o750;
export const FILE_MODE = 0o600;
export const EXEC_FILE_MODE = 0o700;
/** zlib's default level, as Go's gzip.DefaultCompression used by Flux. Changing it changes every digest. */
export const GZIP_LEVEL = 6;

const BLOCK = 512;
const EPOCH = new Date(0);
// gzip header byte 9 names the OS that wrote the stream; zlib fills in the build platform. 255 = unknown.
const GZIP_OS_OFFSET = 9;
const GZIP_OS_UNKNOWN = 0xff;

/**
 * Decides whether a path (relative to the archived directory, `/`-separated) goes into the archive:
 * true keeps it. When a directory is dropped its subtree is skipped, unless `walkExcludedDirs` is set
 * (sourceignore negations can re-include a file below an excluded directory, as in Flux).
 */
export interface ArchiveFilter {
  (relPath: string, isDir: boolean): boolean;
  readonly walkExcludedDirs?: boolean;
}

export interface ArchiveOptions {
  filter?: ArchiveFilter;
}

export interface ArchiveResult {
  /** `sha256:<hex>` of the written .tar.gz. */
  digest: string;
  /** Bytes written. */
  size: number;
}

/**
 * Writes a deterministic tar.gz of `dir` to `destFile` (created or truncated, mode 0600, fsynced).
 * Files are streamed; a file whose size changes while it is read fails the build.
 */
export async function buildArchive(
  dir: string,
  destFile: string,
  opts: ArchiveOptions = {},
): Promise<ArchiveResult> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new Error(`invalid dir path: ${dir}`);

  const hash = newHash(CANONICAL_ALGORITHM);
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (size <= GZIP_OS_OFFSET && size + chunk.length > GZIP_OS_OFFSET) {
        chunk = Buffer.from(chunk); // zlib may reuse its output buffer
        chunk[GZIP_OS_OFFSET - size] = GZIP_OS_UNKNOWN;
      }
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    Readable.from(tarStream(dir, opts.filter)),
    createGzip({ level: GZIP_LEVEL }),
    tap,
    createWriteStream(destFile, { mode: 0o600, flush: true }),
  );
  return { digest: formatDigest(CANONICAL_ALGORITHM, hash), size };
}

async function* tarStream(root: string, filter: ArchiveFilter | undefined): AsyncGenerator<Buffer> {
  yield* walk(root, '', filter);
  yield Buffer.alloc(2 * BLOCK); // end-of-archive marker
}

function byName(a: { name: string }, b: { name: string }): number {
  return Buffer.compare(Buffer.from(a.name), Buffer.from(b.name));
}

async function* walk(root: string, rel: string, filter: ArchiveFilter | undefined): AsyncGenerator<Buffer> {
  const entries = (await readdir(join(root, rel), { withFileTypes: true })).sort(byName);
  for (const entry of entries) {
    const relPath = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      const keep = filter === undefined || filter(relPath, true);
      if (keep) yield tarHeader(`${relPath}/`, 'Directory', DIR_MODE, 0);
      if (keep || filter?.walkExcludedDirs) yield* walk(root, relPath, filter);
    } else if (entry.isFile()) {
      if (filter !== undefined && !filter(relPath, false)) continue;
      yield* fileEntry(join(root, relPath), relPath);
    }
    // Anything else (symlinks, sockets, FIFOs, devices) stays out of the archive.
  }
}

async function* fileEntry(abs: string, relPath: string): AsyncGenerator<Buffer> {
  // O_NOFOLLOW and fstat: what is archived is the regular file that was opened, even if the path is
  // swapped for a symlink meanwhile.
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'ELOOP') return undefined; // gone, or now a symlink
    throw e; // unreadable content must fail the build, not vanish from the artifact
  });
  if (fh === undefined) return;
  try {
    const st = await fh.stat();
    if (!st.isFile()) return;
    const mode = st.mode & 0o111 ? EXEC_FILE_MODE : FILE_MODE;
    yield tarHeader(relPath, 'File', mode, st.size);
    let read = 0;
    for await (const chunk of fh.createReadStream({ autoClose: false })) {
      const buf = chunk as Buffer;
      read += buf.length;
      if (read > st.size) break;
      yield buf;
    }
    if (read !== st.size) throw new Error(`file ${relPath} changed size while being archived`);
    const pad = (BLOCK - (st.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad);
  } finally {
    await fh.close();
  }
}

/** A ustar header with owner, times and names zeroed; a PAX record carries paths that do not fit. */
function tarHeader(path: string, type: 'File' | 'Directory', mode: number, size: number): Buffer {
  const header = new Header({ path, type, mode, size, uid: 0, gid: 0, mtime: EPOCH, uname: '', gname: '' });
  const block = Buffer.alloc(BLOCK);
  if (!header.encode(block)) return block;
  // Long or non-ASCII path (or a size beyond 8 GiB): the PAX header holds the exact values; it has no
  // times or owner of its own, so it stays deterministic.
  return Buffer.concat([new Pax({ path, size }).encode(), block]);
}
