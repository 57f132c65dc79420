// Helpers for the artifact tests: temp dirs, file digests, reading tar headers back, and hand-made
// tarballs (raw ustar headers, so hostile entries are written exactly as an attacker would).

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export interface TempDirs {
  make(prefix?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export function tempDirs(): TempDirs {
  const made: string[] = [];
  return {
    async make(prefix = 'tide-artifact-') {
      const d = await mkdtemp(join(tmpdir(), prefix));
      made.push(d);
      return d;
    },
    async cleanup() {
      for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}

/** Writes files (path → content) below root, creating directories. */
export async function writeTree(root: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

export async function sha256File(path: string): Promise<string> {
  return `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`;
}

export interface ListedEntry {
  path: string;
  type: string;
  mode: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  uname: string | undefined;
  gname: string | undefined;
  mtime: number | undefined;
  size: number;
}

/** The entries of a tar.gz as node-tar's parser reports them (PAX records applied). */
export async function listTarGz(file: string): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  const parser = new Parser({ strict: true });
  parser.on('entry', (e: ReadEntry) => {
    entries.push({
      path: e.path,
      type: e.type,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      uname: e.uname,
      gname: e.gname,
      mtime: e.mtime?.getTime(),
      size: e.size,
    });
    e.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', resolve);
    parser.on('error', reject);
  });
  parser.end(gunzipSync(await readFile(file)));
  await done;
  return entries;
}

/** Type flags of the raw entries tests craft. */
export const TarType = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  charDevice: '3',
  blockDevice: '4',
  dir: '5',
  fifo: '6',
  paxGlobal: 'g',
} as const;

export interface RawEntry {
  name: string;
  type?: (typeof TarType)[keyof typeof TarType];
  body?: string | Buffer;
  /** Declared size; defaults to the body length. */
  size?: number;
  mode?: number;
  linkname?: string;
}

/** A gzipped ustar archive built byte by byte, with no sanitizing at all. */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode ?? 0o644, 8), 100);
    h.write(octal(0, 8), 108);
    h.write(octal(0, 8), 116);
    h.write(octal(e.size ?? body.length, 12), 124);
    h.write(octal(0, 12), 136);
    h.write('        ', 148); // checksum placeholder: spaces
    h.write(e.type ?? TarType.file, 156);
    h.write(e.linkname ?? '', 157, 100, 'utf8');
    h.write('ustar\u000000', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\u0000`;
}

/** A promise and its resolver, to hold a stream or a server response until the test says so. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
