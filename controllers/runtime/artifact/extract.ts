// Safe extraction of an artifact tarball (fluxcd/pkg tar.Untar with WithSkipSymlinks): no entry may land
// outside the target directory (`..` components and absolute paths fail the whole extraction), symlinks
// and hard links are skipped, devices, FIFOs and unknown entry types fail it, the sum of file sizes is
// capped, and modes are normalized (dirs 0750, files 0600, or 0700 when the entry had an execute bit).
// Against gzip bombs, decompression stops at the tar end-of-archive marker (whatever follows it, e.g.
// gigabytes of zeros, is never inflated) and the inflated stream as a whole is capped too.
// Every rule and limit is checked on a first pass over the headers, so a refused archive writes
// nothing; an I/O failure on the second pass may leave part of the content: extract into a fresh
// directory and discard it on failure.

import { once } from 'node:events';
import { constants, createReadStream } from 'node:fs';
import { lstat, mkdir, open, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { DIR_MODE, EXEC_FILE_MODE, FILE_MODE } from './archive.ts';
import { SizeLimitError, UnsafeArchiveError } from './errors.ts';

/** fluxcd/pkg tar.DefaultMaxUntarSize (100 MiB). */
export const DEFAULT_MAX_UNTAR_BYTES = 100 * 1024 * 1024;
export const DEFAULT_MAX_ENTRIES = 100_000;
// PAX and GNU long-name records are buffered in memory by the parser; no honest path needs more.
const MAX_META_ENTRY_BYTES = 64 * 1024;
// Tar framing an archive of maxEntries needs besides file contents: a header and padding per entry
// (PAX records included), with room to spare.
const FRAMING_BYTES_PER_ENTRY = 2048;

/** The most bytes the inflated tar stream may have: file contents plus framing. */
export function maxStreamBytes(maxBytes: number, maxEntries: number): number {
  return maxBytes + maxEntries * FRAMING_BYTES_PER_ENTRY + 1024 * 1024;
}

export interface ExtractOptions {
  /** Cap on the sum of the sizes of extracted files; Infinity disables it. */
  maxBytes?: number;
  /** Cap on the number of entries, against archives of millions of empty files. */
  maxEntries?: number;
}

export interface ExtractResult {
  files: number;
  dirs: number;
  /** Sum of the sizes of extracted files. */
  bytes: number;
  /** Symlinks and hard links left out. */
  skipped: string[];
}

/**
 * Extracts a .tar.gz into `dest` (created if missing). A first pass reads only the headers: an archive
 * that breaks a rule or a limit is refused before anything is written, and quickly (a hundred thousand
 * empty files are counted, not created).
 */
export async function extractTarGz(
  file: string,
  dest: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const limits = {
    maxBytes: opts.maxBytes ?? DEFAULT_MAX_UNTAR_BYTES,
    maxEntries: opts.maxEntries ?? DEFAULT_MAX_ENTRIES,
  };
  await readArchive(file, limits, async (entry) => {
    entry.resume();
  });
  await mkdir(dest, { recursive: true, mode: DIR_MODE });
  const root = await realpath(dest);
  const result: ExtractResult = { files: 0, dirs: 0, bytes: 0, skipped: [] };
  const checkedDirs = new Set<string>();

  // Creates a directory one component at a time without following anything: a symlink (or a file) on
  // the way, which dest may have held before, fails the extraction before anything is made through it.
  const ensureDir = async (rel: string): Promise<string> => {
    let abs = root;
    for (const part of rel === '' ? [] : rel.split('/')) {
      abs = join(abs, part);
      if (checkedDirs.has(abs)) continue;
      const st = await lstat(abs).catch(() => undefined);
      if (st === undefined) await mkdir(abs, { mode: DIR_MODE });
      else if (!st.isDirectory()) {
        throw new UnsafeArchiveError(rel, `path goes through a ${st.isSymbolicLink() ? 'symlink' : 'file'}`);
      }
      checkedDirs.add(abs);
    }
    return abs;
  };

  await readArchive(file, limits, async (entry, rel) => {
    if (entry.type === 'Directory') {
      if (rel !== undefined) await ensureDir(rel);
      result.dirs++;
      entry.resume();
    } else if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
      result.skipped.push(entry.path);
      entry.resume();
    } else {
      const path = rel as string; // readArchive refuses a file without a name
      const parent = await ensureDir(path.includes('/') ? dirname(path) : '');
      await writeFile(entry, join(parent, path.slice(path.lastIndexOf('/') + 1)));
      result.bytes += entry.size;
      result.files++;
    }
  });
  return result;
}

/**
 * Streams the archive's entries to `onEntry` (one at a time, in order) after checking each against the
 * rules and limits; `rel` is the safe relative path, undefined for the target directory itself.
 */
async function readArchive(
  file: string,
  limits: Required<ExtractOptions>,
  onEntry: (entry: ReadEntry, rel: string | undefined) => Promise<void>,
): Promise<void> {
  const { maxBytes, maxEntries } = limits;
  let entries = 0;
  let bytes = 0;
  const handle = async (entry: ReadEntry): Promise<void> => {
    if (++entries > maxEntries) throw new UnsafeArchiveError(entry.path, `more than ${maxEntries} entries`);
    const rel = safeRelPath(entry.path);
    switch (entry.type) {
      case 'File':
      case 'OldFile':
      case 'ContiguousFile':
        if (rel === undefined)
          throw new UnsafeArchiveError(entry.path, 'a file cannot be the target directory');
        bytes += entry.size;
        if (bytes > maxBytes) throw new SizeLimitError('extracted', maxBytes);
        return onEntry(entry, rel);
      case 'Directory':
      case 'SymbolicLink':
      case 'Link':
        return onEntry(entry, rel);
      default:
        throw new UnsafeArchiveError(entry.path, `unsupported entry type ${entry.type}`);
    }
  };

  const ac = new AbortController();
  let failure: unknown;
  const fail = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    ac.abort(e);
  };
  const parser = new Parser({
    strict: true,
    zstd: false,
    brotli: false,
    maxMetaEntrySize: MAX_META_ENTRY_BYTES,
  });
  // The parser hands out one entry at a time (the next after this one is drained); the chain keeps
  // file writes in order and lets the end wait for the last one.
  let work = Promise.resolve();
  parser.on('entry', (entry: ReadEntry) => {
    work = work.then(() => (failure === undefined ? handle(entry) : void entry.resume())).catch(fail);
  });
  parser.on('ignoredEntry', (entry: ReadEntry) =>
    fail(new UnsafeArchiveError(entry.path, `unsupported entry type ${entry.type}`)),
  );
  parser.on('error', fail);
  // After the end-of-archive marker the parser only buffers what comes: stop inflating there.
  let sawEof = false;
  parser.on('eof', () => {
    sawEof = true;
  });
  const ended = once(parser, 'end', { signal: ac.signal });
  ended.catch(() => {}); // observed below; failures surface through `failure`
  const maxStream = maxStreamBytes(maxBytes, maxEntries);

  try {
    await pipeline(createReadStream(file), createGunzip(), async (chunks: AsyncIterable<Buffer>) => {
      let inflated = 0;
      for await (const chunk of chunks) {
        if (sawEof || failure !== undefined) break;
        inflated += chunk.length;
        if (inflated > maxStream) throw new SizeLimitError('extracted', maxBytes);
        if (!parser.write(chunk)) await once(parser, 'drain', { signal: ac.signal });
      }
    }).catch((e: unknown) => {
      // Leaving the stream at the end marker aborts the rest of the pipeline: that is no failure.
      if (!sawEof || failure !== undefined) throw e;
    });
    parser.end();
    await ended;
    await work;
  } catch (e) {
    throw failure ?? e;
  }
  if (failure !== undefined) throw failure;
}

async function writeFile(entry: ReadEntry, target: string): Promise<void> {
  const mode = (entry.mode ?? 0) & 0o111 ? EXEC_FILE_MODE : FILE_MODE;
  // O_NOFOLLOW: never write through a symlink that dest already held.
  const fh = await open(
    target,
    constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
    mode,
  );
  try {
    await fh.chmod(mode); // an existing file keeps its old mode through O_TRUNC
  } catch (e) {
    await fh.close();
    throw e;
  }
  await pipeline(Readable.from(entry), fh.createWriteStream()); // closes fh, also on error
}

/** The entry path relative to the target, or undefined for the target itself (`./`). Throws when unsafe. */
function safeRelPath(name: string): string | undefined {
  if (name.includes('\0') || name.includes('\\'))
    throw new UnsafeArchiveError(name, 'invalid characters in path');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new UnsafeArchiveError(name, 'absolute path');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeArchiveError(name, 'path escapes the target directory');
  return parts.length === 0 ? undefined : parts.join('/');
}
